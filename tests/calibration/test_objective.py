"""The objective against independent calculations: the assays' readout formula, scipy's
normal and log-normal densities, and finite differences of the objective itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fmsim.calibration import observables
from fmsim.calibration.objective import Objective
from fmsim.calibration.problem import make_problem
from fmsim.model.parameters import load_parameter_set
from fmsim.model.readouts import expected_readout

from .conftest import CONDITION, SIGMA, paw_measurements, simulated_problem


def test_observables_are_the_assays_noise_free_readouts():
    parameters = load_parameter_set()
    sensitisation = np.linspace(1.0, 2.5, 7)
    emax = np.full(7, 1.5)
    ienfd = np.linspace(1.0, 0.6, 7)
    for name, spec in parameters.readouts.items():
        values = {
            "sensitisation": sensitisation,
            "sensitisation_emax": emax,
            "ienfd_relative": ienfd,
            f"baseline_{name}": spec.baseline,
            f"max_change_{name}": spec.max_change,
        }
        expected = expected_readout(spec, np.full(7, spec.baseline), sensitisation, emax, ienfd)
        np.testing.assert_allclose(observables.evaluate(name, values), expected, rtol=1e-12)


def test_normal_likelihood_matches_scipy():
    problem, _ = simulated_problem(["sensitisation_turnover"], seed=3)
    objective = Objective(problem)
    x = problem.nominal_scaled + 0.05
    model = objective.predictions(x[None])[0]
    expected = -stats.norm.logpdf(problem.measurements["value"], model, SIGMA).sum()
    assert objective.nllh(x) == pytest.approx(expected, rel=1e-12)


def test_lognormal_likelihood_matches_scipy():
    values = np.linspace(100.0, 140.0, 8)
    data = paw_measurements(values).assign(noise_distribution="lognormal", noise=0.1)
    problem = make_problem([CONDITION], data, ["sensitisation_turnover"])
    objective = Objective(problem)
    model = objective.predictions(problem.nominal_scaled[None])[0]
    expected = -stats.lognorm.logpdf(values, s=0.1, scale=model).sum()
    assert objective.nllh(problem.nominal_scaled) == pytest.approx(expected, rel=1e-12)


def test_map_adds_the_lognormal_prior():
    problem, _ = simulated_problem(["sensitisation_turnover"], seed=3)
    prior = problem.parameters[0].prior_sd
    posterior = make_problem(
        problem.conditions, problem.measurements, ["sensitisation_turnover"], method="map"
    )
    x = problem.nominal_scaled + 0.1
    difference = Objective(posterior).nllh(x) - Objective(problem).nllh(x)
    expected = -stats.norm.logpdf(x[0], problem.nominal_scaled[0], prior)
    assert difference == pytest.approx(expected, rel=1e-10)


def test_gradient_matches_wider_differences():
    problem, _ = simulated_problem(["sensitisation_turnover", "sensitisation_occupancy50"], 5)
    objective = Objective(problem)
    x = problem.nominal_scaled + np.array([0.05, -0.03])
    _, gradient = objective.nllh_and_gradient(x)
    h = 1e-3
    numeric = [(objective.nllh(x + h * e) - objective.nllh(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-3)
