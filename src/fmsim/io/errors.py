"""The user's mistakes the files layer reports, in a module of their own so that catching them
(as the ``fmsim`` command does around every command) imports no pandas or pyarrow.

* :class:`OutputError` -- an output location the user has to change (:mod:`fmsim.io.store`).
* :class:`LabDataError` -- a lab's data file that cannot be used at all
  (:mod:`fmsim.io.lab_data`).
"""

from __future__ import annotations

__all__ = ["LabDataError", "OutputError"]


class OutputError(Exception):
    """An output location the user has to change (one line: path, problem, what to do)."""


class LabDataError(ValueError):
    """The data file cannot be used at all. ``str(error)`` is meant to be shown as is."""
