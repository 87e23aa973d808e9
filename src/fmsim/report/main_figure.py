"""The main figure of each kind of study result (what :meth:`StudyResult.plot` returns): the
figure a reader looks at first in the study's report, drawn with the report's own functions."""

from __future__ import annotations

import matplotlib.pyplot as plt

from fmsim.experiments.result import StudyResult
from fmsim.experiments.studies import (
    LabDataStudy,
    PassiveTransferStudy,
    PowerStudy,
    TherapyStudy,
    TrialStudy,
)
from fmsim.report import figures, trial_figures
from fmsim.report.analysis_html import readout_labels
from fmsim.report.therapy_html import course_figure


def main_figure(result: StudyResult) -> plt.Figure:
    """Passive transfer and lab data: behaviour over time per group (significant days
    marked); power: power against mice per group; therapies: median IgG courses; trial: the
    outcomes over the visits per arm."""
    if isinstance(result, PassiveTransferStudy):
        config, simulation = result.config, result.simulation
        return figures.behaviour_time_courses(
            simulation.measurements,
            simulation.parameters.readouts,
            config.injection_days,
            result.analysis.significant_days(config.disease_group),
        )
    if isinstance(result, LabDataStudy):
        clean = result.data.clean
        significant = result.analysis.significant_days(result.disease_group)
        return figures.behaviour_time_courses(clean, readout_labels(clean), [], significant)
    if isinstance(result, PowerStudy):
        return figures.power_curves(result.table, result.target)
    if isinstance(result, TherapyStudy):
        return course_figure(result.comparison.courses)
    if isinstance(result, TrialStudy):
        return trial_figures.outcome_figure(result.simulation.visits)
    raise TypeError(f"no figure for a {type(result).__name__}")
