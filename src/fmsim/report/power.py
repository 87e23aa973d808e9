"""The power study's report: the smallest number of mice per group reaching the target power
for each donor titre, and the power curve (interactive, with its static PNG, SVG and PDF)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from fmsim.experiments.studies.power import PowerStudy
from fmsim.report import figures
from fmsim.report.common import frame_html, interactive_html, write_page
from fmsim.report.interactive import plotly_script, power_curve


def findings(study: PowerStudy) -> list[str]:
    """The answer in plain sentences: per donor titre, the smallest mice per group with power
    at or above the target, with that power and its 95 % Wilson interval."""
    sentences = []
    for row in study.required.itertuples():
        designs = study.table[study.table["anti_sgc_fraction"] == row.anti_sgc_fraction]
        if pd.isna(row.mice_per_group):
            best = designs.loc[designs["power"].idxmax()]
            sentences.append(
                f"Donor anti-SGC fraction {row.anti_sgc_fraction:g}: {study.target:.0%} power "
                f"is not reached with up to {designs['mice_per_group'].max()} mice per group "
                f"(at most {best['power']:.2f}, 95 % CI {best['ci_low']:.2f} to "
                f"{best['ci_high']:.2f})."
            )
            continue
        at = designs[designs["mice_per_group"] == row.mice_per_group].iloc[0]
        sentences.append(
            f"Donor anti-SGC fraction {row.anti_sgc_fraction:g}: {int(row.mice_per_group)} mice "
            f"per group give power {at['power']:.2f} (95 % CI {at['ci_low']:.2f} to "
            f"{at['ci_high']:.2f}; target {study.target:.0%})."
        )
    return sentences


def render_power(study: PowerStudy, folder: Path) -> str:
    """Write ``report.html`` and the power curve (``power_curve.png``, ``.svg``, ``.pdf``)
    into ``folder``; return the report's name."""
    curves = study.table.assign(
        population=[f"anti-SGC fraction {f:g}" for f in study.table["anti_sgc_fraction"]],
        patients=study.table["mice_per_group"],
    )
    figure = power_curve(curves, study.target, x_title="mice per group")
    days = ", ".join(f"{d:g}" for d in study.test_days[1:])
    parts = [
        plotly_script(folder),
        "<h1>Power of a passive-transfer experiment</h1>",
        "<h2>Main findings</h2>",
        '<ul class="findings">'
        + "".join(f"<li>{html.escape(s)}</li>" for s in findings(study))
        + "</ul>",
        '<p class="banner">These are simulations: the power is only as good as the model\'s '
        "assumed effect sizes and noise.</p>",
        "<h2>Power curve</h2>",
        f"<p>Share of {int(study.table['replicates'].iloc[0])} simulated replicate experiments "
        f"(one FMS donor versus HC-IgG) with p &lt; 0.05 for {html.escape(study.endpoint)} "
        f"(Welch t-test on each mouse's mean % change from baseline over days {days}), with "
        "its 95 % Wilson interval; dashed: the target.</p>",
        interactive_html(
            figure,
            figures.power_curves(study.table, study.target),
            folder,
            "power_curve",
            "power curve",
            link="",
        ),
        "<h2>Every design</h2>",
        frame_html(study.table),
    ]
    return write_page(folder, "report.html", "Power of a passive-transfer experiment", parts)
