"""Global (Sobol) and local sensitivity of key passive-transfer outputs to uncertain parameters.

Inputs: every mouse parameter with a between-animal CV in the parameter file, drawn from its
lognormal distribution (median = file value, CV as stated), and the donor's anti-SGC fraction,
uniform over the range of the default donors (0.0048-0.0102). Outputs, for a typical mouse dosed
as in Goebel et al. 2021 (8 mg i.p. on days 0-3):

* ``peak_mechanical_percent``: largest fall of the paw-pressure threshold (% of baseline);
* ``hypersensitivity_days``: time during which the fall exceeds 10 % of baseline (days; linear
  interpolation between the points of a 0.25-day grid);
* ``donor_detection_probability``: probability that a donor's 4 mice differ from 24 HC-IgG
  mice (Welch t-test, two-sided 5 %) in the mean paw-pressure change over days 1-10 (test days
  1, 2, 3, 5, 7, 10). The spread of that change between mice combines the readout's
  measurement noise and the between-animal variability of the model parameters around the
  sampled values (an inner population of :data:`INNER_MICE` virtual mice per sample, drawn with
  the parameter file's CVs); the power is then the non-central t approximation
  (:func:`detection_probability`).

Sobol indices (first and total order, Saltelli/Jansen estimators with bootstrap 95 % intervals)
come from SALib on its Sobol' sequence; all model evaluations of one analysis are one batch of
the compiled engine. Local sensitivities are normalised central differences
``d ln(output) / d ln(parameter)`` at the medians, and the one-at-a-time tornado swings each
parameter to the 5th and 95th percentiles of its distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample
from scipy import stats

from fmsim.engine import Bolus, run
from fmsim.model.equations import MODEL, build_subjects, initial_state
from fmsim.model.parameters import ParameterSet, load_parameter_set

INJECTION_DAYS = (0.0, 1.0, 2.0, 3.0)
DOSE_MG = 8.0
FRACTION_RANGE = (0.0048, 0.0102)  # anti-SGC fractions of the default FMS donors
TEST_DAYS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
DONOR_MICE, CONTROL_MICE = 4, 24
HYPERSENSITIVE = 10.0  # % fall of the paw-pressure threshold counted as hypersensitive
HORIZON = 42.0
STEP = 0.25
INNER_MICE = 16  # virtual mice per sample for the between-animal spread of the effect
OUTPUTS = ("peak_mechanical_percent", "hypersensitivity_days", "donor_detection_probability")
FRACTION = "anti_sgc_fraction"


@dataclass(frozen=True)
class SensitivityResult:
    """``sobol``: output, parameter, S1, S1_conf, ST, ST_conf (conf = half-width of the 95 %
    bootstrap interval). ``local``: output, parameter, elasticity, low, high (output at the
    parameter's 5th / 95th percentile, others at their medians), nominal."""

    sobol: pd.DataFrame
    local: pd.DataFrame
    n_base: int
    n_evaluations: int


def uncertain_parameters(parameters: ParameterSet) -> list[str]:
    """Model parameters with a between-animal CV (their stated uncertainty)."""
    return [name for name, p in parameters.parameters.items() if p.cv > 0 and p.value > 0]


def salib_problem(parameters: ParameterSet) -> dict:
    """SALib's problem: lognormal parameters (log-mean, log-sd) and the uniform fraction."""
    names = uncertain_parameters(parameters)
    bounds, dists = [], []
    for name in names:
        p = parameters[name]
        bounds.append([math.log(p.value), math.sqrt(math.log1p(p.cv**2))])
        dists.append("lognorm")
    return {
        "num_vars": len(names) + 1,
        "names": [*names, FRACTION],
        "bounds": [*bounds, list(FRACTION_RANGE)],
        "dists": [*dists, "unif"],
    }


def passive_transfer_outputs(
    samples: pd.DataFrame, parameters: ParameterSet, inner: int = INNER_MICE, seed: int = 0
) -> pd.DataFrame:
    """The outputs (see module doc) for each row of parameter values, one engine batch:
    the typical mouse of every row and ``inner`` virtual mice around it."""
    n = len(samples)
    rng = np.random.default_rng(seed)
    typical = {name: np.full(n, p.value) for name, p in parameters.parameters.items()}
    for name in samples.columns:
        if name != FRACTION:
            typical[name] = samples[name].to_numpy(float)
    values = {name: np.repeat(v, 1 + inner) for name, v in typical.items()}
    # the same virtual mice (relative deviations) around every sample: common random numbers
    variation = parameters.sample(inner, rng)
    for name, p in parameters.parameters.items():
        if p.cv > 0 and p.value > 0:
            factors = np.concatenate([[1.0], variation[name] / p.value])
            values[name] = values[name] * np.tile(factors, n)
    for name in ("ip_bioavailability", "vascular_reflection", "lymph_reflection"):
        values[name] = np.minimum(values[name], 1.0)
    fraction = np.repeat(samples[FRACTION].to_numpy(float), 1 + inner)
    subjects = build_subjects(values, fraction)
    times = np.arange(0.0, HORIZON + STEP / 2, STEP)
    doses = [Bolus(d, MODEL.index("human_ip_depot"), DOSE_MG) for d in INJECTION_DAYS]
    result = run(MODEL, subjects, initial_state(subjects), times, doses)
    spec = parameters.readouts["paw_pressure_threshold"]
    excess = result.states[:, MODEL.index("sensitisation"), :] - 1.0
    fall = -100.0 * spec.max_change * excess / values["sensitisation_emax"]  # % of baseline
    fall = fall.reshape(times.size, n, 1 + inner)
    window = fall[np.searchsorted(times, TEST_DAYS)].mean(axis=0)  # (n, 1 + inner)
    return pd.DataFrame(
        {
            "peak_mechanical_percent": fall[:, :, 0].max(axis=0),
            "hypersensitivity_days": time_above(fall[:, :, 0], HYPERSENSITIVE, STEP),
            "donor_detection_probability": detection_probability(
                window[:, 1:].mean(axis=1),
                spec.measurement_cv,
                len(TEST_DAYS),
                between_sd=window[:, 1:].std(axis=1, ddof=1),
            ),
        }
    )


def time_above(curves: np.ndarray, threshold: float, step: float) -> np.ndarray:
    """Time (grid units x ``step``) each column of ``curves`` (time, n) spends above
    ``threshold``, with linear interpolation inside the grid intervals that cross it."""
    a, b = curves[:-1], curves[1:]
    both = (a > threshold) & (b > threshold)
    crossing = (a > threshold) != (b > threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = (np.maximum(a, b) - threshold) / np.abs(b - a)
    return step * (both.sum(axis=0) + np.where(crossing, part, 0.0).sum(axis=0))


def detection_probability(
    mean_fall_percent: np.ndarray,
    measurement_cv: float,
    n_days: int,
    n_donor: int = DONOR_MICE,
    n_control: int = CONTROL_MICE,
    alpha: float = 0.05,
    between_sd: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Power of the donor-level test: a mouse's mean % change over ``n_days`` test days
    against its own baseline has measurement SD ``100 sqrt(ln(1 + cv^2) (1 + 1/n_days))``
    (log-normal noise, the animal's baseline cancels); donor mice add ``between_sd`` (% points,
    the spread of the effect between mice). The t statistic of the difference of group means
    is taken as non-central t with Welch-Satterthwaite degrees of freedom."""
    noise = 100.0 * math.sqrt(math.log1p(measurement_cv**2) * (1.0 + 1.0 / n_days))
    a = (noise**2 + np.asarray(between_sd, dtype=float) ** 2) / n_donor
    b = noise**2 / n_control
    se = np.sqrt(a + b)
    df = (a + b) ** 2 / (a**2 / (n_donor - 1) + b**2 / (n_control - 1))
    critical = stats.t.ppf(1.0 - alpha / 2.0, df)
    shift = np.asarray(mean_fall_percent, dtype=float) / se
    with np.errstate(all="ignore"):
        power = stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)
    # scipy's non-central t fails (NaN) far in the tail, where the power is 1 up to 1e-10
    normal = stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift)
    return np.where(np.isfinite(power), power, normal)


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


def local_sensitivities(parameters: ParameterSet, step: float = 0.01) -> pd.DataFrame:
    """Elasticities at the medians and the 5th-95th percentile swings (tornado), one batch."""
    problem = salib_problem(parameters)
    names = problem["names"]
    nominal = {n: parameters[n].value for n in names if n != FRACTION}
    nominal[FRACTION] = float(np.mean(FRACTION_RANGE))
    z = stats.norm.ppf(0.95)
    rows = [dict(nominal)]
    for name, bounds in zip(names, problem["bounds"], strict=True):
        for factor in (math.exp(step), math.exp(-step)):
            rows.append(nominal | {name: nominal[name] * factor})
        if name == FRACTION:
            low, high = FRACTION_RANGE
        else:
            low, high = (math.exp(bounds[0] + s * z * bounds[1]) for s in (-1, 1))
        rows += [nominal | {name: low}, nominal | {name: high}]
    outputs = passive_transfer_outputs(pd.DataFrame(rows), parameters, inner=64)
    base = outputs.iloc[0]
    table = []
    for k, name in enumerate(names):
        up, down, low, high = (outputs.iloc[1 + 4 * k + j] for j in range(4))
        for output in OUTPUTS:
            with np.errstate(divide="ignore", invalid="ignore"):
                elasticity = (np.log(up[output]) - np.log(down[output])) / (2 * step)
            table.append(
                {
                    "output": output,
                    "parameter": name,
                    "elasticity": float(elasticity) if np.isfinite(elasticity) else 0.0,
                    "low": low[output],
                    "high": high[output],
                    "nominal": base[output],
                }
            )
    return pd.DataFrame(table)


def run_sensitivity(
    n_base: int = 256, seed: int = 0, parameters: ParameterSet | None = None
) -> SensitivityResult:
    """Sobol and local sensitivities of :data:`OUTPUTS` over the uncertain parameters."""
    parameters = parameters or load_parameter_set()
    problem = salib_problem(parameters)
    indices = sobol_indices(
        lambda frame: passive_transfer_outputs(frame, parameters), problem, n_base, seed
    )
    return SensitivityResult(
        indices,
        local_sensitivities(parameters),
        n_base,
        n_base * (problem["num_vars"] + 2),
    )
