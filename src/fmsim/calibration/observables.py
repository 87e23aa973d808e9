"""Observables: each readout of the mouse model as a formula of model states and parameters.

One formula per readout, written once as text in PEtab's observable syntax and evaluated here
with sympy/numpy, so the fit, the PEtab export and the checks use the same observable. It is the
noise-free readout of :func:`fmsim.model.readouts.expected_readout` for a typical mouse:

* behaviour: ``baseline_<test> * (1 + max_change_<test> * (sensitisation - 1) /
  sensitisation_emax)`` (the assays' floor at 5 % of baseline is not part of the formula; it is
  never reached for |max_change| <= 0.95, the bound of the fit);
* IENFD: ``baseline_ienfd * ienfd_relative``.

Symbols are model states (:data:`fmsim.model.equations.STATES`), model constants (e.g.
``sensitisation_emax``) and readout parameters ``baseline_<test>`` / ``max_change_<test>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import numpy as np

from fmsim.config.passive_transfer import READOUTS
from fmsim.model.parameters import ParameterSet
from fmsim.model.readouts import IENFD


def _behaviour(test: str) -> str:
    return f"baseline_{test} * (1 + max_change_{test} * (sensitisation - 1) / sensitisation_emax)"


#: Observable id -> formula (PEtab syntax).
OBSERVABLES: dict[str, str] = {
    **{test: _behaviour(test) for test in READOUTS},
    IENFD: f"baseline_{IENFD} * ienfd_relative",
}


def readout_parameter_names(parameters: ParameterSet) -> list[str]:
    """Ids of the readout parameters (``baseline_<test>``, ``max_change_<test>``)."""
    return [f"{kind}_{name}" for name in parameters.readouts for kind in ("baseline", "max_change")]


@cache
def _compiled(observable: str):
    import sympy  # here: a command refusing its fit file should not load sympy (a second of CPU)

    expression = sympy.sympify(OBSERVABLES[observable])
    symbols = sorted(expression.free_symbols, key=lambda s: s.name)
    return [s.name for s in symbols], sympy.lambdify(symbols, expression, "numpy")


def symbols(observable: str) -> list[str]:
    """Names the formula of ``observable`` uses."""
    return _compiled(observable)[0]


def evaluate(observable: str, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Value of ``observable`` (in the readout's unit) for states and parameters in
    ``values`` (arrays broadcast together)."""
    names, function = _compiled(observable)
    return np.asarray(function(*(values[name] for name in names)), dtype=float)
