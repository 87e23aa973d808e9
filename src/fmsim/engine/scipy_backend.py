"""The reference backend: the whole batch as one vectorised system, integrated by scipy's DOP853.

The right-hand side is evaluated for all subjects in one numpy call (the model's
:meth:`~fmsim.model.definition.ModelDefinition.rhs`), so there is no Python work per subject;
scipy's :class:`~scipy.integrate.DOP853` (Dormand-Prince 8(5,3)) is driven step by step so that
the options' step and wall-time budgets and non-negative states apply as in the compiled
backend. Subjects share the event times of the schedule (each subject may receive its own
amount, zero included); integration restarts at each event time (see
:mod:`fmsim.engine.events` for the event kinds and their order).

Outputs at an event time are reported **before** the event (pre-dose), as a lab tests animals
before the day's injection; outputs between steps come from DOP853's dense-output interpolant,
which is not error-controlled (~2e-6 off in relative terms at rtol 1e-8) and not projected onto
non-negative values. The error control is shared by the whole batch, and so is a failure: when
the joint system fails, every subject stops at the same time with the same
:class:`~fmsim.engine.result.Status`. :mod:`fmsim.engine.compiled` is the fast backend, with
error control and failures per subject.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import DOP853

from fmsim.engine.events import Bolus, Event, Infusion, Removal, event_times
from fmsim.engine.options import SolverOptions
from fmsim.engine.problem import Problem
from fmsim.engine.result import SimulationResult, Status


def simulate_scipy(problem: Problem, options: SolverOptions) -> SimulationResult:
    """The scipy backend: ``problem`` as one system of all subjects' states, with ``options``
    (``chunk_size`` and ``progress`` do not apply)."""
    model, subjects, times, events = problem.model, problem.subjects, problem.times, problem.events
    shape = problem.y0.shape
    deadline = time.monotonic() + options.wall_time_budget(shape[1])
    nonnegative = np.repeat(options.nonnegative_mask(model.states), shape[1])
    end = float(times[-1])
    breakpoints = sorted({0.0, end, *(t for t in event_times(events) if t <= end)})

    y = problem.y0.ravel().copy()
    run = _Run(times, np.full((times.size, *shape), np.nan), options, nonnegative, deadline)
    status, reached = Status.SUCCESS, end
    segments = zip(breakpoints, [*breakpoints[1:], breakpoints[-1]], strict=True)
    for start, stop in segments:
        run.out[times == start] = y.reshape(shape)  # pre-event output at an event time
        y = _apply_instant_events(y.reshape(shape), events, start).ravel()
        if stop == start:
            continue
        inputs = _infusion_rates(events, start, shape)

        def rhs(t: float, y_flat: np.ndarray, inputs=inputs) -> np.ndarray:
            return (model.rhs(t, y_flat.reshape(shape), subjects) + inputs).ravel()

        status, reached, y = _segment(rhs, start, stop, y, run)
        if status != Status.SUCCESS:
            break
    n = shape[1]
    return problem.result(
        run.out,
        np.full(n, int(status)),
        np.full(n, reached),
        np.full(n, run.steps),
        run.evaluations,
        options,
    )


@dataclass
class _Run:
    """What the segments of one integration share: the output times and the outputs (filled
    as the solver passes them), the options, the non-negative states (flattened mask), the
    wall-clock deadline (``time.monotonic()``) and the steps and evaluations so far."""

    times: np.ndarray
    out: np.ndarray
    options: SolverOptions
    nonnegative: np.ndarray
    deadline: float
    steps: int = 0
    evaluations: int = 0


def _segment(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    start: float,
    stop: float,
    y: np.ndarray,
    run: _Run,
) -> tuple[Status, float, np.ndarray]:
    """Integrate the flattened state ``y`` from ``start`` to ``stop`` (days), writing the
    outputs strictly between them into ``run.out``; returns (status, time reached, state
    there)."""
    options = run.options
    with np.errstate(all="ignore"):  # non-finite values are detected and reported
        solver = DOP853(rhs, start, y, stop, rtol=options.rtol, atol=options.atol)
        status = _drive(solver, run)
    run.evaluations += solver.nfev
    return status, solver.t, solver.y


def _drive(solver: DOP853, run: _Run) -> Status:
    """Step ``solver`` to its end within the budgets, projecting the non-negative states at
    each step end and writing the outputs inside each step from its interpolant."""
    if not (_finite(solver.y, solver.f) and np.isfinite(solver.h_abs)):
        return Status.NOT_FINITE  # (with a NaN initial step, scipy would try steps for ever)
    times, out, nonnegative = run.times, run.out, run.nonnegative
    next_output = np.searchsorted(times, solver.t, side="right")
    last_output = np.searchsorted(times, solver.t_bound, side="left")  # strictly before the end
    while solver.status == "running":
        if run.steps >= run.options.max_steps:
            return Status.TOO_MANY_STEPS
        if time.monotonic() > run.deadline:
            return Status.BUDGET_EXHAUSTED
        solver.step()
        run.steps += 1
        if solver.status == "failed":  # the stages K hold the last step tried
            return (
                Status.STEP_TOO_SMALL
                if _finite(solver.y, solver.f, solver.K)
                else Status.NOT_FINITE
            )
        below = nonnegative & (solver.y < 0.0)
        if np.any(below):  # an undershoot within the error just accepted
            solver.y = np.where(below, 0.0, solver.y)
            solver.f = solver.fun(solver.t, solver.y)
        reached = min(np.searchsorted(times, solver.t, side="right"), last_output)
        if reached > next_output:  # outputs inside the step, from its interpolant
            inside = times[next_output:reached]
            out[next_output:reached] = solver.dense_output()(inside).T.reshape(-1, *out.shape[1:])
            next_output = reached
    return Status.SUCCESS


def _finite(*arrays: np.ndarray) -> bool:
    return all(np.all(np.isfinite(a)) for a in arrays)


def _apply_instant_events(y: np.ndarray, events: Sequence[Event], time: float) -> np.ndarray:
    """Removals first, then boluses, at ``time``; a new array of shape (n_states, n)."""
    y = y.copy()
    for event in events:
        if isinstance(event, Removal) and event.time == time:
            for state in event.states:
                y[state] *= 1.0 - np.asarray(event.fraction, dtype=float)
    for event in events:
        if isinstance(event, Bolus) and event.time == time:
            y[event.state] += event.amount
    return y


def _infusion_rates(events: Sequence[Event], start: float, shape: tuple[int, int]) -> np.ndarray:
    """Summed zero-order input (state unit per day) of infusions running on [start, next)."""
    rates = np.zeros(shape)
    for event in events:
        if isinstance(event, Infusion) and event.start <= start < event.stop:
            rates[event.state] += event.rate
    return rates
