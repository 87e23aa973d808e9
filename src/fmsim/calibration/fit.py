"""The fit study: multi-start estimation, profiles and fitted curves of one calibration problem.

:func:`run_fit` returns a :class:`FitResult` that saves its tables and figures
(:meth:`FitResult.save`); :mod:`fmsim.report.fit_html` renders it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.problem import CalibrationProblem
from fmsim.calibration.profile import Profile, profiles, summary
from fmsim.calibration.sample import Posterior, sample_posterior
from fmsim.engine.execution import Executor
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash
from fmsim.io.store import ChunkStore

if TYPE_CHECKING:
    from fmsim.config.fit import FitConfig

#: The run folder's sub-folder holding the starts' chunks (kept across runs).
CHUNKS = "chunks"


@dataclass(frozen=True)
class FitResult(StudyResult):
    """Outcome of :func:`run_fit`.

    ``starts``: one row per start (rank, negative log-likelihood, scaled parameters,
    evaluations, message), best first. ``estimates``: per parameter the nominal value, the
    estimate and, with profiles, the 95 % profile-likelihood interval and verdict (natural
    units). ``fitted``: every measurement with the model value at the estimate. ``curves``: the
    fitted observables on a daily grid per condition. ``posterior``: the sampled posterior
    (None unless sampling was asked for). Times in seconds."""

    kind: ClassVar[str] = "fit"
    stores: ClassVar[tuple[str, ...]] = (CHUNKS,)
    problem: CalibrationProblem
    starts: pd.DataFrame
    estimates: pd.DataFrame
    fitted: pd.DataFrame
    curves: pd.DataFrame
    profiles: list[Profile]
    best_nllh: float
    fit_seconds: float
    profile_seconds: float
    provenance: Provenance
    posterior: Posterior | None = None

    def tables(self) -> dict[str, Table]:
        scaled = {name: "log10 or lin (see estimates.scale)" for name in self.problem.names}
        tables = {
            "estimates": Table(
                self.estimates,
                "per estimated parameter: nominal value, estimate, bounds and, with profiles, "
                "the 95 % profile-likelihood interval and identifiability verdict; natural units "
                "(column unit)",
            ),
            "starts": Table(
                self.starts,
                "per optimiser start, best first: final negative log-likelihood, scaled "
                "parameters, objective evaluations, optimiser message",
                {"nllh": "1", **scaled},
            ),
            "fitted": Table(
                self.fitted,
                "per measurement: data (value, noise SD) and the model at the estimate",
                {
                    "time": "day",
                    "value": "unit of the observable",
                    "model": "unit of the observable",
                },
            ),  # fmt: skip
            "curves": Table(
                self.curves,
                "per condition, observable and time (every 0.25 day): the model at the estimate",
                {"time": "day", "model": "unit of the observable"},
            ),
        }
        if self.profiles:
            tables["profiles"] = Table(
                profile_table(self.profiles),
                "per parameter and profile point: scaled value and rise of the negative "
                "log-likelihood above the best fit (95 % limit at 1.92)",
                {"scaled_value": "log10 or lin", "nllh_rise": "1"},
            )
        if self.posterior is not None:
            post = self.posterior
            tables["posterior_chain"] = Table(
                post.chain,
                f"per MCMC iteration ({post.sampler}, temperature-1 chain): parameters in "
                "natural units (see estimates.unit), nllh, and whether it is burn-in (Geweke)",
                {"nllh": "1"},
            )
            tables["posterior_summary"] = Table(
                post.summary.assign(
                    burn_in=post.burn_in,
                    effective_sample_size=post.effective_sample_size,
                    converged=post.converged,
                ),
                "per parameter: posterior median and 95 % central interval after the burn-in "
                "(natural units), with the chain's burn-in, effective sample size and whether "
                "the Geweke test found a converged part",
            )
        return tables


def profile_table(found: list[Profile]) -> pd.DataFrame:
    """The profiles as one long table: parameter, scaled_value, nllh_rise."""
    return pd.concat(
        [
            pd.DataFrame({"parameter": p.name, "scaled_value": p.x, "nllh_rise": p.rise})
            for p in found
        ],
        ignore_index=True,
    )


def run_fit(
    problem: CalibrationProblem,
    n_starts: int = 20,
    seed: int = 0,
    method: str = "ls_trf",
    *,
    profile: bool = True,
    settings: Mapping | None = None,
    inputs: Sequence[Path] = (),
    samples: int = 0,
    sampler: str = "adaptive_metropolis",
    sample_seed: int = 0,
    executor: Executor | None = None,
    chunk_folder: Path | None = None,
    progress: bool = False,
) -> FitResult:
    """Estimate ``problem``'s parameters from ``n_starts`` starts; profile each parameter.

    The starts and the profiles run as chunks on ``executor`` (default: in this process);
    with ``chunk_folder``, finished chunks are kept there and, verified, reused by a rerun with
    the same settings (resume). With ``samples`` > 0, the
    posterior is sampled from the best fit (``sampler``, see :mod:`fmsim.calibration.sample`).
    ``settings`` (e.g. the fit YAML as read) and ``inputs`` (the files read) are recorded in the
    result's provenance; without settings, the problem's description is hashed."""
    objective = Objective(problem)
    described = settings if settings is not None else _description(problem, n_starts, seed, method)
    store = None
    if chunk_folder is not None:  # a start depends on the problem, its point and the optimiser
        store = ChunkStore(chunk_folder, config_hash(_starts_fingerprint(problem, seed, method)))
    started = time.perf_counter()
    result = multistart(
        objective, n_starts, seed, method, executor=executor, store=store, progress=progress
    )
    fit_seconds = time.perf_counter() - started
    x_best, nllh = best(result, objective)
    starts = pd.DataFrame(
        [
            {
                "rank": rank,
                "nllh": float(r.fval) + objective.constant if r.fval is not None else np.nan,
                **dict(zip(problem.names, np.asarray(r.x, dtype=float), strict=True)),
                "evaluations": int(max(r.n_fval, r.n_res)),
                "message": str(r.message),
            }
            for rank, r in enumerate(result.optimize_result.list, start=1)
        ]
    )
    started = time.perf_counter()
    found = (
        profiles(
            objective, result, method=method, executor=executor, store=store, progress=progress
        )
        if profile
        else []
    )
    profile_seconds = time.perf_counter() - started
    estimates = pd.DataFrame(
        {
            "parameter": problem.names,
            "nominal": [p.nominal for p in problem.parameters],
            "estimate": problem.to_natural(x_best),
            "lower_bound": [p.lower for p in problem.parameters],
            "upper_bound": [p.upper for p in problem.parameters],
            "scale": [p.scale for p in problem.parameters],
        }
    )
    if found:
        intervals = summary(found)[["parameter", "ci_low", "ci_high", "verdict"]]
        estimates = estimates.merge(intervals, on="parameter", how="left")
    estimates["unit"] = [_unit(problem, name) for name in problem.names]
    fitted = problem.measurements.assign(model=objective.predictions(x_best)[0])
    posterior = (
        sample_posterior(objective, x_best, samples, sampler, sample_seed) if samples else None
    )
    return FitResult(
        problem,
        starts,
        estimates,
        fitted,
        fitted_curves(objective, x_best),
        found,
        nllh,
        fit_seconds,
        profile_seconds,
        Provenance(config_hash(described), tuple(inputs)),
        posterior,
    )


def run_fit_settings(
    problem: CalibrationProblem, settings: FitConfig, *, sampling: bool = True, **backend
) -> FitResult:
    """:func:`run_fit` as a fit YAML asks (``settings``, as read by
    :func:`~fmsim.calibration.measurements.load_fit_problem`): its starts, seed, optimiser,
    profiles and, with ``sampling``, its posterior sampling; the settings are recorded in the
    result's provenance. ``backend``: :func:`run_fit`'s ``inputs``, ``executor``,
    ``chunk_folder`` and ``progress``."""
    sample = settings.sample if sampling else None
    posterior = (
        {"samples": sample.samples, "sampler": sample.sampler, "sample_seed": sample.seed}
        if sample
        else {}
    )
    return run_fit(
        problem,
        settings.starts,
        settings.seed,
        settings.optimizer,
        profile=settings.profile,
        settings=settings.model_dump(mode="json"),
        **posterior,
        **backend,
    )


def _unit(problem: CalibrationProblem, name: str) -> str:
    """Unit of an estimated parameter: from the parameter file, or its readout's unit."""
    parameters = problem.model_parameters
    if name in parameters.parameters:
        return parameters[name].unit
    readout = name.removeprefix("baseline_").removeprefix("max_change_")
    return parameters.readouts[readout].unit if name.startswith("baseline_") else "1"


def _description(problem: CalibrationProblem, n_starts: int, seed: int, method: str) -> dict:
    """What defines a fit when no settings are given: data, parameters, starts, optimiser."""
    return {
        "measurements": problem.measurements.to_dict("list"),
        "conditions": [vars(c) for c in problem.conditions],
        "parameters": [vars(p) for p in problem.parameters],
        "method": problem.method,
        "starts": n_starts,
        "seed": seed,
        "optimizer": method,
    }


def _starts_fingerprint(problem: CalibrationProblem, seed: int, method: str) -> dict:
    """What a start's result depends on besides its number: the problem, the optimiser and
    the seed of the starting points (not the number of starts: start k is the same point for
    any number; nor the profiles or the sampling)."""
    described = _description(problem, 0, seed, method)
    return {k: v for k, v in described.items() if k != "starts"} | {
        "nominal": problem.nominal_scaled.tolist(),
        "readout_values": dict(problem.readout_values),
        "model_parameters": problem.model_parameters.typical(),
    }


def fitted_curves(objective: Objective, x: np.ndarray, step: float = 0.25) -> pd.DataFrame:
    """Every observable of the problem for every condition on a grid of ``step`` days, at
    scaled parameters ``x``: columns condition, observable, time, model."""
    problem = objective.problem
    end = float(problem.measurements["time"].max())
    grid = np.arange(0.0, end + step / 2, step)
    rows = [
        {
            "condition": c.id,
            "observable": o,
            "time": t,
            "value": 1.0,
            "noise": 1.0,
            "noise_distribution": "normal",
        }  # fmt: skip
        for c in problem.conditions
        for o in dict.fromkeys(problem.measurements["observable"])
        for t in grid
    ]
    table = pd.DataFrame(rows)
    dense = Objective(
        CalibrationProblem(
            problem.conditions,
            table,
            problem.parameters,
            problem.model_parameters,
            problem.method,
            problem.name,
            problem.readout_values,
        )
    )
    return table[["condition", "observable", "time"]].assign(model=dense.predictions(x)[0])
