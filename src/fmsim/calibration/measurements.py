"""From a passive-transfer design and lab data (fmsim's tidy format) to a calibration problem.

Conditions: one per donor of each IgG group of the design (``<group>|<donor>``), or one per group
when the data have no ``donor`` column (the group's mean anti-SGC fraction then stands for its
donors); saline and IgG-depleted serum give no human IgG.

Measurements, two levels:

* ``group``: the mean of each condition, test and day with its standard error as the standard
  deviation of normal noise: the between-mouse standard deviation pooled over the test's
  conditions and days over the square root of the number of mice (at least 2 per mean);
* ``individual``: every mouse's value with log-normal noise whose sigma combines the readout's
  between-animal and measurement CVs from the parameter file,
  ``sqrt(ln(1 + cv_animal^2) + ln(1 + cv_measurement^2))`` (mice are pooled; there are no
  random effects).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.calibration.observables import OBSERVABLES
from fmsim.calibration.problem import (
    CalibrationError,
    CalibrationProblem,
    Condition,
    EstimatedParameter,
    default_parameter,
    make_problem,
)
from fmsim.config import PassiveTransferConfig, default_config, load_config
from fmsim.config.fit import FitConfig, load_fit_config
from fmsim.io.lab_data import read_lab_data
from fmsim.model.parameters import ParameterSet, load_parameter_set

LEVELS = ("group", "individual")


def condition_id(group: str, donor: str | None) -> str:
    """A condition id that is a valid SBML/PEtab id, e.g. ``c_FMS_IgG__FMS1``."""
    text = group if donor is None else f"{group}__{donor}"
    return "c_" + re.sub(r"\W", "_", text, flags=re.ASCII)


def design_conditions(
    config: PassiveTransferConfig, by_donor: bool, parameters: ParameterSet | None = None
) -> dict[tuple[str, str | None], Condition]:
    """Conditions of a design keyed by (group, donor) (donor None when not ``by_donor``)."""
    parameters = parameters or load_parameter_set()
    value, unit = config.dose_quantity()
    dose = value * (parameters["body_weight"].value / 1000.0 if unit == "mg/kg" else 1.0)
    days = tuple(float(d) for d in config.injection_days)
    out = {}
    for group in config.groups:
        gets_igg = group.material == "igg"
        donors = group.donors if by_donor and group.donors else [None]
        for donor in donors:
            if donor is None:
                fractions = [d.anti_sgc_fraction for d in group.donors] or [0.0]
                fraction = float(np.mean(fractions)) if gets_igg else 0.0
            else:
                fraction = donor.anti_sgc_fraction if gets_igg else 0.0
            key = (group.name, donor.id if donor else None)
            out[key] = Condition(
                condition_id(*key), dose if gets_igg else 0.0, days if gets_igg else (), fraction
            )
    return out


def measurements_from_lab_data(
    data: pd.DataFrame,
    config: PassiveTransferConfig,
    level: str = "group",
    tests: list[str] | None = None,
    parameters: ParameterSet | None = None,
) -> tuple[list[Condition], pd.DataFrame]:
    """Conditions and a measurement table for :func:`make_problem` from tidy lab data
    (columns mouse, group, day, test, value; ``donor`` optional)."""
    parameters = parameters or load_parameter_set()
    if level not in LEVELS:
        raise CalibrationError(f"level: got {level!r}; expected one of {list(LEVELS)}")
    missing = [c for c in ("mouse", "group", "day", "test", "value") if c not in data.columns]
    if missing:
        raise CalibrationError(f"data: missing column(s) {missing}")
    by_donor = "donor" in data.columns
    conditions = design_conditions(config, by_donor, parameters)
    data = data[np.isfinite(pd.to_numeric(data["value"], errors="coerce"))].copy()
    if tests is not None:
        unknown = sorted(set(tests) - set(OBSERVABLES))
        if unknown:
            raise CalibrationError(
                f"tests: {unknown} are not observables; expected any of {sorted(OBSERVABLES)}"
            )
        data = data[data["test"].isin(tests)]
    unknown = sorted(set(data["test"]) - set(OBSERVABLES))
    if unknown:
        raise CalibrationError(
            f"data: test(s) {unknown} have no observable; expected any of {sorted(OBSERVABLES)}"
        )
    keys = list(zip(data["group"], data["donor"] if by_donor else [None] * len(data), strict=True))
    keys = [(g, d if (g, d) in conditions else None) for g, d in keys]
    unknown_keys = sorted({f"{g}/{d}" for g, d in keys if (g, d) not in conditions})
    if unknown_keys:
        raise CalibrationError(
            f"data: group/donor {unknown_keys[0]} is not in the design; groups: "
            f"{[g.name for g in config.groups]}"
        )
    data["condition"] = [conditions[k].id for k in keys]
    data = data.rename(columns={"test": "observable", "day": "time"})
    if level == "group":
        table = _group_means(data)
    else:
        sigma = {
            name: math.sqrt(math.log1p(s.animal_cv**2) + math.log1p(s.measurement_cv**2))
            for name, s in parameters.readouts.items()
        }
        table = data.assign(noise=data["observable"].map(sigma), noise_distribution="lognormal")[
            ["condition", "observable", "time", "value", "noise", "noise_distribution"]
        ]
    used = set(table["condition"])
    return [c for c in conditions.values() if c.id in used], table.reset_index(drop=True)


def _group_means(data: pd.DataFrame) -> pd.DataFrame:
    """Means per condition, observable and day; standard error from the standard deviation
    pooled over all conditions and days of the observable (small groups give unreliable
    standard deviations of their own)."""
    grouped = data.groupby(["condition", "observable", "time"], sort=False)["value"]
    table = grouped.agg(["mean", "var", "count"]).reset_index()
    small = table[table["count"] < 2]
    if len(small):
        row = small.iloc[0]
        raise CalibrationError(
            f"data: condition {row['condition']}, {row['observable']}, day {row['time']:g} has "
            f"{int(row['count'])} mouse; group-level fitting needs at least 2 per mean "
            "(or use level 'individual')"
        )
    degrees = table["count"] - 1
    pooled = (table["var"] * degrees).groupby(table["observable"]).sum() / degrees.groupby(
        table["observable"]
    ).sum()
    zero = pooled[~(pooled > 0)]
    if len(zero):
        raise CalibrationError(
            f"data: {zero.index[0]} has no spread between mice; a standard error cannot be "
            "estimated (use level 'individual')"
        )
    table["noise"] = np.sqrt(table["observable"].map(pooled) / table["count"])
    return table.rename(columns={"mean": "value"}).assign(noise_distribution="normal")[
        ["condition", "observable", "time", "value", "noise", "noise_distribution"]
    ]


def problem_from_lab_data(
    data: pd.DataFrame,
    config: PassiveTransferConfig,
    estimate: list[EstimatedParameter | str],
    level: str = "group",
    method: str = "ml",
    tests: list[str] | None = None,
    parameters: ParameterSet | None = None,
) -> CalibrationProblem:
    """A calibration problem for lab ``data`` of an experiment run with design ``config``."""
    parameters = (parameters or load_parameter_set()).with_values(**config.parameters)
    conditions, table = measurements_from_lab_data(data, config, level, tests, parameters)
    return make_problem(conditions, table, estimate, parameters, method, name=config.name)


def load_fit_problem(data_path: Path, config_path: Path) -> tuple[FitConfig, CalibrationProblem]:
    """The fit settings and calibration problem of a lab data file and a fit YAML (see
    :mod:`fmsim.config.fit`). Raises ConfigError, LabDataError or CalibrationError with one
    line; rows of the data file with errors stop with the first of them."""
    settings = load_fit_config(config_path)
    design = (
        default_config()
        if settings.scenario == "default"
        else load_config(config_path.parent / settings.scenario)
    )
    clean, issues = read_lab_data(data_path)
    errors = [issue for issue in issues if issue.action == "error"]
    if errors:
        raise CalibrationError(
            f"{len(errors)} row(s) with errors in the data, first: {errors[0].line()}"
        )
    parameters = load_parameter_set().with_values(**design.parameters)
    try:
        estimate = [
            default_parameter(p.name, parameters, p.lower, p.upper) for p in settings.estimate
        ]
    except CalibrationError as error:  # a name the model does not have: the fit YAML's mistake
        raise CalibrationError(f"{config_path}: {error}") from None
    try:
        problem = problem_from_lab_data(
            clean, design, estimate, settings.level, settings.method, settings.tests, parameters
        )
    except CalibrationError as error:
        raise CalibrationError(f"{data_path}: {error}") from None
    return settings, problem
