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
from scipy import stats

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import engine, optimizer, pypesto_problem

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


class _ProfileTask(pypesto.engine.Task):
    """One parameter's profile (run in this process or a worker process)."""

    def __init__(self, problem, result, index: int, options, method: str) -> None:
        super().__init__()
        self.problem, self.result, self.index = problem, result, index
        self.options, self.method = options, method

    def execute(self):
        found = pypesto.profile.parameter_profile(
            problem=self.problem,
            result=self.result,
            optimizer=optimizer(self.method),
            engine=pypesto.engine.SingleCoreEngine(),
            profile_index=[self.index],
            profile_options=self.options,
            next_guess_method="fixed_step",
            progress_bar=False,
            filename=None,
        )
        return found.profile_result.list[-1][self.index]


def profiles(
    objective: Objective,
    result: pypesto.Result,
    names: list[str] | None = None,
    n_procs: int = 1,
    method: str = "ls_trf",
) -> list[Profile]:
    """Profiles of ``names`` (default: all estimated parameters) around the best fit of the
    multi-start ``result``; one task per parameter, in parallel for ``n_procs`` > 1."""
    problem = pypesto_problem(objective)
    calibration = objective.problem
    names = names or calibration.names
    indices = [calibration.names.index(n) for n in names]
    tasks = []
    for i in indices:
        width = float(calibration.upper_scaled[i] - calibration.lower_scaled[i])
        options = pypesto.profile.ProfileOptions(
            min_step_size=width / STEPS,
            max_step_size=width / STEPS,
            default_step_size=width / STEPS,
            step_size_factor=1.5,
            delta_ratio_max=0.1,
            ratio_min=float(np.exp(-THRESHOLD - 0.5)),
        )
        tasks.append(_ProfileTask(problem, result, i, options, method))
    walks = engine(n_procs).execute(tasks, progress_bar=False)
    best_x = np.asarray(result.optimize_result.list[0].x, dtype=float)
    best_f = float(result.optimize_result.list[0].fval)
    out = []
    for name, i, walk in zip(names, indices, walks, strict=True):
        x = np.asarray(walk.x_path[i], dtype=float)
        rise = np.asarray(walk.fval_path, dtype=float) - best_f
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
