"""Where a command's chunked job runs: ``--scheduler`` and ``--workers``, checked when the
command line is read, and the executor they open (:mod:`fmsim.engine.execution`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from fmsim.cli.errors import fail

if TYPE_CHECKING:
    from fmsim.engine.execution import Executor

#: Most local worker processes accepted.
MAX_WORKERS = 1024


def _check_scheduler(value: str | None) -> str | None:
    if value is None or value == "local":
        return value
    from fmsim.engine.execution import SCHEDULER_ADDRESS

    if not SCHEDULER_ADDRESS.match(value):
        raise typer.BadParameter(
            f"got {value!r}: expected 'local' or a Dask scheduler address tcp://HOST:PORT"
        )
    return value


def scheduler_option() -> str | None:
    return typer.Option(
        None,
        callback=_check_scheduler,
        help="Run the chunks on Dask: 'local' (a cluster on this machine, one worker per "
        "core) or an existing cluster's scheduler, tcp://HOST:PORT. Default: in this process.",
    )


def workers_option() -> int | None:
    return typer.Option(
        None,
        min=1,
        max=MAX_WORKERS,
        help=f"Worker processes of a local Dask cluster (default: {os.cpu_count()}, the cores).",
    )


@contextmanager
def open_executor(scheduler: str | None, workers: int | None) -> Iterator[Executor]:
    """The executor for the options (``--workers`` alone means a local Dask cluster); a
    scheduler that cannot be reached ends the command with one line (exit code 2)."""
    from fmsim.engine.execution import executor

    if workers is not None and scheduler is None:
        scheduler = "local"
    if workers is not None and scheduler != "local":
        fail(f"--workers: applies to a local cluster, not to the scheduler {scheduler}")
    chosen = executor(scheduler, workers)
    try:
        opened = chosen.__enter__()
    except (ConnectionError, OSError, TimeoutError) as error:
        fail(f"--scheduler {scheduler}: cannot connect ({error})")
    try:
        yield opened
    finally:
        chosen.__exit__(None, None, None)
