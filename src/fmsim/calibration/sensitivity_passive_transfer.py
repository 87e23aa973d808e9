"""Sensitivity analysis ``passive_transfer``: the mouse passive-transfer experiment.

Inputs: every mouse parameter with a between-animal CV (lognormal, median = file value) and the
donor's anti-SGC fraction (uniform over the default donors, 0.0048-0.0102). For a typical mouse
dosed as in Goebel et al. 2021 (8 mg i.p. on days 0-3):

* ``peak_mechanical_percent``: largest fall of the paw-pressure threshold (% of baseline);
* ``hypersensitivity_days``: time with a fall above 10 % (days; linear interpolation on a
  0.25-day grid);
* ``donor_detection_probability``: probability that a donor's 4 mice differ from 24 HC-IgG mice
  (Welch t-test, two-sided 5 %) in the mean paw-pressure change over days 1-10, from the
  measurement noise and the spread of the effect between :data:`INNER_MICE` virtual mice per
  sample (non-central t, :func:`detection_probability`). The virtual mice are the same relative
  deviations around every sample (common random numbers, seed 0).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.calibration.sensitivity import Analysis, lognormal_input, uncertain_parameters
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
FRACTION = "anti_sgc_fraction"
MOUSE_OUTPUTS = {
    "peak_mechanical_percent": ("%", "largest fall of the paw-pressure threshold"),
    "hypersensitivity_days": ("day", "time with a paw-pressure fall above 10 %"),
    "donor_detection_probability": (
        "1",
        "probability that a donor's 4 mice differ from 24 HC-IgG mice (Welch, 5 %)",
    ),
}


def salib_problem(parameters: ParameterSet) -> dict:
    """SALib's problem: lognormal parameters (log-median, log-sd) and the uniform fraction."""
    names = uncertain_parameters(parameters)
    inputs = [lognormal_input(parameters[n].value, parameters[n].cv) for n in names]
    return {
        "num_vars": len(names) + 1,
        "names": [*names, FRACTION],
        "bounds": [*(b for b, _ in inputs), list(FRACTION_RANGE)],
        "dists": [*(d for _, d in inputs), "unif"],
    }


def passive_transfer_outputs(
    samples: pd.DataFrame, parameters: ParameterSet, inner: int = INNER_MICE, seed: int = 0
) -> pd.DataFrame:
    """The mouse outputs (see module doc) for each row of parameter values, one engine batch:
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


def passive_transfer_analysis(parameters: ParameterSet | None = None) -> Analysis:
    """Mouse passive-transfer outputs over the mouse parameters' stated CVs."""
    parameters = parameters or load_parameter_set()
    problem = salib_problem(parameters)
    sources = {n: parameters[n].source for n in problem["names"] if n != FRACTION}
    sources[FRACTION] = "range of the default FMS donors' anti-SGC fractions (docs/calibration.md)"
    return Analysis(
        "passive_transfer",
        f"typical mouse, {DOSE_MG:g} mg human IgG i.p. on days 0-3 (Goebel 2021 design)",
        problem,
        MOUSE_OUTPUTS,
        partial(passive_transfer_outputs, parameters=parameters),
        sources,
        chunk_sets=512,  # x 17 mice
    )
