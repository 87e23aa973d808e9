"""A calibration problem: data, observables, noise model, conditions and estimated parameters.

This is the first stage of the pyPESTO order (problem -> objective -> optimise / profile /
sample) and holds what a PEtab problem holds, in fmsim's terms:

* **Conditions**: one simulated typical mouse per condition (a donor's IgG, or a control group),
  with its dose per injection (mg), injection days and the donor's anti-SGC fraction.
* **Observables** (:mod:`fmsim.calibration.observables`): each readout of the mouse model as a
  formula of the model states, the same formula the assays use for the noise-free value.
* **Measurements**: one row per condition, observable and day with a value and the standard
  deviation of its noise (``noise``): for group-level data a group mean with its standard error
  (normal noise), for individual-level data one mouse's value (log-normal noise, sigma on the
  natural-log scale from the readout's between-animal and measurement CVs).
* **Parameters**: the estimated ones, each with nominal value, bounds, scale (log10 for positive
  parameters, lin for readout effects that may be negative) and, for MAP estimation, a normal
  prior on the log10 scale from the parameter file's between-animal CV (median = file value).

Every mistake raises :class:`CalibrationError` with one line naming the field, the value and what
was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fmsim.calibration.observables import OBSERVABLES, readout_parameter_names
from fmsim.experiments.result import StudyError
from fmsim.model.parameters import ParameterSet, load_parameter_set

NOISE_DISTRIBUTIONS = ("normal", "lognormal")
#: Fractions that must stay in [0, 1] (upper bound capped at 1).
FRACTIONS = {"ip_bioavailability", "vascular_reflection", "lymph_reflection"}
#: Width of default bounds: median x exp(+-BOUND_SIGMAS sigma) of the between-animal lognormal;
#: parameters without variability (CV 0) get median / DEFAULT_FOLD to median x DEFAULT_FOLD.
BOUND_SIGMAS = 4.0
DEFAULT_FOLD = 10.0


class CalibrationError(StudyError):
    """A calibration problem or data set that cannot be used; the message is one line (a
    :class:`StudyError`: the command line shows it as a user's mistake, exit code 2)."""


@dataclass(frozen=True)
class Condition:
    """One simulated experimental condition: a typical mouse dosed with a donor's IgG."""

    id: str
    dose_mg: float  # per injection
    injection_days: tuple[float, ...]
    anti_sgc_fraction: float


@dataclass(frozen=True)
class EstimatedParameter:
    """A parameter to estimate. ``scale`` is 'log10' or 'lin'; bounds in natural units; the
    prior (MAP only) is normal on the log10 scale with ``prior_sd`` (None: flat)."""

    name: str
    nominal: float
    lower: float
    upper: float
    scale: str = "log10"
    prior_sd: float | None = None

    def to_scaled(self, value):
        return np.log10(value) if self.scale == "log10" else value

    def from_scaled(self, value):
        return 10.0**value if self.scale == "log10" else value


@dataclass(frozen=True)
class CalibrationProblem:
    """Data, conditions, estimated parameters and the fixed parameter values of one fit.

    ``measurements`` columns: condition, observable, time (days), value, noise (standard
    deviation; on the log scale for log-normal noise), noise_distribution."""

    conditions: tuple[Condition, ...]
    measurements: pd.DataFrame
    parameters: tuple[EstimatedParameter, ...]
    model_parameters: ParameterSet
    method: str = "ml"  # "ml" (maximum likelihood) or "map" (with the priors)
    name: str = "fmsim calibration problem"
    readout_values: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def lower_scaled(self) -> np.ndarray:
        return np.array([p.to_scaled(p.lower) for p in self.parameters])

    @property
    def upper_scaled(self) -> np.ndarray:
        return np.array([p.to_scaled(p.upper) for p in self.parameters])

    @property
    def nominal_scaled(self) -> np.ndarray:
        return np.array([p.to_scaled(p.nominal) for p in self.parameters])

    def to_natural(self, x_scaled: np.ndarray) -> np.ndarray:
        """Parameter values in natural units from scaled ones, shape (..., n_parameters)."""
        x = np.asarray(x_scaled, dtype=float)
        return np.stack([p.from_scaled(x[..., i]) for i, p in enumerate(self.parameters)], -1)


def estimable_names(parameters: ParameterSet) -> list[str]:
    """Every name a fit may estimate: the model parameters and the readout parameters."""
    return [*parameters.parameters, *readout_parameter_names(parameters)]


def nominal_readout_values(parameters: ParameterSet) -> dict[str, float]:
    """Baseline and maximal change of every readout, by parameter id (see observables)."""
    values = {}
    for name, spec in parameters.readouts.items():
        values[f"baseline_{name}"] = spec.baseline
        values[f"max_change_{name}"] = spec.max_change
    return values


def default_parameter(
    name: str,
    parameters: ParameterSet,
    lower: float | None = None,
    upper: float | None = None,
) -> EstimatedParameter:
    """An estimated parameter with defaults from the parameter file: log10 scale, bounds from
    its CV (median x exp(+-4 sigma); x/÷ 10 without CV), prior sd = sigma / ln 10 (none without
    CV). Readout effects (``max_change_*``) are on a linear scale between 0 and twice the file
    value (capped at -0.95, where the readout would reach zero)."""
    readouts = nominal_readout_values(parameters)
    if name in parameters.parameters:
        p = parameters[name]
        nominal, cv = p.value, p.cv
    elif name in readouts:
        nominal, cv = readouts[name], 0.0
    else:
        raise CalibrationError(
            f"parameters: {name!r} is not a parameter of the model; expected one of "
            f"{estimable_names(parameters)}"
        )
    if name.startswith("max_change_"):
        low, high = sorted((0.0, max(2.0 * nominal, -0.95) if nominal < 0 else 2.0 * nominal))
        if nominal == 0.0:
            low, high = -0.95, 1.0
        return EstimatedParameter(
            name, nominal, _given(lower, low), _given(upper, high), scale="lin"
        )
    if nominal <= 0:
        raise CalibrationError(
            f"parameters: {name!r} has value {nominal:g} in the parameter file; only positive "
            "parameters can be estimated on the log scale"
        )
    sigma = math.sqrt(math.log1p(cv**2)) if cv > 0 else 0.0
    fold = math.exp(BOUND_SIGMAS * sigma) if sigma > 0 else DEFAULT_FOLD
    high = nominal * fold
    if name in FRACTIONS:
        high = min(high, 1.0)
    prior = sigma / math.log(10.0) if sigma > 0 else None
    return EstimatedParameter(
        name, nominal, _given(lower, nominal / fold), _given(upper, high), "log10", prior
    )


def _given(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def make_problem(
    conditions: list[Condition],
    measurements: pd.DataFrame,
    estimate: list[EstimatedParameter | str],
    model_parameters: ParameterSet | None = None,
    method: str = "ml",
    name: str = "fmsim calibration problem",
) -> CalibrationProblem:
    """Validate and assemble a problem; raises :class:`CalibrationError` (one line) for an
    unknown observable or condition, negative or missing noise, inverted bounds, a parameter
    that is not in the model, a non-finite value, or fewer data points than parameters."""
    model_parameters = model_parameters or load_parameter_set()
    if method not in ("ml", "map"):
        raise CalibrationError(f"method: got {method!r}; expected 'ml' or 'map'")
    parameters = tuple(
        p if isinstance(p, EstimatedParameter) else default_parameter(p, model_parameters)
        for p in estimate
    )
    if not parameters:
        raise CalibrationError("parameters: nothing to estimate; name at least one parameter")
    known = set(estimable_names(model_parameters))
    for p in parameters:
        if p.name not in known:
            raise CalibrationError(
                f"parameters: {p.name!r} is not a parameter of the model; expected one of "
                f"{sorted(known)}"
            )
        if not p.lower < p.upper:
            raise CalibrationError(
                f"parameters.{p.name}: bounds [{p.lower:g}, {p.upper:g}] are inverted or empty; "
                "expected lower < upper"
            )
        if p.scale == "log10" and p.lower <= 0:
            raise CalibrationError(
                f"parameters.{p.name}: lower bound {p.lower:g} must be > 0 on the log10 scale"
            )
        if not p.lower <= p.nominal <= p.upper:
            raise CalibrationError(
                f"parameters.{p.name}: nominal value {p.nominal:g} lies outside its bounds "
                f"[{p.lower:g}, {p.upper:g}]"
            )
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise CalibrationError(f"parameters: names repeat: {names}")
    data = _check_measurements(measurements, {c.id for c in conditions})
    if len(data) <= len(parameters):
        raise CalibrationError(
            f"measurements: {len(data)} data point(s) for {len(parameters)} parameter(s); "
            "need more data points than estimated parameters"
        )
    return CalibrationProblem(
        tuple(conditions),
        data,
        parameters,
        model_parameters,
        method,
        name,
        nominal_readout_values(model_parameters),
    )


def _check_measurements(measurements: pd.DataFrame, condition_ids: set[str]) -> pd.DataFrame:
    required = ["condition", "observable", "time", "value", "noise", "noise_distribution"]
    missing = [c for c in required if c not in measurements.columns]
    if missing:
        raise CalibrationError(f"measurements: missing column(s) {missing}; expected {required}")
    data = measurements[required].reset_index(drop=True).copy()
    for row, record in enumerate(data.itertuples(index=False), start=1):
        where = f"measurements row {row}"
        if record.observable not in OBSERVABLES:
            raise CalibrationError(
                f"{where}: observable {record.observable!r} is unknown; expected one of "
                f"{sorted(OBSERVABLES)}"
            )
        if record.condition not in condition_ids:
            raise CalibrationError(
                f"{where}: condition {record.condition!r} is unknown; expected one of "
                f"{sorted(condition_ids)}"
            )
        if record.noise_distribution not in NOISE_DISTRIBUTIONS:
            raise CalibrationError(
                f"{where}: noise_distribution {record.noise_distribution!r}; expected one of "
                f"{list(NOISE_DISTRIBUTIONS)}"
            )
        if not (np.isfinite(record.noise) and record.noise > 0):
            raise CalibrationError(
                f"{where}: noise {record.noise!r} ({record.observable}); expected a standard "
                "deviation > 0"
            )
        if not (np.isfinite(record.time) and record.time >= 0):
            raise CalibrationError(f"{where}: time {record.time!r}; expected a day >= 0")
        if not np.isfinite(record.value):
            raise CalibrationError(f"{where}: value {record.value!r}; expected a number")
        if record.noise_distribution == "lognormal" and record.value <= 0:
            raise CalibrationError(
                f"{where}: value {record.value!r} with log-normal noise; expected a value > 0"
            )
    return data.astype({"time": float, "value": float, "noise": float})
