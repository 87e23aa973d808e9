"""The user's mistake the experiments layer reports, in a module of its own so that catching
it (as the ``fmsim`` command does around every command) imports no study, engine or pandas."""

from __future__ import annotations

__all__ = ["StudyError"]


class StudyError(ValueError):
    """The inputs of a study cannot be studied as asked (one line, shown to the user as is)."""
