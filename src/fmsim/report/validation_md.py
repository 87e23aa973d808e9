"""The validation table of the human model as Markdown (for docs/validation.md and the
``validation.md`` of ``fmsim therapies``): one table per therapy class, one row per published
target, simulated values next to the published ones."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _number(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def _verdict(row) -> str:
    if row.verdict == "PASS":
        return "PASS (calibrated)" if row.calibrated else "PASS"
    if row.expected == "FAIL":
        return "FAIL (known deviation)"
    return "**FAIL (unexpected)**"


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def validation_markdown(table: pd.DataFrame) -> str:
    """Markdown of :func:`fmsim.experiments.validation.validation_table`'s result."""
    lines = []
    for label, rows in table.groupby("group_label", sort=False):
        lines += [
            f"### {label[0].upper()}{label[1:]}",
            "",
            "| target | regimen: metric | published | accepted | simulated: typical "
            "(population 5-95%) | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows.itertuples():
            band = ""
            if np.isfinite(row.band_low):
                band = f" ({_number(row.band_low)} to {_number(row.band_high)})"
            published = f"{row.statement} ({row.citation})"
            lines.append(
                f"| `{row.id}` | {_cell(row.regimen)}: {_cell(row.metric)} | {_cell(published)} "
                f"| {_cell(row.accepted)} | {_number(row.simulated)} {row.unit}{band} "
                f"| {_verdict(row)} |"
            )
        lines.append("")
    passed = int((table["verdict"] == "PASS").sum())
    known = int(((table["verdict"] == "FAIL") & (table["expected"] == "FAIL")).sum())
    calibrated = int(((table["verdict"] == "PASS") & (table["calibrated"] != "")).sum())
    lines.append(
        f"{passed} of {len(table)} targets pass ({calibrated} of them calibrated, i.e. not "
        f"independent); {known} fail as known deviations; "
        f"{len(table) - passed - known} fail unexpectedly."
    )
    return "\n".join(lines) + "\n"
