"""Keep the informational log lines of pyPESTO and PEtab out of fmsim's command output.

Some imported libraries configure Python's root logger at INFO, so pyPESTO's and PEtab's
progress notes ("Elapsed time ...", "Initializing betas ...") would be printed among a
command's results; fmsim reports what matters itself. Warnings and errors still pass (from
PEtab's linter errors only: it always warns that the optional visualisation table is absent).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet(*names: str, level: int = logging.WARNING) -> Iterator[None]:
    """Raise the named loggers to ``level`` for the duration of the block."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
