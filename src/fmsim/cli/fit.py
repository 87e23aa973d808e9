"""``fmsim fit DATA CONFIG``: estimate model parameters from passive-transfer lab data."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.execution import open_executor, scheduler_option, workers_option
from fmsim.cli.options import overwrite_option
from fmsim.cli.study_run import run_study


def fit(
    data: Path = typer.Argument(..., help="Lab data (CSV or .xlsx, fmsim's format; see README)."),
    config: Path = typer.Argument(..., help="Fit YAML (see examples/fits/passive_transfer.yaml)."),
    out: Path = typer.Option(Path("results/fit"), help="Output folder."),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
    overwrite: bool = overwrite_option(),
) -> None:
    """Multi-start fit with profile-likelihood intervals and identifiability; HTML report.
    Each start and each profile is a chunk, run in this process or on Dask (--scheduler or
    --workers, or scheduler in the fit YAML), kept in OUT/chunks and, verified, reused by the
    same command (resume). OUT/run.log records what ran."""
    from fmsim.calibration.measurements import load_fit_problem

    # pyPESTO's imports cost seconds: only after the inputs are known to be valid
    settings, problem = load_fit_problem(data, config)  # one-line errors, exit code 2
    from fmsim.calibration.fit import CHUNKS, FitResult, run_fit_settings

    def compute(run) -> FitResult:
        typer.echo(
            f"fitting {len(problem.parameters)} parameter(s) to {len(problem.measurements)} "
            f"data points ({settings.level} level), {settings.starts} starts ..."
        )
        with open_executor(scheduler or settings.scheduler, workers) as chunks:
            return run_fit_settings(
                problem,
                settings,
                inputs=(data, config),
                executor=chunks,
                chunk_folder=run.store(CHUNKS),
                progress=True,
            )

    result, report = run_study(
        FitResult, out, compute, inputs=(data, config), overwrite=overwrite, logged=True
    )
    for row in result.estimates.itertuples(index=False):
        interval = (
            f" [{row.ci_low:.4g}, {row.ci_high:.4g}] {row.verdict}" if settings.profile else ""
        )
        unit = "" if row.unit == "1" else f" {row.unit}"
        typer.echo(f"  {row.parameter} = {row.estimate:.4g}{unit}{interval}")
    if result.posterior is not None:
        post = result.posterior
        verdict = (
            f"burn-in {post.burn_in}, effective sample size {post.effective_sample_size:.0f}"
            if post.converged
            else "NOT converged (Geweke): sample longer"
        )
        typer.echo(f"posterior: {len(post.chain) - 1} {post.sampler} iterations, {verdict}")
    profiles = f", profiles {result.profile_seconds:.1f} s" if settings.profile else ""
    typer.echo(f"fit {result.fit_seconds:.1f} s{profiles}")
    typer.echo(f"report: {report}")
