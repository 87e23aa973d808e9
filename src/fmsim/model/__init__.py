"""The mechanistic model: equations, parameters and the drug library, in one place.

* :mod:`fmsim.model.definition` -- what a model is for the layers that use it
  (:class:`~fmsim.model.definition.ModelDefinition`: states with units, per-subject constants,
  dynamics); :mod:`~fmsim.model.symbolic` gives its equations as sympy expressions.
* :mod:`fmsim.model.equations` -- the mouse passive-transfer model (``MODEL``): human IgG i.p.,
  plasma and interstitium, FcRn recycling, DRG, SGC occupancy, sensitisation, IENFD.
* :mod:`fmsim.model.human` -- the human model (``HUMAN_MODEL``): IgG kinetics with one FcRn
  pool, IgG-lowering therapies, plasma and B cells, the anti-SGC autoantibody.
* :mod:`fmsim.model.fcrn` -- free endosomal FcRn at quasi-steady state (competitive,
  saturable).
* :mod:`fmsim.model.readouts` -- from model states to behavioural readouts and IENFD.
* :mod:`fmsim.model.parameters` -- sourced parameter sets (``data/*.yaml``: value, unit,
  range, CV, source), the parameter registry and virtual-subject sampling.
* :mod:`fmsim.model.drugs` -- the drug and device library (``data/drugs/*.yaml``).
"""

__all__ = [
    "definition",
    "drugs",
    "equations",
    "fcrn",
    "human",
    "parameters",
    "readouts",
    "symbolic",
]
