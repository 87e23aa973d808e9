"""The fast population engine: each subject integrated on its own by compiled DOP853.

Every subject has its own constants row, its own events and its own error control (the scipy
backend controls the error of the whole batch jointly). The method is Dormand-Prince 8(5,3)
(DOP853; Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I*, Sec. II.10) as
:class:`scipy.integrate.DOP853` implements it, in three parts as diffrax separates them:

* the **tableau** (``_A``, ``_C``, ``_E3``, ``_E5``, taken from scipy);
* the **solver step** (:func:`_dop853_step`: the stages, the 8th-order solution and its
  derivative) and its **error estimate** (:func:`_error_norm`: the 5th- and 3rd-order estimates
  combined, RMS over the states, scale ``atol + rtol max(|y|, |y_new|)``);
* the **step-size controller** (:func:`_controller`: safety 0.9, factors 0.2 to 10, exponent
  -1/8, no increase right after a rejection) and scipy's initial-step selection
  (:func:`_initial_step`).

Results agree with the scipy backend to within the tolerance.

Integration stops exactly at every output time and at each of the subject's event times, so every
output is the state at the end of an accepted, error-controlled step; there is no interpolation.
When a step is shortened to land on an output time, the next step resumes with the step size it
was shortened from. This costs about what dense output costs (DOP853's interpolant needs three
more evaluations per step with an output) and keeps outputs as accurate as the steps: between
steps the interpolant is not error-controlled (the scipy backend's outputs are ~2e-6 off in
relative terms at rtol 1e-8, and without the projection below its interpolated fast-decaying
amounts undershoot zero by ~40 ``atol``; see ``tests/engine/test_scipy_backend.py``).

Non-negative states (``SolverOptions.nonnegative``): a step end may still undershoot zero by up
to its local error tolerance (observed: ~3e-9 mg in the i.p. depot of a mouse absorbing 8 mg at
100/day). States marked non-negative (all, by default) are therefore set to zero at step
acceptance when they end a step below it, and the derivative at the step end is re-evaluated;
the change is within the error just accepted (the projection of Shampine et al., Appl Math
Comput 2005;170:556-569).

Events (see :mod:`fmsim.engine.events`) are converted once into per-subject arrays sorted by
time; a subject whose value for an event is zero does not have that event, so its cost depends on
its own events only. At an event time the outputs are reported first (pre-event), then removals,
then boluses apply; infusions add their rate for ``start <= t < stop`` (a state's input is reset
to exactly zero when its last infusion stops). Integration restarts after each event time with a
fresh initial step, as the scipy backend does.

Subjects run in parallel with ``numba.prange`` over blocks of subjects; each block allocates its
work arrays once, and no Python runs per step or per subject. The hot loop passes arrays as
borrowed views (no reference counting: an atomic increment and decrement per array and call
otherwise costs more than the right-hand side itself). A failure stops that subject only: its
remaining outputs are NaN and its :class:`~fmsim.engine.result.Status` and the time it reached
are reported. Failures are a step size below 10 ulp of t, more than ``max_steps`` steps tried, a
non-finite state or derivative, and the batch's wall-time budget running out, which every
subject checks when it starts and every 1,024 steps (``clock_gettime(CLOCK_MONOTONIC)``, ~30 ns).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
from llvmlite import ir
from numba import njit, parallel_chunksize, prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array
from scipy.integrate._ivp import dop853_coefficients as _scipy_dop853
from tqdm.auto import tqdm

from fmsim.engine.codegen import generate_source, load_generated
from fmsim.engine.events import BOLUS, INFUSION_START, REMOVAL, subject_events
from fmsim.engine.options import SolverOptions
from fmsim.engine.problem import Problem
from fmsim.engine.result import SimulationResult, Status
from fmsim.model.definition import ModelDefinition

# ---------------------------------------------------------------- tableau: DOP853 as scipy's

_N_STAGES = _scipy_dop853.N_STAGES  # 12; K[12] holds the derivative at the step end (FSAL)
_A = np.ascontiguousarray(_scipy_dop853.A[: _N_STAGES + 1, :_N_STAGES])  # row 12 is B
_C = np.ascontiguousarray(_scipy_dop853.C[: _N_STAGES + 1])
_E3 = np.ascontiguousarray(_scipy_dop853.E3)  # (13,): 3rd-order error estimate weights
_E5 = np.ascontiguousarray(_scipy_dop853.E5)  # (13,): 5th-order error estimate weights
_SAFETY = 0.9
_MIN_FACTOR = 0.2
_MAX_FACTOR = 10.0
_ERROR_EXPONENT = -1.0 / 8.0  # -1 / (error estimator order 7 + 1)

# ---------------------------------------------------------------- kernel constants

SUCCESS = int(Status.SUCCESS)
STEP_TOO_SMALL = int(Status.STEP_TOO_SMALL)
TOO_MANY_STEPS = int(Status.TOO_MANY_STEPS)
NOT_FINITE = int(Status.NOT_FINITE)
BUDGET_EXHAUSTED = int(Status.BUDGET_EXHAUSTED)
_CLOCK_EVERY = 1024  # steps between reads of the clock (a power of two)
_BLOCK = 16  # subjects per allocation of work arrays inside the kernel
_BLOCKS_PER_TASK = 4  # blocks a thread takes at a time from the chunk
_WORK_ROWS = 4  # y, inputs, y_new, scale; then the 13 stage derivatives K

# ---------------------------------------------------------------- intrinsics


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


@intrinsic
def _monotonic_ns(typingctx):
    """Nanoseconds on the monotonic clock: ``clock_gettime(CLOCK_MONOTONIC)``, the clock of
    Python's ``time.clock_gettime_ns(time.CLOCK_MONOTONIC)``; resolved from the C library when
    the (cached) machine code is loaded."""

    def codegen(context, builder, signature, args):
        word = ir.IntType(64)
        timespec = ir.LiteralStructType([word, word])  # tv_sec, tv_nsec (64-bit platforms)
        clock_type = ir.FunctionType(ir.IntType(32), [ir.IntType(32), timespec.as_pointer()])
        clock = cgutils.get_or_insert_function(builder.module, clock_type, "clock_gettime")
        spec = cgutils.alloca_once(builder, timespec)
        builder.call(clock, [ir.Constant(ir.IntType(32), time.CLOCK_MONOTONIC), spec])
        seconds = builder.load(cgutils.gep_inbounds(builder, spec, 0, 0))
        nanoseconds = builder.load(cgutils.gep_inbounds(builder, spec, 0, 1))
        return builder.add(builder.mul(seconds, ir.Constant(word, 1_000_000_000)), nanoseconds)

    return types.int64(), codegen


@njit(cache=True)
def monotonic_ns() -> int:
    """The kernel's clock, callable from Python (for deadlines and tests)."""
    return _monotonic_ns()


# ---------------------------------------------------------------- right-hand side


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


# ---------------------------------------------------------------- solver: one DOP853 step


@njit(cache=True, error_model="numpy")
def _dop853_step(rhs, t, t_new, y, c, inputs, stage, y_new, fcrn):
    """One DOP853 step from (t, y), with stage[0] = f(t, y), to t_new: the stage derivatives
    into stage[1:12], the 8th-order solution into ``y_new`` (also the stages' scratch) and its
    derivative into stage[12]. Returns the free FcRn."""
    n = y.shape[0]
    h = t_new - t
    for s in range(1, _N_STAGES + 1):
        for j in range(n):
            acc = 0.0
            for m in range(s):
                acc += _A[s, m] * stage[m, j]
            y_new[j] = y[j] + acc * h
        if s < _N_STAGES:
            fcrn = _evaluate(rhs, t + _C[s] * h, y_new, c, inputs, stage, s, fcrn)
    return _evaluate(rhs, t_new, y_new, c, inputs, stage, _N_STAGES, fcrn)


@njit(cache=True, error_model="numpy")
def _error_norm(y, y_new, stage, h_abs, rtol, atol):
    """scipy's DOP853 error norm of the step just taken (accept if < 1): the 5th-order estimate
    corrected by the 3rd-order one, RMS over the states, each scaled by
    ``atol + rtol max(|y|, |y_new|)``. NaN or inf if the step was not finite."""
    n = y.shape[0]
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
        return 0.0
    return h_abs * err5 / math.sqrt((err5 + 0.01 * err3) * n)


# ---------------------------------------------------------------- step-size controller


@njit(cache=True, error_model="numpy")
def _controller(error_norm, finite, rejected):
    """(accept, factor): whether to accept a step with ``error_norm`` (``finite``: its state
    and error are finite), and the factor for the next step size (scipy's DOP853 controller:
    no increase right after a rejection; a non-finite step shrinks by the smallest factor)."""
    if not finite:
        return False, _MIN_FACTOR
    if error_norm < 1.0:
        if error_norm == 0.0:
            factor = _MAX_FACTOR
        else:
            factor = min(_MAX_FACTOR, _SAFETY * error_norm**_ERROR_EXPONENT)
        return True, (min(1.0, factor) if rejected else factor)
    return False, max(_MIN_FACTOR, _SAFETY * error_norm**_ERROR_EXPONENT)


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


# ---------------------------------------------------------------- integration of one subject


@njit(cache=True, error_model="numpy")
def _accepted_step(
    rhs, t, stop, h_abs, y, c, inputs, stage, y_new, rtol, atol, max_steps, deadline, fcrn,
    counts,
):  # fmt: skip
    """Try steps from (t, y) towards ``stop`` (days) until one is accepted; the step lands on
    ``stop`` exactly if it would pass it. Returns (status, new time, next step size, free
    FcRn), the new state in ``y_new``; ``counts`` accumulates steps tried and right-hand-side
    evaluations."""
    min_step = 10.0 * abs(np.nextafter(t, np.inf) - t)
    h_abs = max(h_abs, min_step)
    finite = True
    rejected = False
    while True:
        if h_abs < min_step:
            return (STEP_TOO_SMALL if finite else NOT_FINITE), t, h_abs, fcrn
        if counts[0] >= max_steps:
            return TOO_MANY_STEPS, t, h_abs, fcrn
        if counts[0] % _CLOCK_EVERY == 0 and _monotonic_ns() > deadline:
            return BUDGET_EXHAUSTED, t, h_abs, fcrn
        h_free = h_abs
        t_new = t + h_abs
        shortened = t_new > stop
        if shortened:  # land exactly on the output or event time
            t_new = stop
        h_abs = t_new - t
        fcrn = _dop853_step(rhs, t, t_new, y, c, inputs, stage, y_new, fcrn)
        counts[0] += 1
        counts[1] += _N_STAGES
        error_norm = _error_norm(y, y_new, stage, h_abs, rtol, atol)
        finite = math.isfinite(error_norm) and _all_finite(y_new)
        accept, factor = _controller(error_norm, finite, rejected)
        h_abs *= factor
        if accept:
            if shortened:  # resume with the step size it was shortened from
                h_abs = max(h_abs, h_free)
            return SUCCESS, t_new, h_abs, fcrn
        rejected = True


@njit(cache=True, error_model="numpy")
def _project_nonnegative(y, nonnegative):
    """Set the marked states of ``y`` that lie below zero to zero; True if any was."""
    clipped = False
    for j in range(y.shape[0]):
        if nonnegative[j] and y[j] < 0.0:
            y[j] = 0.0
            clipped = True
    return clipped


@njit(cache=True, error_model="numpy")
def _store_outputs(out, i, y, times, k_out, t, t1):
    """Write ``y`` as subject ``i``'s output at every output time equal to ``t`` and before the
    segment end ``t1`` (outputs at t1 are written pre-event by the caller); returns the index
    of the next output time."""
    while k_out < times.shape[0] and times[k_out] == t and t < t1:
        out[k_out, :, i] = y
        k_out += 1
    return k_out


@njit(cache=True, error_model="numpy")
def _segment(
    rhs, t0, t1, y, c, inputs, stage, y_new, scale, times, k_out, out, i,
    rtol, atol, max_steps, deadline, nonnegative, fcrn, counts,
):  # fmt: skip
    """Integrate subject ``i`` from t0 to t1 (days, the next event time or the end) in place in
    ``y``, writing the outputs strictly before t1. Returns (status, time reached, next output
    index, free FcRn)."""
    n_times = times.shape[0]
    fcrn = _evaluate(rhs, t0, y, c, inputs, stage, 0, fcrn)
    counts[1] += 2  # this evaluation and the one in _initial_step
    if not (_all_finite(y) and _all_finite(stage[0])):
        return NOT_FINITE, t0, k_out, fcrn
    h_abs, fcrn = _initial_step(rhs, t0, t1, y, c, inputs, stage, y_new, scale, rtol, atol, fcrn)
    t = t0
    while t < t1:
        stop = times[k_out] if (k_out < n_times and times[k_out] < t1) else t1
        status, t_new, h_abs, fcrn = _accepted_step(
            rhs, t, stop, h_abs, y, c, inputs, stage, y_new, rtol, atol, max_steps, deadline,
            fcrn, counts,
        )  # fmt: skip
        if status != SUCCESS:
            return status, t, k_out, fcrn
        if _project_nonnegative(y_new, nonnegative):  # an undershoot within the error accepted
            fcrn = _evaluate(rhs, t_new, y_new, c, inputs, stage, _N_STAGES, fcrn)
            counts[1] += 1
        for j in range(y.shape[0]):
            y[j] = y_new[j]
            stage[0, j] = stage[_N_STAGES, j]  # first same as last
        t = t_new
        k_out = _store_outputs(out, i, y, times, k_out, t, t1)
    return SUCCESS, t, k_out, fcrn


@njit(cache=True, error_model="numpy")
def _apply_events(y, inputs, active, t, e, e_stop, ev_time, ev_kind, ev_state, ev_value):
    """Apply the subject's events at time ``t`` from entry ``e`` on (removals, boluses, then
    infusion changes, as sorted); returns the first entry after them."""
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
    return e


@njit(cache=True, error_model="numpy")
def _subject(
    rhs, derive, i, times, y0, constants, ev_pointer, ev_time, ev_kind, ev_state, ev_value,
    rtol, atol, max_steps, deadline, nonnegative, out, y, c, inputs, active, stage, y_new, scale,
    counts,
):  # fmt: skip
    """Integrate subject ``i`` over all output times; returns (status, time reached). A failed
    subject's outputs from the failure on are NaN."""
    n = y.shape[0]
    n_times = times.shape[0]
    end = times[n_times - 1]
    if _monotonic_ns() > deadline:
        out[:, :, i] = np.nan
        return BUDGET_EXHAUSTED, 0.0
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
        e = _apply_events(y, inputs, active, t, e, e_stop, ev_time, ev_kind, ev_state, ev_value)
        if t >= end:
            return SUCCESS, t
        t_next = ev_time[e] if e < e_stop else end
        status, t, k_out, fcrn = _segment(
            rhs, t, t_next, y, c, inputs, stage, y_new, scale, times, k_out, out, i,
            rtol, atol, max_steps, deadline, nonnegative, fcrn, counts,
        )  # fmt: skip
        if status != SUCCESS:
            out[k_out:, :, i] = np.nan
            return status, t


@njit(cache=True, parallel=True, error_model="numpy")
def _integrate_chunk(
    rhs, derive, n_extended, first, last, times, y0, constants, ev_pointer, ev_time, ev_kind,
    ev_state, ev_value, rtol, atol, max_steps, deadline, nonnegative, out, status, reached,
    counts,
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
                _borrow(ev_value), rtol, atol, max_steps, deadline, _borrow(nonnegative),
                _borrow(out), _borrow(work[0]), _borrow(c), _borrow(work[1]), _borrow(active),
                stage, _borrow(work[2]), _borrow(work[3]), _borrow(counts[i]),
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


def deadline_ns(budget_s: float) -> int:
    """The kernel clock's reading ``budget_s`` seconds from now (capped at the int64 range)."""
    return int(min(monotonic_ns() + budget_s * 1e9, float(np.iinfo(np.int64).max) / 2))


def simulate_compiled(problem: Problem, options: SolverOptions) -> SimulationResult:
    """The compiled backend: integrate every subject of ``problem`` on its own, in parallel,
    with ``options`` (all of them are honoured)."""
    model, times, y0 = problem.model, problem.times, problem.y0
    n_states, n = y0.shape
    compiled = compile_model(model)
    ev = subject_events(problem.events, n_states, n, float(times[-1]))
    out = np.empty((times.size, n_states, n))
    status = np.zeros(n, dtype=np.int64)
    reached = np.zeros(n)
    counts = np.zeros((n, 2), dtype=np.int64)  # steps tried, right-hand-side evaluations

    def integrate(first: int, last: int, deadline: int) -> None:
        # blocks handed out dynamically: threads stay busy however uneven the subjects' costs
        with parallel_chunksize(_BLOCKS_PER_TASK):
            _integrate_chunk(
                compiled.module.rhs_pointer.address, compiled.module.derive_pointer.address,
                compiled.n_extended, first, last, times, y0, problem.constants, ev.pointer,
                ev.time, ev.kind, ev.state, ev.value, float(options.rtol), float(options.atol),
                int(options.max_steps), deadline, options.nonnegative_mask(model.states), out,
                status, reached, counts,
            )  # fmt: skip

    integrate(0, 0, 0)  # no subjects: compiles or loads the kernel outside the time budget
    deadline = deadline_ns(options.wall_time_budget(n))
    starts = range(0, n, options.chunk_size)
    progress = options.progress
    disable = (None if len(starts) > 1 else True) if progress is None else not progress
    for first in tqdm(starts, disable=disable, unit="chunk", desc=model.name):
        integrate(first, min(n, first + options.chunk_size), deadline)
    return problem.result(out, status, reached, counts[:, 0], int(counts[:, 1].sum()), options)
