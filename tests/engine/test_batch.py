"""Tests for fmsim.engine.batch: batched DOP853 integration with bolus events (times in days)."""

from __future__ import annotations

import numpy as np
import pytest

from fmsim.engine import Bolus, simulate
from fmsim.engine.batch import IntegrationError
from fmsim.model.equations import INDEX, STATES, initial_state, rhs


def constant(t, y):
    """dy/dt = 0: the state only changes through boluses, so amounts are exact."""
    return np.zeros_like(y)


# ---------------------------------------------------------------- linear system


RATES = np.array([[0.1, 0.7, 1.5], [0.05, 0.3, 2.0]])  # 1/day, 2 states x 3 subjects
Y0 = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 4.0]])


def decay(t, y):
    return -RATES * y


def test_linear_decay_matches_exponential():
    times = np.linspace(0.0, 5.0, 21)
    expected = Y0[None] * np.exp(-RATES[None] * times[:, None, None])
    # default tolerances (rtol 1e-8, atol 1e-10): the absolute floor shows on the smallest
    # values (4 exp(-10) ~ 2e-4), so compare with an absolute floor of 1e-9
    result = simulate(decay, Y0, times)
    assert result.states.shape == (21, 2, 3)
    np.testing.assert_array_equal(result.times, times)
    np.testing.assert_allclose(result.states, expected, rtol=1e-7, atol=1e-9)
    assert result.n_rhs_evaluations > 0
    # with a negligible absolute tolerance the relative error is below 1e-7 everywhere
    tight = simulate(decay, Y0, times, atol=1e-16)
    np.testing.assert_allclose(tight.states, expected, rtol=1e-7, atol=0.0)


def test_linear_decay_with_boluses_matches_superposition():
    # A bolus D at tau adds D exp(-k (t - tau)) for t > tau.
    times = np.linspace(0.0, 6.0, 25)[1:]  # starts after 0, avoids dose times below
    amount = np.array([0.0, 1.0, 10.0])
    doses = [Bolus(1.1, 0, amount), Bolus(3.3, 1, 2 * amount)]
    result = simulate(decay, Y0, times, doses)
    t = times[:, None, None]
    expected = Y0[None] * np.exp(-RATES[None] * t)
    expected[:, 0] += np.where(t[:, 0] > 1.1, amount * np.exp(-RATES[0] * (t[:, 0] - 1.1)), 0)
    expected[:, 1] += np.where(t[:, 0] > 3.3, 2 * amount * np.exp(-RATES[1] * (t[:, 0] - 3.3)), 0)
    np.testing.assert_allclose(result.states, expected, rtol=1e-7, atol=1e-12)


def test_initial_state_is_not_modified():
    y0 = Y0.copy()
    simulate(decay, y0, [0.0, 1.0], [Bolus(0.0, 0, 1.0), Bolus(0.5, 1, 1.0)])
    np.testing.assert_array_equal(y0, Y0)


def test_output_times_need_not_start_at_zero():
    times = [0.5, 2.0]
    result = simulate(decay, Y0, times)
    expected = Y0[None] * np.exp(-RATES[None] * np.array(times)[:, None, None])
    np.testing.assert_allclose(result.states, expected, rtol=1e-7)


# ---------------------------------------------------------------- boluses


def test_bolus_lands_exactly_once():
    times = [0.0, 0.5, 1.5, 2.0, 3.0]  # the dose time 1.0 itself is not an output
    result = simulate(constant, np.zeros((1, 2)), times, [Bolus(1.0, 0, np.array([5.0, 2.0]))])
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 0.0, 5.0, 5.0, 5.0])
    np.testing.assert_array_equal(result.states[:, 0, 1], [0.0, 0.0, 2.0, 2.0, 2.0])


def test_two_boluses_at_the_same_time_both_apply():
    doses = [Bolus(1.0, 0, 5.0), Bolus(1.0, 0, 3.0), Bolus(1.0, 1, 1.0)]
    result = simulate(constant, np.zeros((2, 1)), [0.0, 0.5, 2.0], doses)
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 0.0, 8.0])
    np.testing.assert_array_equal(result.states[:, 1, 0], [0.0, 0.0, 1.0])


def test_bolus_at_zero_appears_after_zero():
    result = simulate(constant, np.zeros((1, 1)), [0.0, 0.25, 1.0], [Bolus(0.0, 0, 2.0)])
    np.testing.assert_array_equal(result.states[1:, 0, 0], [2.0, 2.0])


def test_doses_after_last_output_are_ignored():
    doses = [Bolus(0.5, 0, 1.0), Bolus(2.5, 0, 100.0)]
    result = simulate(constant, np.zeros((1, 1)), [0.0, 1.0, 2.0], doses)
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 1.0, 1.0])


def test_repeated_daily_doses_accumulate():
    doses = [Bolus(float(d), 0, 8.0) for d in range(1, 5)]
    times = [0.0, 1.5, 2.5, 3.5, 4.5, 10.0]
    result = simulate(constant, np.zeros((1, 1)), times, doses)
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 8.0, 16.0, 24.0, 32.0, 32.0])


def test_output_at_bolus_time_is_pre_dose():
    times = [0.0, 0.5, 1.0, 1.5]
    result = simulate(constant, np.zeros((1, 1)), times, [Bolus(1.0, 0, 5.0)])
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 0.0, 0.0, 5.0])


def test_output_at_zero_is_pre_dose_for_a_dose_at_zero():
    result = simulate(constant, np.zeros((1, 1)), [0.0, 1.0], [Bolus(0.0, 0, 2.0)])
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 2.0])


def test_output_at_last_time_is_pre_dose_for_a_dose_then():
    result = simulate(constant, np.zeros((1, 1)), [0.0, 1.0], [Bolus(1.0, 0, 2.0)])
    np.testing.assert_array_equal(result.states[:, 0, 0], [0.0, 0.0])


def test_unsorted_output_times_raise():
    with pytest.raises(ValueError, match="sorted"):
        simulate(decay, Y0, [0.0, 2.0, 1.0])


def test_negative_output_times_raise():
    with pytest.raises(ValueError):
        simulate(decay, Y0, [-1.0, 0.0, 1.0])


def test_solver_failure_raises_integration_error():
    def blows_up(t, y):
        return y**2  # finite-time blow-up at t = 1 for y0 = 1

    with pytest.raises(IntegrationError, match="solver failed"):
        simulate(blows_up, np.ones((1, 1)), [0.0, 2.0])


# ---------------------------------------------------------------- the real mouse model

NEGATIVE_UNDERSHOOT = (
    "NUMERICAL ISSUE (fmsim.engine.batch.simulate defaults): explicit DOP853 with atol=1e-10 lets "
    "fast-decaying amounts undershoot zero by up to ~2e-7 mg for a subject with 10x rate "
    "constants (e.g. ip_absorption_rate 60/day alone gives depot -1.9e-7 mg; ADA 3/day gives "
    "human_plasma ~ -1e-7 mg). atol=1e-14 brings it to -4e-13. Downstream code clips "
    "(free_fcrn, sgc_occupancy), so only reported trajectories are affected"
)
STUDY_DAYS = (0.0, 1.0, 2.0, 3.0)


def mouse_run(subjects, dose_mg):
    """States of ``subjects`` given ``dose_mg`` i.p. on the study days, every half day."""
    times = np.arange(0.0, 35.0 + 1e-9, 0.5)
    doses = [Bolus(d, INDEX["human_ip_depot"], dose_mg) for d in STUDY_DAYS]
    result = simulate(lambda t, y: rhs(t, y, subjects), initial_state(subjects), times, doses)
    return result.states


def most_negative(states):
    return float(states.min()), STATES[np.unravel_index(states.argmin(), states.shape)[1]]


@pytest.mark.parametrize("dose_mg", [0.0, 8.0, 800.0])
def test_mouse_model_typical_and_slow_subjects_stay_non_negative(dose_mg, scaled_mice):
    mice = scaled_mice([0, -1, 0], ada=(0.0, 0.03, 0.3), pathogenic=(0.005, 1.0, 0.0))
    states = mouse_run(mice, dose_mg)
    assert np.all(np.isfinite(states))
    assert states.min() >= -1e-9, most_negative(states)
    assert np.all(states[:, INDEX["ienfd_relative"]] <= 1.0 + 1e-9)
    if dose_mg == 0.0:
        human = states[:, [INDEX["human_plasma"], INDEX["human_interstitial"]]]
        np.testing.assert_array_equal(human, 0.0)
        np.testing.assert_allclose(states[:, INDEX["sensitisation"]], 1.0, rtol=1e-12)
    else:
        assert np.all(states[2, INDEX["human_plasma"]] > 0.0)  # day 1: absorbed in every mouse


@pytest.mark.parametrize("dose_mg", [0.0, 8.0, 800.0])
def test_mouse_model_integrates_extreme_fast_subject(dose_mg, scaled_mice):
    mice = scaled_mice([0, 1, -1], ada=(0.3, 3.0, 0.03), pathogenic=(0.005, 1.0, 0.0))
    states = mouse_run(mice, dose_mg)
    assert np.all(np.isfinite(states))
    # undershoot is tiny relative to the amounts given (see NEGATIVE_UNDERSHOOT)
    assert states.min() >= -1e-6 * max(dose_mg, 1.0), most_negative(states)
    assert np.all(states[:, INDEX["ienfd_relative"]] <= 1.0 + 1e-9)
    assert np.all(states[:, INDEX["sensitisation"]] >= 1.0 - 1e-9)


@pytest.mark.xfail(strict=True, reason=NEGATIVE_UNDERSHOOT)
@pytest.mark.parametrize("dose_mg", [8.0, 800.0])
def test_mouse_model_extreme_fast_subject_has_no_negative_amounts(dose_mg, scaled_mice):
    states = mouse_run(scaled_mice([1], ada=(3.0,), pathogenic=(1.0,)), dose_mg)
    assert states.min() >= -1e-9, most_negative(states)  # observed ~ -4e-9 .. -2e-7
