"""Posterior sampling with pyPESTO's MCMC samplers, and convergence diagnostics.

The chain samples the scaled parameters within their bounds (a proposal outside is rejected,
i.e. a flat prior on the bounded box; MAP problems add their normal priors through the
objective) from the target ``exp(-nllh)``, started at the best fit:

* ``adaptive_metropolis``: pyPESTO's ``AdaptiveMetropolisSampler`` (Haario et al., Bernoulli
  2001: the proposal covariance adapts to the chain's);
* ``adaptive_parallel_tempering``: pyPESTO's ``AdaptiveParallelTemperingSampler`` (Vousden et
  al., MNRAS 2016) with :data:`CHAINS` adaptive-Metropolis chains at adapted temperatures;
  only the chain at temperature 1 samples the posterior.

Diagnostics (pyPESTO): the burn-in from the sequential Geweke test (Geweke 1992, z-score 2:
the first 10 % and last 50 % of what follows the burn-in have the same mean), and the effective
sample size of the rest from its autocorrelation. A chain whose burn-in is its whole length has
not converged (``converged`` False; no effective sample size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pypesto
import pypesto.sample

from fmsim.calibration.objective import Objective
from fmsim.calibration.quiet import quiet

SAMPLERS = ("adaptive_metropolis", "adaptive_parallel_tempering")
CHAINS = 4  # chains of the parallel-tempering sampler


@dataclass(frozen=True)
class Posterior:
    """A sampled posterior. ``chain``: one row per iteration of the temperature-1 chain
    (iteration, the parameters in natural units, nllh, burn_in flag). ``summary``: per
    parameter the posterior median and 95 % central interval after the burn-in (natural
    units)."""

    sampler: str
    chain: pd.DataFrame
    summary: pd.DataFrame
    burn_in: int
    effective_sample_size: float
    seconds: float

    @property
    def converged(self) -> bool:
        return self.burn_in < len(self.chain) - 1


def _sampler(name: str) -> pypesto.sample.Sampler:
    options = {"show_progress": False}
    if name == "adaptive_metropolis":
        return pypesto.sample.AdaptiveMetropolisSampler(options)
    if name == "adaptive_parallel_tempering":
        return pypesto.sample.AdaptiveParallelTemperingSampler(
            internal_sampler=pypesto.sample.AdaptiveMetropolisSampler(options),
            n_chains=CHAINS,
            options=options,
        )
    raise ValueError(f"sampler: got {name!r}; expected one of {SAMPLERS}")


def sample_posterior(
    objective: Objective,
    x0: np.ndarray,
    n_samples: int,
    sampler: str = "adaptive_metropolis",
    seed: int = 0,
) -> Posterior:
    """``n_samples`` MCMC iterations from the scaled parameters ``x0`` (e.g. the best fit)."""
    import time

    problem = objective.problem
    target = pypesto.Problem(
        objective=pypesto.Objective(fun=lambda x: objective.nllh(x) - objective.constant),
        lb=problem.lower_scaled,
        ub=problem.upper_scaled,
        x_names=problem.names,
    )
    chosen = _sampler(sampler)
    x0 = np.asarray(x0, dtype=float)
    start = [x0] * CHAINS if sampler == "adaptive_parallel_tempering" else x0
    state = np.random.get_state()
    np.random.seed(seed)  # pyPESTO's samplers draw from numpy's global generator
    started = time.perf_counter()
    try:
        with quiet("pypesto"):
            result = pypesto.sample.sample(target, n_samples, chosen, x0=start, filename=None)
    finally:
        np.random.set_state(state)
    seconds = time.perf_counter() - started
    with quiet("pypesto"):
        burn_in = int(pypesto.sample.geweke_test(result))
    trace = np.asarray(result.sample_result.trace_x[0], dtype=float)
    nllh = np.asarray(result.sample_result.trace_neglogpost[0], dtype=float)
    natural = problem.to_natural(trace)
    converged = burn_in < trace.shape[0] - 1
    with quiet("pypesto"):
        ess = pypesto.sample.effective_sample_size(result) if converged else None
    chain = pd.DataFrame(natural, columns=problem.names).assign(
        nllh=nllh + objective.constant, burn_in=np.arange(trace.shape[0]) < burn_in
    )
    chain.insert(0, "iteration", np.arange(trace.shape[0]))
    kept = natural[burn_in:] if converged else natural
    summary = pd.DataFrame(
        {
            "parameter": problem.names,
            "posterior_median": np.median(kept, axis=0),
            "posterior_2.5%": np.quantile(kept, 0.025, axis=0),
            "posterior_97.5%": np.quantile(kept, 0.975, axis=0),
        }
    )
    return Posterior(
        sampler,
        chain,
        summary,
        burn_in,
        float(ess) if ess is not None else float("nan"),
        seconds,
    )
