"""Global (Sobol) and local sensitivity of model outputs to their uncertain inputs.

An :class:`Analysis` names its inputs with their distributions (SALib's problem: lognormal
parameters as log-median and log-SD, uniform ranges, normal mean and SD) and a function from a
frame of input values (one row per parameter set) to a frame of outputs. The analyses fmsim runs
are in :mod:`fmsim.calibration.sensitivity_models`: the mouse passive-transfer outputs, the IgG
reduction of a therapy in patients, and the effect and power of a virtual trial.

* Sobol first- and total-order indices (:func:`sobol_indices`): SALib's Saltelli/Jansen
  estimators on its Sobol' sequence (``n_base`` x (k + 2) parameter sets for k inputs), with
  95 % bootstrap intervals; all sets of one analysis go to its function at once (one engine
  batch).
* Local sensitivities (:func:`local_sensitivities`): elasticities ``d ln(output) / d ln(input)``
  by central differences (step 1 % in ln input) at the medians, and a one-at-a-time tornado
  with each input at its 5th and 95th percentile (others at their medians).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample
from scipy import stats

from fmsim.experiments.result import Provenance, StudyResult, Table

#: Relative step (in ln input) of the elasticities.
ELASTICITY_STEP = 0.01
#: Percentiles of the one-at-a-time swings (tornado).
SWING = (0.05, 0.95)


@dataclass(frozen=True)
class Analysis:
    """One sensitivity analysis: inputs (SALib problem with ``dists``), outputs with units and
    descriptions, and the function computing the outputs for a frame of inputs."""

    name: str
    description: str
    problem: dict
    outputs: dict[str, tuple[str, str]]  # output -> (unit, description)
    function: Callable[[pd.DataFrame], pd.DataFrame]
    sources: dict[str, str] = field(default_factory=dict)  # input -> source of its distribution


def lognormal_input(median: float, cv: float) -> tuple[list[float], str]:
    """SALib bounds and distribution of a lognormal input with ``median`` and ``cv``."""
    return [math.log(median), math.sqrt(math.log1p(cv**2))], "lognorm"


def median(bounds: Sequence[float], dist: str) -> float:
    """Median of an input distribution as SALib parametrises it."""
    if dist == "lognorm":
        return math.exp(bounds[0])
    if dist == "norm":
        return float(bounds[0])
    return 0.5 * (bounds[0] + bounds[1])  # unif


def percentile(bounds: Sequence[float], dist: str, q: float) -> float:
    """The ``q`` quantile of an input distribution as SALib parametrises it."""
    if dist == "lognorm":
        return math.exp(bounds[0] + bounds[1] * stats.norm.ppf(q))
    if dist == "norm":
        return float(bounds[0] + bounds[1] * stats.norm.ppf(q))
    return bounds[0] + q * (bounds[1] - bounds[0])  # unif


def sobol_indices(function, problem: dict, n_base: int, seed: int) -> pd.DataFrame:
    """First- and total-order Sobol indices of each output column of ``function`` (a frame of
    outputs for a frame of inputs) with 95 % bootstrap intervals; ``n_base`` a power of 2."""
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    outputs = function(pd.DataFrame(x, columns=problem["names"]))
    rows = []
    for output in outputs.columns:
        y = outputs[output].to_numpy(float)
        found = sobol_analyze.analyze(
            problem, y, calc_second_order=False, conf_level=0.95, seed=seed
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "S1": found["S1"][i],
                    "S1_conf": found["S1_conf"][i],
                    "ST": found["ST"][i],
                    "ST_conf": found["ST_conf"][i],
                }
            )
    return pd.DataFrame(rows)


def local_sensitivities(analysis: Analysis, step: float = ELASTICITY_STEP) -> pd.DataFrame:
    """Elasticities at the medians and the 5th-95th percentile swings (tornado), one call of
    the analysis' function for all 1 + 4k parameter sets."""
    problem = analysis.problem
    names = problem["names"]
    dists = problem.get("dists", ["unif"] * len(names))
    nominal = {n: median(b, d) for n, b, d in zip(names, problem["bounds"], dists, strict=True)}
    rows = [dict(nominal)]
    for name, bounds, dist in zip(names, problem["bounds"], dists, strict=True):
        for factor in (math.exp(step), math.exp(-step)):
            rows.append(nominal | {name: nominal[name] * factor})
        rows += [nominal | {name: percentile(bounds, dist, q)} for q in SWING]
    outputs = analysis.function(pd.DataFrame(rows, columns=names))
    base = outputs.iloc[0]
    table = []
    for k, name in enumerate(names):
        up, down, low, high = (outputs.iloc[1 + 4 * k + j] for j in range(4))
        for output in outputs.columns:
            with np.errstate(divide="ignore", invalid="ignore"):
                elasticity = (np.log(up[output]) - np.log(down[output])) / (2 * step)
            table.append(
                {
                    "output": output,
                    "parameter": name,
                    "elasticity": float(elasticity) if np.isfinite(elasticity) else np.nan,
                    "low": low[output],
                    "high": high[output],
                    "nominal": base[output],
                }
            )
    return pd.DataFrame(table)


@dataclass(frozen=True)
class SensitivityResult(StudyResult):
    """Sobol and local sensitivities of one or more analyses.

    ``sobol``: analysis, output, parameter, S1, S1_conf, ST, ST_conf (conf = half-width of the
    95 % bootstrap interval). ``local``: analysis, output, parameter, elasticity, low, high
    (output at the input's 5th / 95th percentile, others at their medians), nominal.
    ``inputs``: analysis, parameter, distribution, its two SALib parameters, median, 5th and
    95th percentile, source. ``outputs``: analysis, output, unit, description. ``runs``:
    analysis, base sample, parameter sets evaluated."""

    kind: ClassVar[str] = "sensitivity"
    sobol: pd.DataFrame
    local: pd.DataFrame
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    runs: pd.DataFrame
    provenance: Provenance

    @property
    def n_evaluations(self) -> int:
        return int(self.runs["parameter_sets"].sum())

    def tables(self) -> dict[str, Table]:
        return {
            "sobol": Table(
                self.sobol,
                "per analysis, output and input: Sobol first-order (S1) and total-order (ST) "
                "index with the half-width of its 95 % bootstrap interval",
                {c: "1" for c in ("S1", "S1_conf", "ST", "ST_conf")},
            ),
            "local": Table(
                self.local,
                "per analysis, output and input: elasticity d ln(output)/d ln(input) at the "
                "medians; output with the input at its 5th (low) and 95th (high) percentile and "
                "all at their medians (nominal); units of the output (see outputs)",
                {"elasticity": "1"},
            ),
            "inputs": Table(
                self.inputs,
                "per analysis and input: distribution (lognorm: log-median, log-SD; norm: mean, "
                "SD; unif: lower, upper), median and 5th/95th percentiles, and its source",
            ),
            "outputs": Table(self.outputs, "per analysis and output: unit and definition"),
            "runs": Table(
                self.runs, "per analysis: Sobol base sample and parameter sets evaluated"
            ),
        }


def run_analyses(
    analyses: Sequence[Analysis],
    n_base: int | Sequence[int],
    seed: int,
    provenance: Provenance,
    log: Callable[[str], None] | None = None,
) -> SensitivityResult:
    """Sobol and local sensitivities of every analysis (``n_base`` per analysis or one for
    all)."""
    log = log or (lambda _: None)
    bases = [n_base] * len(analyses) if isinstance(n_base, int) else list(n_base)
    sobol, local, inputs, outputs, runs = [], [], [], [], []
    for analysis, base in zip(analyses, bases, strict=True):
        problem = analysis.problem
        k = problem["num_vars"]
        log(f"{analysis.name}: {k} inputs, Sobol base sample {base} ({base * (k + 2)} sets) ...")
        sobol.append(
            sobol_indices(analysis.function, problem, base, seed).assign(analysis=analysis.name)
        )
        local.append(local_sensitivities(analysis).assign(analysis=analysis.name))
        dists = problem.get("dists", ["unif"] * k)
        for name, bounds, dist in zip(problem["names"], problem["bounds"], dists, strict=True):
            inputs.append(
                {
                    "analysis": analysis.name,
                    "parameter": name,
                    "distribution": dist,
                    "a": bounds[0],
                    "b": bounds[1],
                    "median": median(bounds, dist),
                    "p05": percentile(bounds, dist, SWING[0]),
                    "p95": percentile(bounds, dist, SWING[1]),
                    "source": analysis.sources.get(name, ""),
                }
            )
        for output, (unit, text) in analysis.outputs.items():
            outputs.append(
                {"analysis": analysis.name, "output": output, "unit": unit, "description": text}
            )
        runs.append(
            {
                "analysis": analysis.name,
                "description": analysis.description,
                "n_base": base,
                "parameter_sets": base * (k + 2) + 1 + 4 * k,
            }
        )
    first = ["analysis"]
    return SensitivityResult(
        _first(pd.concat(sobol, ignore_index=True), first),
        _first(pd.concat(local, ignore_index=True), first),
        pd.DataFrame(inputs),
        pd.DataFrame(outputs),
        pd.DataFrame(runs),
        provenance,
    )


def _first(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[[*columns, *(c for c in frame.columns if c not in columns)]]
