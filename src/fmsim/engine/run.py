"""One entry point for simulating a model over a batch of subjects, whatever the backend.

Backends:

* ``"compiled"`` (default): :mod:`fmsim.engine.compiled`, DOP853 per subject in generated,
  compiled code, parallel over subjects; failed subjects are reported in the result
  (``status``, ``messages``) instead of aborting the batch.
* ``"scipy"``: :func:`fmsim.engine.batch.simulate`, scipy's DOP853 over the whole batch as one
  vectorised system (error control shared by the batch); the reference implementation. A solver
  failure raises :class:`~fmsim.engine.batch.IntegrationError`.

Both use the same method, tolerances and event semantics and agree to within the tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fmsim.engine.batch import SimulationResult, simulate
from fmsim.engine.compiled import simulate_compiled
from fmsim.engine.events import Event
from fmsim.model.definition import ModelDefinition

BACKENDS = ("compiled", "scipy")


def run(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event] = (),
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    backend: str = "compiled",
    nonnegative: bool | Sequence[int] = True,
    progress: bool | None = None,
) -> SimulationResult:
    """Simulate ``model`` for ``subjects`` (its subjects dataclass) from ``y0``
    (shape (n_states, n)) with ``events``; outputs at ``times`` (days), pre-event at event
    times. ``backend`` is one of :data:`BACKENDS`. Compiled backend only: ``nonnegative``, the
    states kept at or above zero (True: all); ``progress``, a progress bar for large batches
    (None: automatic)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if backend == "compiled":
        return simulate_compiled(model, subjects, y0, times, events, rtol, atol, progress=progress)
    return simulate(lambda t, y: model.rhs(t, y, subjects), y0, times, events, rtol, atol)
