"""Integrate a batch of subjects at once with scipy's DOP853 (Dormand-Prince 8(5,3)).

The whole batch is one vectorised ODE system: the right-hand side is evaluated for all subjects in
one numpy call, so there is no Python work per subject. Subjects share the event times of the
schedule (each subject may receive its own amount, zero included); integration restarts at each
event time (see :mod:`fmsim.engine.events` for the event kinds and their order).

Outputs at an event time are reported **before** the event (pre-dose), as a lab tests animals
before the day's injection. This is the reference backend: simple, exact at events, but its
error control is shared by the whole batch; :mod:`fmsim.engine.compiled` is the fast one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from fmsim.engine.events import Bolus, Event, Infusion, Removal, check_events, event_times


@dataclass(frozen=True)
class SimulationResult:
    """States at the output times, shape (n_times, n_states, n_subjects)."""

    times: np.ndarray
    states: np.ndarray
    n_rhs_evaluations: int
    status: np.ndarray | None = None  # per subject, 0 = integrated (compiled backend)
    messages: dict[int, str] = field(default_factory=dict)  # failed subject index -> reason


class IntegrationError(RuntimeError):
    """The solver failed; the message carries scipy's reason and the time window."""


def simulate(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    y0: np.ndarray,
    times: Sequence[float],
    doses: Sequence[Event] = (),
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> SimulationResult:
    """Solve ``dy/dt = rhs(t, y)`` for ``y`` of shape (n_states, n_subjects).

    ``times`` must be sorted and start at or after 0; the initial state ``y0`` holds at t = 0.
    Events at the same time are all applied; events after the last output time are ignored.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0) or times[0] < 0:
        raise ValueError("output times must be a sorted 1-D sequence starting at or after 0")
    shape = y0.shape
    check_events(doses, shape[0], shape[1])
    end = float(times[-1])
    breakpoints = sorted({0.0, end, *(t for t in event_times(doses) if t <= end)})

    y = y0.astype(float).copy()
    out = np.empty((times.size, *shape))
    n_evaluations = 0
    segments = zip(breakpoints, [*breakpoints[1:], breakpoints[-1]], strict=True)
    for start, stop in segments:
        out[times == start] = y  # pre-dose output at an event time
        _apply_instant_events(y, doses, start)
        if stop == start:
            continue
        inputs = _infusion_rates(doses, start, shape)

        def flat_rhs(t: float, y_flat: np.ndarray, inputs=inputs) -> np.ndarray:
            return (rhs(t, y_flat.reshape(shape)) + inputs).ravel()

        inside = (times > start) & (times < stop)
        wanted = times[inside]
        sol = solve_ivp(
            flat_rhs,
            (start, stop),
            y.ravel(),
            method="DOP853",
            t_eval=np.append(wanted, stop),
            rtol=rtol,
            atol=atol,
        )
        if not sol.success:
            raise IntegrationError(f"solver failed on [{start}, {stop}] days: {sol.message}")
        n_evaluations += sol.nfev
        out[inside] = sol.y[:, : wanted.size].T.reshape(-1, *shape)
        y = sol.y[:, -1].reshape(shape)
    return SimulationResult(times=times, states=out, n_rhs_evaluations=n_evaluations)


def _apply_instant_events(y: np.ndarray, events: Sequence[Event], time: float) -> None:
    """Removals first, then boluses, at ``time`` (in place)."""
    for event in events:
        if isinstance(event, Removal) and event.time == time:
            for state in event.states:
                y[state] *= 1.0 - np.asarray(event.fraction, dtype=float)
    for event in events:
        if isinstance(event, Bolus) and event.time == time:
            y[event.state] += event.amount


def _infusion_rates(events: Sequence[Event], start: float, shape: tuple[int, int]) -> np.ndarray:
    """Summed zero-order input (state unit per day) of infusions running on [start, next)."""
    rates = np.zeros(shape)
    for event in events:
        if isinstance(event, Infusion) and event.start <= start < event.stop:
            rates[event.state] += event.rate
    return rates
