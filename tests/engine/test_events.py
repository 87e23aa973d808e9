"""Event semantics of both engine backends: boluses, infusions and removals (times in days).

A one-compartment model, d(amount)/dt = -k amount (k per subject, 1/day), gives closed forms;
with k = 0 the amount changes only through events, so those results are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from fmsim.engine import BACKENDS, Bolus, Infusion, Removal, run
from fmsim.engine.events import BOLUS, INFUSION_START, INFUSION_STOP, REMOVAL, subject_events
from fmsim.model.definition import ModelDefinition


@dataclass(frozen=True)
class Compartment:
    elimination_rate: np.ndarray  # 1/day


def one_compartment(t, y, s: Compartment, ops):
    (amount,) = y
    return [-s.elimination_rate * amount]


ONE_COMPARTMENT = ModelDefinition(
    name="test_one_compartment",
    states=("amount",),
    state_units=("mg",),
    subjects_type=Compartment,
    derivatives=one_compartment,
)


def simulate(rates, times, events, y0=None, backend="compiled", **tolerances):
    rates = np.asarray(rates, dtype=float)
    y0 = np.zeros((1, rates.size)) if y0 is None else np.asarray(y0, dtype=float)
    result = run(
        ONE_COMPARTMENT,
        Compartment(rates),
        y0,
        times,
        events,
        backend=backend,
        **tolerances,
    )
    return result.states[:, 0, :]  # (n_times, n_subjects)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


# ---------------------------------------------------------------- boluses


def test_bolus_lands_exactly_once(backend):
    times = [0.0, 0.5, 1.5, 2.0, 3.0]  # the dose time itself is not an output
    amounts = simulate([0.0, 0.0], times, [Bolus(1.0, 0, np.array([5.0, 2.0]))], backend=backend)
    np.testing.assert_array_equal(amounts[:, 0], [0.0, 0.0, 5.0, 5.0, 5.0])
    np.testing.assert_array_equal(amounts[:, 1], [0.0, 0.0, 2.0, 2.0, 2.0])


def test_output_at_an_event_time_is_pre_event(backend):
    times = [0.0, 1.0, 1.5, 2.0, 3.0]
    events = [Bolus(0.0, 0, 2.0), Bolus(1.0, 0, 5.0), Bolus(3.0, 0, 7.0)]
    amounts = simulate([0.0], times, events, backend=backend)[:, 0]
    np.testing.assert_array_equal(amounts, [0.0, 2.0, 7.0, 7.0, 7.0])


def test_boluses_at_the_same_time_all_apply(backend):
    events = [Bolus(1.0, 0, 5.0), Bolus(1.0, 0, 3.0)]
    amounts = simulate([0.0], [0.0, 2.0], events, backend=backend)[:, 0]
    np.testing.assert_array_equal(amounts, [0.0, 8.0])


def test_bolus_decays_exponentially(backend):
    rates = np.array([0.1, 0.7, 2.0])
    times = np.linspace(0.0, 10.0, 41)
    amounts = simulate(rates, times, [Bolus(2.0, 0, 8.0)], backend=backend, atol=1e-14)
    expected = np.where(times[:, None] > 2.0, 8.0 * np.exp(-rates * (times[:, None] - 2.0)), 0.0)
    np.testing.assert_allclose(amounts, expected, rtol=1e-7, atol=0.0)


def test_events_after_the_last_output_are_ignored(backend):
    events = [Bolus(0.5, 0, 1.0), Bolus(2.5, 0, 100.0), Infusion(2.2, 9.0, 0, 1.0)]
    amounts = simulate([0.0], [0.0, 1.0, 2.0], events, backend=backend)[:, 0]
    np.testing.assert_array_equal(amounts, [0.0, 1.0, 1.0])


def test_zero_amount_is_no_dose(backend):
    events = [Bolus(float(d), 0, np.array([0.0, 1.0])) for d in range(5)]
    amounts = simulate([0.0, 0.0], [0.0, 2.5, 10.0], events, backend=backend)
    np.testing.assert_array_equal(amounts[:, 0], 0.0)
    np.testing.assert_array_equal(amounts[:, 1], [0.0, 3.0, 5.0])


# ---------------------------------------------------------------- infusions


def test_infusion_adds_its_rate_between_start_and_stop(backend):
    times = [0.0, 1.0, 1.5, 2.0, 3.0, 5.0]
    amounts = simulate([0.0], times, [Infusion(1.0, 3.0, 0, 4.0)], backend=backend)[:, 0]
    np.testing.assert_allclose(amounts, [0.0, 0.0, 2.0, 4.0, 8.0, 8.0], rtol=1e-13, atol=1e-13)


def test_infusion_approaches_steady_state(backend):
    # C = R/k (1 - exp(-k t)) during the infusion, then first-order washout after the stop
    rate, k, stop = 3.0, np.array([0.2, 1.5]), 20.0
    times = np.linspace(0.0, 30.0, 61)
    amounts = simulate(k, times, [Infusion(0.0, stop, 0, rate)], backend=backend, atol=1e-14)
    t = times[:, None]
    during = rate / k * (1.0 - np.exp(-k * np.minimum(t, stop)))
    expected = np.where(t <= stop, during, during * np.exp(-k * (t - stop)))
    np.testing.assert_allclose(amounts, expected, rtol=1e-7, atol=0.0)
    assert amounts[40, 1] == pytest.approx(rate / k[1], rel=1e-9)  # at steady state by day 20


def test_overlapping_infusions_add_and_stop_cleanly(backend):
    events = [Infusion(0.0, 2.0, 0, 1.0), Infusion(1.0, 3.0, 0, np.array([0.1, 0.0]))]
    amounts = simulate([0.0, 0.0], [0.0, 1.0, 2.0, 3.0, 4.0, 9.0], events, backend=backend)
    np.testing.assert_allclose(amounts[:, 0], [0.0, 1.0, 2.1, 2.2, 2.2, 2.2], rtol=1e-13)
    np.testing.assert_allclose(amounts[:, 1], [0.0, 1.0, 2.0, 2.0, 2.0, 2.0], rtol=1e-13)
    assert amounts[4, 0] == amounts[5, 0]  # no input left after both stop


# ---------------------------------------------------------------- removals


def test_removal_takes_its_fraction_once(backend):
    k, fraction, when = np.array([0.3, 0.3]), np.array([0.4, 0.0]), 2.0
    times = np.linspace(0.0, 6.0, 25)
    amounts = simulate(
        k, times, [Removal(when, (0,), fraction)], y0=[[10.0, 10.0]], backend=backend, atol=1e-14
    )
    t = times[:, None]
    expected = 10.0 * np.exp(-k * t) * np.where(t > when, 1.0 - fraction, 1.0)
    np.testing.assert_allclose(amounts, expected, rtol=1e-7, atol=0.0)


def test_removal_applies_before_a_bolus_at_the_same_time(backend):
    # a dose given right after an exchange session is not removed by it
    events = [Bolus(1.0, 0, 4.0), Removal(1.0, (0,), 0.5)]
    amounts = simulate([0.0], [0.0, 1.0, 2.0], events, y0=[[10.0]], backend=backend)[:, 0]
    np.testing.assert_array_equal(amounts, [10.0, 10.0, 9.0])


def test_full_removal_empties_the_state(backend):
    events = [Removal(1.0, (0,), 1.0)]
    amounts = simulate([0.5], [0.0, 1.0, 3.0], events, y0=[[5.0]], backend=backend)[:, 0]
    assert amounts[2] == 0.0


# ---------------------------------------------------------------- per-subject event arrays


def test_subject_events_sorted_per_subject_without_zero_values():
    events = [
        Bolus(2.0, 1, np.array([1.0, 0.0, 3.0])),
        Removal(2.0, (0, 2), np.array([0.5, 0.5, 0.0])),
        Infusion(1.0, 4.0, 0, np.array([0.0, 2.0, 0.0])),
        Bolus(9.0, 0, 1.0),  # after the end: dropped
    ]
    ev = subject_events(events, n_states=3, n_subjects=3, end=5.0)
    np.testing.assert_array_equal(ev.pointer, [0, 3, 7, 8])
    # subject 0, all at day 2: both removals (states 0 and 2) before its bolus
    np.testing.assert_array_equal(ev.time[0:3], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(ev.kind[0:3], [REMOVAL, REMOVAL, BOLUS])
    np.testing.assert_array_equal(ev.state[0:3], [0, 2, 1])
    np.testing.assert_array_equal(ev.value[0:3], [0.5, 0.5, 1.0])
    # subject 1: infusion start (day 1), removals (day 2), infusion stop (day 4)
    np.testing.assert_array_equal(ev.time[3:7], [1.0, 2.0, 2.0, 4.0])
    np.testing.assert_array_equal(ev.kind[3:7], [INFUSION_START, REMOVAL, REMOVAL, INFUSION_STOP])
    np.testing.assert_array_equal(ev.value[3:7], [2.0, 0.5, 0.5, 2.0])
    # subject 2: its bolus only (zero removal fraction, no infusion)
    np.testing.assert_array_equal(ev.value[7:], [3.0])


@pytest.mark.parametrize("time", [-1.0, np.nan])
def test_subject_events_reject_events_before_time_zero(time):
    with pytest.raises(ValueError, match="finite days >= 0"):
        subject_events([Bolus(time, 0, 1.0)], n_states=1, n_subjects=1, end=5.0)


def test_subject_events_check_state_indices():
    with pytest.raises(ValueError, match="state index"):
        subject_events([Bolus(1.0, 3, 1.0)], n_states=1, n_subjects=1, end=5.0)
