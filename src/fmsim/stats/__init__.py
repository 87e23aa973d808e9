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
from fmsim.stats.trial import (
    PowerEstimate,
    TreatmentEffect,
    ancova,
    crossover_effect,
    mmrm,
    power_from_replicates,
    required_sample_size,
    responder_analysis,
)

#: Passive-transfer readouts (group x day) and clinical trials (one trial; the batched
#: ``*_effects`` versions for replicate trials are in :mod:`fmsim.stats.trial`).
__all__ = [
    "PowerEstimate",
    "ReadoutAnalysis",
    "TreatmentEffect",
    "analyze_readout",
    "ancova",
    "area_under_curve",
    "compare_to_control",
    "crossover_effect",
    "hedges_g",
    "mmrm",
    "power_from_replicates",
    "required_sample_size",
    "responder_analysis",
]
