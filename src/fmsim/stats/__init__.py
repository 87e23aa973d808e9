"""Statistics for behavioural readouts of passive-transfer experiments.

The :mod:`fmsim.stats.repeated_measures` module provides the group x time analysis
(linear mixed model, Welch post-hoc comparisons against control, Hedges' g) and a
per-mouse area under the curve for one behavioural test.
"""

from fmsim.stats.repeated_measures import (
    ReadoutAnalysis,
    analyze_readout,
    area_under_curve,
    compare_to_control,
    hedges_g,
)

__all__ = [
    "ReadoutAnalysis",
    "analyze_readout",
    "area_under_curve",
    "compare_to_control",
    "hedges_g",
]
