"""HTML report of a virtual trial: design, enrolment, IgG by arm, outcomes, effects, power."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.config.trial import OUTCOME_LABELS
from fmsim.experiments.studies.trial import TrialStudy
from fmsim.experiments.trial import TrialSimulation
from fmsim.report import trial_figures
from fmsim.report.common import (
    figure_html,
    fmt,
    interactive_html,
    p_text,
    render_template,
    run_files,
)
from fmsim.report.interactive import plotly_script, power_curve

ASSUMPTIONS = (
    "Anti-SGC IgG causes part of fibromyalgia pain in antibody-positive patients through the "
    "same chain as in mice (DRG binding, nociceptor sensitisation); its human size (pain points "
    "per unit of sensitisation) is assumed, not measured.",
    "Pain not driven by anti-SGC IgG is unaffected by IgG-lowering therapy.",
    "The placebo (expectation) response is the same in every arm of a blinded trial and is "
    "calibrated to placebo responder rates of fibromyalgia drug trials.",
    "Anti-SGC status is measured without error at screening.",
    "Dropout is random (constant weekly hazard), independent of outcome and arm.",
    "In crossover designs, IgG-lowering carries over into the next period as the model predicts; "
    "the analysis (mixed model with period and treatment) does not model carryover.",
)

#: This report's figures lie beside it (not in figures/).
_figure = partial(figure_html, link="")
_interactive = partial(interactive_html, link="")


def _design_rows(config) -> dict[str, str]:
    rows = {
        "design": config.design,
        "patients randomised": str(config.patients),
        "arms": "; ".join(
            f"{a.name}: {', '.join(b.type for b in a.therapies) or 'placebo'}" for a in config.arms
        ),
        "control arm": config.control_arm,
        "duration": f"{config.total_weeks} weeks",
        "anti-SGC positive in population": f"{config.population.anti_sgc_positive_fraction:.0%}",
        "enrichment": config.population.enrichment,
        "inclusion": f"baseline {OUTCOME_LABELS[config.population.inclusion_outcome]} >= "
        f"{config.population.inclusion_minimum}",
        "primary endpoint": f"{OUTCOME_LABELS[config.primary.outcome]}, "
        f"{config.primary.analysis.upper()}",
    }
    if config.crossover is not None:
        c = config.crossover
        rows["sequences"] = "; ".join(f"{s.name}: {' -> '.join(s.periods)}" for s in c.sequences)
        rows["periods"] = (
            f"{c.period_weeks} weeks, washout {c.washout_weeks} weeks, outcome = mean of the "
            f"last {c.assessment_weeks} weeks"
        )
    return rows


def _enrolment(simulation: TrialSimulation) -> list[dict]:
    primary = simulation.config.primary.outcome
    baseline = simulation.visits[simulation.visits["week"] == 0].set_index("patient")
    rows = []
    for group, members in simulation.patients.groupby("group", sort=False):
        ids = members["patient"]
        rows.append(
            {
                "group": group,
                "n": len(members),
                "positive": int(members["anti_sgc_positive"].sum()),
                "completed": int(np.isinf(members["dropout_day"]).sum()),
                "pain": fmt(float(baseline.reindex(ids)["pain_nrs"].mean())),
                "primary": fmt(float(baseline.reindex(ids)[primary].mean())),
            }
        )
    return rows


def render_trial(study: TrialStudy, folder: Path) -> str:
    """Draw the figures (PNG) and write ``report.html`` into ``folder``; return its name."""
    simulation, analysis = study.simulation, study.analysis
    config = simulation.config
    power, required, by_positive_fraction = study.curve.table, study.curve.required, study.shares
    shares = None
    if not by_positive_fraction.empty:
        shares = _figure(
            trial_figures.positive_fraction_figure(
                by_positive_fraction, config.patients, config.power.target
            ),
            folder,
            "power_by_positive_share",
            "power against the share of anti-SGC-positive patients",
        )
    figures = {
        "shares": shares,
        "courses": _figure(
            trial_figures.course_figure(simulation.courses, simulation.patients),
            folder,
            "igg",
            "IgG and sensitisation by arm",
        ),
        "outcomes": _figure(
            trial_figures.outcome_figure(simulation.visits), folder, "outcomes", "outcomes"
        ),
        "forest": _figure(
            trial_figures.forest_plot(analysis.effects), folder, "forest", "forest plot"
        ),
        "power": (
            _interactive(
                power_curve(power, config.power.target),
                trial_figures.power_figure(power, config.power.target),
                folder,
                "power",
                "power curves",
            )
            if not power.empty
            else None
        ),
    }
    effects = [
        {
            **r,
            "estimate": fmt(r["estimate"]),
            "ci": f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}",
            "p": p_text(r["p_value"]),
        }
        for r in analysis.effects.to_dict("records")
    ]
    responders = [
        {
            "comparison": r["comparison"],
            "threshold": f">= {r['threshold']:.0%}",
            "treatment": f"{r['treatment']:.0%}",
            "control": f"{r['control']:.0%}",
            "difference": f"{r['difference']:+.0%}",
            "ci": f"{r['ci_low']:+.0%} to {r['ci_high']:+.0%}",
            "p": p_text(r["p_value"]),
        }
        for r in analysis.responders.to_dict("records")
    ]
    required_rows = [
        {"population": r["population"], "effect": fmt(r["mean_effect"]), "n": r["label"]}
        for r in required.to_dict("records")
    ]
    return render_template(
        "trial.html.j2",
        folder,
        "report.html",
        title=f"Virtual trial: {config.name}",
        plotly_script=plotly_script(folder) if not power.empty else "",
        findings=findings(study),
        version=study.provenance.fmsim_version,
        generated=study.provenance.created,
        seed=config.seed,
        source=study.source,
        design=_design_rows(config),
        primary_label=OUTCOME_LABELS[config.primary.outcome],
        enrolment=_enrolment(simulation),
        screened=simulation.screened,
        randomised=len(simulation.patients),
        screening_note=_screening_note(config),
        figures=figures,
        effects=effects,
        responders=responders,
        replicates=config.power.replicates,
        alpha=config.power.alpha,
        target_percent=round(100 * config.power.target),
        required=required_rows,
        enrichment_note=_enrichment_note(required),
        patients=config.patients,
        shares=[
            {
                "share": f"{r['positive_fraction']:.0%}",
                "power": f"{r['power']:.2f} ({r['ci_low']:.2f}-{r['ci_high']:.2f})",
                "effect": fmt(r["mean_effect"]),
            }
            for r in by_positive_fraction.to_dict("records")
        ],
        assumptions=ASSUMPTIONS,
        files=run_files(folder, "report.html"),
    )


def findings(study: TrialStudy) -> list[str]:
    """The answer in plain sentences: the primary endpoint's effect with its 95% CI and p, the
    first responder rate, and the patients needed for the target power per population."""
    effects, config = study.analysis.effects, study.config
    primary = effects[effects["role"] == "primary"].iloc[0]
    sentences = [
        f"Primary endpoint, {primary['label']} ({primary['endpoint']}), "
        f"{primary['comparison']}: difference {fmt(primary['estimate'])} "
        f"(95% CI {fmt(primary['ci_low'])} to {fmt(primary['ci_high'])}; "
        f"p = {p_text(primary['p_value'])}; below 0 favours treatment) in one simulated "
        f"trial of {len(study.simulation.patients)} patients."
    ]
    responders = study.analysis.responders
    if not responders.empty:
        r = responders.iloc[0]
        sentences.append(
            f"Pain responders (at least {r['threshold']:.0%} less pain): {r['treatment']:.0%} "
            f"on treatment, {r['control']:.0%} on control ({r['comparison']})."
        )
    for r in study.curve.required.itertuples():
        sentences.append(
            f"{r.population}: {r.label} patients for {config.power.target:.0%} power "
            f"({config.power.replicates} replicate trials per size)."
        )
    return sentences


def _screening_note(config) -> str:
    notes = [
        f"inclusion: baseline {OUTCOME_LABELS[config.population.inclusion_outcome]} >= "
        f"{config.population.inclusion_minimum}"
    ]
    if config.population.enrichment == "anti_sgc_positive":
        notes.append("only anti-SGC-positive patients enrolled")
    return "; ".join(notes)


def _enrichment_note(required: pd.DataFrame) -> str:
    if len(required) < 2:
        return ""
    rows = required.sort_values("required_n")
    best, other = rows.iloc[0], rows.iloc[-1]
    return (
        f"Mean effect {fmt(best['mean_effect'])} in '{best['population']}' versus "
        f"{fmt(other['mean_effect'])} in '{other['population']}'; patients needed: "
        f"{best['label']} versus {other['label']}."
    )
