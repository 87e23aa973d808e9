"""What every backend returns: states at the output times, by name and with units, and how each
subject's integration ended.

:class:`SimulationResult` is filled the same way by the compiled and the scipy backend (as PySB's
simulators share one result class). Each subject ends with a :class:`Status` (diffrax's
``RESULTS``); a subject that fails keeps its outputs up to the failure and has NaN after it, and
its message names the time reached and the reason. :func:`fmsim.engine.run` raises one
:class:`SimulationError` for all failed subjects unless called with ``throw=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from fmsim.engine.options import SolverOptions


class Status(IntEnum):
    """How one subject's integration ended."""

    SUCCESS = 0
    #: the step size fell below 10 units in the last place of t (the scipy backend: below its
    #: own minimum step); stiff dynamics or a solution that blows up
    STEP_TOO_SMALL = 1
    #: the subject used up ``SolverOptions.max_steps``
    TOO_MANY_STEPS = 2
    #: a state or derivative became NaN or infinite (overflow, a division by zero)
    NOT_FINITE = 3
    #: the batch used up its wall-time budget (``SolverOptions.max_wall_time``) before the
    #: subject finished
    BUDGET_EXHAUSTED = 4

    def describe(self, time: float, options: SolverOptions, n_subjects: int) -> str:
        """The reason in words, for a subject stopped at ``time`` (days)."""
        at = f"at t = {time:.9g} days"
        return {
            Status.SUCCESS: f"integrated to t = {time:.9g} days",
            Status.STEP_TOO_SMALL: f"step size fell below 10 ulp of t {at} (stiff or blowing up)",
            Status.TOO_MANY_STEPS: (
                f"step budget of {options.max_steps} steps (SolverOptions.max_steps) used up "
                f"{at} (stiff or very fast dynamics)"
            ),
            Status.NOT_FINITE: (
                f"non-finite state or derivative {at} (overflow, or a division by zero such as "
                "a zero volume)"
            ),
            Status.BUDGET_EXHAUSTED: (
                f"wall-time budget of {options.wall_time_budget(n_subjects):.6g} s for the batch "
                f"(SolverOptions.max_wall_time) used up {at}"
            ),
        }[self]


@dataclass(frozen=True)
class SimulationResult:
    """States of a batch of subjects at the output times.

    ``times`` (days, shape (n_times,)); ``states`` (shape (n_times, n_states, n_subjects), in
    the units ``state_units``; pre-event at event times); ``state_names``; ``status`` (one
    :class:`Status` code per subject) and ``time_reached`` (days, where each subject stopped:
    the last output time on success); ``n_steps`` (steps tried per subject; the scipy backend:
    accepted steps of the joint system, the same for every subject); ``n_rhs_evaluations`` over
    the batch (the scipy backend: of the joint system); ``options`` used.
    """

    model_name: str
    state_names: tuple[str, ...]
    state_units: tuple[str, ...]
    times: np.ndarray
    states: np.ndarray
    status: np.ndarray
    time_reached: np.ndarray
    n_steps: np.ndarray
    n_rhs_evaluations: int
    options: SolverOptions

    @property
    def n_subjects(self) -> int:
        return self.states.shape[2]

    @property
    def success(self) -> bool:
        """True if every subject was integrated to the last output time."""
        return not np.any(self.status != Status.SUCCESS)

    @property
    def failed(self) -> np.ndarray:
        """Indices of the subjects that did not reach the last output time."""
        return np.flatnonzero(self.status != Status.SUCCESS)

    @property
    def messages(self) -> dict[int, str]:
        """Failed subject index -> what happened to it."""
        return {int(i): self.message(int(i)) for i in self.failed}

    def message(self, subject: int) -> str:
        """What happened to subject ``subject``, in words."""
        status = Status(int(self.status[subject]))
        return status.describe(float(self.time_reached[subject]), self.options, self.n_subjects)

    def index(self, name: str) -> int:
        """Position of state ``name`` on the states axis."""
        try:
            return self.state_names.index(name)
        except ValueError:
            raise KeyError(
                f"{self.model_name} has no state {name!r}; states: {self.state_names}"
            ) from None

    def state(self, name: str) -> np.ndarray:
        """State ``name`` at every output time, shape (n_times, n_subjects), in ``unit(name)``."""
        return self.states[:, self.index(name), :]

    def unit(self, name: str) -> str:
        """Unit of state ``name``."""
        return self.state_units[self.index(name)]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per output time, subject and state: ``time`` (days),
        ``subject`` (index), ``state``, ``value``, ``unit``."""
        n_times, n_states, n = self.states.shape
        per_time = n_states * n
        return pd.DataFrame(
            {
                "time": np.repeat(self.times, per_time),
                "subject": np.tile(np.arange(n), n_times * n_states),
                "state": pd.Categorical(
                    np.tile(np.repeat(np.asarray(self.state_names), n), n_times),
                    categories=self.state_names,
                ),
                "value": self.states.reshape(-1),
                "unit": np.tile(np.repeat(np.asarray(self.state_units), n), n_times),
            }
        )

    def raise_on_failure(self) -> SimulationResult:
        """Raise :class:`SimulationError` if a subject failed; otherwise return ``self``."""
        if not self.success:
            raise SimulationError(self)
        return self


class SimulationError(RuntimeError):
    """Some subjects could not be integrated; ``result`` holds everything that was computed.

    The message is one line: how many subjects failed, and the first few by index with the
    time reached and the reason."""

    SHOWN = 3  # failed subjects named in the message

    def __init__(self, result: SimulationResult) -> None:
        self.result = result
        failed = result.failed
        shown = "; ".join(f"subject {i}: {result.message(int(i))}" for i in failed[: self.SHOWN])
        more = f"; and {failed.size - self.SHOWN} more" if failed.size > self.SHOWN else ""
        super().__init__(
            f"simulation of {result.model_name} failed for {failed.size} of "
            f"{result.n_subjects} subjects: {shown}{more}"
        )
