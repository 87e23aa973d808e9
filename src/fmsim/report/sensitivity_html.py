"""Figures and the HTML report of a sensitivity study
(:class:`fmsim.calibration.sensitivity.SensitivityResult`): per analysis, Sobol indices as bars
with their 95 % intervals, a tornado of the one-at-a-time swings and the elasticities."""

from __future__ import annotations

import html
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fmsim.calibration.sensitivity import SWING, SensitivityResult
from fmsim.report.common import figure_html, fmt, frame_html, write_page

#: Inputs shown per panel (largest first); the tables list all.
SHOWN = 12


def _panels(n: int) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 4.5), squeeze=False)
    return fig, axes[0]


def sobol_bars(sobol: pd.DataFrame) -> plt.Figure:
    """First- and total-order indices with 95 % intervals, one panel per output (the inputs
    with the largest total-order index)."""
    outputs = list(dict.fromkeys(sobol["output"]))
    fig, axes = _panels(len(outputs))
    for ax, output in zip(axes, outputs, strict=True):
        table = sobol[sobol["output"] == output].nlargest(SHOWN, "ST").sort_values("ST")
        y = np.arange(len(table))
        ax.barh(y - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], label="first order")
        ax.barh(y + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], label="total order")
        ax.set_yticks(y, table["parameter"], fontsize=7)
        ax.set_title(output, fontsize=9)
        ax.set_xlim(left=min(0.0, float(table["S1"].min())))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def tornado(local: pd.DataFrame) -> plt.Figure:
    """Output at each input's 5th and 95th percentile (others at their medians)."""
    outputs = list(dict.fromkeys(local["output"]))
    fig, axes = _panels(len(outputs))
    for ax, output in zip(axes, outputs, strict=True):
        table = local[local["output"] == output].copy()
        table["swing"] = (table["high"] - table["low"]).abs()
        table = table.sort_values("swing").tail(SHOWN)
        y = np.arange(len(table))
        nominal = float(table["nominal"].iloc[0])
        ax.barh(y, table["low"] - nominal, left=nominal, color="tab:blue", label="5th pct")
        ax.barh(y, table["high"] - nominal, left=nominal, color="tab:orange", label="95th pct")
        ax.axvline(nominal, color="k", lw=0.8)
        ax.set_yticks(y, table["parameter"], fontsize=7)
        ax.set_title(output, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def elasticity_bars(local: pd.DataFrame) -> plt.Figure:
    """Elasticities d ln(output) / d ln(input) at the medians (largest in magnitude)."""
    outputs = list(dict.fromkeys(local["output"]))
    fig, axes = _panels(len(outputs))
    for ax, output in zip(axes, outputs, strict=True):
        table = local[local["output"] == output].dropna(subset=["elasticity"])
        table = table.reindex(table["elasticity"].abs().sort_values().index).tail(SHOWN)
        y = np.arange(len(table))
        colours = np.where(table["elasticity"] >= 0, "tab:green", "tab:red")
        ax.barh(y, table["elasticity"], color=colours)
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_yticks(y, table["parameter"], fontsize=7)
        ax.set_title(output, fontsize=9)
        ax.set_xlabel("elasticity", fontsize=8)
    fig.tight_layout()
    return fig


def findings(sobol: pd.DataFrame, shown: int = 3) -> list[str]:
    """The answer in plain sentences: per analysis and output, the inputs with the largest
    total-order Sobol index, each with its 95 % bootstrap interval."""
    sentences = []
    for (analysis, output), table in sobol.groupby(["analysis", "output"], sort=False):
        top = table.nlargest(shown, "ST")
        listed = "; ".join(
            f"{r.parameter} {fmt(r.ST, 2)} (95 % CI {fmt(r.ST - r.ST_conf, 2)} to "
            f"{fmt(r.ST + r.ST_conf, 2)})"
            for r in top.itertuples()
        )
        sentences.append(f"{analysis}, {output}: largest total-order indices {listed}.")
    return sentences


def render_sensitivity(result: SensitivityResult, out: Path) -> str:
    """Write ``out/report.html`` and the figures (``out/figures``); return its name."""
    figures = out / "figures"
    low, high = (round(100 * q) for q in SWING)
    parts = [
        "<h1>Sensitivity analysis</h1>",
        "<h2>Main findings</h2>",
        '<ul class="findings">'
        + "".join(f"<li>{html.escape(s)}</li>" for s in findings(result.sobol))
        + "</ul>",
        f"<p>fmsim {metadata.version('fmsim')}. Sobol first- and total-order indices (SALib, "
        "Saltelli/Jansen estimators on a Sobol' sequence, 95 % bootstrap intervals) and local "
        f"sensitivities: elasticities d ln(output)/d ln(input) at the medians and a tornado "
        f"with each input at its {low}th and {high}th percentile. {result.n_evaluations} "
        "parameter sets in all. These are properties of the model and its stated "
        "uncertainties, not measurements.</p>",
    ]
    for run in result.runs.itertuples(index=False):
        name = run.analysis
        sobol = result.sobol[result.sobol["analysis"] == name]
        local = result.local[result.local["analysis"] == name]
        outputs = result.outputs[result.outputs["analysis"] == name]
        inputs = result.inputs[result.inputs["analysis"] == name]
        parts += [
            f"<h2>{html.escape(name)}: {html.escape(run.description)}</h2>",
            f"<p>Sobol' base sample {run.n_base}; {run.parameter_sets} parameter sets.</p>",
            frame_html(outputs.drop(columns="analysis")),
            "<h3>Sobol indices</h3>",
            figure_html(sobol_bars(sobol), figures, f"{name}_sobol"),
            f"<h3>Tornado (one at a time, {low}th-{high}th percentile)</h3>",
            figure_html(tornado(local), figures, f"{name}_tornado"),
            "<h3>Elasticities at the medians</h3>",
            figure_html(elasticity_bars(local), figures, f"{name}_elasticities"),
            "<details><summary>Inputs and their distributions</summary>",
            frame_html(inputs.drop(columns="analysis"), 4),
            "</details><details><summary>All indices</summary>",
            frame_html(sobol.drop(columns="analysis")),
            "</details><details><summary>All local sensitivities</summary>",
            frame_html(local.drop(columns="analysis")),
            "</details>",
        ]
    return write_page(out, "report.html", "Sensitivity analysis", parts)
