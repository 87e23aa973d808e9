"""The pain-gain likelihood from the significance of the human association (af Ekenstam n=93)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fmsim.calibration.pain_gain import _spearman, estimate_gain, significance_probability


def test_row_wise_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 40)), rng.integers(0, 11, size=(3, 40)).astype(float)
    rho, p = _spearman(x, y)
    for i in range(3):
        expected = stats.spearmanr(x[i], y[i])
        assert rho[i] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[i] == pytest.approx(expected.pvalue, rel=1e-6)


def test_without_gain_significance_is_the_false_positive_rate():
    """No gain: pain does not depend on the antibody; a positive significant correlation
    happens at the one-sided rate alpha / 2 = 2.5 %."""
    rate = significance_probability(np.array([0.0]), replicates=800, seed=3)[0]
    assert stats.binomtest(round(rate * 800), 800, 0.025).pvalue > 0.01


def test_the_association_rules_out_small_gains_only():
    estimate = estimate_gain(np.linspace(0.0, 8.0, 81), replicates=200, seed=1)
    likelihood = estimate.table.set_index("gain")["p_significant"]
    assert likelihood.loc[0.0] < 0.1 and likelihood.loc[3.0] > 0.95
    assert np.all(np.diff(likelihood.to_numpy()) > -0.05)  # rises with the gain (MC noise)
    assert estimate.quantile(0.025) > estimate.quantile(0.025, "prior")
    assert estimate.quantile(0.975) == pytest.approx(estimate.quantile(0.975, "prior"), rel=0.05)
