"""The mouse passive-transfer sensitivity analysis: its outputs against independent
expectations (a triangle's time above a threshold, a Monte-Carlo Welch test) and its Sobol
indices' ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmsim.calibration.sensitivity import sobol_indices
from fmsim.calibration.sensitivity_passive_transfer import (
    FRACTION,
    detection_probability,
    passive_transfer_outputs,
    salib_problem,
    time_above,
)
from fmsim.model.parameters import load_parameter_set


def test_time_above_interpolates_a_triangle():
    t = np.arange(0.0, 10.25, 0.25)
    curve = np.minimum(t, 10.0 - t)[:, None]  # peak 5 at day 5
    assert time_above(curve, 2.0, 0.25)[0] == pytest.approx(6.0)


def test_detection_probability_is_the_welch_power():
    """Against a Monte-Carlo Welch t-test of the same normal model."""
    from scipy import stats

    rng = np.random.default_rng(0)
    noise = 100 * math.sqrt(math.log1p(0.08**2) * (1 + 1 / 6))
    between = 6.0
    donor = 10.0 + rng.normal(0, math.hypot(noise, between), (20000, 4))
    control = rng.normal(0, noise, (20000, 24))
    simulated = np.mean(stats.ttest_ind(donor, control, axis=1, equal_var=False).pvalue < 0.05)
    expected = detection_probability(np.array([10.0]), 0.08, 6, between_sd=between)[0]
    assert expected == pytest.approx(simulated, abs=0.03)


def test_model_indices_have_intervals_and_rank_the_pd_parameters():
    parameters = load_parameter_set()
    problem = salib_problem(parameters)
    found = sobol_indices(
        lambda frame: passive_transfer_outputs(frame, parameters, inner=4), problem, 64, seed=0
    )
    peak = found[found["output"] == "peak_mechanical_percent"].set_index("parameter")
    top = peak["ST"].nlargest(3).index
    assert (peak["ST_conf"] >= 0).all() and (peak.loc[top, "ST_conf"] > 0).all()
    # IENFD parameters do not act on behaviour at all
    assert peak.loc["ienfd_loss_rate", "ST"] < 1e-6
    # the anti-SGC fraction and the occupancy-effect curve drive the peak; volumes do not
    assert {FRACTION, "sensitisation_occupancy50"} <= set(top)
    assert peak.loc["interstitial_volume_per_kg", "ST"] < 0.05
