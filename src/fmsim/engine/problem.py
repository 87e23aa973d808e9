"""What to integrate: a model, its subjects, initial states, output times and events, checked.

:func:`fmsim.engine.run` builds one :class:`Problem` and hands it with the
:class:`~fmsim.engine.options.SolverOptions` to a backend; a backend is any function
``(Problem, SolverOptions) -> SimulationResult``. The checks here run once, before any
integration, so every backend sees the same valid, finite input, and a bad input stops with one
clear :class:`ValueError` instead of a solver that fails slowly or never ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from fmsim.engine.events import Event, check_events
from fmsim.engine.options import SolverOptions
from fmsim.engine.result import SimulationResult
from fmsim.model.definition import ModelDefinition


@dataclass(frozen=True)
class Problem:
    """A checked simulation problem.

    ``y0``: initial states, shape (n_states, n_subjects), finite, at t = 0; ``times``: output
    times (days), finite, sorted, >= 0; ``events``: checked against the states and subjects;
    ``constants``: the subjects' constants, shape (n_subjects, n_constants), finite."""

    model: ModelDefinition
    subjects: object  # the model's subjects dataclass
    y0: np.ndarray
    times: np.ndarray
    events: tuple[Event, ...]
    constants: np.ndarray

    @property
    def n_subjects(self) -> int:
        return self.y0.shape[1]

    def result(
        self,
        states: np.ndarray,
        status: np.ndarray,
        time_reached: np.ndarray,
        n_steps: np.ndarray,
        n_rhs_evaluations: int,
        options: SolverOptions,
    ) -> SimulationResult:
        """The backend's arrays as a :class:`SimulationResult` of this problem's model."""
        return SimulationResult(
            model_name=self.model.name,
            state_names=self.model.states,
            state_units=self.model.state_units,
            times=self.times,
            states=states,
            status=status,
            time_reached=time_reached,
            n_steps=n_steps,
            n_rhs_evaluations=n_rhs_evaluations,
            options=options,
        )


Backend = Callable[[Problem, SolverOptions], SimulationResult]


def build_problem(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event] = (),
) -> Problem:
    """Check the inputs of a simulation (see :class:`Problem`); ValueError names the first
    problem found: which input, which state, constant or subject, and the value."""
    times = np.array(times, dtype=float)
    if times.ndim != 1 or times.size == 0:
        raise ValueError("output times must be a non-empty 1-D sequence of days")
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise ValueError(
            f"output times must be finite days; got {times[bad[0]]} at position {bad[0]}"
        )
    if np.any(np.diff(times) < 0) or times[0] < 0:
        raise ValueError("output times must be a sorted 1-D sequence starting at or after 0")
    y0 = np.array(y0, dtype=float)
    if y0.ndim != 2 or y0.shape[0] != model.n_states:
        raise ValueError(
            f"y0 must have shape ({model.n_states}, n_subjects) for {model.name}; got {y0.shape}"
        )
    _check_finite(y0.T, model.states, "initial state")
    constants = model.constant_matrix(subjects)
    if constants.shape[0] != y0.shape[1]:
        raise ValueError(
            f"{constants.shape[0]} subjects' constants for {y0.shape[1]} initial states"
        )
    _check_finite(constants, model.constants, "constant")
    check_events(events, model.n_states, y0.shape[1])
    return Problem(model, subjects, y0, times, tuple(events), constants)


def _check_finite(values: np.ndarray, names: Sequence[str], what: str) -> None:
    """ValueError naming the first non-finite entry of ``values`` (n_subjects, len(names))."""
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        subject, column = bad[0]
        others = f" (and {len(bad) - 1} more non-finite values)" if len(bad) > 1 else ""
        raise ValueError(
            f"{what} {names[column]!r} of subject {subject} is {values[subject, column]}: "
            f"expected a finite number{others}"
        )
