"""Statistics: behavioural readouts of passive-transfer experiments and clinical trials.

:mod:`fmsim.stats.repeated_measures` provides the group x time analysis (linear mixed model,
Welch post-hoc comparisons against control, Hedges' g) and a per-mouse area under the curve for
one behavioural test. :mod:`fmsim.stats.trial` analyses (virtual) clinical trials: ANCOVA,
MMRM, crossover mixed model, responder rates and power from replicate trials.
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
