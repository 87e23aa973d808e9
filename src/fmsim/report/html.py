"""The passive-transfer HTML report: design, findings, figures, statistics, parameters, limits."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader

from fmsim.experiments.analysis import PassiveTransferAnalysis
from fmsim.experiments.passive_transfer import PassiveTransferResult
from fmsim.experiments.time_course_fit import scan_time_course
from fmsim.report import figures

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


def _png(fig: plt.Figure, folder: Path, name: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    fig.savefig(folder / f"{name}.png", dpi=150)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _fmt(value, digits=3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


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


def write_report(
    result: PassiveTransferResult,
    analysis: PassiveTransferAnalysis,
    folder: Path,
    disease_group: str,
    files: list[Path],
) -> Path:
    """Render the report into ``folder/report.html`` (figures also saved as PNG)."""
    config = result.config
    specs = result.parameters.readouts
    figure_folder = folder / "figures"
    figure_folder.mkdir(parents=True, exist_ok=True)
    significant = analysis.significant_days(disease_group)
    figs = {
        "behaviour": _png(
            figures.behaviour_time_courses(
                result.measurements, specs, config.injection_days, significant
            ),
            figure_folder,
            "behaviour",
        ),
        "model": _png(
            figures.model_time_courses(result.trajectories, config.injection_days),
            figure_folder,
            "model",
        ),
        "donors": _png(figures.donor_heatmap(analysis.donors), figure_folder, "donors")
        if len(analysis.donors)
        else "",
    }
    occupancy50 = result.parameters["sensitisation_occupancy50"].value
    scan = scan_time_course(parameters=result.parameters)
    figs["fit_map"] = _png(
        figures.time_course_fit_map(scan, occupancy50), figure_folder, "time_course_fit"
    )
    scan.to_csv(folder / "time_course_scan.csv", index=False)
    files = [*files, folder / "time_course_scan.csv"]
    fitting = scan[scan["fits"]]
    fit_summary = (
        f"{len(fitting)} of {len(scan)} combinations meet all criteria; they span donor "
        f"anti-SGC fractions {fitting['anti_sgc_fraction'].min():g}-"
        f"{fitting['anti_sgc_fraction'].max():g} and sensitisation turnover "
        f"{fitting['sensitisation_turnover'].min():g}-"
        f"{fitting['sensitisation_turnover'].max():g}/day"
        if len(fitting)
        else f"none of {len(scan)} combinations meets all criteria"
    )
    donors = analysis.donors
    findings = []
    for row in analysis.time_course.itertuples():
        per_test = donors[donors["test"] == row.test] if len(donors) else donors
        findings.append(
            {
                "test": specs[row.test].label,
                "first": _fmt(row.first_significant_day),
                "last": _fmt(row.last_significant_day),
                "largest": f"{_fmt(row.largest_difference)} {specs[row.test].unit}",
                "p": _p(row.p_interaction),
                "donors": f"{int(per_test['effect'].sum())} of {len(per_test)}"
                if len(per_test)
                else "-",
            }
        )
    endpoint = []
    for test, table in analysis.endpoint.items():
        for r in table.itertuples():
            endpoint.append(
                f"{specs[test].label} on day {r.day:g}: {r.group} {r.mean_group:.1f} vs "
                f"{config.control_group} {r.mean_control:.1f} {specs[test].unit} "
                f"(difference {r.difference:.1f}, 95% CI {r.ci_low:.1f} to {r.ci_high:.1f}, "
                f"Welch p {_p(r.p_value)})."
            )
    statistics = []
    method = ""
    for test, a in analysis.readouts.items():
        method = a.method
        post = a.posthoc.copy()
        statistics.append(
            {
                "label": specs[test].label,
                "unit": specs[test].unit,
                "omnibus": a.omnibus.to_html(float_format=lambda v: f"{v:.4g}"),
                "posthoc": post.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
                "n_significant": int(post["significant"].sum()),
                "n_rows": len(post),
            }
        )
    groups = [
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
    readout_table = pd.DataFrame(
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
    env = Environment(loader=PackageLoader("fmsim.report", "templates"), autoescape=True)
    html = env.get_template("passive_transfer.html.j2").render(
        title=config.name,
        version=metadata.version("fmsim"),
        seed=config.seed,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        dose=config.dose,
        injection_days=", ".join(f"{d:g}" for d in config.injection_days),
        test_days=", ".join(f"{d:g}" for d in config.test_days),
        ienfd_days=", ".join(f"{d:g}" for d in config.ienfd_days),
        control=config.control_group,
        disease=disease_group,
        groups=groups,
        findings=findings,
        endpoint=endpoint,
        figures=figs,
        half_lives=human_igg_half_lives(result.trajectories),
        fit_summary=fit_summary,
        occupancy50=f"{occupancy50:g}",
        method=method,
        statistics=statistics,
        auc_table=analysis.auc.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
        parameter_table=pd.DataFrame(result.parameters.table()).to_html(index=False),
        readout_table=readout_table.to_html(index=False),
        assumptions=ASSUMPTIONS,
        files=[str(f) for f in files],
    )
    path = folder / "report.html"
    path.write_text(html)
    return path
