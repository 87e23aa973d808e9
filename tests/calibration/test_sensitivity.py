"""Sobol indices against the Ishigami function's analytic values; model indices and local
sensitivities of the passive-transfer outputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fmsim.calibration.sensitivity import (
    FRACTION,
    detection_probability,
    sobol_indices,
    time_above,
)

A, B = 7.0, 0.1


def ishigami(frame: pd.DataFrame) -> pd.DataFrame:
    x1, x2, x3 = (frame[c].to_numpy() for c in ("x1", "x2", "x3"))
    return pd.DataFrame({"y": np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)})


def analytic_ishigami() -> tuple[np.ndarray, np.ndarray]:
    """First- and total-order indices (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def test_ishigami_indices_match_analytic_values():
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    found = sobol_indices(ishigami, problem, 2**13, seed=1)
    first, total = analytic_ishigami()
    np.testing.assert_allclose(found["S1"], first, atol=0.02)
    np.testing.assert_allclose(found["ST"], total, atol=0.02)
    # the bootstrap intervals cover the analytic values
    assert np.all(np.abs(found["S1"] - first) <= found["S1_conf"] + 0.005)
    assert np.all(np.abs(found["ST"] - total) <= found["ST_conf"] + 0.005)


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
    from fmsim.calibration.sensitivity import passive_transfer_outputs, salib_problem
    from fmsim.model.parameters import load_parameter_set

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
