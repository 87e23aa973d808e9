"""Figures of a virtual trial: IgG and sensitisation by arm, outcomes over visits, forest plot,
power curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fmsim.config.trial import OUTCOME_LABELS  # noqa: E402
from fmsim.report.figures import _colours  # noqa: E402

COURSE_PANELS = (
    ("total_igg_percent", "total IgG (% of baseline)"),
    ("anti_sgc_percent", "anti-SGC IgG (% of baseline, positive patients)"),
    ("sensitisation_positive", "sensitisation S, positive patients (1 = none)"),
)


def course_percentages(courses: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Add total and anti-SGC IgG as % of each patient's day-0 value, and the group; anti-SGC
    only for anti-SGC-positive patients (others have none)."""
    table = courses.merge(patients[["patient", "group", "anti_sgc_positive"]], on="patient")
    first = table.sort_values("day").groupby("patient")[["total_igg", "anti_sgc_igg"]].first()
    base = table["patient"].map(first["total_igg"])
    table["total_igg_percent"] = 100.0 * table["total_igg"] / base
    anti = table["patient"].map(first["anti_sgc_igg"])
    table["anti_sgc_percent"] = np.where(
        table["anti_sgc_positive"], 100.0 * table["anti_sgc_igg"] / anti.where(anti > 0), np.nan
    )
    table["sensitisation_positive"] = table["sensitisation"].where(table["anti_sgc_positive"])
    return table


def course_figure(courses: pd.DataFrame, patients: pd.DataFrame) -> plt.Figure:
    """Median and interquartile band per group over study days."""
    table = course_percentages(courses, patients)
    groups = list(patients["group"].unique())
    colours = _colours(groups)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (column, label) in zip(axes, COURSE_PANELS, strict=True):
        for group in groups:
            data = table[table["group"] == group].dropna(subset=[column])
            if data.empty:
                continue
            q = data.groupby("day")[column].quantile([0.25, 0.5, 0.75]).unstack()
            ax.plot(q.index / 7.0, q[0.5], color=colours[group], label=group)
            ax.fill_between(q.index / 7.0, q[0.25], q[0.75], color=colours[group], alpha=0.2)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("week")
    axes[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def outcome_figure(visits: pd.DataFrame) -> plt.Figure:
    """Mean +/- SEM of each outcome per group over visit weeks (observed cases)."""
    outcomes = list(OUTCOME_LABELS)
    groups = list(visits["group"].unique())
    colours = _colours(groups)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.3 * len(outcomes), 3.4))
    for ax, outcome in zip(axes, outcomes, strict=True):
        summary = visits.groupby(["group", "week"])[outcome].agg(["mean", "sem"]).reset_index()
        for group in groups:
            s = summary[summary["group"] == group]
            ax.errorbar(
                s["week"],
                s["mean"],
                yerr=s["sem"],
                color=colours[group],
                label=group,
                marker="o",
                markersize=3,
                capsize=2,
            )
        ax.set_title(OUTCOME_LABELS[outcome], fontsize=9)
        ax.set_xlabel("week")
    axes[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def forest_plot(effects: pd.DataFrame) -> plt.Figure:
    """Effect estimate and 95 % CI per endpoint and comparison (negative favours treatment)."""
    n = len(effects)
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * n + 1.2))
    y = np.arange(n)[::-1]
    ax.errorbar(
        effects["estimate"],
        y,
        xerr=[effects["estimate"] - effects["ci_low"], effects["ci_high"] - effects["estimate"]],
        fmt="s",
        color="#2c3e50",
        capsize=3,
    )
    ax.axvline(0.0, color="#999", linewidth=1)
    ax.set_yticks(y, [f"{r.label}\n{r.comparison}" for r in effects.itertuples()], fontsize=8)
    ax.set_xlabel(
        "treatment - control, change from baseline (outcome units); < 0 favours treatment"
    )
    fig.tight_layout()
    return fig


def power_figure(power: pd.DataFrame, target: float) -> plt.Figure:
    """Power (share of replicate trials with p < alpha, Wilson 95 % band) against the number
    of patients randomised, one curve per population."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    populations = list(power["population"].unique())
    colours = _colours(populations)
    for population in populations:
        p = power[power["population"] == population].sort_values("patients")
        ax.plot(p["patients"], p["power"], marker="o", color=colours[population], label=population)
        ax.fill_between(
            p["patients"], p["ci_low"], p["ci_high"], color=colours[population], alpha=0.2
        )
    ax.axhline(target, color="#999", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("patients randomised")
    ax.set_ylabel("power (primary endpoint)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def positive_fraction_figure(table: pd.DataFrame, patients: int, target: float) -> plt.Figure:
    """Power of the configured trial size, and its mean effect, against the share of
    anti-SGC-positive patients in the population."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    share = 100 * table["positive_fraction"]
    left.plot(share, table["power"], marker="o", color="#2c3e50")
    left.fill_between(share, table["ci_low"], table["ci_high"], color="#2c3e50", alpha=0.2)
    left.axhline(target, color="#999", linestyle="--", linewidth=1)
    left.set_ylim(0, 1)
    left.set_xlabel("anti-SGC-positive patients in the population (%)")
    left.set_ylabel(f"power with {patients} patients")
    right.plot(share, table["mean_effect"], marker="o", color="#c0392b")
    right.axhline(0.0, color="#999", linewidth=1)
    right.set_xlabel("anti-SGC-positive patients in the population (%)")
    right.set_ylabel("mean primary effect (treatment - control)")
    fig.tight_layout()
    return fig
