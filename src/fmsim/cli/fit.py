"""``fmsim fit DATA CONFIG``: estimate model parameters from passive-transfer lab data."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail


def fit(
    data: Path = typer.Argument(..., help="Lab data (CSV or .xlsx, fmsim's format; see README)."),
    config: Path = typer.Argument(..., help="Fit YAML (see examples/fits/passive_transfer.yaml)."),
    out: Path = typer.Option(Path("results/fit"), help="Output folder."),
    procs: int = typer.Option(1, min=1, help="Worker processes for starts and profiles."),
) -> None:
    """Multi-start fit with profile-likelihood intervals and identifiability; HTML report."""
    from fmsim.calibration.fit import run_fit
    from fmsim.calibration.measurements import load_fit_problem
    from fmsim.calibration.problem import CalibrationError
    from fmsim.config import ConfigError
    from fmsim.io.lab_data import LabDataError
    from fmsim.report.fit_html import write_fit_report

    try:
        settings, problem = load_fit_problem(data, config)
    except (ConfigError, LabDataError, CalibrationError) as error:
        fail(str(error))
    typer.echo(
        f"fitting {len(problem.parameters)} parameter(s) to {len(problem.measurements)} "
        f"data points ({settings.level} level), {settings.starts} starts ..."
    )
    result = run_fit(
        problem, settings.starts, settings.seed, settings.optimizer, procs, settings.profile
    )
    result.save(out)
    report = write_fit_report(result, out)
    for row in result.estimates.itertuples(index=False):
        interval = (
            f" [{row.ci_low:.4g}, {row.ci_high:.4g}] {row.verdict}" if settings.profile else ""
        )
        typer.echo(f"  {row.parameter} = {row.estimate:.4g}{interval}")
    typer.echo(f"fit {result.fit_seconds:.1f} s, profiles {result.profile_seconds:.1f} s")
    typer.echo(f"report: {report.resolve()}")
