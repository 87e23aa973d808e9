"""One entry point for simulating a model over a batch of subjects, whatever the backend.

:func:`run` checks the inputs once (:func:`fmsim.engine.problem.build_problem`), passes one
:class:`~fmsim.engine.options.SolverOptions` object whole to the backend, and returns its
:class:`~fmsim.engine.result.SimulationResult`; if a subject failed, it raises
:class:`~fmsim.engine.result.SimulationError` (unless ``throw=False``). Backends:

* ``"compiled"`` (default): :mod:`fmsim.engine.compiled`, DOP853 per subject in generated,
  compiled code, parallel over subjects, with error control and failures per subject.
* ``"scipy"``: :mod:`fmsim.engine.scipy_backend`, scipy's DOP853 over the whole batch as one
  vectorised system (error control and failure shared by the batch); the reference.

Both use the same method, tolerances, budgets, non-negative projection and event semantics, and
agree to within the tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from importlib import import_module

import numpy as np

from fmsim.engine.events import Event
from fmsim.engine.options import SolverOptions
from fmsim.engine.problem import Backend, build_problem
from fmsim.engine.result import SimulationResult
from fmsim.model.definition import ModelDefinition

#: Each backend's module and function, imported on first use: the compiled backend loads sympy
#: and numba (seconds of CPU that a command refusing its input should not pay).
_BACKENDS = {
    "compiled": ("fmsim.engine.compiled", "simulate_compiled"),
    "scipy": ("fmsim.engine.scipy_backend", "simulate_scipy"),
}
BACKENDS = tuple(_BACKENDS)


def run(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event] = (),
    *,
    options: SolverOptions | None = None,
    backend: str = "compiled",
    throw: bool = True,
    **option_overrides,
) -> SimulationResult:
    """Simulate ``model`` for ``subjects`` (its subjects dataclass, one value per subject and
    constant) from ``y0`` (shape (n_states, n_subjects), at t = 0) with ``events``; states at
    ``times`` (days, sorted, >= 0), pre-event at event times.

    ``options``: a :class:`SolverOptions` (default: its defaults); keyword arguments named
    after its fields replace single fields, e.g. ``run(..., rtol=1e-10, nonnegative=False)``.
    ``backend``: one of :data:`BACKENDS`. ``throw``: raise :class:`SimulationError` (naming the
    failed subjects, the time each reached and why) if a subject fails; with False, failures are
    only reported in the result (``status``, ``messages``; NaN outputs after the failure).

    Bad input (non-finite or unsorted times, a non-finite initial state, constant or event
    value, a wrong shape) raises ValueError before any integration."""
    if backend not in _BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    options = options or SolverOptions()
    if option_overrides:
        options = replace(options, **option_overrides)
    problem = build_problem(model, subjects, y0, times, events)
    module, function = _BACKENDS[backend]
    simulate: Backend = getattr(import_module(module), function)
    result = simulate(problem, options)
    return result.raise_on_failure() if throw else result
