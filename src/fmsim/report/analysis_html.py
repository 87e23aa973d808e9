"""HTML report for a lab's own behavioural data: data quality, figures, statistics.

The statistics are those of :func:`fmsim.experiments.analysis.analyze_passive_transfer`,
the same code that analyses simulated experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader

from fmsim.experiments.analysis import PassiveTransferAnalysis
from fmsim.io.lab_data import Issue
from fmsim.report import figures
from fmsim.report.html import _fmt, _p, _png


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


def write_analysis_report(
    clean: pd.DataFrame,
    issues: list[Issue],
    analysis: PassiveTransferAnalysis,
    folder: Path,
    *,
    source: str,
    control: str,
    disease_group: str,
    baseline_day: float,
    files: list[Path],
) -> Path:
    """Render ``folder/analysis.html`` (figures also saved as PNG in ``folder/figures``).

    Days are in days; every value in the unit given in the data (von Frey in g)."""
    specs = readout_labels(clean)
    figure_folder = folder / "figures"
    figure_folder.mkdir(parents=True, exist_ok=True)
    significant = analysis.significant_days(disease_group)
    figs = {"behaviour": "", "individual": ""}
    if analysis.readouts:
        figs["behaviour"] = _png(
            figures.behaviour_time_courses(clean, specs, [], significant),
            figure_folder,
            "behaviour",
        )
        figs["individual"] = _png(
            figures.individual_time_courses(clean, specs), figure_folder, "individual_mice"
        )

    findings = [
        {
            "test": specs[row.test].label,
            "first": _fmt(row.first_significant_day),
            "last": _fmt(row.last_significant_day),
            "largest": f"{_fmt(row.largest_difference)} {specs[row.test].unit}",
            "p": _p(row.p_interaction),
        }
        for row in analysis.time_course.itertuples()
    ]
    statistics = []
    method = ""
    for test, a in analysis.readouts.items():
        method = a.method
        statistics.append(
            {
                "label": specs[test].label,
                "unit": specs[test].unit,
                "omnibus": a.omnibus.to_html(float_format=lambda v: f"{v:.4g}"),
                "posthoc": a.posthoc.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
                "n_significant": int(a.posthoc["significant"].sum()),
                "n_rows": len(a.posthoc),
            }
        )
    endpoint = [
        {
            "label": specs[test].label,
            "unit": specs[test].unit,
            "table": table.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
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
    # Always escape: group names, values and messages come from the user's file.
    env = Environment(loader=PackageLoader("fmsim.report", "templates"), autoescape=True)
    html = env.get_template("analysis.html.j2").render(
        title=f"Analysis of {Path(source).name}",
        source=source,
        version=metadata.version("fmsim"),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        control=control,
        disease=disease_group,
        baseline_day=f"{baseline_day:g}",
        counts=quality_counts(clean, issues),
        issues=issues,
        design=design.to_html(index=False),
        design_by_test=design_by_test.to_html(index=False),
        findings=findings,
        figures=figs,
        method=method,
        statistics=statistics,
        auc_table=analysis.auc.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
        endpoint=endpoint,
        files=[str(f) for f in files],
    )
    path = folder / "analysis.html"
    path.write_text(html)
    return path
