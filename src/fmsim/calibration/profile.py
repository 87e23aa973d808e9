"""Profile likelihoods, 95 % intervals and an identifiability verdict per parameter.

pyPESTO walks each parameter away from the best fit in both directions, re-optimising all other
parameters at every step, until the negative log-likelihood has risen by more than half the
chi-square 95 % quantile with one degree of freedom (1.92, the likelihood-ratio threshold) or
the parameter's bound is reached. The 95 % interval is where the profile crosses the threshold
(linear interpolation between the two profile points around the crossing).

Verdicts (Raue et al., Bioinformatics 2009;25:1923-1929):

* ``identifiable``: the profile crosses the threshold on both sides within the bounds;
* ``practically non-identifiable``: it rises, but stays below the threshold up to a bound on at
  least one side (the interval is open there: the bound is reported);
* ``structurally non-identifiable``: it stays flat (rise < :data:`FLAT` in negative
  log-likelihood) over the whole range between the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pypesto
import pypesto.profile
import pypesto.result
from scipy import stats

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import optimizer, pypesto_problem
from fmsim.calibration.problem import CalibrationProblem
from fmsim.engine.execution import Chunk, Executor, run_job
from fmsim.io.store import ChunkStore

LEVEL = 0.95
THRESHOLD = 0.5 * float(stats.chi2.ppf(LEVEL, df=1))  # 1.92: rise of the nllh at the 95 % limits
STEPS = 40  # profile steps between the bounds (fixed step on the scaled parameter)
FLAT = 0.05  # largest rise of a profile called flat (structurally non-identifiable)


@dataclass(frozen=True)
class Profile:
    """One parameter's profile: scaled values and nllh rises above the best fit."""

    name: str
    scale: str
    x: np.ndarray  # scaled parameter values, increasing
    rise: np.ndarray  # nllh(x) - nllh(best fit), >= 0 up to optimisation error
    lower_bound: float  # scaled bounds of the parameter
    upper_bound: float
    best: float  # scaled best-fit value

    def interval(self) -> tuple[float, float]:
        """95 % profile-likelihood interval on the scaled parameter; an open side is given as
        the bound of the parameter."""
        below, above = self.x <= self.best, self.x >= self.best
        low = _crossing(self.x[below][::-1], self.rise[below][::-1], self.lower_bound)
        high = _crossing(self.x[above], self.rise[above], self.upper_bound)
        return low, high

    def verdict(self) -> str:
        if np.nanmax(self.rise) < FLAT:
            return "structurally non-identifiable"
        closed = _closed(self.x, self.rise, self.best, "low") and _closed(
            self.x, self.rise, self.best, "high"
        )
        return "identifiable" if closed else "practically non-identifiable"

    def natural(self, value: float) -> float:
        return 10.0**value if self.scale == "log10" else value


def _crossing(x: np.ndarray, rise: np.ndarray, bound: float) -> float:
    """First point where ``rise`` (ordered outward from the best fit) exceeds the threshold,
    interpolated linearly in ``sqrt(rise)`` (the signed root deviance, linear in x where the
    profile is quadratic); ``bound`` if it never does."""
    above = np.flatnonzero(rise > THRESHOLD)
    if above.size == 0:
        return bound
    i = above[0]
    if i == 0:
        return float(x[0])
    root = np.sqrt(rise[i - 1 : i + 1])
    fraction = (np.sqrt(THRESHOLD) - root[0]) / (root[1] - root[0])
    return float(x[i - 1] + fraction * (x[i] - x[i - 1]))


def _closed(x, rise, best, side: str) -> bool:
    mask = x < best if side == "low" else x > best
    return bool(np.any(rise[mask] > THRESHOLD))


def profile_walk(
    problem: CalibrationProblem,
    best_x: np.ndarray,
    best_fval: float,
    index: int,
    method: str = "ls_trf",
) -> pd.DataFrame:
    """pyPESTO's profile of parameter ``index`` from the best fit (scaled ``best_x``, its
    ``best_fval`` as pyPESTO sees it), fixed steps of 1/:data:`STEPS` of the scaled range,
    the other parameters re-optimised at each step (a chunk): the profile's points, columns
    ``x`` (scaled value of the parameter) and ``fval``, in pyPESTO's order."""
    wrapped = pypesto_problem(Objective(problem))
    start = pypesto.Result(wrapped)
    start.optimize_result.append(
        [pypesto.result.OptimizerResult(id="best", x=np.asarray(best_x, float), fval=best_fval)]
    )
    width = float(problem.upper_scaled[index] - problem.lower_scaled[index])
    options = pypesto.profile.ProfileOptions(
        min_step_size=width / STEPS,
        max_step_size=width / STEPS,
        default_step_size=width / STEPS,
        step_size_factor=1.5,
        delta_ratio_max=0.1,
        ratio_min=float(np.exp(-THRESHOLD - 0.5)),
    )
    walk = pypesto.profile.parameter_profile(
        problem=wrapped,
        result=start,
        optimizer=optimizer(method),
        engine=pypesto.engine.SingleCoreEngine(),
        profile_index=[index],
        profile_options=options,
        next_guess_method="fixed_step",
        progress_bar=False,
        filename=None,
    ).profile_result.list[-1][index]
    return pd.DataFrame(
        {
            "x": np.asarray(walk.x_path[index], dtype=float),
            "fval": np.asarray(walk.fval_path, dtype=float),
        }
    )


def profiles(
    objective: Objective,
    result: pypesto.Result,
    names: list[str] | None = None,
    method: str = "ls_trf",
    executor: Executor | None = None,
    store: ChunkStore | None = None,
    progress: bool = False,
) -> list[Profile]:
    """Profiles of ``names`` (default: all estimated parameters) around the best fit of the
    multi-start ``result``: one chunk per parameter (:func:`profile_walk`, key
    ``profile <name>``) on ``executor`` (default: in this process), kept in ``store`` and
    reused from it when given (the key holds the best fit, so a new fit is profiled afresh)."""
    calibration = objective.problem
    names = names or calibration.names
    best_x = np.asarray(result.optimize_result.list[0].x, dtype=float)
    best_f = float(result.optimize_result.list[0].fval)
    keys = {name: f"profile {name} from {best_x.tolist()!r} ({best_f!r})" for name in names}
    jobs = [
        Chunk(
            key,
            profile_walk,
            (calibration, best_x, best_f, calibration.names.index(name), method),
            {},
        )
        for name, key in keys.items()
    ]
    done = run_job("profiles", jobs, executor, store, progress)
    walks = {name: done[key] for name, key in keys.items()}
    out = []
    for name in names:
        i = calibration.names.index(name)
        walk = walks[name]
        x = walk["x"].to_numpy()
        rise = walk["fval"].to_numpy() - best_f
        order = np.argsort(x)
        parameter = calibration.parameters[i]
        out.append(
            Profile(
                name,
                parameter.scale,
                x[order],
                np.maximum(rise[order], 0.0),
                float(calibration.lower_scaled[i]),
                float(calibration.upper_scaled[i]),
                float(best_x[i]),
            )
        )
    return out


def summary(found: list[Profile]) -> pd.DataFrame:
    """Estimate, 95 % profile interval (natural units) and verdict per parameter."""
    rows = []
    for p in found:
        low, high = p.interval()
        rows.append(
            {
                "parameter": p.name,
                "estimate": p.natural(p.best),
                "ci_low": p.natural(low),
                "ci_high": p.natural(high),
                "lower_bound_reached": low <= p.lower_bound,
                "upper_bound_reached": high >= p.upper_bound,
                "verdict": p.verdict(),
            }
        )
    return pd.DataFrame(rows)
