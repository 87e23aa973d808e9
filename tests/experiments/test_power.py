"""Simulation-based power: monotone in n and effect size, nominal type I error."""

import numpy as np
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.experiments.power import (
    PowerDesign,
    estimate_power,
    simulate_replicates,
    smallest_n,
)


def test_power_rises_with_mice_per_group():
    powers = [
        estimate_power(PowerDesign(n, anti_sgc_fraction=0.003), 200, seed=3).power
        for n in (3, 6, 12)
    ]
    assert powers[0] < powers[1] < powers[2]
    assert powers[2] > 0.9


def test_power_rises_with_effect_size():
    powers = [
        estimate_power(PowerDesign(5, anti_sgc_fraction=f), 200, seed=4).power
        for f in (0.0015, 0.003, 0.006)
    ]
    assert powers[0] < powers[1] < powers[2]


def test_power_rises_with_dose():
    low = estimate_power(PowerDesign(4, dose="2 mg"), 200, seed=5).power
    high = estimate_power(PowerDesign(4, dose="8 mg"), 200, seed=5).power
    assert low < high


def test_type_one_error_is_nominal_without_pathogenic_igg():
    estimate = estimate_power(PowerDesign(6, anti_sgc_fraction=0.0), 600, seed=6)
    assert 0.025 <= estimate.power <= 0.08
    assert abs(estimate.mean_difference_percent) < 2.0


def test_smallest_n_reaching_target():
    estimates = [estimate_power(PowerDesign(n), 100, seed=n) for n in (2, 4, 8)]
    expected = min(e.design.mice_per_group for e in estimates if e.power >= 0.8)
    assert smallest_n(estimates) == expected
    assert smallest_n(estimates, target=1.01) is None


@pytest.mark.parametrize("endpoint", ["von_frey_threshold", "cold_response"])
def test_other_endpoints_run(endpoint):
    estimate = estimate_power(PowerDesign(4, endpoint=endpoint), 40, seed=2)
    assert 0.0 <= estimate.power <= 1.0 and np.isfinite(estimate.mean_difference_percent)


def test_power_command_writes_curve(tmp_path):
    result = CliRunner().invoke(
        app,
        ["power", "--n", "3,6", "--titre", "0.005", "--replicates", "40", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "power_curve.png").exists() and (tmp_path / "power.csv").exists()
    assert "80% power" in result.output


def test_power_command_rejects_unknown_endpoint(tmp_path):
    result = CliRunner().invoke(app, ["power", "--endpoint", "tail_flick", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "tail_flick" in result.output and "Traceback" not in result.output


def test_round_trip_confidence_intervals_cover_the_true_effect():
    """Simulate with a known group effect, analyse, and check 95% CI coverage over seeds.

    The true effect (difference in expected % change from baseline) is computed from a large
    simulated population (20,000 mice per group), independent of the small replicates."""
    truth = simulate_replicates(PowerDesign(20_000), replicates=1, seed=99).differences[0]
    results = simulate_replicates(PowerDesign(6), replicates=400, seed=7)
    covered = np.mean((results.ci_low <= truth) & (truth <= results.ci_high))
    assert truth < -10.0  # a real, sizeable effect (percentage points)
    assert 0.92 <= covered <= 0.98
