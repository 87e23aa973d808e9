"""The fast population engine: each subject integrated on its own by compiled DOP853.

Every subject has its own constants row, its own events and its own error control (the scipy
backend controls the error of the whole batch jointly). The method is Dormand-Prince 8(5,3)
(DOP853; Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I*, Sec. II.10) as
:class:`scipy.integrate.DOP853` implements it: the same tableau (taken from scipy), error norm
(the 5th- and 3rd-order estimates combined, RMS over the states, scale
``atol + rtol max(|y|, |y_new|)``), step-size controller (safety 0.9, factors 0.2 to 10,
exponent -1/8, no increase right after a rejection) and initial-step selection. Results agree
with the scipy backend to within the tolerance.

Integration stops exactly at every output time and at each of the subject's event times, so every
output is the state at the end of an accepted, error-controlled step; there is no interpolation.
When a step is shortened to land on an output time, the next step resumes with the step size it
was shortened from. This costs about what dense output costs (DOP853's interpolant needs three
more evaluations per step with an output) and keeps outputs as accurate as the steps: between
steps the interpolant is not error-controlled (the scipy backend's outputs are ~2e-6 off in
relative terms at rtol 1e-8, and its interpolated fast-decaying amounts undershoot zero by ~50
``atol``, the strict xfail in ``tests/engine/test_batch.py``).

Non-negative states: a step end may still undershoot zero by up to its local error tolerance
(observed: ~3e-9 mg in the i.p. depot of a mouse absorbing 8 mg at 100/day). States marked
non-negative (all, by default) are therefore set to zero at step acceptance when they end a step
below it, and the derivative at the step end is re-evaluated; the change is within the error just
accepted (the projection of Shampine et al., Appl Math Comput 2005;170:556-569).

Events (see :mod:`fmsim.engine.events`) are converted once into per-subject arrays sorted by
time; a subject whose value for an event is zero does not have that event, so its cost depends on
its own events only. At an event time the outputs are reported first (pre-event), then removals,
then boluses apply; infusions add their rate for ``start <= t < stop`` (a state's input is reset
to exactly zero when its last infusion stops). Integration restarts after each event time with a
fresh initial step, as the scipy backend does.

Subjects run in parallel with ``numba.prange`` over blocks of subjects; each block allocates its
work arrays once, and no Python runs per step or per subject. The hot loop passes arrays as
borrowed views (no reference counting: an atomic increment and decrement per array and call
otherwise costs more than the right-hand side itself). A failure (step size below 10 ulp of t,
more than ``max_steps`` steps, a non-finite state or derivative) stops that subject only: its
remaining outputs are NaN and :class:`~fmsim.engine.batch.SimulationResult` reports it by index
with a message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
from llvmlite import ir
from numba import njit, parallel_chunksize, prange, types
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array
from scipy.integrate._ivp import dop853_coefficients as _scipy_dop853
from tqdm.auto import tqdm

from fmsim.engine.batch import SimulationResult
from fmsim.engine.codegen import generate_source, load_generated
from fmsim.engine.events import Bolus, Event, Removal, check_events
from fmsim.model.definition import ModelDefinition

# ---------------------------------------------------------------- DOP853, as scipy.integrate

_N_STAGES = _scipy_dop853.N_STAGES  # 12; K[12] holds the derivative at the step end (FSAL)
_A = np.ascontiguousarray(_scipy_dop853.A[: _N_STAGES + 1, :_N_STAGES])  # row 12 is B
_C = np.ascontiguousarray(_scipy_dop853.C[: _N_STAGES + 1])
_E3 = np.ascontiguousarray(_scipy_dop853.E3)  # (13,): 3rd-order error estimate weights
_E5 = np.ascontiguousarray(_scipy_dop853.E5)  # (13,): 5th-order error estimate weights
_SAFETY = 0.9
_MIN_FACTOR = 0.2
_MAX_FACTOR = 10.0
_ERROR_EXPONENT = -1.0 / 8.0  # -1 / (error estimator order 7 + 1)

# ---------------------------------------------------------------- events and status codes

REMOVAL, BOLUS, INFUSION_STOP, INFUSION_START = 0, 1, 2, 3  # order of application at one time

SUCCESS, STEP_TOO_SMALL, TOO_MANY_STEPS, NOT_FINITE = 0, 1, 2, 3
MAX_STEPS = 1_000_000  # steps tried per subject (about 150 for a 35-day passive transfer)
CHUNK_SIZE = 4096  # subjects per call of the parallel kernel (progress-bar granularity)
_BLOCK = 16  # subjects per allocation of work arrays inside the kernel
_BLOCKS_PER_TASK = 4  # blocks a thread takes at a time from the chunk
_WORK_ROWS = 5  # y, inputs, y_new, y_stage, scale; then the 13 stage derivatives K


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
            if not time >= 0:  # NaN too
                raise ValueError(f"event {event!r} happens before time 0 (or at no time)")
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


# ---------------------------------------------------------------- compiled kernel


@intrinsic
def _borrow(typingctx, array):
    """The same array without its reference-counted owner. Passing arrays between compiled
    functions costs an atomic increment and decrement of the owner's count per call, and the
    right-hand side is called a few thousand times per subject; borrowed views cost nothing.
    The owner must outlive the view (here: the work arrays of a block, the caller's arrays)."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, value=args[0])
        view = context.make_array(signature.return_type)(context, builder)
        populate_array(
            view,
            data=source.data,
            shape=source.shape,
            strides=source.strides,
            itemsize=source.itemsize,
            meminfo=None,
        )
        return view._getvalue()

    return array(array), codegen


@intrinsic
def _data(typingctx, array):
    """Pointer to the first element of a C-contiguous 1-D array. Unlike ``array.ctypes`` it
    takes no reference (no atomic reference counting per call of the right-hand side)."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and array.layout == "C"):
        return None

    def codegen(context, builder, signature, args):
        return context.make_array(signature.args[0])(context, builder, value=args[0]).data

    return types.CPointer(array.dtype)(array), codegen


@intrinsic
def _row(typingctx, array, row):
    """Pointer to row ``row`` of a C-contiguous 2-D array (no reference taken, no bounds
    check)."""
    if not (isinstance(array, types.Array) and array.ndim == 2 and array.layout == "C"):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, value=args[0])
        offset = builder.mul(args[1], builder.extract_value(ary.shape, 1))
        return builder.gep(ary.data, [offset])

    return types.CPointer(array.dtype)(array, types.intp), codegen


@intrinsic
def _call_rhs(typingctx, address, t, y, c, dy, fcrn_guess):
    """Call the generated ``rhs_pointer`` at ``address``: a C function
    ``double (double t, double *y, double *c, double *dy, double fcrn_guess)``. A plain
    indirect call: one compiled kernel serves every model, and its machine code is cached."""
    pointer = types.CPointer(types.float64)
    signature = types.float64(types.intp, types.float64, pointer, pointer, pointer, types.float64)

    def codegen(context, builder, signature, args):
        function = ir.FunctionType(
            context.get_value_type(types.float64), [a.type for a in args[1:]]
        )
        return builder.call(builder.inttoptr(args[0], function.as_pointer()), args[1:])

    return signature, codegen


@intrinsic
def _call_derive(typingctx, address, c):
    """Call the generated ``derive_pointer`` at ``address``: ``void (double *c)``."""

    def codegen(context, builder, signature, args):
        function = ir.FunctionType(ir.VoidType(), [args[1].type])
        builder.call(builder.inttoptr(args[0], function.as_pointer()), args[1:])
        return context.get_dummy_value()

    return types.none(types.intp, types.CPointer(types.float64)), codegen


@njit(cache=True, error_model="numpy", inline="always")
def _evaluate(rhs, t, y, c, inputs, stage, row, fcrn_guess):
    """stage[row] = the model's derivative at (t, y) plus the infusion inputs; returns the
    free FcRn (uM) for the next call's warm start."""
    fcrn = _call_rhs(rhs, t, _data(y), _data(c), _row(stage, row), fcrn_guess)
    for j in range(y.shape[0]):
        stage[row, j] += inputs[j]
    return fcrn


@njit(cache=True, error_model="numpy")
def _all_finite(x):
    total = 0.0
    for j in range(x.shape[0]):
        total += x[j] * 0.0  # NaN if any entry is NaN or infinite
    return total == 0.0


@njit(cache=True, error_model="numpy")
def _initial_step(rhs, t0, t1, y, c, inputs, stage, y1, scale, rtol, atol, fcrn):
    """scipy's select_initial_step (Hairer, Norsett & Wanner II.4) from f0 = stage[0], using
    stage[1] as scratch; returns (step size in days, free FcRn)."""
    n = y.shape[0]
    d0 = 0.0
    d1 = 0.0
    for j in range(n):
        scale[j] = atol + abs(y[j]) * rtol
        d0 += (y[j] / scale[j]) ** 2
        d1 += (stage[0, j] / scale[j]) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    interval = t1 - t0
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, interval)
    for j in range(n):
        y1[j] = y[j] + h0 * stage[0, j]
    fcrn = _evaluate(rhs, t0 + h0, y1, c, inputs, stage, 1, fcrn)
    d2 = 0.0
    for j in range(n):
        d2 += ((stage[1, j] - stage[0, j]) / scale[j]) ** 2
    d2 = math.sqrt(d2 / n) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / 8.0)
    return min(100.0 * h0, h1, interval), fcrn


@njit(cache=True, error_model="numpy")
def _segment(
    rhs, t0, t1, y, c, inputs, stage, y_new, y_stage, scale, times, k_out, out, i,
    rtol, atol, max_steps, nonnegative, fcrn, counts,
):  # fmt: skip
    """Integrate subject ``i`` from t0 to t1 (days, the next event time or the end) in place in
    ``y``, writing the outputs strictly before t1. Returns (status, time reached, next output
    index, free FcRn); ``counts`` accumulates steps tried and right-hand-side evaluations."""
    n = y.shape[0]
    n_times = times.shape[0]
    fcrn = _evaluate(rhs, t0, y, c, inputs, stage, 0, fcrn)
    counts[1] += 2  # this evaluation and the one in _initial_step
    if not (_all_finite(y) and _all_finite(stage[0])):
        return NOT_FINITE, t0, k_out, fcrn
    h_abs, fcrn = _initial_step(rhs, t0, t1, y, c, inputs, stage, y_stage, scale, rtol, atol, fcrn)
    t = t0
    while t < t1:
        min_step = 10.0 * abs(np.nextafter(t, np.inf) - t)
        if h_abs < min_step:
            h_abs = min_step
        stop = times[k_out] if (k_out < n_times and times[k_out] < t1) else t1
        rejected = False
        finite = True
        h_free = 0.0
        while True:
            if h_abs < min_step:
                return (STEP_TOO_SMALL if finite else NOT_FINITE), t, k_out, fcrn
            if counts[0] >= max_steps:
                return TOO_MANY_STEPS, t, k_out, fcrn
            t_new = t + h_abs
            shortened = t_new > stop
            if shortened:  # land exactly on the output or event time
                h_free = h_abs
                t_new = stop
            h = t_new - t
            h_abs = abs(h)
            for s in range(1, _N_STAGES + 1):
                for j in range(n):
                    acc = 0.0
                    for m in range(s):
                        acc += _A[s, m] * stage[m, j]
                    y_stage[j] = y[j] + acc * h
                if s < _N_STAGES:
                    fcrn = _evaluate(rhs, t + _C[s] * h, y_stage, c, inputs, stage, s, fcrn)
            for j in range(n):
                y_new[j] = y_stage[j]
            fcrn = _evaluate(rhs, t_new, y_new, c, inputs, stage, _N_STAGES, fcrn)
            counts[0] += 1
            counts[1] += _N_STAGES
            err5 = 0.0
            err3 = 0.0
            for j in range(n):
                e5 = 0.0
                e3 = 0.0
                for m in range(_N_STAGES + 1):
                    e5 += _E5[m] * stage[m, j]
                    e3 += _E3[m] * stage[m, j]
                sc = atol + max(abs(y[j]), abs(y_new[j])) * rtol
                err5 += (e5 / sc) ** 2
                err3 += (e3 / sc) ** 2
            if err5 == 0.0 and err3 == 0.0:
                error_norm = 0.0
            else:
                error_norm = h_abs * err5 / math.sqrt((err5 + 0.01 * err3) * n)
            finite = math.isfinite(error_norm) and _all_finite(y_new)
            if finite and error_norm < 1.0:
                if error_norm == 0.0:
                    factor = _MAX_FACTOR
                else:
                    factor = min(_MAX_FACTOR, _SAFETY * error_norm**_ERROR_EXPONENT)
                if rejected:
                    factor = min(1.0, factor)
                h_abs *= factor
                if shortened and h_abs < h_free:
                    h_abs = h_free
                break
            if finite:
                h_abs *= max(_MIN_FACTOR, _SAFETY * error_norm**_ERROR_EXPONENT)
            else:
                h_abs *= _MIN_FACTOR
            rejected = True
        clipped = False
        for j in range(n):
            if nonnegative[j] and y_new[j] < 0.0:
                y_new[j] = 0.0  # an undershoot within the local error just accepted
                clipped = True
        if clipped:
            fcrn = _evaluate(rhs, t_new, y_new, c, inputs, stage, _N_STAGES, fcrn)
            counts[1] += 1
        for j in range(n):
            y[j] = y_new[j]
            stage[0, j] = stage[_N_STAGES, j]
        t = t_new
        while k_out < n_times and times[k_out] == t and t < t1:
            out[k_out, :, i] = y
            k_out += 1
    return SUCCESS, t, k_out, fcrn


@njit(cache=True, error_model="numpy")
def _subject(
    rhs, derive, i, times, y0, constants, ev_pointer, ev_time, ev_kind, ev_state, ev_value,
    rtol, atol, max_steps, nonnegative, out, y, c, inputs, active, stage, y_new, y_stage, scale,
    counts,
):  # fmt: skip
    """Integrate subject ``i`` over all output times; returns (status, time reached)."""
    n = y.shape[0]
    n_times = times.shape[0]
    end = times[n_times - 1]
    for j in range(n):
        y[j] = y0[j, i]
        inputs[j] = 0.0
        active[j] = 0
    for j in range(constants.shape[1]):
        c[j] = constants[i, j]
    _call_derive(derive, _data(c))
    e = ev_pointer[i]
    e_stop = ev_pointer[i + 1]
    k_out = 0
    fcrn = 0.0
    t = 0.0
    while True:
        while k_out < n_times and times[k_out] == t:  # pre-event outputs
            out[k_out, :, i] = y
            k_out += 1
        while e < e_stop and ev_time[e] == t:
            kind = ev_kind[e]
            s = ev_state[e]
            if kind == REMOVAL:
                y[s] *= 1.0 - ev_value[e]
            elif kind == BOLUS:
                y[s] += ev_value[e]
            elif kind == INFUSION_START:
                inputs[s] += ev_value[e]
                active[s] += 1
            else:
                active[s] -= 1
                inputs[s] = inputs[s] - ev_value[e] if active[s] > 0 else 0.0
            e += 1
        if t >= end:
            return SUCCESS, t
        t_next = ev_time[e] if e < e_stop else end
        status, t, k_out, fcrn = _segment(
            rhs, t, t_next, y, c, inputs, stage, y_new, y_stage, scale, times, k_out, out, i,
            rtol, atol, max_steps, nonnegative, fcrn, counts,
        )  # fmt: skip
        if status != SUCCESS:
            out[k_out:, :, i] = np.nan
            return status, t


@njit(cache=True, parallel=True, error_model="numpy")
def _integrate_chunk(
    rhs, derive, n_extended, first, last, times, y0, constants, ev_pointer, ev_time, ev_kind,
    ev_state, ev_value, rtol, atol, max_steps, nonnegative, out, status, reached, counts,
):  # fmt: skip
    """Integrate subjects first..last-1 in parallel blocks; results written in place."""
    n_states = y0.shape[0]
    n_blocks = (last - first + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        work = np.empty((_WORK_ROWS + _N_STAGES + 1, n_states))
        c = np.empty(n_extended)
        active = np.empty(n_states, dtype=np.int64)
        stage = _borrow(work[_WORK_ROWS:])
        for i in range(first + b * _BLOCK, min(last, first + (b + 1) * _BLOCK)):
            status[i], reached[i] = _subject(
                rhs, derive, i, _borrow(times), _borrow(y0), _borrow(constants),
                _borrow(ev_pointer), _borrow(ev_time), _borrow(ev_kind), _borrow(ev_state),
                _borrow(ev_value), rtol, atol, max_steps, _borrow(nonnegative), _borrow(out),
                _borrow(work[0]),
                _borrow(c), _borrow(work[1]), _borrow(active), stage, _borrow(work[2]),
                _borrow(work[3]), _borrow(work[4]), _borrow(counts[i]),
            )  # fmt: skip


# ---------------------------------------------------------------- Python entry points


@dataclass(frozen=True)
class CompiledModel:
    """A model's generated right-hand side, loaded and ready for the kernel."""

    definition: ModelDefinition
    module: ModuleType  # the generated module (see fmsim.engine.codegen)
    n_extended: int  # constants plus derived constants per subject


@cache
def compile_model(definition: ModelDefinition) -> CompiledModel:
    """Generate (or find in the cache directory) and load ``definition``'s right-hand side."""
    generated = generate_source(definition)
    module = load_generated(generated)
    return CompiledModel(definition, module, generated.n_constants + generated.n_derived)


_MESSAGES = {
    STEP_TOO_SMALL: "step size fell below 10 ulp of t at t = {t:.9g} days",
    TOO_MANY_STEPS: "more than {max_steps} steps before t = {t:.9g} days",
    NOT_FINITE: "non-finite state or derivative at t = {t:.9g} days",
}


def simulate_compiled(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event] = (),
    rtol: float = 1e-8,
    atol: float = 1e-10,
    *,
    nonnegative: bool | Sequence[int] = True,
    max_steps: int = MAX_STEPS,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
) -> SimulationResult:
    """Integrate every subject of ``subjects`` (the model's subjects dataclass) from ``y0``
    (shape (n_states, n)) with its own events; states at ``times`` (days, sorted, >= 0) in an
    array of shape (n_times, n_states, n), pre-event at event times.

    ``nonnegative``: the states kept at or above zero (True: all, as for fmsim's amounts,
    concentrations and relative quantities; False: none; or state indices). ``max_steps``
    bounds the steps tried per subject. ``progress`` shows a tqdm bar over chunks of
    ``chunk_size`` subjects (None: only for more than one chunk, on a terminal). Failed subjects
    have NaN outputs from the failure on, a nonzero ``status`` and a message."""
    times = np.ascontiguousarray(times, dtype=float)
    if (
        times.ndim != 1
        or times.size == 0
        or not np.all(np.isfinite(times))
        or np.any(np.diff(times) < 0)
        or times[0] < 0
    ):
        raise ValueError("output times must be a sorted 1-D sequence starting at or after 0")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"tolerances must be positive (rtol {rtol}, atol {atol})")
    y0 = np.ascontiguousarray(y0, dtype=float)
    n_states, n = y0.shape
    if n_states != model.n_states:
        raise ValueError(f"y0 has {n_states} states; {model.name} has {model.n_states}")
    constants = model.constant_matrix(subjects)
    if constants.shape[0] != n:
        raise ValueError(f"{constants.shape[0]} subjects' constants for {n} initial states")
    if isinstance(nonnegative, bool):
        clip = np.full(n_states, nonnegative)
    else:
        clip = np.zeros(n_states, dtype=bool)
        clip[list(nonnegative)] = True
    compiled = compile_model(model)
    ev = subject_events(events, n_states, n, float(times[-1]))
    out = np.empty((times.size, n_states, n))
    status = np.zeros(n, dtype=np.int64)
    reached = np.zeros(n)
    counts = np.zeros((n, 2), dtype=np.int64)  # steps tried, right-hand-side evaluations
    starts = range(0, n, chunk_size)
    disable = (None if len(starts) > 1 else True) if progress is None else not progress
    for first in tqdm(starts, disable=disable, unit="chunk", desc=model.name):
        # blocks handed out dynamically: threads stay busy however uneven the subjects' costs
        with parallel_chunksize(_BLOCKS_PER_TASK):
            _integrate_chunk(
                compiled.module.rhs_pointer.address, compiled.module.derive_pointer.address,
                compiled.n_extended, first, min(n, first + chunk_size), times, y0, constants,
                ev.pointer, ev.time, ev.kind, ev.state, ev.value, float(rtol), float(atol),
                int(max_steps), clip, out, status, reached, counts,
            )  # fmt: skip
    messages = {
        int(i): _MESSAGES[int(status[i])].format(t=reached[i], max_steps=max_steps)
        for i in np.flatnonzero(status)
    }
    return SimulationResult(
        times=times,
        states=out,
        n_rhs_evaluations=int(counts[:, 1].sum()),
        status=status,
        messages=messages,
    )
