"""Figures and the HTML report of a sensitivity analysis."""

from __future__ import annotations

import base64
import io
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fmsim.calibration.sensitivity import SensitivityResult


def sobol_bars(sobol: pd.DataFrame) -> plt.Figure:
    """First- and total-order indices with 95 % intervals, one panel per output."""
    outputs = list(dict.fromkeys(sobol["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 4.5), sharey=True)
    for ax, output in zip(np.atleast_1d(axes), outputs, strict=True):
        table = sobol[sobol["output"] == output].sort_values("ST")
        y = np.arange(len(table))
        ax.barh(y - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], label="first order")
        ax.barh(y + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], label="total order")
        ax.set_yticks(y, table["parameter"], fontsize=7)
        ax.set_title(output, fontsize=9)
        ax.set_xlim(left=min(0.0, float(table["S1"].min())))
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def tornado(local: pd.DataFrame) -> plt.Figure:
    """Output at each parameter's 5th and 95th percentile (others at their medians)."""
    outputs = list(dict.fromkeys(local["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 4.5))
    for ax, output in zip(np.atleast_1d(axes), outputs, strict=True):
        table = local[local["output"] == output].copy()
        table["swing"] = (table["high"] - table["low"]).abs()
        table = table.sort_values("swing").tail(10)
        y = np.arange(len(table))
        nominal = float(table["nominal"].iloc[0])
        ax.barh(y, table["low"] - nominal, left=nominal, color="tab:blue", label="5th pct")
        ax.barh(y, table["high"] - nominal, left=nominal, color="tab:orange", label="95th pct")
        ax.axvline(nominal, color="k", lw=0.8)
        ax.set_yticks(y, table["parameter"], fontsize=7)
        ax.set_title(output, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _embed(fig: plt.Figure, folder: Path, name: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    fig.savefig(folder / f"{name}.png", dpi=150)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{name}" src="data:image/png;base64,{data}">'


def write_sensitivity_report(result: SensitivityResult, out: Path) -> Path:
    """Write ``out/report.html`` and the figures (``out/figures``)."""
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    table = result.sobol.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
    local = result.local.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)
    parts = [
        "<h1>Sensitivity of the passive-transfer outputs</h1>",
        f"<p>fmsim {metadata.version('fmsim')}. Sobol' base sample {result.n_base}, "
        f"{result.n_evaluations} parameter sets (first- and total-order indices, SALib, 95 % "
        "bootstrap intervals). Parameters: every mouse parameter with a between-animal CV, "
        "lognormal with that CV around the file value; the donor's anti-SGC fraction uniform "
        "over 0.0048-0.0102. Outputs for a typical mouse given 8 mg i.p. on days 0-3.</p>",
        "<h2>Sobol indices</h2>",
        _embed(sobol_bars(result.sobol), figures, "sobol"),
        "<h2>Tornado (one at a time, 5th-95th percentile)</h2>",
        _embed(tornado(result.local), figures, "tornado"),
        "<h2>Sobol indices table</h2>",
        table,
        "<h2>Local sensitivities (elasticities at the medians)</h2>",
        local,
    ]
    page = (
        '<!doctype html><html><head><meta charset="utf-8"><title>fmsim sensitivity</title>'
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px}"
        "img{max-width:100%}</style></head><body>" + "\n".join(parts) + "</body></html>"
    )
    path = out / "report.html"
    path.write_text(page)
    return path
