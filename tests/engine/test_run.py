"""Tests for fmsim.engine.run: one options object reaches every backend, failures are reported
or raised, and no input makes a run go on for ever (times in days).

Small stand-in models keep these fast: a one-compartment decay and a stiff level that tracks
exp(-t) at a rate of 1e12/day (explicit DOP853 needs ~1e-11-day steps for it: ~1e13 steps for
35 days, so only the budgets can end it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import numpy as np
import pytest

from fmsim.engine import (
    BACKENDS,
    Bolus,
    SimulationError,
    SolverOptions,
    Status,
    run,
)
from fmsim.model.definition import ModelDefinition
from fmsim.model.equations import MODEL as MOUSE
from fmsim.model.equations import build_subjects, initial_state
from fmsim.model.parameters import load_parameter_set


@dataclass(frozen=True)
class Rate:
    rate: np.ndarray  # 1/day


def decay(t, y, s: Rate, ops):
    (amount,) = y
    return [-s.rate * amount]


def tracking(t, y, s: Rate, ops):
    (level,) = y
    return [-s.rate * (level - ops.exp(-t))]


DECAY = ModelDefinition("test_run_decay", ("amount",), ("mg",), Rate, decay)
STIFF = ModelDefinition("test_run_tracking", ("level",), ("1",), Rate, tracking)
STIFF_RATE = 1e12  # 1/day


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def stiff_run(backend, rates, **options):
    """The tracking model from 1 for each of ``rates`` to day 35, failures not raised."""
    rates = np.asarray(rates, dtype=float)
    y0 = np.ones((1, rates.size))
    return run(STIFF, Rate(rates), y0, [0.0, 35.0], backend=backend, throw=False, **options)


def mice(n=1, **values):
    """Typical mice with ``values`` replacing parameters (by name, one value for all)."""
    typical = {k: np.full(n, v) for k, v in load_parameter_set().typical().items()}
    typical.update({k: np.full(n, float(v)) for k, v in values.items()})
    return build_subjects(typical, np.full(n, 0.005))


def mouse_run(subjects, dose_mg, times, backend, throw=False, **options):
    doses = [Bolus(d, MOUSE.index("human_ip_depot"), dose_mg) for d in (0.0, 1.0, 2.0, 3.0)]
    y0 = initial_state(subjects)
    return run(MOUSE, subjects, y0, times, doses, backend=backend, throw=throw, **options)


# ---------------------------------------------------------------- options


def test_every_option_reaches_every_backend(backend):
    # each option changes what the backend does; a backend that ignored one would fail here
    rates = Rate(np.array([30.0, 80.0]))
    times = np.linspace(0.0, 10.0, 201)

    def decay_run(times=times, **options):
        return run(DECAY, rates, np.ones((1, 2)), times, backend=backend, throw=False, **options)

    loose = decay_run([0.0, 10.0], rtol=1e-4, atol=1e-8)
    tight = decay_run([0.0, 10.0], rtol=1e-10, atol=1e-14)
    assert tight.n_rhs_evaluations > 2 * loose.n_rhs_evaluations
    free = decay_run(rtol=1e-3, atol=1e-6, nonnegative=False)
    kept = decay_run(rtol=1e-3, atol=1e-6, nonnegative=True)
    assert free.states.min() < 0.0 and kept.states.min() > free.states.min()
    np.testing.assert_array_equal(decay_run(max_steps=3).status, Status.TOO_MANY_STEPS)
    exhausted = decay_run(max_wall_time=1e-9)
    np.testing.assert_array_equal(exhausted.status, Status.BUDGET_EXHAUSTED)
    options = SolverOptions(rtol=1e-9, max_steps=10**4)
    assert decay_run(options=options).options is options


def test_keyword_options_replace_single_fields_and_unknown_ones_are_refused():
    base = SolverOptions(rtol=1e-9, max_steps=123)
    result = run(DECAY, Rate(np.ones(1)), np.ones((1, 1)), [0.0, 1.0], options=base, atol=1e-12)
    assert result.options == SolverOptions(rtol=1e-9, atol=1e-12, max_steps=123)
    assert {f.name for f in fields(SolverOptions)} >= {"rtol", "nonnegative", "max_wall_time"}
    with pytest.raises(TypeError, match="rtl"):
        run(DECAY, Rate(np.ones(1)), np.ones((1, 1)), [0.0, 1.0], rtl=1e-9)
    with pytest.raises(ValueError, match="SolverOptions.rtol: got -1"):
        run(DECAY, Rate(np.ones(1)), np.ones((1, 1)), [0.0, 1.0], rtol=-1)


def test_run_defaults_to_compiled_and_rejects_unknown_backends():
    y0 = np.ones((1, 1))
    assert run(DECAY, Rate(np.ones(1)), y0, [0.0, 1.0]).n_steps[0] > 0
    with pytest.raises(ValueError, match="unknown backend 'fortran'"):
        run(DECAY, Rate(np.ones(1)), y0, [0.0, 1.0], backend="fortran")


# ---------------------------------------------------------------- failures


def test_a_failure_raises_one_error_naming_subject_time_and_reason(backend):
    subjects = mice(3, plasma_volume_per_kg=1.0)
    subjects.plasma_volume[1] = 0.0  # 0/0 concentrations
    times = [0.0, 1.0]
    # the compiled backend fails the subject, the scipy backend the joint system
    first, count = (1, 1) if backend == "compiled" else (0, 3)
    expected = rf"failed for {count} of 3 subjects: subject {first}: non-finite .* t = 0 days"
    with pytest.raises(SimulationError, match=expected):
        mouse_run(subjects, 8.0, times, backend, throw=True)
    result = mouse_run(subjects, 8.0, times, backend)
    assert result.status[1] == Status.NOT_FINITE and result.time_reached[1] == 0.0
    assert result.failed.size == count


# ---------------------------------------------------------------- nothing runs for ever


def test_stiff_rates_use_up_the_step_budget_and_say_where(backend):
    result = stiff_run(backend, [STIFF_RATE, 1.0], max_steps=500)
    assert result.status[0] == Status.TOO_MANY_STEPS
    assert 0.0 < result.time_reached[0] < 1e-6
    assert "step budget of 500 steps" in result.messages[0]
    assert np.isnan(result.states[1, 0, 0])
    if backend == "compiled":  # the other subject is unaffected
        assert result.status[1] == Status.SUCCESS
        assert result.states[1, 0, 1] == pytest.approx(np.exp(-35.0), abs=1e-9)


def test_the_wall_time_budget_ends_a_run_that_the_step_budget_would_not(backend):
    start = time.monotonic()
    result = stiff_run(backend, [STIFF_RATE] * 4, max_steps=10**12, max_wall_time=0.5)
    elapsed = time.monotonic() - start
    np.testing.assert_array_equal(result.status, Status.BUDGET_EXHAUSTED)
    assert np.all(result.time_reached < 35.0)
    assert "wall-time budget of 0.5 s" in result.messages[0]
    assert elapsed < 30.0  # it ended (a generous bound: the machine may be busy)


def test_a_large_batch_out_of_wall_time_reports_every_unfinished_subject(backend):
    n = 20_000
    result = run(
        DECAY, Rate(np.ones(n)), np.ones((1, n)), [0.0, 1.0, 2.0], max_wall_time=1e-6,
        backend=backend, throw=False,
    )  # fmt: skip
    np.testing.assert_array_equal(result.status, Status.BUDGET_EXHAUSTED)
    np.testing.assert_array_equal(result.time_reached, 0.0)
    assert np.all(np.isnan(result.states[1:]))
    with pytest.raises(SimulationError, match=f"failed for {n} of {n} subjects.*and {n - 3} more"):
        result.raise_on_failure()


def test_a_huge_horizon_uses_up_the_step_budget(backend):
    result = mouse_run(mice(), 8.0, np.arange(0.0, 1e5 + 1.0, 1.0), backend, max_steps=100)
    assert result.status[0] == Status.TOO_MANY_STEPS
    assert 10.0 < result.time_reached[0] < 1e5
    reached = int(result.time_reached[0])
    assert np.all(np.isfinite(result.states[: reached + 1])) and np.isnan(result.states[-1]).all()


def test_a_1e12_mg_dose_integrates_or_is_reported(backend):
    times = np.arange(0.0, 8.0)
    huge = mouse_run(mice(), 1e12, times, backend)  # 1e12 mg: large, still finite in doubles
    assert huge.success and np.all(np.isfinite(huge.states))
    assert huge.state("human_plasma")[4, 0] > 1e11
    overflowing = mouse_run(mice(), 1e300, times, backend)  # the first rates overflow
    assert overflowing.status[0] in (Status.NOT_FINITE, Status.STEP_TOO_SMALL)
    assert overflowing.time_reached[0] == 0.0
