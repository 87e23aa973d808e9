"""The passive-transfer HTML report: design, findings, figures, statistics, parameters, limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.experiments.studies.passive_transfer import PassiveTransferStudy
from fmsim.report import figures
from fmsim.report.common import (
    figure_html,
    findings_rows,
    frame_html,
    interactive_html,
    p_text,
    render_template,
    run_files,
    statistics_rows,
)
from fmsim.report.interactive import (
    plotly_script,
    readout_time_courses,
    state_time_courses,
)

ASSUMPTIONS = (
    "Endogenous C57BL/6 IgG (3 mg/mL), the i.p. absorption rate and the human-IgG FcRn affinity "
    "in mice were not found in the literature; they are assumptions with stated ranges.",
    "FcRn capacity and endosomal loading are calibrated to two clearances of a murine IgG1 "
    "(Hansen & Balthasar 2002: 5.2 mL/day/kg in wild-type mice, 14.4 with IVIG 1 g/kg); the "
    "IVIG value is taken as a 7-day mean (the sampling window was not readable).",
    "Donor anti-SGC fractions, SGC binding affinity, the occupancy-sensitisation curve and its "
    "turnover are not measured; they were chosen so that onset falls within 24-48 h and recovery "
    "2-3 weeks after the last dose, as reported. The size of each behavioural effect and the "
    "readout baselines are assumed typical values; the study's magnitudes were not available.",
    "Heat sensitivity has no disease effect by default (the study's heat result is unverified).",
    "IgG-depleted serum is modelled as complete IgG removal; saline and depleted serum receive "
    "no human IgG.",
    "Mouse anti-human-IgG antibodies (reported by day 21 in most mice after repeated human IgG) "
    "are off by default (ada_clearance_rate = 0); switch them on to explore.",
    "All mice share the experiment's schedule; between-animal variability is lognormal on the "
    "parameters with a CV; measurement noise is lognormal, and von Frey thresholds come from a "
    "simulated up-down session (Chaplan 1994), which biases high thresholds low by ~20%.",
    "IENFD is measured once per mouse (terminal biopsy) on the configured day(s).",
)


def human_igg_half_lives(trajectories: pd.DataFrame, windows=((5, 10), (21, 35))) -> str:
    """Log-linear half-lives (days) of mean human IgG in the groups that received IgG."""
    parts = []
    got_igg = trajectories.groupby("group")["human_igg_plasma"].max() > 0
    for group in got_igg[got_igg].index:
        mean = trajectories[trajectories["group"] == group].groupby("day")["human_igg_plasma"]
        mean = mean.mean()
        for start, stop in windows:
            part = mean[(mean.index >= start) & (mean.index <= stop)]
            if len(part) > 2 and (part > 0).all():
                slope = np.polyfit(part.index, np.log(part.to_numpy()), 1)[0]
                parts.append(f"{group}, days {start}-{stop}: {np.log(2) / -slope:.1f} d")
    return "; ".join(parts) or "no group received human IgG"


def render_passive_transfer(study: PassiveTransferStudy, folder: Path) -> str:
    """Draw the figures (``figures/*.png``) and write ``report.html`` into ``folder``; return
    the report's name."""
    config, analysis = study.config, study.analysis
    specs = study.simulation.parameters.readouts
    findings = findings_rows(analysis, specs)
    for row, donors in zip(findings, _donor_counts(analysis), strict=True):
        row["donors"] = donors
    statistics, method = statistics_rows(analysis, specs)
    occupancy50 = study.simulation.parameters["sensitisation_occupancy50"].value
    figures_html = _figures(study, folder / "figures")
    return render_template(
        "passive_transfer.html.j2",
        folder,
        "report.html",
        title=config.name,
        plotly_script=plotly_script(folder),
        version=study.provenance.fmsim_version,
        seed=config.seed,
        generated=study.provenance.created,
        dose=_dose_text(study),
        injection_days=_days(_dose_days(study)),
        test_days=_days(config.test_days),
        ienfd_days=_days(config.ienfd_days),
        control=config.control_group,
        disease=config.disease_group,
        groups=_group_rows(config),
        findings=findings,
        endpoint=_endpoint_sentences(study, specs),
        figures=figures_html,
        half_lives=human_igg_half_lives(study.simulation.trajectories),
        fit_summary=_fit_summary(study.scan),
        occupancy50=f"{occupancy50:g}",
        method=method,
        statistics=statistics,
        auc_table=frame_html(analysis.auc),
        parameter_table=frame_html(pd.DataFrame(study.simulation.parameters.table()), 4),
        readout_table=frame_html(_readout_table(specs)),
        assumptions=ASSUMPTIONS,
        files=run_files(folder, "report.html"),
    )


def _days(days) -> str:
    return ", ".join(f"{d:g}" for d in days)


def _dose_days(study: PassiveTransferStudy) -> list[float]:
    """The days doses were given: the scenario's, or the event table's."""
    if study.dosing is None:
        return list(study.config.injection_days)
    return sorted(set(study.dosing["TIME"].astype(float)))


def _dose_text(study: PassiveTransferStudy) -> str:
    """The dose per injection: the scenario's, or the event table's range (dosing.csv)."""
    if study.dosing is None:
        return study.config.dose
    low, high = study.dosing["AMT"].astype(float).agg(["min", "max"])
    amount = f"{low:g} mg" if low == high else f"{low:g}-{high:g} mg"
    states = ", ".join(sorted(set(study.dosing["CMT"])))
    return f"{amount} per dose into {states} as the event table gives (dosing.csv),"


def _figures(study: PassiveTransferStudy, folder: Path) -> dict[str, str]:
    """The report's figures as HTML: the behaviour and model time courses interactive (static
    PNG as fallback), the others base64-encoded PNG (all also saved as PNG, SVG and PDF in
    ``folder``)."""
    config, analysis, simulation = study.config, study.analysis, study.simulation
    significant = analysis.significant_days(config.disease_group)
    occupancy50 = simulation.parameters["sensitisation_occupancy50"].value
    behaviour = figures.behaviour_time_courses(
        simulation.measurements, simulation.parameters.readouts, _dose_days(study), significant
    )
    days = _dose_days(study)
    model = figures.model_time_courses(simulation.trajectories, days)
    measurements = simulation.measurements
    return {
        "behaviour": interactive_html(
            readout_time_courses(measurements, simulation.parameters.readouts, days),
            behaviour,
            folder,
            "behaviour",
            "behaviour time courses",
        ),
        "model": interactive_html(
            state_time_courses(simulation.trajectories, days),
            model,
            folder,
            "model",
            "model time courses",
        ),
        "donors": figure_html(figures.donor_heatmap(analysis.donors), folder, "donors", "donors")
        if len(analysis.donors)
        else "",
        "fit_map": figure_html(
            figures.time_course_fit_map(study.scan, occupancy50),
            folder,
            "time_course_fit",
            "time-course fit map",
        ),
    }


def _fit_summary(scan: pd.DataFrame) -> str:
    """Which scanned combinations meet all time-course criteria, in one sentence."""
    fitting = scan[scan["fits"]]
    if not len(fitting):
        return f"none of {len(scan)} combinations meets all criteria"
    return (
        f"{len(fitting)} of {len(scan)} combinations meet all criteria; they span donor "
        f"anti-SGC fractions {fitting['anti_sgc_fraction'].min():g}-"
        f"{fitting['anti_sgc_fraction'].max():g} and sensitisation turnover "
        f"{fitting['sensitisation_turnover'].min():g}-"
        f"{fitting['sensitisation_turnover'].max():g}/day"
    )


def _donor_counts(analysis) -> list[str]:
    """Per test of the time-course summary: how many donors had an effect (``k of n``)."""
    donors = analysis.donors
    counts = []
    for row in analysis.time_course.itertuples():
        per_test = donors[donors["test"] == row.test] if len(donors) else donors
        counts.append(
            f"{int(per_test['effect'].sum())} of {len(per_test)}" if len(per_test) else "-"
        )
    return counts


def _endpoint_sentences(study: PassiveTransferStudy, specs) -> list[str]:
    """One sentence per single-day endpoint comparison (e.g. IENFD)."""
    control = study.config.control_group
    sentences = []
    for test, table in study.analysis.endpoint.items():
        for r in table.itertuples():
            sentences.append(
                f"{specs[test].label} on day {r.day:g}: {r.group} {r.mean_group:.1f} vs "
                f"{control} {r.mean_control:.1f} {specs[test].unit} "
                f"(difference {r.difference:.1f}, 95% CI {r.ci_low:.1f} to {r.ci_high:.1f}, "
                f"Welch p {p_text(r.p_value)})."
            )
    return sentences


def _group_rows(config) -> list[dict]:
    return [
        {
            "name": g.name,
            "material": g.material,
            "n_donors": len(g.donors),
            "n_mice": g.n_mice(),
            "fractions": ", ".join(f"{d.id} {d.anti_sgc_fraction:g}" for d in g.donors)
            if g.material == "igg"
            else "-",
        }
        for g in config.groups
    ]


def _readout_table(specs) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "readout": s.label,
                "unit": s.unit,
                "baseline": s.baseline,
                "max change": s.max_change,
                "animal CV": s.animal_cv,
                "measurement CV": s.measurement_cv,
                "source": s.source,
            }
            for s in specs.values()
        ]
    )
