"""The fit study: multi-start estimation, profiles and fitted curves of one calibration problem.

:func:`run_fit` returns a :class:`FitResult` that saves its tables and figures
(:meth:`FitResult.save`); :mod:`fmsim.report.fit_html` renders it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.problem import CalibrationProblem
from fmsim.calibration.profile import Profile, profiles, summary


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`run_fit`.

    ``starts``: one row per start (rank, negative log-likelihood, scaled parameters,
    evaluations, message), best first. ``estimates``: per parameter the nominal value, the
    estimate and, with profiles, the 95 % profile-likelihood interval and verdict (natural
    units). ``fitted``: every measurement with the model value at the estimate. ``curves``: the
    fitted observables on a daily grid per condition. Times in seconds."""

    problem: CalibrationProblem
    starts: pd.DataFrame
    estimates: pd.DataFrame
    fitted: pd.DataFrame
    curves: pd.DataFrame
    profiles: list[Profile]
    best_nllh: float
    fit_seconds: float
    profile_seconds: float

    def save(self, out: Path) -> list[Path]:
        """Write the tables as CSV into ``out`` (created); return the files written."""
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for name in ("starts", "estimates", "fitted", "curves"):
            path = out / f"{name}.csv"
            getattr(self, name).to_csv(path, index=False)
            files.append(path)
        if self.profiles:
            rows = [
                pd.DataFrame({"parameter": p.name, "scaled_value": p.x, "nllh_rise": p.rise})
                for p in self.profiles
            ]
            path = out / "profiles.csv"
            pd.concat(rows, ignore_index=True).to_csv(path, index=False)
            files.append(path)
        return files


def run_fit(
    problem: CalibrationProblem,
    n_starts: int = 20,
    seed: int = 0,
    method: str = "ls_trf",
    n_procs: int = 1,
    profile: bool = True,
) -> FitResult:
    """Estimate ``problem``'s parameters from ``n_starts`` starts; profile each parameter."""
    objective = Objective(problem)
    started = time.perf_counter()
    result = multistart(objective, n_starts, seed, method, n_procs)
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
    found = profiles(objective, result, n_procs=n_procs, method=method) if profile else []
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
    fitted = problem.measurements.assign(model=objective.predictions(x_best)[0])
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
    )


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
