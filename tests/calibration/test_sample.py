"""Posterior sampling on a one-parameter problem: with a flat prior and a near-linear model the
posterior is close to the Laplace approximation (normal around the maximum-likelihood estimate
with variance 1 / (J^T J) from the residual Jacobian)."""

from __future__ import annotations

import numpy as np
import pytest

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.sample import sample_posterior

from .conftest import simulated_problem

NAME = "sensitisation_occupancy50"


@pytest.fixture(scope="module")
def fitted():
    problem, _ = simulated_problem([NAME], 3)
    objective = Objective(problem)
    x, _ = best(multistart(objective, 2), objective)
    _, jacobian = objective.residuals_and_jacobian(x)
    return objective, x, 1.0 / np.sqrt(float((jacobian.T @ jacobian)[0, 0]))


def test_adaptive_metropolis_matches_the_laplace_approximation(fitted):
    objective, x, laplace_sd = fitted
    posterior = sample_posterior(objective, x, 600, "adaptive_metropolis", seed=1)
    assert posterior.converged and posterior.effective_sample_size > 30
    chain = posterior.chain
    scaled = np.log10(chain.loc[~chain["burn_in"], NAME].to_numpy())
    assert abs(np.mean(scaled) - x[0]) < 0.5 * laplace_sd
    assert np.std(scaled) == pytest.approx(laplace_sd, rel=0.35)
    row = posterior.summary.iloc[0]
    assert row["posterior_2.5%"] < 10 ** x[0] < row["posterior_97.5%"]
    # the chain's nllh is the objective's at each sample
    last = chain.iloc[-1]
    assert last["nllh"] == pytest.approx(objective.nllh(np.log10([last[NAME]])), rel=1e-9)


def test_unknown_sampler_is_refused(fitted):
    objective, x, _ = fitted
    with pytest.raises(ValueError, match="expected one of"):
        sample_posterior(objective, x, 100, "gibbs")
