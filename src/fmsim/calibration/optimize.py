"""Multi-start estimation with pyPESTO on fmsim's objective.

:func:`pypesto_problem` wraps :class:`~fmsim.calibration.objective.Objective` as a pyPESTO
problem (function, gradient, residuals and their Jacobian; bounds and parameter names on the
scaled parameters). :func:`multistart` draws starting points uniformly within the bounds (seeded)
and runs a local optimiser from each, in parallel worker processes when asked for
(``n_procs`` > 1, pyPESTO's ``MultiProcessEngine``); otherwise in this process, where each
objective evaluation already runs its batch on all cores through the engine.

Optimisers (``OPTIMIZERS``): ``ls_trf`` (scipy's trust-region reflective least squares on the
residuals and their Jacobian; the default), ``L-BFGS-B`` (quasi-Newton on the gradient) and
``Powell`` (derivative-free). ``benchmarks/calibration_fit.py`` measures what the derivatives buy.
"""

from __future__ import annotations

import numpy as np
import pypesto
import pypesto.optimize

from fmsim.calibration.objective import Objective

OPTIMIZERS = ("ls_trf", "L-BFGS-B", "Powell")


def pypesto_problem(objective: Objective) -> pypesto.Problem:
    """The pyPESTO problem of ``objective`` on the scaled parameters.

    pyPESTO's least-squares optimisers report ``0.5 sum r^2``; so that every optimiser and the
    profiles compare the same numbers, the function pyPESTO sees is the negative
    log-likelihood minus its parameter-independent constant (``objective.constant``). The
    value alone costs one simulation per condition (derivative-free optimisers and samplers
    ask only for it); the gradient and the residual Jacobian cost 2p + 1 in one batch."""
    problem = objective.problem
    wrapped = pypesto.Objective(
        fun=lambda x: objective.nllh(x) - objective.constant,
        grad=lambda x: objective.nllh_and_gradient(x)[1],
        res=objective.residuals_and_jacobian,
        sres=True,
        x_names=problem.names,
    )
    return pypesto.Problem(
        objective=wrapped,
        lb=problem.lower_scaled,
        ub=problem.upper_scaled,
        x_names=problem.names,
        x_scales=[p.scale for p in problem.parameters],
    )


def optimizer(method: str = "ls_trf", max_iterations: int = 200) -> pypesto.optimize.Optimizer:
    """A pyPESTO scipy optimiser by name (one of :data:`OPTIMIZERS`)."""
    if method not in OPTIMIZERS:
        raise ValueError(f"optimizer: got {method!r}; expected one of {OPTIMIZERS}")
    options = {"max_nfev": max_iterations} if method == "ls_trf" else {"maxiter": max_iterations}
    return pypesto.optimize.ScipyOptimizer(method=method, options=options)


def engine(n_procs: int) -> pypesto.engine.Engine:
    """pyPESTO's execution engine: worker processes for ``n_procs`` > 1, else this process.

    Workers are spawned, not forked: the engine's compiled code runs on an OpenMP thread pool,
    and forking a process that has used it aborts the child (GNU OpenMP)."""
    if n_procs > 1:
        return pypesto.engine.MultiProcessEngine(n_procs=n_procs, method="spawn")
    return pypesto.engine.SingleCoreEngine()


def multistart(
    objective: Objective,
    n_starts: int = 20,
    seed: int = 0,
    method: str = "ls_trf",
    n_procs: int = 1,
    include_nominal: bool = True,
) -> pypesto.Result:
    """Local optimisation from ``n_starts`` points (the nominal parameters first when
    ``include_nominal``, the rest uniform within the bounds); results sorted best first."""
    problem = pypesto_problem(objective)
    rng = np.random.default_rng(seed)
    lower, upper = objective.problem.lower_scaled, objective.problem.upper_scaled
    starts = lower + (upper - lower) * rng.random((n_starts, lower.size))
    if include_nominal:
        starts[0] = objective.problem.nominal_scaled
    problem.set_x_guesses(starts)
    return pypesto.optimize.minimize(
        problem,
        optimizer=optimizer(method),
        n_starts=n_starts,
        engine=engine(n_procs),
        progress_bar=False,
        filename=None,
    )


def best(result: pypesto.Result, objective: Objective) -> tuple[np.ndarray, float]:
    """Best scaled parameters and their negative log-likelihood of a multi-start result."""
    top = result.optimize_result.list[0]
    return np.asarray(top.x, dtype=float), float(top.fval) + objective.constant
