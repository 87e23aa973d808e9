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
    """Raise ValueError naming the event if its time is not a finite day >= 0, a state index or
    a per-subject value does not fit, or a value is not finite."""
    for k, event in enumerate(events):
        times = (event.start, event.stop) if isinstance(event, Infusion) else (event.time,)
        if not all(np.isfinite(t) and t >= 0 for t in times):
            raise ValueError(
                f"event {k} ({event!r}) happens before time 0 or at no finite time: "
                "times must be finite days >= 0"
            )
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
        if not np.all(np.isfinite(array)):
            where = np.flatnonzero(~np.isfinite(np.broadcast_to(array, (n_subjects,))))
            raise ValueError(
                f"event {k} ({type(event).__name__} at day {times[0]:g}): {value} is not finite "
                f"for subject(s) {where[:5].tolist()}{' ...' if where.size > 5 else ''}"
            )
        if isinstance(event, Removal) and np.any((array < 0) | (array > 1)):
            raise ValueError(f"event {k}: removal fraction must lie in [0, 1]")


# ---------------------------------------------------------------- per-subject event table

REMOVAL, BOLUS, INFUSION_STOP, INFUSION_START = 0, 1, 2, 3  # order of application at one time


@dataclass(frozen=True)
class SubjectEvents:
    """Each subject's events, sorted by time then kind (removals, boluses, infusion changes).

    Subject ``i`` owns entries ``pointer[i]:pointer[i + 1]``; ``value`` is the amount (bolus),
    fraction (removal) or rate (infusion start and stop) in the state's units."""

    pointer: np.ndarray  # int64, (n + 1,)
    time: np.ndarray  # float64, days
    kind: np.ndarray  # int64, REMOVAL, BOLUS, INFUSION_STOP or INFUSION_START
    state: np.ndarray  # int64
    value: np.ndarray  # float64


def subject_events(
    events: Sequence[Event], n_states: int, n_subjects: int, end: float
) -> SubjectEvents:
    """Per-subject sorted event arrays for events up to ``end`` (days), vectorised over subjects.

    Entries whose value is zero for a subject are left out for that subject."""
    check_events(events, n_states, n_subjects)
    columns: list[tuple[np.ndarray, float, int, int, np.ndarray]] = []
    for event in events:
        if isinstance(event, Bolus):
            entries = [(event.time, BOLUS, event.state, event.amount)]
        elif isinstance(event, Removal):
            entries = [(event.time, REMOVAL, s, event.fraction) for s in event.states]
        else:
            entries = [
                (event.start, INFUSION_START, event.state, event.rate),
                (event.stop, INFUSION_STOP, event.state, event.rate),
            ]
        for time, kind, state, value in entries:
            if time > end:
                continue
            values = np.broadcast_to(np.asarray(value, dtype=float), (n_subjects,))
            who = np.flatnonzero(values != 0.0)
            columns.append((who, float(time), kind, state, values[who]))
    if not columns:
        empty = np.empty(0)
        return SubjectEvents(
            np.zeros(n_subjects + 1, dtype=np.int64), empty, empty.astype(np.int64),
            empty.astype(np.int64), empty,
        )  # fmt: skip
    subject = np.concatenate([c[0] for c in columns])
    time = np.concatenate([np.full(c[0].size, c[1]) for c in columns])
    kind = np.concatenate([np.full(c[0].size, c[2], dtype=np.int64) for c in columns])
    state = np.concatenate([np.full(c[0].size, c[3], dtype=np.int64) for c in columns])
    value = np.concatenate([c[4] for c in columns])
    order = np.lexsort((kind, time, subject))  # stable: same-kind entries keep event order
    counts = np.bincount(subject, minlength=n_subjects)
    pointer = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return SubjectEvents(pointer, time[order], kind[order], state[order], value[order])
