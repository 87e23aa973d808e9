"""``fmsim analyze``: analyse a lab's own behavioural data with fmsim's statistics."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.options import name_list, overwrite_option
from fmsim.cli.study_run import run_study


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
    columns: str = typer.Option(
        None,
        help="Your column names: 'Mouse ID=mouse,Timepoint=day,...', or a YAML file with "
        "columns/layout/test/unit/tests (docs/lab_data.md).",
    ),
    layout: str = typer.Option(
        None, help="tidy, grouped (Prism grouped table) or per_mouse (default: detected)."
    ),
    test: str = typer.Option(None, help="The test a wide (Prism) table holds, e.g. grip_strength."),
    unit: str = typer.Option(None, help="The unit of --test's values, e.g. g."),
    tests: str = typer.Option(
        None, help="Tests of your own with their units, e.g. 'burrowing=g,nest_score=score'."
    ),
    overwrite: bool = overwrite_option(),
) -> None:
    """Validate a lab's behavioural data (tidy, your own column names, or GraphPad Prism
    tables), report data issues and run the group x day analysis."""
    from fmsim.experiments.studies import LabDataStudy, lab_data_study, load_lab_data
    from fmsim.io.lab_data import format_issues
    from fmsim.io.lab_layouts import lab_format

    fmt = lab_format(columns, layout=layout, test=test, unit=unit, tests=tests)
    lab_data = load_lab_data(data, groups, sheet=sheet, fmt=fmt)
    typer.echo(f"{data}: {len(lab_data.clean)} rows used, {len(lab_data.issues)} data issue(s)")
    if lab_data.issues:
        typer.echo(format_issues(lab_data.issues))
    out = out or Path("results") / f"{data.stem}_analysis"
    mapping = Path(columns) if columns and columns.lower().endswith((".yaml", ".yml")) else None
    inputs = (data,) if mapping is None else (data, mapping)
    _, report = run_study(
        LabDataStudy,
        out,
        lambda run: lab_data_study(lab_data, control, disease),
        inputs=inputs,
        overwrite=overwrite,
    )
    typer.echo(f"report: {report}")
