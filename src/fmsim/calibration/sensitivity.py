"""Global (Sobol) and local sensitivity of model outputs to their uncertain inputs.

An :class:`Analysis` names its inputs with their distributions (SALib's problem: lognormal
parameters as log-median and log-SD, uniform ranges, normal mean and SD) and a function from a
frame of input values (one row per parameter set) to a frame of outputs, row by row (a row's
outputs do not depend on the other rows). The analyses fmsim runs are
:mod:`fmsim.calibration.sensitivity_passive_transfer` (mouse),
:mod:`fmsim.calibration.sensitivity_therapy` (IgG reduction by a therapy in patients) and
:mod:`fmsim.calibration.sensitivity_trial` (effect and power of a virtual trial), brought
together by :mod:`fmsim.calibration.sensitivity_study`.

* Sobol first- and total-order indices (:func:`sobol_indices`): SALib's Saltelli/Jansen
  estimators on its Sobol' sequence (``n_base`` x (k + 2) parameter sets for k inputs), with
  95 % bootstrap intervals.
* Local sensitivities (:func:`local_sensitivities`): elasticities ``d ln(output) / d ln(input)``
  by central differences (step 1 % in ln input) at the medians, and a one-at-a-time tornado
  with each input at its 5th and 95th percentile (others at their medians).

The parameter sets of an analysis are evaluated as deterministic chunks of
``Analysis.chunk_sets`` consecutive sets (:func:`evaluate`) through the execution interface
(:mod:`fmsim.engine.execution`: in this process or on Dask), stored and, verified, reused on a
rerun (:class:`fmsim.io.store.ChunkStore`). The analyses' randomness is common random numbers
fixed by the analysis (the same for every set), so a chunk's outputs depend only on its sets:
results do not depend on the chunk size, the backend or the workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample
from scipy import stats

from fmsim.engine.execution import Chunk, Executor, chunk_seed, run_job
from fmsim.experiments.result import Provenance, StudyResult, Table
from fmsim.io.store import ChunkStore
from fmsim.model.parameters import ParameterSet

#: The run folder's sub-folder holding the parameter sets' chunks (kept across runs).
CHUNKS = "chunks"
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
    function: Callable[[pd.DataFrame], pd.DataFrame]  # picklable (sent to Dask workers)
    sources: dict[str, str] = field(default_factory=dict)  # input -> source of its distribution
    chunk_sets: int = 1024  # parameter sets per chunk


def uncertain_parameters(parameters: ParameterSet) -> list[str]:
    """Model parameters with a between-subject CV (their stated uncertainty)."""
    return [name for name, p in parameters.parameters.items() if p.cv > 0 and p.value > 0]


@dataclass
class Evaluation:
    """Where an analysis' parameter sets are evaluated: ``executor`` (default in this
    process), the chunk ``store`` (None: chunks are not kept), a progress bar."""

    executor: Executor | None = None
    store: ChunkStore | None = None
    progress: bool = False


def evaluate(
    analysis: Analysis, part: str, sets: pd.DataFrame, where: Evaluation | None = None
) -> pd.DataFrame:
    """The outputs of ``analysis`` for every row of ``sets``, evaluated as chunks of
    ``analysis.chunk_sets`` rows (keys ``<analysis>|<part>|sets <first>-<last>``); stored
    chunks are reused after verification."""
    where = where or Evaluation()
    size = analysis.chunk_sets
    keys = [
        f"{analysis.name}|{part}|sets {a}-{min(a + size, len(sets)) - 1}"
        for a in range(0, len(sets), size)
    ]
    jobs = []
    for k, key in enumerate(keys):
        rows = sets.iloc[k * size : (k + 1) * size].reset_index(drop=True)
        jobs.append(Chunk(key, analysis.function, (rows,), {}, len(rows)))
    label = f"{analysis.name} {part}"
    results = run_job(label, jobs, where.executor, where.store, where.progress)
    return pd.concat([results[key] for key in keys], ignore_index=True)


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
    outputs for a frame of inputs) with 95 % bootstrap intervals; ``n_base`` a power of 2.
    ``seed`` drives the Sobol' sequence's scrambling and, through
    :func:`fmsim.engine.execution.chunk_seed`, the bootstrap."""
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    outputs = function(pd.DataFrame(x, columns=problem["names"]))
    # SALib draws the bootstrap from numpy's global state, unseeded, when its seed is 0
    bootstrap = max(1, chunk_seed(seed, "sobol bootstrap"))
    rows = []
    for output in outputs.columns:
        y = outputs[output].to_numpy(float)
        found = sobol_analyze.analyze(
            problem, y, calc_second_order=False, conf_level=0.95, seed=bootstrap
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


def local_sensitivities(
    analysis: Analysis, step: float = ELASTICITY_STEP, where: Evaluation | None = None
) -> pd.DataFrame:
    """Elasticities at the medians and the 5th-95th percentile swings (tornado): the 1 + 4k
    parameter sets evaluated by :func:`evaluate`."""
    problem = analysis.problem
    names = problem["names"]
    dists = problem.get("dists", ["unif"] * len(names))
    nominal = {n: median(b, d) for n, b, d in zip(names, problem["bounds"], dists, strict=True)}
    rows = [dict(nominal)]
    for name, bounds, dist in zip(names, problem["bounds"], dists, strict=True):
        for factor in (math.exp(step), math.exp(-step)):
            rows.append(nominal | {name: nominal[name] * factor})
        rows += [nominal | {name: percentile(bounds, dist, q)} for q in SWING]
    outputs = evaluate(analysis, "local", pd.DataFrame(rows, columns=names), where)
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
    stores: ClassVar[tuple[str, ...]] = (CHUNKS,)
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
    where: Evaluation | None = None,
) -> SensitivityResult:
    """Sobol and local sensitivities of every analysis (``n_base`` per analysis or one for
    all), the parameter sets evaluated as chunks (:func:`evaluate`) ``where`` asked."""
    log = log or (lambda _: None)
    bases = [n_base] * len(analyses) if isinstance(n_base, int) else list(n_base)
    sobol, local, inputs, outputs, runs = [], [], [], [], []
    for analysis, base in zip(analyses, bases, strict=True):
        problem = analysis.problem
        k = problem["num_vars"]
        log(f"{analysis.name}: {k} inputs, Sobol base sample {base} ({base * (k + 2)} sets) ...")
        function = partial(evaluate, analysis, "sobol", where=where)
        sobol.append(sobol_indices(function, problem, base, seed).assign(analysis=analysis.name))
        local.append(local_sensitivities(analysis, where=where).assign(analysis=analysis.name))
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
