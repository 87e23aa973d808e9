"""HTML report comparing IgG-lowering therapies in one virtual population, with the live
validation table of the human model against published pharmacodynamics."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fmsim.config.therapy import TherapyBlock, TherapyProtocol  # noqa: E402
from fmsim.experiments.studies.therapies import TherapyStudy  # noqa: E402
from fmsim.experiments.validation import (  # noqa: E402
    COMPARISON_METRICS,
    COURSE_QUANTITIES,
)
from fmsim.model.drugs import CLASS_LABELS  # noqa: E402
from fmsim.model.parameters import ParameterSet  # noqa: E402
from fmsim.report.common import fmt, interactive_html, render_template, run_files  # noqa: E402
from fmsim.report.interactive import (  # noqa: E402
    SMALL_MULTIPLES,
    plotly_script,
    therapy_courses,
)
from fmsim.report.references import entry_references  # noqa: E402
from fmsim.report.validation_md import validation_markdown  # noqa: E402

LIMITS = (
    "The link from anti-SGC IgG to symptoms (DRG binding, sensitisation S) is the mouse model's, "
    "with the S turnover borrowed from myasthenia gravis (VAL2025 MG-ADL effect compartment); "
    "there are no human data to validate S against.",
    "Plasma refills from the interstitium at physiological lymph flow (half-time ~1.5 days, "
    "tested against one measured 24-h rebound); sessions are instantaneous, so removal per "
    "session is slightly overestimated; single-use columns saturate after ~2 L (not modelled).",
    "IgG recovers after an apheresis course at the net IgG turnover (no rise in synthesis after "
    "depletion): slower than the 1-3 weeks reported after one immunoadsorption course, as "
    "reported after plasma exchange in myasthenia gravis (docs/validation.md).",
    "Efgartigimod is partly calibrated (its 10 mg/kg i.v. x4 nadir is not an independent test); "
    "batoclimab's s.c. absorption is calibrated to its single-dose IgG nadirs and its PK is "
    "assumed as rozanolixizumab's (no batoclimab model found).",
    "Rozanolixizumab s.c. bioavailability and absorption rate are assumed; the reported day-10 "
    "nadir after a single dose is not reproduced (day 5 i.v., as LG2022's fitted model); the "
    "fibromyalgia trial's dose (NCT05643794) is not public.",
    "Column extractions: protein A, peptide-ligand and tryptophan are calibrated (volumes per "
    "session partly assumed); the phenylalanine column's is an assumed placeholder (no data).",
    "Rituximab: the short-lived plasma-cell fractions depend on how '%/month' is read (here the "
    "log-linear slope over months 0-3); B-cell turnover comes from a paediatric study "
    "(Chen 2024); rituximab itself is left out of the FcRn pool.",
    "Between-patient variability uses published IIV where the source model has it and assumed "
    "CVs elsewhere; IVIG response varies less than in Kuitwaard 2009.",
    "Total IgG excludes the therapeutic antibodies (nipocalimab at 60 mg/kg reaches ~1 mg/mL), "
    "which IgG assays may count. FcRn is one lumped endosomal pool; there are no IgG "
    "subclasses (protein A binds IgG3 poorly; not modelled).",
)

#: The quantities of the course figures (pain: 0-10 NRS, without placebo response or daily
#: fluctuation; :mod:`fmsim.experiments.typical_patient`).
WITH_PAIN = {**COURSE_QUANTITIES, "pain_nrs": "pain (0-10 NRS)"}
#: This report's figure lies beside it (not in figures/).
_interactive = partial(interactive_html, link="")


def course_figure(courses: pd.DataFrame, labels: dict[str, str] = COURSE_QUANTITIES) -> plt.Figure:
    """Median and interquartile band over patients of each quantity of ``labels`` (quantity ->
    title; default total IgG and anti-SGC IgG in % of baseline and sensitisation S) over days:
    one panel per quantity with a line per therapy; from :data:`SMALL_MULTIPLES` therapies on,
    small multiples (one row per therapy, the other therapies' medians in grey behind it, one y
    range per column)."""
    therapies = list(courses["therapy"].unique())
    colours = plt.get_cmap("tab10")
    many = len(therapies) >= SMALL_MULTIPLES
    rows = [[t] for t in therapies] if many else [therapies]
    height = 1.55 * len(rows) + 0.8 if many else 4.0 + 0.22 * -(-len(therapies) // 3)
    fig, axes = plt.subplots(
        len(rows), len(labels), figsize=(4.3 * len(labels), height), squeeze=False,
        sharex=True, sharey="col",
    )  # fmt: skip
    for r, shown in enumerate(rows):
        for ax, (quantity, label) in zip(axes[r], labels.items(), strict=True):
            of_quantity = courses[courses["quantity"] == quantity]
            if many:
                for _, other in of_quantity.groupby("therapy", sort=False):
                    ax.plot(other["day"], other["q50"], color="#cccccc", lw=0.7)
            for therapy in shown:
                data = of_quantity[of_quantity["therapy"] == therapy]
                if data.empty:
                    continue
                colour = colours(therapies.index(therapy) % 10)
                ax.plot(data["day"], data["q50"], color=colour, lw=1.4, label=therapy)
                ax.fill_between(data["day"], data["q25"], data["q75"], color=colour, alpha=0.15)
            if r == 0:
                ax.set_title(label, fontsize=10)
            if r == len(rows) - 1:
                ax.set_xlabel("day from treatment start")
        if many:
            axes[r, 0].set_ylabel(shown[0], fontsize=9, rotation=0, ha="right", va="center")
    if many:
        fig.tight_layout()
        return fig
    handles, labels = axes[0, 0].get_legend_handles_labels()
    legend_rows = -(-len(therapies) // 3)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0.0, 0.22 * legend_rows / height, 1.0, 1.0))
    return fig


def findings(summary: pd.DataFrame, pain: pd.DataFrame | None = None) -> list[str]:
    """The answer in plain sentences: per therapy (deepest first), how far anti-SGC IgG falls
    and for how long it stays below half of baseline, median and 5th-95th percentile over
    patients; with ``pain`` (the study's ``therapy_pain`` table), then how the patients'
    median pain changes (:func:`pain_finding`)."""
    by = summary.set_index(["therapy", "quantity"])

    def values(therapy: str, quantity: str) -> tuple[float, float, float]:
        row = by.loc[(therapy, quantity)]
        return row["median"], row["p05"], row["p95"]

    therapies = list(pd.unique(summary["therapy"]))
    depth = {t: values(t, "anti_sgc_nadir_reduction_pct") for t in therapies}
    order = sorted(therapies, key=lambda t: -np.nan_to_num(depth[t][0], nan=-np.inf))
    sentences = []
    for therapy in order:
        median, low, high = depth[therapy]
        if not np.isfinite(median):
            sentence = f"{therapy}: no anti-SGC-positive patient in this population."
        else:
            days, days_low, days_high = values(therapy, "anti_sgc_days_below_half")
            sentence = (
                f"{therapy}: anti-SGC IgG falls by {median:.0f} % at its lowest (5th-95th "
                f"percentile of patients {low:.0f} to {high:.0f} %) and stays below half of "
                f"baseline for {days:.0f} days ({days_low:.0f} to {days_high:.0f})."
            )
        if pain is not None and therapy in set(pain["therapy"]):
            sentence += " " + pain_finding(pain[pain["therapy"] == therapy])
        sentences.append(sentence)
    return sentences


def pain_finding(pain: pd.DataFrame) -> str:
    """One sentence on the patients' pain under one therapy, from its rows of the
    ``therapy_pain`` table (per day the 5th ... 95th percentiles over patients of pain, NRS
    0-10): the median on the first day, at its lowest (the first day of the lowest) and on the
    last day, each with the 5th-95th percentile of the patients on that day."""
    data = pain.sort_values("day", kind="stable").reset_index(drop=True)
    start, end = data.iloc[0], data.iloc[-1]
    lowest = data.loc[data["q50"].idxmin()]

    def at(row: pd.Series) -> str:
        return f"{row['q50']:.1f} on day {row['day']:g} ({row['q05']:.1f} to {row['q95']:.1f})"

    if lowest["q50"] >= start["q50"]:
        return (
            f"Median pain (0-10 scale; 5th-95th percentile of patients that day) does not fall "
            f"below its start, {at(start)}; it is {at(end)}."
        )
    ending = "" if lowest["day"] == end["day"] else f", and is {at(end)}"
    return (
        f"Median pain (0-10 scale; 5th-95th percentile of patients that day) goes from "
        f"{at(start)} to {at(lowest)} at its lowest{ending}."
    )


def _lowest(courses: pd.DataFrame, therapy: str, quantity: str) -> tuple[float, float, float]:
    """The median of ``quantity`` under ``therapy`` on the first day, at its lowest, and the
    day of the lowest (the first such day)."""
    data = courses[(courses["therapy"] == therapy) & (courses["quantity"] == quantity)]
    lowest = data.loc[data["q50"].idxmin()]
    return data["q50"].iloc[0], lowest["q50"], lowest["day"]


def pain_rows(typical: pd.DataFrame, pain: pd.DataFrame) -> list[dict[str, str]]:
    """Per therapy given to every patient: the typical patient's pain and anti-SGC IgG at the
    start and at their lowest (with the day), and the patients' median pain likewise."""
    rows = []
    for therapy in pd.unique(typical["therapy"]):
        start, low, day = _lowest(typical, therapy, "pain_nrs")
        _, sgc, sgc_day = _lowest(typical, therapy, "anti_sgc_pct")
        p_start, p_low, p_day = _lowest(pain, therapy, "pain_nrs")
        rows.append(
            {
                "therapy": therapy,
                "anti_sgc": f"{sgc:.0f} % (day {sgc_day:g})",
                "typical": f"{start:.1f} to {low:.1f} (day {day:g})",
                "patients": f"{p_start:.1f} to {p_low:.1f} (day {p_day:g})",
            }
        )
    return rows


def _schedule(block: TherapyBlock) -> str:
    days = block.schedule()
    if not days:
        return "no schedule"
    return "day " + ", ".join(f"{d:g}" for d in days)


def _block_text(block: TherapyBlock) -> str:
    if block.type in ("plasma_exchange", "immunoadsorption"):
        amount = block.volume or f"{block.plasma_volumes:g} plasma volumes"
        if block.column_efficiency is not None:
            amount += f", column efficiency {block.column_efficiency:g}"
        if block.replacement_fluid is not None:
            amount += f", {block.replacement_fluid.name} replacement"
    elif block.dose is not None:
        amount = block.dose + (f" (max {block.max_dose})" if block.max_dose else "")
        amount += f" {block.route_of()}"
    else:
        amount = "no drug"
    name = f" {block.entry.name}" if block.entry is not None else ""
    return f"{block.type}{name}: {amount}; {_schedule(block)}"


def _band(median: float, low: float, high: float, digits: int) -> str:
    if not np.isfinite(median):
        return "-"
    median, low, high = (round(x, digits) + 0.0 for x in (median, low, high))  # no "-0.0"
    return f"{median:.{digits}f} ({low:.{digits}f} to {high:.{digits}f})"


GROUP_ORDER = (*CLASS_LABELS, "combination", "placebo")
GROUP_LABELS = {**CLASS_LABELS, "combination": "combinations", "placebo": "placebo"}


def _comparison_rows(
    summary: pd.DataFrame, n_patients: int, protocols: dict[str, TherapyProtocol]
) -> list[dict]:
    """One row per therapy, grouped by therapy class (FcRn inhibitors, anti-CD20, ...)."""
    rows = []
    for therapy, data in summary.groupby("therapy", sort=False):
        data = data.set_index("quantity")
        cells = {
            quantity: _band(
                data.at[quantity, "median"],
                data.at[quantity, "p05"],
                data.at[quantity, "p95"],
                2 if unit == "1" else (0 if unit in ("day", "days") else 1),
            )
            for quantity, (_, unit) in COMPARISON_METRICS.items()
        }
        recovered = int(data.at["igg_recovery_day", "n"])
        cells["recovered"] = f"{recovered} of {n_patients}"
        group = protocols[therapy].group()
        rows.append({"therapy": therapy, "group": GROUP_LABELS[group], **cells})
    order = {GROUP_LABELS[g]: k for k, g in enumerate(GROUP_ORDER)}
    return sorted(rows, key=lambda row: order[row["group"]])


def _validation_rows(validation: pd.DataFrame) -> list[dict]:
    def value(x: float) -> str:
        return fmt(float(x)) if np.isfinite(x) else "-"

    rows = []
    for r in validation.to_dict("records"):
        band = (
            f"{value(r['band_low'])} to {value(r['band_high'])}"
            if np.isfinite(r["band_low"])
            else "-"
        )
        rows.append(
            {
                **r,
                "simulated": value(r["simulated"]),
                "band": band,
                "as_expected": r["verdict"] == r["expected"],
            }
        )
    return rows


def _parameter_rows(parameters: ParameterSet, protocols: dict[str, TherapyProtocol]) -> list[dict]:
    """Constants that are assumed or calibrated, with their source: human.yaml, then those of
    the library entries the protocols use (as ``entry.constant``)."""
    rows = parameters.table()
    entries = {e.name: e for p in protocols.values() for e in p.entries()}
    for entry in entries.values():
        items = [(f"parameters.{k}", v) for k, v in entry.parameters.items()]
        items += [(f"{r}.{k}", v) for r, values in entry.routes.items() for k, v in values.items()]
        rows += [
            {
                "parameter": f"{entry.name}.{key}",
                "value": f"{item.value:.4g}",
                "unit": item.unit,
                "cv": f"{item.cv:.0%}" if item.cv else "-",
                "source": item.source,
            }
            for key, item in items
        ]
    return [row for row in rows if row["source"].lower().startswith(("assumed", "calibrated"))]


def render_therapies(study: TherapyStudy, folder: Path) -> str:
    """Draw the course figures (the patients: ``therapy_courses.*``; a typical patient:
    ``typical_patient_courses.*``), write the validation table as Markdown (``validation.md``)
    and ``report.html`` into ``folder``; return the report's name."""
    validation = study.validation
    (folder / "validation.md").write_text(validation_markdown(validation))
    courses = pd.concat([study.comparison.courses, study.pain], ignore_index=True)
    figure = _interactive(
        therapy_courses(courses, WITH_PAIN),
        course_figure(courses, WITH_PAIN),
        folder,
        "therapy_courses",
        "total IgG, anti-SGC IgG, sensitisation and pain over time by therapy",
    )
    typical_figure = (
        _interactive(
            therapy_courses(study.typical, WITH_PAIN),
            course_figure(study.typical, WITH_PAIN),
            folder,
            "typical_patient_courses",
            "a typical patient's total IgG, anti-SGC IgG, sensitisation and pain by therapy",
        )
        if not study.typical.empty
        else ""
    )
    passed = int((validation["verdict"] == "PASS").sum())
    validation_rows = _validation_rows(validation)
    parameter_rows = _parameter_rows(study.parameters, study.protocols)
    unexpected = validation[validation["verdict"] != validation["expected"]]
    return render_template(
        "therapies.html.j2",
        folder,
        "report.html",
        title="IgG-lowering therapies in virtual fibromyalgia patients",
        version=study.provenance.fmsim_version,
        generated=study.provenance.created,
        seed=study.seed,
        source=study.source,
        n_patients=study.n_patients,
        population=study.population,
        days=f"{study.days:g}",
        protocols=[
            {"label": label, "blocks": [_block_text(b) for b in protocol.therapies]}
            for label, protocol in study.protocols.items()
        ],
        plotly_script=plotly_script(folder),
        findings=findings(study.comparison.summary, study.pain),
        metrics=COMPARISON_METRICS,
        comparison=_comparison_rows(study.comparison.summary, study.n_patients, study.protocols),
        figure=figure,
        typical_figure=typical_figure,
        pain=pain_rows(study.typical, study.pain),
        validation=validation_rows,
        passed=passed,
        total=len(validation),
        known=[
            f"{r.regimen}, {r.metric}"
            for r in validation[validation["expected"] == "FAIL"].itertuples()
        ],
        unexpected=unexpected["id"].tolist(),
        limits=LIMITS,
        parameters=parameter_rows,
        extra_references=entry_references(e for p in study.protocols.values() for e in p.entries()),
        files=run_files(folder, "report.html"),
    )
