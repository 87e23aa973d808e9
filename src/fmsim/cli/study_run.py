"""What every command does with its study: open the run folder (before computing: this checks
``--out``, takes its lock and starts the temporary folder), run the study, save it, render its
report, and tell the user which of their files ``--overwrite`` renamed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from fmsim.cli.errors import command_line

if TYPE_CHECKING:
    from fmsim.experiments.result import StudyResult
    from fmsim.io.store import RunFolder

Study = TypeVar("Study", bound="StudyResult")


def run_study(
    result_type: type[Study],
    out: Path,
    compute: Callable[[RunFolder], Study],
    *,
    inputs: Sequence[Path] = (),
    overwrite: bool = False,
    logged: bool = False,
    report: bool = True,
) -> tuple[Study, Path]:
    """Compute a study into the run folder ``out`` and keep it: ``compute(run)`` returns the
    result (of ``result_type``), which is saved and, with ``report``, rendered. With
    ``logged``, what runs is also recorded in OUT/run.log. Returns the result and the path of
    its report (the run folder without ``report``). A failure leaves ``out`` as it was."""
    from fmsim.io.store import run_log

    with open_run(result_type, out, inputs=inputs, overwrite=overwrite) as run:
        with run_log(run.path) if logged else contextlib.nullcontext():
            study = compute(run)
            study.save(run)
            shown = _render(study, run) if report else run.target
    echo_kept(run)
    return study, shown


def _render(study: StudyResult, run: RunFolder) -> Path:
    from fmsim.report import render

    return render(study, run)


def open_run(
    result_type: type[StudyResult],
    out: Path,
    *,
    inputs: Sequence[Path] = (),
    overwrite: bool = False,
) -> RunFolder:
    """The run folder of a command (use in ``with``, before computing: opening it checks
    ``out``, takes its lock and starts the temporary folder)."""
    return result_type.run_folder(out, inputs=inputs, overwrite=overwrite, command=command_line())


def echo_kept(run: RunFolder) -> None:
    """Tell the user which of their files a run with ``--overwrite`` renamed."""
    for name, renamed in run.kept:
        typer.echo(f"  kept your file {name} as {renamed} (it had the name of an output)")
