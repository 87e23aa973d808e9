"""One entry point for simulating a model over a batch of subjects, whatever the backend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fmsim.engine.batch import SimulationResult, simulate
from fmsim.engine.events import Event
from fmsim.model.definition import ModelDefinition

BACKENDS = ("scipy",)


def run(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event] = (),
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    backend: str = "scipy",
) -> SimulationResult:
    """Simulate ``model`` for ``subjects`` (its subjects dataclass) from ``y0``
    (shape (n_states, n)) with ``events``; outputs at ``times`` (days), pre-event at event
    times. ``backend`` is one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    return simulate(lambda t, y: model.rhs(t, y, subjects), y0, times, events, rtol, atol)
