"""Treatment-effect analyses of virtual (simulated) clinical trials in fibromyalgia.

Every function works on tidy :class:`pandas.DataFrame` tables only; nothing here knows
about the model that produced them.

Parallel-group visits table (:func:`ancova`, :func:`mmrm`, :func:`responder_analysis`)
    ``patient``
        Patient identifier (string).
    ``arm``
        Randomised arm (string), e.g. ``"placebo"``; constant within a patient.
    ``week``
        Visit week (integer); ``0`` is the baseline visit.
    ``value``
        The outcome in its own units, lower = better: pain NRS (0-10), BPI-SF pain
        interference (0-10) or FIQR total (0-100). A NaN value or an absent row is a
        missing visit (e.g. after dropout).

    One row per patient and week at most. :func:`weekly_means` builds this table from a
    daily diary.

Crossover table (:func:`crossover_effect`)
    ``patient``, ``sequence`` (string, e.g. ``"AB"``; constant within a patient),
    ``period`` (integer, 1, 2, ...), ``treatment`` (string), ``value`` (period summary
    in outcome units, e.g. the mean pain NRS of the last weeks of the period; NaN =
    missing) and optionally ``baseline`` (outcome units; period or patient baseline).
    One row per patient and period at most.

Sign convention: continuous effects are treatment minus control in outcome units, so a
negative estimate favours the treatment; responder effects are differences in
proportions (treatment minus control), so a positive estimate favours the treatment.
All confidence intervals are two-sided 95 % intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from numpy.typing import ArrayLike
from scipy import optimize, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from fmsim.stats.crossover import crossover_effect, crossover_effects
from fmsim.stats.effects import (
    BASELINE_WEEK,
    CI_LEVEL,
    TreatmentEffect,
    arm_counts,
    change_from_baseline,
    check_constant_within,
    check_labels,
    check_numeric,
    check_unique,
    endpoint_cases,
    replicate_changes,
    t_effect,
    t_tests,
    validate_visits,
)
from fmsim.stats.grouped import grouped_gram
from fmsim.stats.mmrm import mmrm, mmrm_effects
from fmsim.stats.repeated_measures import check_frame

__all__ = [
    "PowerEstimate",
    "ResponderAnalysis",
    "TreatmentEffect",
    "ancova",
    "ancova_effects",
    "crossover_effect",
    "crossover_effects",
    "mmrm",
    "mmrm_effects",
    "power_from_replicates",
    "required_sample_size",
    "responder_analysis",
    "responder_effects",
    "weekly_means",
]

DIARY_COLUMNS: tuple[str, ...] = ("patient", "arm", "day", "value")
#: Minimum number of non-missing diary days (of 7) for a weekly mean (assumed convention).
MIN_DIARY_DAYS = 4
#: Absolute tolerance on the relative reduction when classifying responders.
RESPONDER_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ResponderAnalysis:
    """Result of :func:`responder_analysis`.

    Attributes
    ----------
    threshold
        Relative reduction from baseline defining a responder (e.g. 0.30 = 30 %).
    responders
        Number of responders per arm.
    proportions
        Responder proportion per arm (responders / all patients of the arm).
    effect
        Difference in proportions treatment minus control with Newcombe 95 % CI and
        Fisher exact p-value; ``n_analysed`` holds the denominators.
    """

    threshold: float
    responders: dict[str, int]
    proportions: dict[str, float]
    effect: TreatmentEffect


@dataclass(frozen=True)
class PowerEstimate:
    """Monte Carlo power: share of replicate trials with ``p < alpha``.

    ``ci_low``/``ci_high`` are the Wilson score 95 % interval of that share.
    """

    power: float
    ci_low: float
    ci_high: float
    n_replicates: int
    alpha: float


# --------------------------------------------------------------------------- ANCOVA


def ancova(
    visits: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> TreatmentEffect:
    """ANCOVA of change from baseline at one week, complete cases.

    Model (statsmodels OLS formula): ``change ~ treated + baseline`` on the patients of
    the two arms with both a week-0 and an ``endpoint_week`` value, where ``change =
    value(endpoint_week) - value(week 0)`` and ``treated`` is 1 for ``treatment_arm``.
    The effect is the baseline-adjusted difference in mean change, treatment minus
    control (outcome units), with a t-based 95 % CI and two-sided p-value on the
    residual degrees of freedom (n - 3). Other arms in the table are ignored.

    Raises
    ------
    ValueError
        Missing columns, non-numeric or non-integer weeks, no week-0 rows, an arm not
        in column ``arm``, ``endpoint_week`` not a post-baseline week, duplicated
        (patient, week) rows, fewer than 2 complete cases in an arm, or baselines
        collinear with arm.
    """
    df = validate_visits(visits, endpoint_week, control_arm, treatment_arm)
    post = change_from_baseline(df, treatment_arm)
    cases = endpoint_cases(post, endpoint_week, control_arm, treatment_arm)
    fit = smf.ols("change ~ treated + baseline", data=cases).fit()
    method = (
        f"ANCOVA (OLS) of change from baseline at week {endpoint_week} with arm and "
        f"baseline as covariates, complete cases (n = {int(fit.nobs)}), t-test on "
        f"{int(fit.df_resid)} residual df"
    )
    return t_effect(
        fit.params["treated"],
        fit.bse["treated"],
        fit.df_resid,
        arm_counts(cases, (control_arm, treatment_arm)),
        method,
        f"change from baseline at week {endpoint_week}",
    )


def ancova_effects(
    visits: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> pd.DataFrame:
    """:func:`ancova` for many replicate trials at once (closed-form least squares).

    ``visits`` has the columns of :func:`ancova` plus ``replicate`` (a label per replicate
    trial); patients are identified by (replicate, patient). Per replicate the normal
    equations of ``change ~ 1 + treated + baseline`` are solved from the cross-products of the
    complete cases, so every row equals :func:`ancova` on that replicate (to rounding).

    Returns
    -------
    pandas.DataFrame
        One row per replicate (sorted by label): ``replicate``, ``estimate`` (outcome units,
        treatment minus control), ``se``, ``df`` (n - 3), ``ci_low``, ``ci_high``, ``p_value``.

    Raises
    ------
    ValueError
        Missing columns, non-integer weeks, duplicated (replicate, patient, week) rows, an arm
        absent, or a replicate with fewer than 2 complete cases in an arm or baselines
        collinear with arm (named).
    """
    df, post = replicate_changes(visits, control_arm, treatment_arm)
    labels = np.sort(pd.unique(df["replicate"]))
    cases = post.loc[(post["week"] == endpoint_week) & post["change"].notna()]
    code = pd.Index(labels).get_indexer(cases["replicate"])
    data = np.column_stack(
        [np.ones(len(cases)), cases["treated"], cases["baseline"], cases["change"]]
    )
    gram = grouped_gram(data, code, len(labels))
    per_arm = np.stack(
        [np.bincount(code, weights=cases["treated"] == t, minlength=len(labels)) for t in (0, 1)]
    )
    xtx = gram[:, :3, :3]
    eigval = np.linalg.eigvalsh(xtx)
    bad = np.flatnonzero((per_arm.min(axis=0) < 2) | (eigval[:, 0] <= 1e-12 * eigval[:, -1]))
    if bad.size:
        raise ValueError(
            f"visits: replicates {labels[bad].tolist()[:5]}: fewer than 2 patients per arm with "
            f"a baseline and a week-{endpoint_week} value, or baselines collinear with arm"
        )
    inverse = np.linalg.inv(xtx)
    beta = np.einsum("rij,rj->ri", inverse, gram[:, :3, 3])
    rss = gram[:, 3, 3] - np.einsum("ri,ri->r", beta, gram[:, :3, 3])
    dof = per_arm.sum(axis=0) - 3
    se = np.sqrt(rss / dof * inverse[:, 1, 1])
    return pd.DataFrame(
        {
            "replicate": labels,
            "estimate": beta[:, 1],
            "se": se,
            "df": dof.astype(float),
            **t_tests(beta[:, 1], se, dof),
        }
    )


# --------------------------------------------------------------------------- responders


def responder_analysis(
    visits: pd.DataFrame,
    endpoint_week: int,
    control_arm: str,
    treatment_arm: str,
    threshold: float,
) -> ResponderAnalysis:
    """Responder rates at one week with non-responder imputation.

    A patient responds if ``(baseline - value) / baseline >= threshold`` at
    ``endpoint_week`` (relative reduction from week 0; 0.30 and 0.50 are the IMMPACT
    moderate and substantial improvements in pain, Dworkin et al. 2008, J Pain 9:105;
    a tolerance of ``RESPONDER_TOLERANCE`` absorbs floating-point rounding). The
    denominator is every patient of the arm in the table; **patients with a missing
    endpoint (e.g. after dropout) or a missing baseline count as non-responders**.

    The effect is the difference in responder proportions, treatment minus control
    (positive favours treatment), with the Newcombe hybrid-score 95 % CI (Newcombe 1998,
    Stat Med 17:873, method 10; statsmodels ``confint_proportions_2indep``) and the
    two-sided Fisher exact test p-value (scipy).

    Raises
    ------
    ValueError
        As :func:`ancova` for the table, ``threshold`` outside (0, 1], or a baseline
        value <= 0 (relative reduction undefined).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    df = validate_visits(visits, endpoint_week, control_arm, treatment_arm)
    baseline = df.loc[df["week"] == BASELINE_WEEK].set_index("patient")["value"]
    nonpositive = baseline[baseline <= 0].index.tolist()
    if nonpositive:
        raise ValueError(
            f"visits column 'value': patients {nonpositive[:5]} have a baseline <= 0; "
            "a relative reduction from baseline needs a positive baseline"
        )
    patients = df.drop_duplicates("patient").set_index("patient")["arm"]
    endpoint = df.loc[df["week"] == endpoint_week].set_index("patient")["value"]
    reduction = (baseline.reindex(patients.index) - endpoint.reindex(patients.index)) / (
        baseline.reindex(patients.index)
    )
    responder = (reduction >= threshold - RESPONDER_TOLERANCE).to_numpy()  # NaN -> False

    arms = (control_arm, treatment_arm)
    n = {arm: int((patients == arm).sum()) for arm in arms}
    responders = {arm: int(responder[(patients == arm).to_numpy()].sum()) for arm in arms}
    proportions = {arm: responders[arm] / n[arm] for arm in arms}
    ci_low, ci_high = confint_proportions_2indep(
        responders[treatment_arm],
        n[treatment_arm],
        responders[control_arm],
        n[control_arm],
        method="newcomb",
        compare="diff",
        alpha=1 - CI_LEVEL,
    )
    table = [
        [responders[treatment_arm], n[treatment_arm] - responders[treatment_arm]],
        [responders[control_arm], n[control_arm] - responders[control_arm]],
    ]
    p_value = stats.fisher_exact(table, alternative="two-sided").pvalue
    effect = TreatmentEffect(
        estimate=proportions[treatment_arm] - proportions[control_arm],
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p_value=float(p_value),
        n_analysed=n,
        method=(
            f"Responders (>= {threshold:.0%} reduction from baseline at week "
            f"{endpoint_week}; missing endpoint or baseline = non-responder) compared as a "
            "difference in proportions with Newcombe hybrid-score 95% CI and two-sided "
            "Fisher exact test"
        ),
        endpoint=f">= {threshold:.0%} reduction from baseline at week {endpoint_week}",
    )
    return ResponderAnalysis(
        threshold=threshold, responders=responders, proportions=proportions, effect=effect
    )


def responder_effects(
    visits: pd.DataFrame,
    endpoint_week: int,
    control_arm: str,
    treatment_arm: str,
    threshold: float,
) -> pd.DataFrame:
    """:func:`responder_analysis` for many replicate trials at once.

    ``visits`` has the columns of :func:`responder_analysis` plus ``replicate``; patients are
    identified by (replicate, patient). Responders are counted per replicate and arm with the
    same rule (missing endpoint or baseline = non-responder); the Newcombe intervals are
    computed for all replicates in one call and the Fisher exact test per replicate.

    Returns
    -------
    pandas.DataFrame
        One row per replicate (sorted by label): ``replicate``, ``control`` and ``treatment``
        (responder proportions), ``estimate`` (difference, treatment minus control),
        ``ci_low``, ``ci_high``, ``p_value``.

    Raises
    ------
    ValueError
        As :func:`responder_analysis` (the offending replicate and patients named).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    df, post = replicate_changes(visits, control_arm, treatment_arm)
    labels = np.sort(pd.unique(df["replicate"]))
    nonpositive = df.loc[(df["week"] == BASELINE_WEEK) & (df["value"] <= 0)]
    if len(nonpositive):
        raise ValueError(
            f"visits column 'value': replicate {nonpositive['replicate'].iloc[0]!r} patients "
            f"{nonpositive['patient'].tolist()[:5]} have a baseline <= 0; a relative reduction "
            "from baseline needs a positive baseline"
        )
    patients = df.drop_duplicates(["replicate", "patient"])
    at_end = post.loc[post["week"] == endpoint_week]
    reduction = (at_end["baseline"] - at_end["value"]) / at_end["baseline"]
    responders = at_end.loc[(reduction >= threshold - RESPONDER_TOLERANCE).to_numpy()]

    def per_arm(rows: pd.DataFrame) -> np.ndarray:
        code = pd.Index(labels).get_indexer(rows["replicate"])
        treated = (rows["arm"] == treatment_arm).to_numpy()
        return np.stack([np.bincount(code[treated == t], minlength=len(labels)) for t in (0, 1)])

    n, count = per_arm(patients), per_arm(responders)
    ci_low, ci_high = confint_proportions_2indep(
        count[1], n[1], count[0], n[0], method="newcomb", compare="diff", alpha=1 - CI_LEVEL
    )
    p_value = [
        stats.fisher_exact([[c1, n1 - c1], [c0, n0 - c0]]).pvalue
        for c0, n0, c1, n1 in zip(count[0], n[0], count[1], n[1], strict=True)
    ]
    proportions = count / n
    return pd.DataFrame(
        {
            "replicate": labels,
            "control": proportions[0],
            "treatment": proportions[1],
            "estimate": proportions[1] - proportions[0],
            "ci_low": ci_low,
            "ci_high": ci_high,
            "p_value": p_value,
        }
    )


# --------------------------------------------------------------------------- diaries


def weekly_means(diary: pd.DataFrame, min_days: int = MIN_DIARY_DAYS) -> pd.DataFrame:
    """Weekly means of a daily diary, in the visits-table format.

    Input columns: ``patient``, ``arm``, ``day`` (integer study day; day 1 = first day of
    treatment) and ``value`` (daily rating in outcome units, e.g. pain NRS 0-10; NaN =
    no entry). Week ``k >= 1`` averages days ``7(k-1)+1 .. 7k``; week 0 (baseline)
    averages the 7 days before treatment, days -6..0; earlier days are ignored. A weekly
    mean needs at least ``min_days`` non-missing days of 7, else it is NaN. The default
    of 4 of 7 is an assumed convention for electronic pain diaries (not taken from a
    specific guideline; pass ``min_days`` to change it).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``arm``, ``week``, ``value`` (weekly mean, outcome units)
        and ``n_days`` (non-missing diary days in that week); one row per patient and
        week from 0 to the last week holding any diary day of any patient, so weeks
        after a patient's dropout appear with NaN.

    Raises
    ------
    ValueError
        Missing columns, non-integer days, duplicated (patient, day) rows, a patient in
        several arms, or ``min_days`` outside 1..7.
    """
    if not 1 <= min_days <= 7:
        raise ValueError(f"min_days must be between 1 and 7, got {min_days!r}")
    name = "diary"
    check_frame(diary, name, DIARY_COLUMNS, "patient and day")
    df = diary.loc[:, list(DIARY_COLUMNS)].reset_index(drop=True).copy()
    check_labels(df, name, ("patient", "arm"))
    check_numeric(df, name, "day", integer=True)
    check_numeric(df, name, "value", integer=False)
    check_constant_within(df, name, "arm")
    check_unique(df, name, "day")

    arms = df.drop_duplicates("patient").set_index("patient")["arm"]
    df = df.loc[df["day"] >= -6]
    day = df["day"].astype(int)
    df = df.assign(week=np.where(day <= 0, 0, (day - 1) // 7 + 1))
    grouped = df.groupby(["patient", "week"])["value"]
    summary = pd.DataFrame({"mean": grouped.mean(), "n_days": grouped.count()})
    grid = pd.MultiIndex.from_product(
        [arms.index, range(int(df["week"].max()) + 1 if len(df) else 1)],
        names=["patient", "week"],
    )
    summary = summary.reindex(grid)
    summary["n_days"] = summary["n_days"].fillna(0).astype(int)
    summary["value"] = summary["mean"].where(summary["n_days"] >= min_days)
    out = summary.reset_index()
    out["arm"] = out["patient"].map(arms)
    return out.loc[:, ["patient", "arm", "week", "value", "n_days"]]


# --------------------------------------------------------------------------- power


def power_from_replicates(p_values: ArrayLike, alpha: float = 0.05) -> PowerEstimate:
    """Monte Carlo power of a test from the p-values of replicate simulated trials.

    Power is the share of replicates with ``p < alpha``; its 95 % interval is the Wilson
    score interval (statsmodels ``proportion_confint(method="wilson")``).

    Raises
    ------
    ValueError
        No p-values, a p-value that is not a finite number in [0, 1] (decide first how
        failed replicates count), or ``alpha`` outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        raise ValueError("p_values is empty; expected one p-value per replicate trial")
    if not np.all(np.isfinite(p) & (p >= 0) & (p <= 1)):
        raise ValueError("p_values must be finite numbers in [0, 1] (one per replicate)")
    rejections = int(np.sum(p < alpha))
    low, high = proportion_confint(rejections, p.size, alpha=1 - CI_LEVEL, method="wilson")
    return PowerEstimate(
        power=rejections / p.size,
        ci_low=float(low),
        ci_high=float(high),
        n_replicates=int(p.size),
        alpha=alpha,
    )


def required_sample_size(ns: ArrayLike, powers: ArrayLike, target: float = 0.8) -> float:
    """Smallest sample size reaching ``target`` power, read off a simulated power curve.

    Method: the power estimates are sorted by sample size and made non-decreasing by
    isotonic (pool-adjacent-violators) regression (scipy ``isotonic_regression``), which
    removes Monte Carlo noise that would make the curve non-monotone; the sample size is
    then found by linear interpolation between the last grid point below ``target`` and
    the first at or above it. The result is in the units of ``ns`` (e.g. patients per
    arm) and is not rounded; round it up for planning.

    Raises
    ------
    ValueError
        Fewer than 2 points, mismatched lengths, non-positive or repeated sample sizes,
        powers outside [0, 1], ``target`` outside (0, 1), or ``target`` not bracketed by
        the fitted curve (already reached at the smallest or not reached at the largest
        sample size: extend the grid rather than extrapolate).
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be between 0 and 1, got {target!r}")
    n = np.asarray(ns, dtype=float).ravel()
    power = np.asarray(powers, dtype=float).ravel()
    if n.size != power.size or n.size < 2:
        raise ValueError(
            f"ns and powers must have the same length >= 2, got {n.size} and {power.size}"
        )
    if not np.all(np.isfinite(n) & (n > 0)) or np.unique(n).size != n.size:
        raise ValueError("ns must be distinct positive sample sizes")
    if not np.all(np.isfinite(power) & (power >= 0) & (power <= 1)):
        raise ValueError("powers must be numbers in [0, 1]")
    order = np.argsort(n)
    n = n[order]
    fitted = optimize.isotonic_regression(power[order]).x
    if fitted[0] >= target:
        raise ValueError(
            f"target power {target} is already reached at the smallest sample size "
            f"{n[0]:g} (fitted power {fitted[0]:.3f}); extend the grid downwards"
        )
    if fitted[-1] < target:
        raise ValueError(
            f"target power {target} is not reached at the largest sample size {n[-1]:g} "
            f"(fitted power {fitted[-1]:.3f}); extend the grid upwards"
        )
    j = int(np.argmax(fitted >= target))
    fraction = (target - fitted[j - 1]) / (fitted[j] - fitted[j - 1])
    return float(n[j - 1] + fraction * (n[j] - n[j - 1]))
