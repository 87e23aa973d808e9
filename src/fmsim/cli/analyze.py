"""``fmsim analyze``: analyse a lab's own behavioural data with fmsim's statistics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from fmsim.cli.errors import fail


def analyze(
    data: Path = typer.Argument(..., help="Lab data file (.csv or .xlsx; format in README)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>_analysis)."),
    control: str = typer.Option(..., help="Control group, e.g. HC-IgG."),
    disease: str = typer.Option(
        None, help="Group whose time course is summarised (default: first other group)."
    ),
    groups: str = typer.Option(
        None, help="Comma-separated group names of the experiment; any other group is an error."
    ),
    sheet: str = typer.Option(
        None, help="Excel sheet to read (default: the only sheet with the required columns)."
    ),
) -> None:
    """Validate a lab's behavioural data, report data issues and run the group x day analysis."""
    from fmsim.io.lab_data import LabDataError, format_issues, issues_frame, read_lab_data

    expected = [g.strip() for g in groups.split(",") if g.strip()] if groups else None
    try:
        clean, issues = read_lab_data(data, expected_groups=expected, sheet=sheet)
    except LabDataError as error:
        fail(str(error))
    typer.echo(f"{data}: {len(clean)} rows used, {len(issues)} data issue(s)")
    if issues:
        typer.echo(format_issues(issues))
    if clean.empty:
        fail(f"{data}: no usable rows left after validation (see the issues above)")

    present = list(pd.unique(clean["group"]))
    if control not in present:
        fail(f"--control: group {control!r} is not in {data}; groups: {', '.join(present)}")
    others = [g for g in present if g != control]
    if disease is None and others:
        disease = others[0]
    if disease not in others:
        fail(
            f"--disease: group {disease!r} is not a non-control group in {data}; "
            f"groups: {', '.join(present)}"
        )

    # the analysis's imports are heavy: only after the data and options are known to be valid
    from fmsim.experiments.analysis import analyze_passive_transfer
    from fmsim.report.analysis_html import write_analysis_report

    baseline_day = float(clean["day"].min())
    measurements = clean if "donor" in clean.columns else clean.assign(donor=clean["group"])
    try:
        analysis = analyze_passive_transfer(
            measurements, control=control, disease_group=disease, baseline_day=baseline_day
        )
    except (ValueError, RuntimeError) as error:
        fail(f"{data}: cannot analyse the data: {str(error).splitlines()[0]}")

    out = out or Path("results") / f"{data.stem}_analysis"
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "clean_data": clean,
        "data_issues": issues_frame(issues),
        "posthoc": _concat({t: a.posthoc for t, a in analysis.readouts.items()}),
        "omnibus": _concat(
            {t: a.omnibus.rename_axis("term").reset_index() for t, a in analysis.readouts.items()}
        ),
        "endpoint": _concat(analysis.endpoint),
        "time_course_summary": analysis.time_course,
        "donor_effects": analysis.donors,
        "auc_versus_control": analysis.auc,
    }
    files = []
    for stem, table in tables.items():
        path = out / f"{stem}.csv"
        table.to_csv(path, index=False)
        files.append(path)
    report = write_analysis_report(
        clean,
        issues,
        analysis,
        out,
        source=str(data),
        control=control,
        disease_group=disease,
        baseline_day=baseline_day,
        files=files,
    )
    typer.echo(f"report: {report.resolve()}")


def _concat(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack per-test tables with a leading ``test`` column."""
    parts = [t.assign(test=name)[["test", *t.columns]] for name, t in tables.items()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["test"])
