"""Multi-start estimation with pyPESTO on fmsim's objective.

:func:`pypesto_problem` wraps :class:`~fmsim.calibration.objective.Objective` as a pyPESTO
problem (function, gradient, residuals and their Jacobian; bounds and parameter names on the
scaled parameters). :func:`multistart` draws starting points uniformly within the bounds (from
the run seed, in this process: the nominal parameters first, then start k is the k-th draw) and
runs a local optimiser from each: every start is one deterministic chunk (:func:`optimize_start`,
key ``start <k>``) of the execution interface (:mod:`fmsim.engine.execution`), in this process
(where each objective evaluation already runs its batch on all cores through the engine) or on
Dask workers; with a chunk store, finished starts are kept and, verified, reused (resume).

Optimisers (``OPTIMIZERS``): ``ls_trf`` (scipy's trust-region reflective least squares on the
residuals and their Jacobian; the default), ``L-BFGS-B`` (quasi-Newton on the gradient) and
``Powell`` (derivative-free). ``benchmarks/calibration_fit.py`` measures what the derivatives buy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pypesto
import pypesto.optimize
import pypesto.result

from fmsim.calibration.objective import Objective
from fmsim.calibration.problem import CalibrationProblem
from fmsim.engine.execution import Chunk, Executor, run_job
from fmsim.io.store import ChunkStore

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


def start_points(
    problem: CalibrationProblem, n_starts: int, seed: int, include_nominal: bool = True
) -> np.ndarray:
    """``n_starts`` scaled starting points: uniform within the bounds (``seed``), the nominal
    parameters first when ``include_nominal``."""
    rng = np.random.default_rng(seed)
    lower, upper = problem.lower_scaled, problem.upper_scaled
    starts = lower + (upper - lower) * rng.random((n_starts, lower.size))
    if include_nominal:
        starts[0] = problem.nominal_scaled
    return starts


def optimize_start(
    problem: CalibrationProblem, x0: np.ndarray, index: int, method: str
) -> pd.DataFrame:
    """One local optimisation of ``problem`` from the scaled point ``x0`` (a chunk): one row
    with the start's id, final scaled parameters (one column per parameter), ``fval`` (the
    negative log-likelihood minus its constant, as pyPESTO sees it), evaluation counts,
    exit flag, message and seconds."""
    wrapped = pypesto_problem(Objective(problem))
    wrapped.set_x_guesses(np.asarray(x0, dtype=float)[None, :])
    found = pypesto.optimize.minimize(
        wrapped,
        optimizer=optimizer(method),
        n_starts=1,
        ids=[str(index)],
        engine=pypesto.engine.SingleCoreEngine(),
        progress_bar=False,
        filename=None,
    ).optimize_result.list[0]
    x = np.asarray(found.x, dtype=float)
    return pd.DataFrame(
        [
            {
                "id": str(index),
                **dict(zip(problem.names, x, strict=True)),
                "fval": float(found.fval) if found.fval is not None else np.nan,
                **{count: int(found[count] or 0) for count in _COUNTS},
                "exitflag": int(found.exitflag) if found.exitflag is not None else 0,
                "message": str(found.message),
                "time": float(found.time or 0.0),
            }
        ]
    )


_COUNTS = ("n_fval", "n_grad", "n_res", "n_sres")


def multistart(
    objective: Objective,
    n_starts: int = 20,
    seed: int = 0,
    method: str = "ls_trf",
    include_nominal: bool = True,
    executor: Executor | None = None,
    store: ChunkStore | None = None,
    progress: bool = False,
) -> pypesto.Result:
    """Local optimisation from ``n_starts`` points (:func:`start_points`), one chunk per start
    on ``executor`` (default: in this process), kept in ``store`` and reused from it when
    given; results sorted best first (pyPESTO's ``Result``)."""
    problem = objective.problem
    starts = start_points(problem, n_starts, seed, include_nominal)
    jobs = [
        Chunk(f"start {k}", optimize_start, (problem, x0, k, method), {})
        for k, x0 in enumerate(starts)
    ]
    rows = run_job("starts", jobs, executor, store, progress)
    result = pypesto.Result(pypesto_problem(objective))
    result.optimize_result.append(
        [_optimizer_result(rows[f"start {k}"].iloc[0], problem.names) for k in range(n_starts)]
    )
    result.optimize_result.sort()
    return result


def _optimizer_result(row: pd.Series, names: list[str]) -> pypesto.result.OptimizerResult:
    """pyPESTO's record of one start from its chunk's row."""
    return pypesto.result.OptimizerResult(
        id=row["id"],
        x=row[names].to_numpy(float),
        fval=None if np.isnan(row["fval"]) else float(row["fval"]),
        exitflag=int(row["exitflag"]),
        message=row["message"],
        time=float(row["time"]),
        **{count: int(row[count]) for count in _COUNTS},
    )


def best(result: pypesto.Result, objective: Objective) -> tuple[np.ndarray, float]:
    """Best scaled parameters and their negative log-likelihood of a multi-start result."""
    top = result.optimize_result.list[0]
    return np.asarray(top.x, dtype=float), float(top.fval) + objective.constant
