"""Figures and the HTML report of a fit (:class:`fmsim.calibration.fit.FitResult`)."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fmsim.calibration.fit import FitResult
from fmsim.calibration.profile import THRESHOLD
from fmsim.report.common import figure_html, fmt, frame_html, write_page


def waterfall(starts: pd.DataFrame) -> plt.Figure:
    """Sorted final negative log-likelihoods of the starts, relative to the best."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    values = np.sort(starts["nllh"].to_numpy()) - np.nanmin(starts["nllh"])
    ax.plot(np.arange(1, values.size + 1), values + 1e-3, "o-", ms=4)
    ax.set_yscale("log")
    ax.set_xlabel("start (sorted)")
    ax.set_ylabel("nllh - best + 0.001")
    ax.set_title("Waterfall")
    fig.tight_layout()
    return fig


def fitted_curves(result: FitResult) -> plt.Figure:
    """Data (mean +- SD of the noise) and fitted observables per condition, one panel per
    observable."""
    observables = list(dict.fromkeys(result.fitted["observable"]))
    fig, axes = plt.subplots(1, len(observables), figsize=(4.6 * len(observables), 3.4))
    axes = np.atleast_1d(axes)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    conditions = list(dict.fromkeys(result.fitted["condition"]))
    for ax, name in zip(axes, observables, strict=True):
        for k, condition in enumerate(conditions):
            colour = colours[k % len(colours)]
            data = result.fitted[
                (result.fitted["observable"] == name) & (result.fitted["condition"] == condition)
            ]
            curve = result.curves[
                (result.curves["observable"] == name) & (result.curves["condition"] == condition)
            ]
            if data.empty:
                continue
            normal = data["noise_distribution"] == "normal"
            spread = np.where(normal, data["noise"], data["value"] * data["noise"])
            ax.errorbar(data["time"], data["value"], spread, fmt="o", ms=3, color=colour, alpha=0.6)
            ax.plot(curve["time"], curve["model"], "-", color=colour, lw=1.2, label=condition)
        ax.set_title(name)
        ax.set_xlabel("day")
    if len(conditions) <= 12:
        axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def profile_plot(result: FitResult) -> plt.Figure:
    """Profile likelihoods (rise of the nllh) with the 95 % threshold."""
    n = len(result.profiles)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.0), squeeze=False)
    for ax, p in zip(axes[0], result.profiles, strict=True):
        ax.plot(p.x, p.rise, "o-", ms=3)
        ax.axhline(THRESHOLD, color="grey", ls="--", lw=1)
        ax.axvline(p.best, color="k", lw=0.8)
        ax.set_xlabel(f"{p.name} ({p.scale})", fontsize=8)
        ax.set_title(p.verdict(), fontsize=8)
    axes[0, 0].set_ylabel("nllh - best")
    fig.tight_layout()
    return fig


def posterior_plot(result: FitResult) -> plt.Figure:
    """Trace (burn-in grey) and histogram after the burn-in of each parameter's chain."""
    post = result.posterior
    names = result.problem.names
    fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 5.0), squeeze=False)
    chain = post.chain
    kept = chain[~chain["burn_in"]] if post.converged else chain
    for k, name in enumerate(names):
        ax = axes[0, k]
        ax.plot(chain["iteration"], chain[name], lw=0.6, color="tab:blue")
        burn = chain[chain["burn_in"]]
        ax.plot(burn["iteration"], burn[name], lw=0.6, color="grey")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("iteration", fontsize=8)
        axes[1, k].hist(kept[name], bins=30, color="tab:blue", alpha=0.7)
        axes[1, k].set_xlabel(name, fontsize=8)
    fig.tight_layout()
    return fig


def _posterior_section(result: FitResult, figures: Path) -> list[str]:
    post = result.posterior
    if post.converged:
        diagnosis = (
            f"Geweke burn-in {post.burn_in} iterations; effective sample size of the rest "
            f"{post.effective_sample_size:.0f}."
        )
    else:
        diagnosis = (
            "<strong>The chain has not converged</strong> (the Geweke test finds no stationary "
            "part); the intervals below use the whole chain and are not reliable. Sample longer."
        )
    return [
        "<h2>Posterior sampling</h2>",
        f"<p>{len(post.chain) - 1} iterations of pyPESTO's {post.sampler.replace('_', ' ')} "
        f"sampler from the best fit, flat prior within the bounds"
        f"{' plus the MAP priors' if result.problem.method == 'map' else ''}; "
        f"{post.seconds:.1f} s. {diagnosis}</p>",
        frame_html(post.summary),
        figure_html(posterior_plot(result), figures, "posterior"),
    ]


def findings(result: FitResult) -> list[str]:
    """The answer in plain sentences: each estimate with its unit and 95 % interval (profile
    likelihood; else the posterior's central 95 %), and whether the data pin it down."""
    posterior = (
        result.posterior.summary.set_index("parameter") if result.posterior is not None else None
    )
    sentences = []
    for row in result.estimates.to_dict("records"):
        unit = "" if row["unit"] in ("1", "") else f" {row['unit']}"
        text = f"{row['parameter']}: estimate {fmt(row['estimate'], 4)}{unit}"
        if np.isfinite(row.get("ci_low", np.nan)) or np.isfinite(row.get("ci_high", np.nan)):
            low, high = (fmt(row[k], 3) for k in ("ci_low", "ci_high"))
            text += f" (95 % profile-likelihood interval {low} to {high}; {row['verdict']})"
        elif posterior is not None:
            q = posterior.loc[row["parameter"]]
            text += (
                f" (posterior 95 % interval {fmt(q['posterior_2.5%'])} to "
                f"{fmt(q['posterior_97.5%'])})"
            )
        else:
            text += " (no interval: profiles were not computed)"
        sentences.append(f"{text}; starting value {fmt(row['nominal'], 4)}.")
    return sentences


def _estimates_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates as readers see them: no optimiser scale column, plain headers."""
    names = {
        "nominal": "starting value",
        "lower_bound": "lower bound",
        "upper_bound": "upper bound",
        "ci_low": "95 % interval, low",
        "ci_high": "95 % interval, high",
        "verdict": "identifiability",
    }
    return estimates.drop(columns=["scale"], errors="ignore").rename(columns=names)


def _starts_table(starts: pd.DataFrame) -> pd.DataFrame:
    """The best 50 starts: rank, negative log-likelihood and parameters (the optimiser's own
    messages stay in ``starts.csv``)."""
    table = starts.head(50).drop(columns=["message"], errors="ignore")
    return table.rename(columns={"nllh": "negative log-likelihood"})


def render_fit(result: FitResult, out: Path) -> str:
    """Write ``out/report.html`` (and the figures as PNG, SVG and PDF in ``out/figures``);
    return its name."""
    figures = out / "figures"
    problem = result.problem
    method = "maximum likelihood" if problem.method == "ml" else "maximum a posteriori"
    parts = [
        f"<h1>Fit: {html.escape(problem.name)}</h1>",
        "<h2>Main findings</h2>",
        '<ul class="findings">' + "".join(f"<li>{html.escape(s)}</li>" for s in findings(result)),
        "</ul>",
        f"<p>{method.capitalize()} from {len(problem.measurements)} data points in "
        f"{len(problem.conditions)} conditions; {len(result.starts)} optimiser starts. These "
        "are estimates of a model's parameters, not measurements.</p>",
        "<h2>Estimates</h2>",
        "<p>95 % intervals from the profile likelihood (rise of the negative log-likelihood by "
        f"{THRESHOLD:.2f}); an interval that reaches a bound is open on that side.</p>",
        frame_html(_estimates_table(result.estimates)),
        "<h2>Fitted curves over data</h2>",
        figure_html(fitted_curves(result), figures, "fitted_curves"),
        "<h2>Multi-start waterfall</h2>",
        "<p>Final negative log-likelihood of each start above the best: a flat step at the "
        "left means several starts found the same best fit.</p>",
        figure_html(waterfall(result.starts), figures, "waterfall"),
    ]
    if result.profiles:
        parts += [
            "<h2>Profile likelihoods</h2>",
            figure_html(profile_plot(result), figures, "profiles"),
        ]
    if result.posterior is not None:
        parts += _posterior_section(result, figures)
    parts += [
        "<h2>Starts</h2>",
        frame_html(_starts_table(result.starts)),
        "<h2>Assumptions</h2><ul>",
        "<li>Each condition is one typical mouse (parameter-file medians); between-animal "
        "variability enters only through the noise model (no random effects).</li>",
        "<li>Group-level noise: standard error from the between-mouse SD pooled over the "
        "test's conditions and days; individual-level noise: log-normal from the readout's "
        "CVs.</li>",
        "<li>Results are estimates of a model's parameters, not measurements.</li></ul>",
        f'<p class="small">fmsim {metadata.version("fmsim")}, '
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; fit {result.fit_seconds:.1f} s, "
        f"profiles {result.profile_seconds:.1f} s; best negative log-likelihood "
        f"{result.best_nllh:.4g}.</p>",
    ]
    return write_page(out, "report.html", f"Fit: {problem.name}", parts)
