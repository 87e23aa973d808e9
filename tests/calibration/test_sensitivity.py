"""Sobol indices against the Ishigami function's analytic values; local sensitivities against
closed forms; input distributions' medians and percentiles against scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fmsim.calibration.sensitivity import (
    Analysis,
    local_sensitivities,
    lognormal_input,
    median,
    percentile,
    sobol_indices,
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


def test_local_sensitivities_of_a_power_law_are_its_exponents():
    """y = a^2 / b: elasticities 2 and -1; the tornado swings a and b to their percentiles."""
    bounds_a, _ = lognormal_input(2.0, 0.3)
    problem = {
        "num_vars": 2,
        "names": ["a", "b"],
        "bounds": [bounds_a, [1.0, 3.0]],
        "dists": ["lognorm", "unif"],
    }
    analysis = Analysis(
        "power_law",
        "y = a^2 / b",
        problem,
        {"y": ("1", "")},
        lambda f: pd.DataFrame({"y": f["a"] ** 2 / f["b"]}),
    )
    local = local_sensitivities(analysis).set_index("parameter")
    np.testing.assert_allclose(local["elasticity"], [2.0, -1.0], rtol=1e-4)
    sigma = math.sqrt(math.log1p(0.3**2))
    a05 = 2.0 * math.exp(-1.6448536 * sigma)
    assert local.loc["a", "low"] == pytest.approx(a05**2 / 2.0)
    assert local.loc["b", "high"] == pytest.approx(4.0 / 2.9)  # b's 95th percentile: 2.9
    assert local.loc["a", "nominal"] == pytest.approx(2.0)


def test_input_medians_and_percentiles_match_scipy():
    bounds, dist = lognormal_input(3.0, 0.5)
    frozen = stats.lognorm(s=bounds[1], scale=3.0)
    assert median(bounds, dist) == pytest.approx(frozen.median())
    assert percentile(bounds, dist, 0.95) == pytest.approx(frozen.ppf(0.95))
    assert percentile([0.37, 0.036], "norm", 0.05) == pytest.approx(
        stats.norm(0.37, 0.036).ppf(0.05)
    )
    assert percentile([1.0, 3.0], "unif", 0.05) == pytest.approx(1.1)
