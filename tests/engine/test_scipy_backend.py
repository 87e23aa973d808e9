"""Tests for fmsim.engine.scipy_backend: the batch as one system, scipy's DOP853 (days).

Event semantics are tested for both backends in test_events.py, budgets and failures in
test_run.py; here: accuracy against closed forms, and the mouse model's non-negative states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from fmsim.engine import Bolus, Status, run
from fmsim.model.definition import ModelDefinition
from fmsim.model.equations import MODEL, STATES, initial_state

# ---------------------------------------------------------------- linear system

RATES = np.array([[0.1, 0.7, 1.5], [0.05, 0.3, 2.0]])  # 1/day, 2 states x 3 subjects
Y0 = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 4.0]])


@dataclass(frozen=True)
class TwoRates:
    first: np.ndarray  # 1/day
    second: np.ndarray  # 1/day


def two_decays(t, y, s: TwoRates, ops):
    first, second = y
    return [-s.first * first, -s.second * second]


DECAY = ModelDefinition("test_two_decays", ("first", "second"), ("mg", "mg"), TwoRates, two_decays)
SUBJECTS = TwoRates(RATES[0], RATES[1])


def simulate(times, events=(), **options):
    return run(DECAY, SUBJECTS, Y0, times, events, backend="scipy", **options)


def test_linear_decay_matches_exponential():
    times = np.linspace(0.0, 5.0, 21)
    expected = Y0[None] * np.exp(-RATES[None] * times[:, None, None])
    # default tolerances (rtol 1e-8, atol 1e-10): the absolute floor shows on the smallest
    # values (4 exp(-10) ~ 2e-4), so compare with an absolute floor of 1e-9
    result = simulate(times)
    assert result.states.shape == (21, 2, 3)
    np.testing.assert_array_equal(result.times, times)
    np.testing.assert_allclose(result.states, expected, rtol=1e-7, atol=1e-9)
    assert result.n_rhs_evaluations > 0 and np.all(result.n_steps > 0)
    np.testing.assert_array_equal(result.status, Status.SUCCESS)
    np.testing.assert_array_equal(result.time_reached, 5.0)
    # with a negligible absolute tolerance the relative error is below 1e-7 everywhere
    tight = simulate(times, atol=1e-16)
    np.testing.assert_allclose(tight.states, expected, rtol=1e-7, atol=0.0)


def test_linear_decay_with_boluses_matches_superposition():
    # A bolus D at tau adds D exp(-k (t - tau)) for t > tau.
    times = np.linspace(0.0, 6.0, 25)[1:]  # starts after 0, avoids dose times below
    amount = np.array([0.0, 1.0, 10.0])
    result = simulate(times, [Bolus(1.1, 0, amount), Bolus(3.3, 1, 2 * amount)])
    t = times[:, None, None]
    expected = Y0[None] * np.exp(-RATES[None] * t)
    expected[:, 0] += np.where(t[:, 0] > 1.1, amount * np.exp(-RATES[0] * (t[:, 0] - 1.1)), 0)
    expected[:, 1] += np.where(t[:, 0] > 3.3, 2 * amount * np.exp(-RATES[1] * (t[:, 0] - 3.3)), 0)
    np.testing.assert_allclose(result.states, expected, rtol=1e-7, atol=1e-12)


def test_output_times_need_not_start_at_zero():
    times = [0.5, 2.0]
    expected = Y0[None] * np.exp(-RATES[None] * np.array(times)[:, None, None])
    np.testing.assert_allclose(simulate(times).states, expected, rtol=1e-7)


def test_repeated_daily_doses_accumulate_between_outputs():
    constant = TwoRates(np.zeros(1), np.zeros(1))
    doses = [Bolus(float(d), 0, 8.0) for d in range(1, 5)]
    times = [0.0, 1.5, 2.5, 3.5, 4.5, 10.0]
    result = run(DECAY, constant, np.zeros((2, 1)), times, doses, backend="scipy")
    np.testing.assert_array_equal(result.state("first")[:, 0], [0, 8, 16, 24, 32, 32])


# ---------------------------------------------------------------- the real mouse model

STUDY_DAYS = (0.0, 1.0, 2.0, 3.0)


def mouse_run(subjects, dose_mg, **options):
    """States of ``subjects`` given ``dose_mg`` i.p. on the study days, every half day."""
    times = np.arange(0.0, 35.0 + 1e-9, 0.5)
    doses = [Bolus(d, MODEL.index("human_ip_depot"), dose_mg) for d in STUDY_DAYS]
    y0 = initial_state(subjects)
    return run(MODEL, subjects, y0, times, doses, backend="scipy", **options).states


def most_negative(states):
    return float(states.min()), STATES[np.unravel_index(states.argmin(), states.shape)[1]]


@pytest.mark.parametrize("dose_mg", [0.0, 8.0, 800.0])
def test_mouse_model_typical_and_slow_subjects_stay_non_negative(dose_mg, scaled_mice):
    mice = scaled_mice([0, -1, 0], ada=(0.0, 0.03, 0.3), pathogenic=(0.005, 1.0, 0.0))
    states = mouse_run(mice, dose_mg)
    assert np.all(np.isfinite(states))
    assert states.min() >= -1e-9, most_negative(states)
    assert np.all(states[:, MODEL.index("ienfd_relative")] <= 1.0 + 1e-9)
    if dose_mg == 0.0:
        human = states[:, [MODEL.index("human_plasma"), MODEL.index("human_interstitial")]]
        np.testing.assert_array_equal(human, 0.0)
        np.testing.assert_allclose(states[:, MODEL.index("sensitisation")], 1.0, rtol=1e-12)
    else:
        assert np.all(states[2, MODEL.index("human_plasma")] > 0.0)  # day 1: absorbed in all


@pytest.mark.parametrize("dose_mg", [8.0, 800.0])
def test_interpolated_outputs_of_a_fast_subject_undershoot_less_with_the_projection(
    dose_mg, scaled_mice
):
    # Outputs between step ends come from DOP853's interpolant, which is not error-controlled:
    # for this 10x-rate mouse (ADA 3/day) they undershoot zero by ~4e-9 mg (40 atol) without
    # the projection. Projecting the step ends keeps the amounts the interpolant starts from
    # at >= 0, which leaves ~1e-11 mg (0.1 atol). The compiled backend has no interpolant.
    mouse = scaled_mice([1], ada=(3.0,), pathogenic=(1.0,))
    free = mouse_run(mouse, dose_mg, nonnegative=False)
    assert -1e-8 < free.min() < -1e-9, most_negative(free)
    kept = mouse_run(mouse, dose_mg)
    assert -1e-10 < kept.min() < 0.0, most_negative(kept)
