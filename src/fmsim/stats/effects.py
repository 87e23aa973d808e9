"""Treatment effects and the input checks shared by the trial analyses.

:class:`TreatmentEffect` is what every single-trial analysis returns (:mod:`fmsim.stats.trial`,
:mod:`fmsim.stats.mmrm`, :mod:`fmsim.stats.crossover`); the ``check_*`` functions turn a
malformed visits or crossover table into a one-line :class:`ValueError` naming the column.
The table contracts are described in :mod:`fmsim.stats.trial`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.stats.repeated_measures import check_frame

VISIT_COLUMNS: tuple[str, ...] = ("patient", "arm", "week", "value")
CROSSOVER_COLUMNS: tuple[str, ...] = ("patient", "sequence", "period", "treatment", "value")
CI_LEVEL = 0.95
BASELINE_WEEK = 0


@dataclass(frozen=True)
class TreatmentEffect:
    """Treatment-versus-control effect on one endpoint.

    Attributes
    ----------
    estimate
        Treatment minus control: outcome units for continuous endpoints (negative
        favours treatment), difference in responder proportions for responder endpoints.
    ci_low, ci_high
        Two-sided 95 % confidence interval of ``estimate`` (same units).
    p_value
        Two-sided p-value for no difference.
    n_analysed
        Patients contributing to the analysis, per arm (or per treatment for crossovers).
    method
        One sentence naming exactly what was fitted (for a methods section).
    endpoint
        What ``estimate`` refers to, e.g. ``"change from baseline at week 12"``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_analysed: dict[str, int]
    method: str
    endpoint: str


# --------------------------------------------------------------------------- validation


def check_labels(df: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for col in columns:
        if df[col].isna().any():
            raise ValueError(f"{name} column '{col}' contains missing values; expected a label")


def check_numeric(df: pd.DataFrame, name: str, col: str, *, integer: bool) -> None:
    """Numeric column; NaN allowed unless ``integer`` (then finite whole numbers)."""
    if pd.api.types.is_bool_dtype(df[col]) or not pd.api.types.is_numeric_dtype(df[col]):
        raise ValueError(f"{name} column '{col}' must be numeric, got dtype {df[col].dtype}")
    values = df[col].to_numpy(dtype=float)
    if integer:
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(f"{name} column '{col}' must hold whole numbers (no NaN)")
    elif np.any(np.isinf(values)):
        raise ValueError(f"{name} column '{col}' contains infinite values; use NaN for missing")


def check_constant_within(df: pd.DataFrame, name: str, col: str) -> None:
    per_patient = df.groupby("patient", sort=False)[col].nunique()
    ambiguous = per_patient[per_patient > 1].index.tolist()
    if ambiguous:
        raise ValueError(
            f"{name} column '{col}': patients {ambiguous[:5]} have more than one {col}; "
            f"expected one {col} per patient"
        )


def check_unique(df: pd.DataFrame, name: str, key: str) -> None:
    duplicated = df.duplicated(subset=["patient", key], keep=False)
    if duplicated.any():
        pairs = df.loc[duplicated, ["patient", key]].drop_duplicates().values.tolist()
        raise ValueError(
            f"{name} columns 'patient'/'{key}': duplicate rows for (patient, {key}) "
            f"{pairs[:5]}; expected at most one row per patient and {key}"
        )


def check_levels(df: pd.DataFrame, name: str, col: str, first: str, second: str) -> None:
    if first == second:
        raise ValueError(f"{name}: control and treatment {col} are both {first!r}")
    present = list(pd.unique(df[col]))
    for level in (first, second):
        if level not in present:
            raise ValueError(f"{name} column '{col}' has no {level!r}; expected one of {present}")


def validate_visits(
    visits: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> pd.DataFrame:
    """Check a visits table; return the two arms' rows with integer ``week``."""
    name = "visits"
    check_frame(visits, name, VISIT_COLUMNS, "patient and week")
    df = visits.loc[:, list(VISIT_COLUMNS)].reset_index(drop=True).copy()
    check_labels(df, name, ("patient", "arm"))
    check_numeric(df, name, "week", integer=True)
    check_numeric(df, name, "value", integer=False)
    df["week"] = df["week"].astype(int)
    check_constant_within(df, name, "arm")
    check_unique(df, name, "week")
    check_levels(df, name, "arm", control_arm, treatment_arm)
    weeks = sorted(pd.unique(df["week"]).tolist())
    if BASELINE_WEEK not in weeks:
        raise ValueError(
            f"visits column 'week' has no baseline rows (week {BASELINE_WEEK}); found weeks {weeks}"
        )
    if endpoint_week == BASELINE_WEEK or endpoint_week not in weeks:
        raise ValueError(
            f"endpoint_week={endpoint_week!r} is not a post-baseline week in column "
            f"'week'; expected one of {[w for w in weeks if w != BASELINE_WEEK]}"
        )
    return df[df["arm"].isin([control_arm, treatment_arm])].reset_index(drop=True)


def change_from_baseline(df: pd.DataFrame, treatment_arm: str) -> pd.DataFrame:
    """Post-baseline rows with ``baseline``, ``change`` and 0/1 ``treated`` columns."""
    baseline = df.loc[df["week"] == BASELINE_WEEK].set_index("patient")["value"]
    post = df.loc[df["week"] != BASELINE_WEEK].copy()
    post["baseline"] = post["patient"].map(baseline).astype(float)
    post["change"] = post["value"] - post["baseline"]
    post["treated"] = (post["arm"] == treatment_arm).astype(float)
    return post


def endpoint_cases(
    post: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> pd.DataFrame:
    """Patients with baseline and endpoint value; checks the ANCOVA design is estimable."""
    cases = post.loc[(post["week"] == endpoint_week) & post["change"].notna()]
    for arm in (control_arm, treatment_arm):
        n = int((cases["arm"] == arm).sum())
        if n < 2:
            raise ValueError(
                f"visits column 'arm': arm {arm!r} has {n} patient(s) with both a baseline "
                f"and a week-{endpoint_week} value; expected at least 2"
            )
    design = cases[["treated", "baseline"]].assign(intercept=1.0).to_numpy()
    if np.linalg.matrix_rank(design) < 3:
        raise ValueError(
            f"visits column 'value': the week-{BASELINE_WEEK} baselines of the patients "
            f"observed at week {endpoint_week} are collinear with arm (e.g. constant within "
            "each arm), so the baseline adjustment is not estimable"
        )
    return cases


def arm_counts(patients: pd.DataFrame, arms: tuple[str, str]) -> dict[str, int]:
    """Number of distinct patients per arm in ``patients`` (columns patient, arm)."""
    unique = patients.drop_duplicates("patient")
    return {arm: int((unique["arm"] == arm).sum()) for arm in arms}


def t_tests(estimate, se, df) -> dict[str, np.ndarray]:
    """Two-sided t-based 95 % CI (``ci_low``, ``ci_high``) and ``p_value`` of estimates with
    standard errors ``se`` on ``df`` degrees of freedom (scalars or arrays)."""
    half = stats.t.ppf(0.5 + CI_LEVEL / 2, df) * se
    return {
        "ci_low": estimate - half,
        "ci_high": estimate + half,
        "p_value": 2 * stats.t.sf(np.abs(estimate) / se, df),
    }


def t_effect(
    estimate: float, se: float, df: float, n: dict[str, int], method: str, endpoint: str
) -> TreatmentEffect:
    tests = t_tests(estimate, se, df)
    return TreatmentEffect(
        estimate=float(estimate),
        ci_low=float(tests["ci_low"]),
        ci_high=float(tests["ci_high"]),
        p_value=float(tests["p_value"]),
        n_analysed=n,
        method=method,
        endpoint=endpoint,
    )


def replicate_changes(
    visits: pd.DataFrame, control_arm: str, treatment_arm: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check a visits table of many replicate trials (the visits columns plus ``replicate``;
    patients identified by replicate and patient) and return the two arms' rows and their
    post-baseline rows with ``baseline``, ``change`` (NaN where either is missing) and 0/1
    ``treated`` columns."""
    name = "visits"
    required = ("replicate", "patient", "arm", "week", "value")
    check_frame(visits, name, required, "replicate, patient and week")
    df = visits.loc[:, list(required)]
    check_labels(df, name, ("replicate", "patient", "arm"))
    check_numeric(df, name, "week", integer=True)
    check_numeric(df, name, "value", integer=False)
    keys = ["replicate", "patient"]
    duplicated = df.duplicated(subset=[*keys, "week"])
    if duplicated.any():
        first = df.loc[duplicated, [*keys, "week"]].iloc[0].tolist()
        raise ValueError(
            f"{name} columns 'replicate'/'patient'/'week': duplicate rows, e.g. {first}; "
            "expected at most one row per replicate, patient and week"
        )
    check_levels(df, name, "arm", control_arm, treatment_arm)
    df = df.loc[df["arm"].isin([control_arm, treatment_arm])]
    baseline = df.loc[df["week"] == BASELINE_WEEK].set_index(keys)["value"]
    post = df.loc[df["week"] != BASELINE_WEEK].copy()
    post["baseline"] = baseline.reindex(pd.MultiIndex.from_frame(post[keys])).to_numpy()
    post["change"] = post["value"] - post["baseline"]
    post["treated"] = (post["arm"] == treatment_arm).astype(float)
    return df, post
