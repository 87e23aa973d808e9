"""HTML report for a lab's own behavioural data: data quality, figures, statistics.

The statistics are those of :func:`fmsim.experiments.analysis.analyze_passive_transfer`,
the same code that analyses simulated experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fmsim.experiments.studies.lab_data import LabDataStudy
from fmsim.io.lab_data import Issue
from fmsim.report import figures
from fmsim.report.common import (
    findings_rows,
    frame_html,
    interactive_html,
    render_template,
    run_files,
    statistics_rows,
)
from fmsim.report.interactive import individual_time_courses, plotly_script, readout_time_courses


@dataclass(frozen=True)
class ReadoutLabel:
    """Figure label and unit of one test, taken from the data (``unit`` as in the data)."""

    label: str
    unit: str


def readout_labels(data: pd.DataFrame) -> dict[str, ReadoutLabel]:
    """test name -> :class:`ReadoutLabel` (label: the name with spaces; unit: the data's unit)."""
    units = data.groupby("test", sort=False)["unit"].first()
    return {test: ReadoutLabel(test.replace("_", " "), str(unit)) for test, unit in units.items()}


def quality_counts(clean: pd.DataFrame, issues: list[Issue]) -> dict[str, int]:
    """Counts of rows in the file, used, excluded (data quality), with errors, converted."""
    left_out = {i.row for i in issues if i.action in ("excluded", "error")}
    errors = {i.row for i in issues if i.action == "error"}
    return {
        "rows in file": len(clean) + len(left_out),
        "rows used": len(clean),
        "rows excluded (data quality)": len(left_out - errors),
        "rows left out because of errors (fix the file)": len(errors),
        "values converted (row kept)": len({i.row for i in issues if i.action == "converted"}),
        "mice used": int(clean["mouse"].nunique()),
    }


def render_lab_data(study: LabDataStudy, folder: Path) -> str:
    """Draw the figures (``figures/*.png``) and write ``analysis.html`` into ``folder``; return
    the report's name. Days are in days; every value in the unit given in the data (von Frey
    in g)."""
    clean, issues, analysis = study.data.clean, study.data.issues, study.analysis
    specs = readout_labels(clean)
    figs = {"behaviour": "", "individual": ""}
    if analysis.readouts:
        significant = analysis.significant_days(study.disease_group)
        figs["behaviour"] = interactive_html(
            readout_time_courses(clean, specs),
            figures.behaviour_time_courses(clean, specs, [], significant),
            folder / "figures",
            "behaviour",
            "behaviour time courses",
        )
        figs["individual"] = interactive_html(
            individual_time_courses(clean, specs),
            figures.individual_time_courses(clean, specs),
            folder / "figures",
            "individual_mice",
            "individual mouse time courses",
        )
    statistics, method = statistics_rows(analysis, specs)
    endpoint = [
        {
            "label": specs[test].label,
            "unit": specs[test].unit,
            "table": frame_html(table),
        }
        for test, table in analysis.endpoint.items()
    ]
    design = (
        clean.groupby("group", sort=False)
        .agg(mice=("mouse", "nunique"), rows=("value", "size"))
        .reset_index()
    )
    design_by_test = (
        clean.groupby(["test", "unit"], sort=False)
        .agg(
            days=("day", lambda d: ", ".join(f"{x:g}" for x in sorted(d.unique()))),
            mice=("mouse", "nunique"),
            rows=("value", "size"),
        )
        .reset_index()
    )
    source = str(study.data.source)
    return render_template(  # autoescaped: group names, values and messages come from the file
        "analysis.html.j2",
        folder,
        "analysis.html",
        title=f"Analysis of {Path(source).name}",
        plotly_script=plotly_script(folder) if analysis.readouts else "",
        source=source,
        version=study.provenance.fmsim_version,
        generated=study.provenance.created,
        control=study.control,
        disease=study.disease_group,
        baseline_day=f"{study.baseline_day:g}",
        counts=quality_counts(clean, issues),
        issues=issues,
        design=frame_html(design),
        design_by_test=frame_html(design_by_test),
        findings=findings_rows(analysis, specs),
        figures=figs,
        method=method,
        statistics=statistics,
        auc_table=frame_html(analysis.auc),
        endpoint=endpoint,
        files=run_files(folder, "analysis.html"),
    )
