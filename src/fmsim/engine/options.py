"""How to integrate: tolerances, non-negative states and budgets, in one object.

:class:`SolverOptions` is passed whole from :func:`fmsim.engine.run` to the backend (as diffrax
passes its ``SaveAt`` and step-size controller objects), so an option cannot be accepted by one
layer and forgotten by the next: every backend reads the same fields, and the result records the
options it was computed with (:attr:`fmsim.engine.result.SimulationResult.options`).

The budgets make every run end: a subject that needs more than ``max_steps`` steps, or a batch
that runs longer than its wall-time budget, stops with a reported status
(:class:`fmsim.engine.result.Status`) instead of running on. Their defaults are far above what a
valid model needs (see the field comments) and are only reached by stiff or broken inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Wall-time budget (s) of a batch with the default ``max_wall_time``: this fixed part ...
BASE_WALL_TIME = 60.0
#: ... plus this much per subject. A mouse passive transfer costs ~0.1 ms and a year of a
#: treated patient ~1 ms per subject and core (docs/benchmarks.md), 1/100 to 1/10 of it.
WALL_TIME_PER_SUBJECT = 0.01


@dataclass(frozen=True)
class SolverOptions:
    """Options of one simulation, honoured by every backend unless stated.

    ``rtol``, ``atol``: relative and absolute error tolerance per step (the absolute one in each
    state's unit), as in :func:`scipy.integrate.solve_ivp`.

    ``nonnegative``: the states kept at or above zero: True (all: fmsim's states are amounts,
    concentrations and relative quantities), False (none), or a sequence of state names or
    indices. A state that ends an accepted step below zero (by at most that step's error) is set
    to zero and the derivative re-evaluated (Shampine et al., Appl Math Comput
    2005;170:556-569). The scipy backend reports outputs between step ends from its interpolant,
    which is not projected.

    ``max_steps``: step budget per subject (compiled backend: steps tried, rejected ones
    included; scipy backend, which integrates the batch as one system: accepted steps of the
    batch). A 35-day mouse passive transfer takes ~150 to ~210 (with outputs every 0.25 day),
    the longest therapy course of the validation ~1,100; a subject that uses up the default
    costs ~0.1 s.

    ``max_wall_time``: wall-time budget (s) of one batch; None: ``BASE_WALL_TIME`` plus
    ``WALL_TIME_PER_SUBJECT`` per subject. Subjects not finished when it runs out are reported
    as :attr:`~fmsim.engine.result.Status.BUDGET_EXHAUSTED`.

    ``chunk_size``, ``progress`` (compiled backend): subjects per call of the parallel kernel,
    and a tqdm progress bar over the chunks (None: only for more than one chunk, on a terminal).
    """

    rtol: float = 1e-8
    atol: float = 1e-10
    nonnegative: bool | Sequence[str | int] = True
    max_steps: int = 100_000
    max_wall_time: float | None = None
    chunk_size: int = 4096
    progress: bool | None = None

    def __post_init__(self) -> None:
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"SolverOptions.{name}: got {value!r}: expected a number > 0")
        for name in ("max_steps", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"SolverOptions.{name}: got {value!r}: expected an integer >= 1")
        budget = self.max_wall_time
        if budget is not None and not (
            isinstance(budget, int | float) and not math.isnan(budget) and budget > 0
        ):
            raise ValueError(
                f"SolverOptions.max_wall_time: got {budget!r}: expected seconds > 0 or None"
            )
        if not isinstance(self.nonnegative, bool):
            if isinstance(self.nonnegative, str) or not isinstance(self.nonnegative, Sequence):
                raise ValueError(
                    f"SolverOptions.nonnegative: got {self.nonnegative!r}: expected True, False "
                    "or a sequence of state names or indices"
                )
            object.__setattr__(self, "nonnegative", tuple(self.nonnegative))

    def wall_time_budget(self, n_subjects: int) -> float:
        """The wall-time budget (s) of a batch of ``n_subjects``."""
        if self.max_wall_time is not None:
            return float(self.max_wall_time)
        return BASE_WALL_TIME + WALL_TIME_PER_SUBJECT * n_subjects

    def nonnegative_mask(self, states: Sequence[str]) -> np.ndarray:
        """Boolean mask over ``states`` (a model's state names) of the states kept >= 0."""
        if isinstance(self.nonnegative, bool):
            return np.full(len(states), self.nonnegative)
        mask = np.zeros(len(states), dtype=bool)
        for state in self.nonnegative:
            if isinstance(state, str):
                if state not in states:
                    raise ValueError(
                        f"SolverOptions.nonnegative: unknown state {state!r}; states: {states}"
                    )
                mask[states.index(state)] = True
            elif isinstance(state, int | np.integer) and 0 <= state < len(states):
                mask[state] = True
            else:
                raise ValueError(
                    f"SolverOptions.nonnegative: got {state!r}: expected a state name or an "
                    f"index in 0..{len(states) - 1}"
                )
        return mask
