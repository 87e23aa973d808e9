"""Figures in the style of the paper: group mean +/- SEM over days, model time courses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fmsim.experiments.analysis import time_course_tests  # noqa: E402
from fmsim.model.parameters import ReadoutSpec  # noqa: E402

GROUP_COLOURS = ("#c0392b", "#2c3e50", "#7f8c8d", "#2980b9", "#27ae60", "#8e44ad")


def _colours(groups) -> dict[str, str]:
    return {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}


def _test_panels(measurements: pd.DataFrame):
    """Tests measured on more than one day, the groups, their colours, and a grid of panels
    (up to 3 per row) for those tests."""
    tests = time_course_tests(measurements)
    groups = list(measurements["group"].unique())
    ncols = min(3, max(len(tests), 1))
    nrows = max(-(-len(tests) // ncols), 1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    return tests, groups, _colours(groups), fig, axes


def _finish_panels(fig, axes, tests, specs, xlabel: str) -> plt.Figure:
    """Title and axis labels per test panel (label, unit), unused panels hidden, one legend."""
    for ax, test in zip(axes.flat, tests, strict=False):
        ax.set_title(specs[test].label, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(specs[test].unit)
    for ax in list(axes.flat)[len(tests) :]:
        ax.axis("off")
    if tests:
        axes.flat[0].legend(fontsize=7, frameon=False)
    else:
        axes.flat[0].text(0.5, 0.5, "no test measured on more than one day", ha="center")
    fig.tight_layout()
    return fig


def behaviour_time_courses(
    measurements: pd.DataFrame,
    specs: dict[str, ReadoutSpec],
    injection_days: list[float],
    significant: dict[str, list[float]] | None = None,
) -> plt.Figure:
    """One panel per behavioural test: group mean +/- SEM; injections shaded; * = significant
    difference of the disease group from control (Holm-adjusted) on that day."""
    tests, groups, colours, fig, axes = _test_panels(measurements)
    for ax, test in zip(axes.flat, tests, strict=False):
        data = measurements[measurements["test"] == test]
        summary = data.groupby(["group", "day"])["value"].agg(["mean", "sem"]).reset_index()
        for group in groups:
            g = summary[summary["group"] == group]
            ax.errorbar(
                g["day"],
                g["mean"],
                yerr=g["sem"],
                marker="o",
                ms=3,
                capsize=2,
                lw=1.2,
                color=colours[group],
                label=group,
            )
        for day in injection_days:
            ax.axvspan(day - 0.1, day + 0.1, color="#f1c40f", alpha=0.3, lw=0)
        if significant and significant.get(test):
            top = ax.get_ylim()[1]
            for day in significant[test]:
                ax.text(day, top, "*", ha="center", va="top", fontsize=12)
    return _finish_panels(fig, axes, tests, specs, "day after first injection")


def model_time_courses(trajectories: pd.DataFrame, injection_days: list[float]) -> plt.Figure:
    """Human IgG and host IgG in plasma, SGC occupancy, sensitisation and IENFD (model states),
    group median with the 5th-95th percentile band (as the interactive figure)."""
    panels = [
        ("human_igg_plasma", "human IgG in mouse plasma (mg/mL)", True),
        ("host_igg_plasma", "mouse (host) IgG in plasma (mg/mL)", False),
        ("sgc_occupancy", "SGC antigen occupancy (fraction)", False),
        ("sensitisation", "nociceptor sensitisation S (baseline 1)", False),
        ("ienfd_relative", "IENFD (fraction of baseline)", False),
    ]
    groups = list(trajectories["group"].unique())
    colours = _colours(groups)
    fig, grid = plt.subplots(2, 3, figsize=(12.6, 6.4))
    axes = list(grid.flat)
    for ax, (column, label, log) in zip(axes, panels, strict=False):
        stats = trajectories.groupby(["group", "day"])[column]
        mean = stats.median().unstack("group")
        low, high = stats.quantile(0.05).unstack("group"), stats.quantile(0.95).unstack("group")
        for group in groups:
            ax.plot(mean.index, mean[group], color=colours[group], lw=1.4, label=group)
            ax.fill_between(
                mean.index, low[group], high[group], color=colours[group], alpha=0.15, lw=0
            )
        for day in injection_days:
            ax.axvline(day, color="#f1c40f", lw=0.8, alpha=0.7)
        if log:
            ax.set_yscale("symlog", linthresh=0.01)
            ax.set_ylim(bottom=0.0)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("day after first injection")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].axis("off")
    axes[-1].legend(handles, labels, loc="center", frameon=False)
    fig.tight_layout()
    return fig


#: Which way a test moves when a mouse becomes more sensitive or impaired: -1 where the value
#: falls (thresholds, latency, grip, activity, nerve fibres), +1 where it rises (cold responses).
HYPERSENSITIVE_DIRECTION = {
    "paw_pressure_threshold": -1,
    "von_frey_threshold": -1,
    "heat_latency": -1,
    "grip_strength": -1,
    "locomotor_activity": -1,
    "ienfd": -1,
    "cold_response": 1,
}
#: Colours of every figure that shows the direction of an effect: red = towards
#: hypersensitivity or impairment, blue = away from it, white = no change.
EFFECT_CMAP = "RdBu_r"


def donor_heatmap(donors: pd.DataFrame) -> plt.Figure:
    """Change from baseline per FMS donor and test, signed towards hypersensitivity: red means
    more sensitive or impaired in every column (a threshold that falls, cold responses that
    rise), blue the opposite; a dot marks p < 0.05 versus control."""
    direction = donors["test"].map(HYPERSENSITIVE_DIRECTION).fillna(1)
    signed = donors.assign(towards=donors["change_percent"] * direction)
    table = signed.pivot(index="donor", columns="test", values="towards")
    marks = signed.pivot(index="donor", columns="test", values="effect")
    fig, ax = plt.subplots(figsize=(1.3 * table.shape[1] + 2, 0.45 * table.shape[0] + 1.5))
    limit = max(float(table.abs().max().max()), 1.0)
    image = ax.imshow(table.to_numpy(), cmap=EFFECT_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    labels = [
        t if t in HYPERSENSITIVE_DIRECTION else f"{t} (direction unknown)" for t in table.columns
    ]
    ax.set_xticks(range(table.shape[1]), labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=8)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            if bool(marks.iloc[i, j]):
                ax.plot(j, i, "ko", ms=4)
    fig.colorbar(
        image,
        ax=ax,
        label="% change from baseline (days 1-10),\nred = towards hypersensitivity",
    )
    fig.tight_layout()
    return fig


def power_curves(table: pd.DataFrame, target: float = 0.8) -> plt.Figure:
    """Power against mice per group, one line per donor anti-SGC fraction (95% CI band)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (fraction, rows) in enumerate(table.groupby("anti_sgc_fraction")):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        ax.plot(
            rows["mice_per_group"],
            rows["power"],
            "o-",
            color=colour,
            label=f"anti-SGC fraction {fraction:g}",
        )
        ax.fill_between(
            rows["mice_per_group"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.15, lw=0
        )
    ax.axhline(target, color="k", ls="--", lw=0.8)
    ax.set_xlabel("mice per group")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def individual_time_courses(measurements: pd.DataFrame, specs) -> plt.Figure:
    """One panel per test measured on more than one day: a thin line per mouse (coloured by
    group) and the group mean as a thick line; y axis in the test's unit (``specs[test].unit``,
    x axis in days). ``specs`` maps test name -> object with ``.label`` and ``.unit``."""
    tests, groups, colours, fig, axes = _test_panels(measurements)
    for ax, test in zip(axes.flat, tests, strict=False):
        data = measurements[measurements["test"] == test]
        for (group, _mouse), mouse_data in data.groupby(["group", "mouse"], sort=False):
            mouse_data = mouse_data.sort_values("day")
            ax.plot(
                mouse_data["day"],
                mouse_data["value"],
                color=colours[group],
                lw=0.7,
                alpha=0.45,
                marker="o",
                ms=2,
            )
        means = data.groupby(["group", "day"])["value"].mean()
        for group in groups:
            if group in means.index.get_level_values(0):
                mean = means.loc[group]
                ax.plot(mean.index, mean.to_numpy(), color=colours[group], lw=2.2, label=group)
    return _finish_panels(fig, axes, tests, specs, "day")


def time_course_fit_map(scan: pd.DataFrame, occupancy50: float) -> plt.Figure:
    """Recovery day after the last dose over donor anti-SGC fraction x sensitisation turnover,
    one panel per anti-human-IgG clearance rate; white dots mark combinations meeting all the
    reported time-course criteria (onset, maintenance, recovery 14-21 days)."""
    data = scan[np.isclose(scan["sensitisation_occupancy50"], occupancy50)]
    rates = sorted(data["ada_clearance_rate"].unique())
    fig, axes = plt.subplots(1, len(rates), figsize=(4.4 * len(rates), 3.6), squeeze=False)
    for ax, rate in zip(axes.flat, rates, strict=True):
        panel = data[data["ada_clearance_rate"] == rate]
        days = panel.pivot(
            index="sensitisation_turnover",
            columns="anti_sgc_fraction",
            values="recovery_day_after_last_dose",
        )
        fits = panel.pivot(
            index="sensitisation_turnover", columns="anti_sgc_fraction", values="fits"
        )
        image = ax.imshow(
            days.to_numpy(), origin="lower", cmap="viridis", aspect="auto", vmin=5, vmax=30
        )
        rows, cols = np.nonzero(fits.to_numpy(bool))
        ax.plot(cols, rows, "wo", ms=5)
        ax.set_xticks(
            range(days.shape[1]), [f"{v:g}" for v in days.columns], rotation=45, fontsize=7
        )
        ax.set_yticks(range(days.shape[0]), [f"{v:g}" for v in days.index], fontsize=7)
        ax.set_xlabel("donor anti-SGC fraction")
        ax.set_title(f"anti-human-IgG clearance {rate:g}/day", fontsize=9)
    axes.flat[0].set_ylabel("sensitisation turnover (1/day)")
    fig.subplots_adjust(bottom=0.24, wspace=0.15, right=0.86)
    fig.colorbar(image, ax=list(axes.flat), label="recovery, days after last dose")
    return fig
