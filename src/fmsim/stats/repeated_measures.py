"""Group x time statistics for one behavioural readout of a passive-transfer experiment.

Input is a tidy :class:`pandas.DataFrame` with one row per mouse and day:

``mouse``
    Mouse identifier (string).
``group``
    Treatment group label (string), e.g. ``"IgG-HC"`` (control) or ``"IgG-FM"``.
``day``
    Time of measurement in days after the first transfer (number).
``value``
    The readout in its own units, e.g. paw-pressure withdrawal threshold in g.

All differences, means and confidence intervals of differences are in the units of
``value``; Hedges' g is dimensionless; the area under the curve is in value-units x days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.meta_analysis import effectsize_smd
from statsmodels.stats.multitest import multipletests

__all__ = [
    "ReadoutAnalysis",
    "analyze_readout",
    "area_under_curve",
    "compare_to_control",
    "hedges_g",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("mouse", "group", "day", "value")
CI_LEVEL = 0.95
OMNIBUS_TEST = "Wald chi2 (mixed model)"
#: Optimisers tried in order; the first converged fit without warnings is used.
FIT_METHODS: tuple[str, ...] = ("lbfgs", "bfgs", "cg", "powell", "nm")

POSTHOC_COLUMNS: tuple[str, ...] = (
    "group",
    "day",
    "n_group",
    "n_control",
    "mean_group",
    "mean_control",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "hedges_g",
    "g_ci_low",
    "g_ci_high",
    "significant",
)


@dataclass
class ReadoutAnalysis:
    """Result of :func:`analyze_readout` for one behavioural readout.

    Attributes
    ----------
    omnibus
        Index ``"group"``, ``"day"``, ``"group:day"``; columns ``statistic`` (Wald
        chi-square), ``df`` (number of constraints), ``p_value`` and ``test``.
        ``group`` and ``day`` are marginal (type-III-style, equally weighted cells)
        main effects; ``group:day`` is the joint test of all interaction coefficients.
    posthoc
        One row per (non-control group, day), baseline day excluded if given. Columns:
        ``group``, ``day`` (days), ``n_group``, ``n_control`` (mice), ``mean_group``,
        ``mean_control``, ``difference`` (group minus control), ``ci_low``, ``ci_high``
        (95 % Welch CI of the difference) -- all in value units; ``p_value`` (Welch t-test),
        ``p_adjusted`` (Holm over all rows of this table, i.e. all group x day comparisons
        of the readout), ``hedges_g``, ``g_ci_low``, ``g_ci_high`` (approximate 95 % CI),
        ``significant`` (``p_adjusted < alpha``).
    model_summary
        Text summary of the fitted mixed model followed by the fit log (optimiser used,
        failed optimisers, convergence warnings).
    method
        One sentence describing the analysis for a report's methods section.
    """

    omnibus: pd.DataFrame
    posthoc: pd.DataFrame
    model_summary: str
    method: str


# --------------------------------------------------------------------------- validation


def _validate(
    data: pd.DataFrame,
    control: str | None = None,
    baseline_day: float | None = None,
    *,
    require_full_design: bool = False,
) -> pd.DataFrame:
    """Check the tidy input and return a copy restricted to the required columns."""
    check_frame(data, "data", REQUIRED_COLUMNS, "mouse and day")
    df = data.loc[:, list(REQUIRED_COLUMNS)].reset_index(drop=True).copy()
    _check_values(df)
    _check_mice(df)
    if control is not None:
        _check_groups(df, control)
    if baseline_day is not None and not (df["day"] == baseline_day).any():
        raise ValueError(
            f"baseline_day={baseline_day!r} not found in column 'day'; "
            f"expected one of {sorted(pd.unique(df['day']).tolist())}"
        )
    if require_full_design:
        _check_full_design(df)
    return df


def _check_values(df: pd.DataFrame) -> None:
    """Labels present in ``mouse`` and ``group``; finite numbers in ``day`` and ``value``."""
    for col in ("mouse", "group"):
        if df[col].isna().any():
            raise ValueError(f"column '{col}' contains missing values; expected a label per row")
    for col in ("day", "value"):
        if pd.api.types.is_bool_dtype(df[col]) or not pd.api.types.is_numeric_dtype(df[col]):
            raise ValueError(f"column '{col}' must be numeric, got dtype {df[col].dtype}")
        n_bad = int((~np.isfinite(df[col].to_numpy(dtype=float))).sum())
        if n_bad:
            raise ValueError(
                f"column '{col}' contains {n_bad} non-finite value(s) (NaN/inf); "
                "expected finite numbers -- drop or impute missing measurements first"
            )


def _check_mice(df: pd.DataFrame) -> None:
    """Each mouse in one group, measured at most once per day."""
    groups_per_mouse = df.groupby("mouse", sort=False)["group"].nunique()
    ambiguous = groups_per_mouse[groups_per_mouse > 1].index.tolist()
    if ambiguous:
        raise ValueError(
            f"column 'mouse': mice {ambiguous} appear in more than one group; "
            "expected each mouse to belong to exactly one group"
        )
    duplicated = df.duplicated(subset=["mouse", "day"], keep=False)
    if duplicated.any():
        pairs = df.loc[duplicated, ["mouse", "day"]].drop_duplicates().values.tolist()
        raise ValueError(
            f"columns 'mouse'/'day': duplicate measurements for (mouse, day) {pairs[:5]}; "
            "expected at most one value per mouse and day (average replicates first)"
        )


def _check_groups(df: pd.DataFrame, control: str) -> None:
    """The control group and at least one other, each with at least 2 mice."""
    groups = list(pd.unique(df["group"]))
    if control not in groups:
        raise ValueError(
            f"control group {control!r} not found in column 'group'; expected one of {groups}"
        )
    if len(groups) < 2:
        raise ValueError(
            f"column 'group' contains only the control group {control!r}; "
            "expected at least one other group to compare"
        )
    mice_per_group = df.groupby("group", sort=False)["mouse"].nunique()
    too_small = mice_per_group[mice_per_group < 2]
    if not too_small.empty:
        raise ValueError(
            "column 'group': group(s) "
            + ", ".join(f"{g!r} ({n} mouse)" for g, n in too_small.items())
            + " have fewer than 2 mice; expected at least 2 mice per group"
        )


def _check_full_design(df: pd.DataFrame) -> None:
    """Every group measured on every day (the mixed model's cells)."""
    counts = df.groupby(["group", "day"]).size().unstack(fill_value=0)
    empty = [(g, d) for g in counts.index for d in counts.columns if counts.loc[g, d] == 0]
    if empty:
        raise ValueError(
            f"columns 'group'/'day': no measurements for (group, day) cells {empty[:5]}; "
            "expected every group to be measured on every day"
        )


# --------------------------------------------------------------------------- model fit


def _fit_mixed_model(work: pd.DataFrame):
    """Fit ``value ~ C(group) * C(day)`` + random intercept per mouse by REML."""
    return fit_mixed_model(smf.mixedlm("value ~ C(group) * C(day)", work, groups=work["mouse"]))


def check_frame(data: pd.DataFrame, name: str, columns: tuple[str, ...], row: str) -> None:
    """Raise if ``data`` is not a DataFrame with ``columns`` and at least one row; ``name`` and
    ``row`` (what one row holds, e.g. "mouse and day") phrase the message."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"{name} is missing required column(s) {missing}; expected columns "
            f"{list(columns)} (one row per {row})"
        )
    if data.empty:
        raise ValueError(f"{name} has no rows; expected one row per {row}")


def fit_mixed_model(model):
    """REML fit of a statsmodels ``MixedLM``; returns ``(result, optimiser, fit log)``.

    Optimisers in :data:`FIT_METHODS` are tried in order; the first converged fit that
    raised no warning is returned. If every converged fit warned (typically a random-
    intercept variance on the boundary at 0), the converged fit with the largest REML
    log-likelihood is used and its warnings are recorded in the returned fit log.
    """
    k_fe = model.k_fe
    log: list[str] = []
    candidates: list[tuple[float, str, object, list[str]]] = []
    for method in FIT_METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=True, method=method)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                log.append(f"{method}: failed ({type(exc).__name__}: {exc})")
                continue
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        cov_fe = np.asarray(result.cov_params())[:k_fe, :k_fe]
        usable = (
            bool(result.converged)
            and np.all(np.isfinite(result.fe_params))
            and np.all(np.isfinite(cov_fe))
        )
        if not usable:
            log.append(f"{method}: not converged or non-finite estimates; " + "; ".join(messages))
            continue
        if not messages:
            log.append(f"{method}: converged without warnings (used)")
            return result, method, log
        log.append(f"{method}: converged with warnings: " + "; ".join(messages))
        candidates.append((float(result.llf), method, result, messages))
    if not candidates:
        raise RuntimeError("mixed model could not be fitted with any optimiser:\n" + "\n".join(log))
    _, method, result, _ = max(candidates, key=lambda c: c[0])
    log.append(f"{method}: used (highest REML log-likelihood among converged fits with warnings)")
    return result, method, log


def _omnibus_tests(result, work: pd.DataFrame, groups: list, days: list) -> pd.DataFrame:
    """Joint Wald chi-square tests of group, day and group x day via ``result.wald_test``.

    Constraint rows are built from the fixed-effect design rows of each group x day
    cell, ``x[g, d]``, so that ``x[g, d] @ beta`` is the model-estimated cell mean:

    * group: mean over days of ``x[g, .]`` minus that of the control, per other group;
    * day: mean over groups of ``x[., d]`` minus that of the first day, per other day;
    * group:day: ``x[g, d] - x[g, d0] - x[c, d] + x[c, d0]`` for every other (g, d),
      which equals the block of interaction coefficients.
    """
    k_fe = result.model.k_fe
    exog = np.asarray(result.model.exog)
    g_codes = work["group"].astype(object).to_numpy()
    d_codes = work["day"].astype(float).to_numpy()
    cell = np.empty((len(groups), len(days), k_fe))
    for i, g in enumerate(groups):
        for j, d in enumerate(days):
            rows = np.flatnonzero((g_codes == g) & (d_codes == d))
            cell[i, j] = exog[rows[0]]

    by_group = cell.mean(axis=1)
    by_day = cell.mean(axis=0)
    contrasts = {
        "group": by_group[1:] - by_group[0],
        "day": by_day[1:] - by_day[0],
        "group:day": np.array(
            [
                cell[i, j] - cell[i, 0] - cell[0, j] + cell[0, 0]
                for i in range(1, len(groups))
                for j in range(1, len(days))
            ]
        ).reshape(-1, k_fe),
    }

    n_params = len(result.params)
    # Covariance restricted to the fixed effects: the variance-component rows (which can be
    # NaN or negative at a boundary fit) do not enter fixed-effect contrasts anyway.
    cov = np.zeros((n_params, n_params))
    cov[:k_fe, :k_fe] = np.asarray(result.cov_params())[:k_fe, :k_fe]
    rows = []
    for name, block in contrasts.items():
        r_matrix = np.zeros((block.shape[0], n_params))
        r_matrix[:, :k_fe] = block
        test = result.wald_test(r_matrix, cov_p=cov, scalar=True, use_f=False)
        rows.append(
            {
                "term": name,
                "statistic": float(test.statistic),
                "df": int(block.shape[0]),
                "p_value": float(test.pvalue),
                "test": OMNIBUS_TEST,
            }
        )
    return pd.DataFrame(rows).set_index("term").rename_axis(None)


# --------------------------------------------------------------------------- effect sizes


def hedges_g(
    x: np.ndarray, y: np.ndarray, ci_level: float = CI_LEVEL
) -> tuple[float, float, float]:
    """Hedges' g of ``mean(x) - mean(y)`` with an approximate confidence interval.

    g is the standardized mean difference with the pooled SD,
    ``s_p = sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2))``, multiplied by the
    small-sample bias correction ``J = 1 - 3 / (4 (n1 + n2) - 9)`` (computed by
    :func:`statsmodels.stats.meta_analysis.effectsize_smd`). The interval is
    ``g +/- z * sqrt(var)`` with the large-sample variance of Hedges & Olkin (1985),
    *Statistical Methods for Meta-Analysis*, Academic Press, ch. 5:
    ``var = (n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))`` (the variance returned by
    ``effectsize_smd`` uses ``n1 + n2 - 3.94`` in the second denominator and is not used).

    Returns ``(g, ci_low, ci_high)``; dimensionless.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n1, n2 = x.size, y.size
    with np.errstate(divide="ignore", invalid="ignore"):
        g, _ = effectsize_smd(x.mean(), x.std(ddof=1), n1, y.mean(), y.std(ddof=1), n2)
    g = float(g)
    var = (n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2))
    half = stats.norm.ppf(0.5 + ci_level / 2) * np.sqrt(var)
    return g, g - half, g + half


# --------------------------------------------------------------------------- post-hoc


def _posthoc(
    work: pd.DataFrame,
    control: str,
    groups: list,
    days: list,
    baseline_day: float | None,
    alpha: float,
) -> pd.DataFrame:
    rows = []
    for g in groups:
        if g == control:
            continue
        for d in days:
            if baseline_day is not None and d == baseline_day:
                continue
            on_day = work["day"] == d
            x = work.loc[on_day & (work["group"] == g), "value"].to_numpy(dtype=float)
            y = work.loc[on_day & (work["group"] == control), "value"].to_numpy(dtype=float)
            row = {
                "group": g,
                "day": d,
                "n_group": x.size,
                "n_control": y.size,
                "mean_group": x.mean() if x.size else np.nan,
                "mean_control": y.mean() if y.size else np.nan,
                "difference": (x.mean() - y.mean()) if x.size and y.size else np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p_value": np.nan,
                "hedges_g": np.nan,
                "g_ci_low": np.nan,
                "g_ci_high": np.nan,
            }
            if x.size >= 2 and y.size >= 2:
                with np.errstate(divide="ignore", invalid="ignore"):
                    res = stats.ttest_ind(x, y, equal_var=False)
                    ci = res.confidence_interval(CI_LEVEL)
                row.update(ci_low=ci.low, ci_high=ci.high, p_value=res.pvalue)
                row["hedges_g"], row["g_ci_low"], row["g_ci_high"] = hedges_g(x, y)
            rows.append(row)

    table = pd.DataFrame(rows)
    table["p_adjusted"] = np.nan
    testable = np.isfinite(table["p_value"].to_numpy(dtype=float))
    if testable.any():
        _, p_adj, _, _ = multipletests(table.loc[testable, "p_value"], alpha=alpha, method="holm")
        table.loc[testable, "p_adjusted"] = p_adj
    table["significant"] = table["p_adjusted"].lt(alpha)
    return table.loc[:, list(POSTHOC_COLUMNS)]


# --------------------------------------------------------------------------- public API


def compare_to_control(
    data: pd.DataFrame,
    control: str,
    baseline_day: float | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Day-wise Welch comparisons of every group with the control (the post-hoc table).

    This is the ``posthoc`` table of :func:`analyze_readout` without the mixed model fit:
    one row per (non-control group, day), ``baseline_day`` excluded; difference = group -
    control in value units with a 95 % Welch CI; Holm adjustment over all rows (all
    group x day comparisons of the readout); Hedges' g with an approximate 95 % CI (see
    :func:`hedges_g`). Rows whose group or control has fewer than 2 mice on that day get
    NaN statistics and are not part of the Holm family. Columns are listed in
    :class:`ReadoutAnalysis`. Raises ``ValueError`` on invalid input.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    df = _validate(data, control, baseline_day)
    groups = [control] + [g for g in pd.unique(df["group"]) if g != control]
    days = sorted(pd.unique(df["day"]).tolist())
    return _posthoc(df, control, groups, days, baseline_day, alpha)


def analyze_readout(
    data: pd.DataFrame,
    control: str,
    baseline_day: float | None = None,
    alpha: float = 0.05,
) -> ReadoutAnalysis:
    """Group x time analysis of one behavioural readout against a control group.

    Model: linear mixed model ``value ~ C(group, Treatment(control)) * C(day)`` with a
    random intercept per mouse, fitted by REML with :func:`statsmodels.formula.api.mixedlm`
    (optimisers tried in the order of :data:`FIT_METHODS`; failures and convergence
    warnings are recorded in ``model_summary``). Days are treated as categories, so any
    time course shape is allowed.

    Omnibus tests: Wald chi-square tests (``result.wald_test``) of (i) the group main
    effect -- the group differences from control averaged over all days, (ii) the day main
    effect -- the day differences from the first day averaged over groups, and (iii) the
    group x day interaction -- all interaction coefficients jointly.

    Post-hoc: on every day (except ``baseline_day``) each non-control group is compared
    with the control by Welch's unequal-variance t-test (difference = group - control,
    95 % CI from the Welch t distribution). The Holm family is all group x day comparisons
    of this readout (all rows of ``posthoc``). Hedges' g with an approximate 95 % CI (see
    :func:`hedges_g`) is reported as effect size. Cells with fewer than 2 mice get NaN
    statistics and are left out of the Holm family. The post-hoc table alone is available
    from :func:`compare_to_control`.

    Parameters
    ----------
    data
        Tidy frame with columns ``mouse``, ``group``, ``day`` (days) and ``value``
        (readout units, e.g. g for paw-pressure threshold); one row per mouse and day.
    control
        Label of the control group in ``group`` (reference level of the model).
    baseline_day
        Day of the pre-transfer baseline measurement (days). It stays in the model but
        gets no post-hoc row. ``None`` keeps all days in the post-hoc table.
    alpha
        Family-wise significance level for the Holm-adjusted post-hoc p-values.

    Raises
    ------
    ValueError
        Missing columns, non-numeric or non-finite ``day``/``value``, ``control`` not in
        ``group``, a group with fewer than 2 mice, duplicated (mouse, day) rows, a mouse in
        several groups, an unobserved group x day cell, or ``baseline_day`` not a measured day.
    RuntimeError
        If no optimiser produces a converged mixed-model fit.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    df = _validate(data, control, baseline_day, require_full_design=True)

    groups = [control] + [g for g in pd.unique(df["group"]) if g != control]
    days = sorted(pd.unique(df["day"]).tolist())
    if len(days) < 2:
        raise ValueError(
            f"column 'day' has a single day ({days[0]}); expected at least 2 days for a "
            "group x time analysis"
        )

    work = df.copy()
    # Categorical with the control first: treatment coding then uses it as reference,
    # i.e. identical to C(group, Treatment(control)) without quoting arbitrary labels.
    work["group"] = pd.Categorical(work["group"], categories=groups)
    work["day"] = pd.Categorical(work["day"], categories=days)

    result, optimizer, fit_log = _fit_mixed_model(work)
    omnibus = _omnibus_tests(result, work, groups, days)
    posthoc = _posthoc(df, control, groups, days, baseline_day, alpha)

    model_summary = (
        str(result.summary())
        + f"\nReference (control) group: {control!r}; reference day: {days[0]}."
        + f"\nREML fit, optimiser used: {optimizer}.\nFit log:\n  "
        + "\n  ".join(fit_log)
    )
    n_tests = int(posthoc["p_value"].notna().sum())
    baseline_note = (
        f" (baseline day {baseline_day:g} excluded from comparisons)"
        if baseline_day is not None
        else ""
    )
    method = (
        f"The readout was analysed with a linear mixed model (REML, statsmodels MixedLM) with "
        f"fixed effects of group (reference: {control}), day (categorical, {len(days)} days) "
        f"and their interaction and a random intercept per mouse, tested by Wald chi-square "
        f"tests, and on each day each group was compared with {control} by Welch's t-test "
        f"with Holm correction across all {n_tests} group x day comparisons{baseline_note} "
        f"(alpha = {alpha}), reporting mean differences with 95% confidence intervals and "
        f"Hedges' g with approximate 95% confidence intervals."
    )
    return ReadoutAnalysis(
        omnibus=omnibus, posthoc=posthoc, model_summary=model_summary, method=method
    )


def area_under_curve(data: pd.DataFrame, baseline_day: float | None) -> pd.DataFrame:
    """Per-mouse area under the readout-versus-day curve (trapezoidal rule).

    For each mouse the measurements are sorted by ``day`` and integrated with
    :func:`numpy.trapezoid` over all of that mouse's days. If ``baseline_day`` is given,
    the mouse's own value on that day is subtracted first, so the AUC measures the change
    from baseline (negative for a drop in threshold). Mice measured on different days
    have AUCs over different intervals; compare AUCs only for a common schedule.

    Parameters
    ----------
    data
        Tidy frame with columns ``mouse``, ``group``, ``day`` (days), ``value`` (units).
    baseline_day
        Day whose value is each mouse's baseline (days), or ``None`` for the raw AUC.

    Returns
    -------
    pandas.DataFrame
        Columns ``mouse``, ``group``, ``auc`` (value units x days), one row per mouse
        in order of first appearance.

    Raises
    ------
    ValueError
        On invalid input (see :func:`analyze_readout`), if a mouse has fewer than 2
        measured days, or if a mouse has no measurement on ``baseline_day``.
    """
    df = _validate(data, None, baseline_day)
    rows = []
    for mouse, sub in df.groupby("mouse", sort=False):
        sub = sub.sort_values("day")
        day = sub["day"].to_numpy(dtype=float)
        value = sub["value"].to_numpy(dtype=float)
        if baseline_day is not None:
            at_baseline = day == baseline_day
            if not at_baseline.any():
                raise ValueError(
                    f"column 'day': mouse {mouse!r} has no measurement on baseline_day="
                    f"{baseline_day!r}; expected every mouse to have a baseline value"
                )
            value = value - value[at_baseline][0]
        if day.size < 2:
            raise ValueError(
                f"column 'day': mouse {mouse!r} has {day.size} measurement; expected at "
                "least 2 days to compute an area under the curve"
            )
        rows.append(
            {
                "mouse": mouse,
                "group": sub["group"].iloc[0],
                "auc": float(np.trapezoid(value, day)),
            }
        )
    return pd.DataFrame(rows, columns=["mouse", "group", "auc"])
