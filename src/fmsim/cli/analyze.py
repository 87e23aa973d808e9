"""``fmsim analyze``: analyse a lab's own behavioural data with fmsim's statistics."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.options import echo_kept, name_list, open_run, overwrite_option


def analyze(
    data: Path = typer.Argument(..., help="Lab data file (.csv or .xlsx; format in README)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>_analysis)."),
    control: str = typer.Option(..., help="Control group, e.g. HC-IgG."),
    disease: str = typer.Option(
        None, help="Group whose time course is summarised (default: first other group)."
    ),
    groups: str = typer.Option(
        None,
        callback=name_list,
        help="Comma-separated group names of the experiment; any other group is an error.",
    ),
    sheet: str = typer.Option(
        None, help="Excel sheet to read (default: the only sheet with the required columns)."
    ),
    overwrite: bool = overwrite_option(),
) -> None:
    """Validate a lab's behavioural data, report data issues and run the group x day analysis."""
    from fmsim.experiments.studies import LabDataStudy, lab_data_study, load_lab_data
    from fmsim.io.lab_data import format_issues
    from fmsim.report import render

    lab_data = load_lab_data(data, groups, sheet=sheet)
    typer.echo(f"{data}: {len(lab_data.clean)} rows used, {len(lab_data.issues)} data issue(s)")
    if lab_data.issues:
        typer.echo(format_issues(lab_data.issues))
    out = out or Path("results") / f"{data.stem}_analysis"
    with open_run(LabDataStudy, out, inputs=(data,), overwrite=overwrite) as run:
        study = lab_data_study(lab_data, control, disease)
        study.save(run)
        report = render(study, run)
    echo_kept(run)
    typer.echo(f"report: {report}")
