"""Scheduled events: what a protocol does to a subject at given times.

Every event has one time (days) shared by the batch and a value per subject (an array of shape
``(n,)``, or a scalar for all); a value of zero means the subject has no such event. Three kinds
cover the dosing and therapy protocols of fmsim:

* :class:`Bolus` adds an amount to one state (an injection, an i.v. push).
* :class:`Infusion` adds a constant rate to one state between ``start`` and ``stop`` (zero-order
  input, e.g. an IVIG infusion).
* :class:`Removal` removes a fraction of one or more states at once (a plasma-exchange or
  immunoadsorption session treated as instantaneous).

At one time point the engine reports outputs first (pre-event), then applies removals, then
boluses: a dose given right after an exchange session is not removed by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bolus:
    """Add ``amount`` (per subject, in the state's unit) to state ``state`` at ``time`` (days)."""

    time: float
    state: int
    amount: np.ndarray | float


@dataclass(frozen=True)
class Infusion:
    """Add ``rate`` (per subject, state unit per day) to d(state)/dt for ``start <= t < stop``."""

    start: float
    stop: float
    state: int
    rate: np.ndarray | float

    def __post_init__(self) -> None:
        if not self.stop > self.start:
            raise ValueError(
                f"infusion must stop after it starts (start {self.start}, stop {self.stop})"
            )


@dataclass(frozen=True)
class Removal:
    """Remove ``fraction`` (per subject, 0-1) of each state in ``states`` at ``time`` (days)."""

    time: float
    states: tuple[int, ...]
    fraction: np.ndarray | float


Event = Bolus | Infusion | Removal


def event_times(events: Iterable[Event]) -> list[float]:
    """Sorted distinct times (days) at which some event starts, stops or happens."""
    times: set[float] = set()
    for event in events:
        if isinstance(event, Infusion):
            times.update((float(event.start), float(event.stop)))
        else:
            times.add(float(event.time))
    return sorted(times)


def check_events(events: Sequence[Event], n_states: int, n_subjects: int) -> None:
    """Raise ValueError naming the event if a state index or a per-subject value does not fit."""
    for k, event in enumerate(events):
        states = event.states if isinstance(event, Removal) else (event.state,)
        if any(not 0 <= s < n_states for s in states):
            raise ValueError(f"event {k} ({event!r}): state index out of range 0..{n_states - 1}")
        value = {Bolus: "amount", Infusion: "rate", Removal: "fraction"}[type(event)]
        array = np.asarray(getattr(event, value), dtype=float)
        if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n_subjects):
            raise ValueError(
                f"event {k}: {value} must be a scalar or have one value per subject "
                f"({n_subjects}), got shape {array.shape}"
            )
        if isinstance(event, Removal) and np.any((array < 0) | (array > 1)):
            raise ValueError(f"event {k}: removal fraction must lie in [0, 1]")
