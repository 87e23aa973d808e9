"""The power study's output: the power curve figure."""

from __future__ import annotations

from pathlib import Path

from fmsim.experiments.studies.power import PowerStudy
from fmsim.report import figures
from fmsim.report.common import png


def render_power(study: PowerStudy, folder: Path) -> str:
    """Draw ``power_curve.png`` (power against mice per group, one line per titre, with the
    target) into ``folder``; return its name."""
    png(figures.power_curves(study.table, study.target), folder, "power_curve")
    return "power_curve.png"
