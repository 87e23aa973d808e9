"""Crossover trials: linear mixed model with a random patient intercept, fitted by REML, for one
trial (:func:`crossover_effect`) or many replicate trials at once (:func:`crossover_effects`).

Model of one trial, patient ``i`` in period ``t`` (value in outcome units)::

    value_it = x_it' beta + b_i + e_it,   b_i ~ N(0, tau^2),   e_it ~ N(0, sigma^2)

with fixed effects intercept, ``treated`` (1 under the treatment), one indicator per period
after the first and optionally the patient's ``baseline``. With ``gamma = tau^2 / sigma^2`` the
covariance of patient ``i``'s ``n_i`` values is ``sigma^2 (I + gamma J)``, whose inverse splits
into a within-patient part and a patient-mean part. Every term of the restricted (REML)
likelihood is therefore a sum of two kinds of cross-products of ``[X, y]``: ``W``, of the
deviations from the patient means, and ``B_n``, of the patient means times ``sqrt(n)`` of the
patients with ``n`` periods observed::

    M(gamma) = [X, y]' H^-1 [X, y] = W + sum_n B_n / (1 + n gamma)

With ``sigma^2`` profiled out (``sigma^2 = RSS / (N - p)``, ``RSS = y'H^-1 y - beta' X'H^-1 y``),
minus twice the REML log-likelihood is, up to a constant,

    (N - p) log RSS(gamma) + sum_n c_n log(1 + n gamma) + log |X'H^-1 X|

(``c_n`` patients with ``n`` periods, ``N`` rows, ``p`` fixed effects; Harville 1977, JASA
72:320). It is minimised over ``gamma >= 0`` for every replicate at once: a grid over
``rho = gamma / (1 + gamma)`` in [0, 1) finds the global minimum's bracket, bisection on the
analytic derivative locates it to rounding precision, and ``gamma = 0`` is kept when the
derivative there is non-negative (between-patient variance on the boundary). The standard
error is the square root of ``(X'V^-1 X)^-1`` at the REML estimates, as nlme ``lme``, lme4
``lmer`` and SAS PROC MIXED report it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fmsim.stats.effects import (
    CROSSOVER_COLUMNS,
    TreatmentEffect,
    check_constant_within,
    check_labels,
    check_levels,
    check_numeric,
    check_unique,
    t_tests,
)
from fmsim.stats.grouped import grouped_gram
from fmsim.stats.repeated_measures import check_frame

__all__ = ["crossover_effect", "crossover_effects"]

#: Grid over rho = tau^2 / (sigma^2 + tau^2) that brackets the REML optimum.
RHO_GRID = np.linspace(0.0, 0.995, 100)
#: Bisection steps on the derivative of the profiled REML criterion (rho to rounding).
BISECTION_STEPS = 60
#: Eigenvalue ratio below which a (normalised) design cross-product counts as singular.
RANK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class _Rows:
    """Rows of the analysed crossover table as arrays (``p`` fixed effects, ``R`` replicates)."""

    design: np.ndarray  # (rows, p): intercept, treated, period indicators, [baseline]
    value: np.ndarray  # (rows,)
    patient: np.ndarray  # (rows,) patient code 0..n_patients-1
    replicate: np.ndarray  # (rows,) replicate code 0..R-1
    n_replicates: int


@dataclass(frozen=True)
class _Fit:
    """REML fit per replicate: ``beta`` (R, p), ``cov_beta`` (R, p, p), ``sigma2`` and
    ``tau2`` (within- and between-patient variance, outcome units squared), ``df_within``."""

    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: np.ndarray
    tau2: np.ndarray
    df_within: np.ndarray


def _normalised_rank(gram: np.ndarray) -> np.ndarray:
    """Rank of each symmetric positive semi-definite matrix of ``gram`` (R, m, m)."""
    diag = np.einsum("rii->ri", gram)
    scale = np.where(diag > RANK_TOLERANCE * diag.max(axis=1, keepdims=True), diag, np.inf)
    inv_sqrt = 1.0 / np.sqrt(scale)
    normalised = gram * inv_sqrt[:, :, None] * inv_sqrt[:, None, :]
    return (np.linalg.eigvalsh(normalised) > RANK_TOLERANCE).sum(axis=1)


class _ProfiledReml:
    """Minus twice the profiled REML log-likelihood of every replicate as a function of gamma."""

    def __init__(self, rows: _Rows) -> None:
        n_rep = rows.n_replicates
        self.p = rows.design.shape[1]
        data = np.column_stack([rows.design, rows.value])
        n_patients = int(rows.patient.max()) + 1
        periods = np.bincount(rows.patient, minlength=n_patients)
        means = (
            np.column_stack(
                [np.bincount(rows.patient, weights=col, minlength=n_patients) for col in data.T]
            )
            / periods[:, None]
        )
        patient_replicate = np.zeros(n_patients, dtype=int)
        patient_replicate[rows.patient] = rows.replicate
        self.within = grouped_gram(data - means[rows.patient], rows.replicate, n_rep)
        self.sizes = np.unique(periods).astype(float)
        self.between = np.stack(
            [
                grouped_gram(
                    np.sqrt(n) * means[periods == n], patient_replicate[periods == n], n_rep
                )
                for n in self.sizes
            ]
        )
        self.counts = np.stack(
            [np.bincount(patient_replicate[periods == n], minlength=n_rep) for n in self.sizes]
        )
        self.n_obs = np.bincount(rows.replicate, minlength=n_rep)
        self.n_patients = np.bincount(patient_replicate, minlength=n_rep)

    def cross_products(self, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``M(gamma)`` and ``dM/dgamma``, both (R, p + 1, p + 1)."""
        weight = 1.0 / (1.0 + self.sizes[:, None] * gamma[None, :])
        m = self.within + np.einsum("sr,srij->rij", weight, self.between)
        dm = -np.einsum("sr,srij->rij", self.sizes[:, None] * weight**2, self.between)
        return m, dm

    def criterion(self, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minus twice the profiled REML log-likelihood (no constant) and its gamma-derivative."""
        p = self.p
        m, dm = self.cross_products(gamma)
        m_xx = m[:, :p, :p]
        beta = np.linalg.solve(m_xx, m[:, :p, p:])[..., 0]
        rss = m[:, p, p] - np.einsum("ri,ri->r", m[:, :p, p], beta)
        a = np.concatenate([-beta, np.ones((beta.shape[0], 1))], axis=1)
        d_rss = np.einsum("ri,rij,rj->r", a, dm, a)
        _, logdet = np.linalg.slogdet(m_xx)
        sizes = self.sizes[:, None]
        dof = self.n_obs - p
        value = dof * np.log(rss) + (self.counts * np.log1p(sizes * gamma)).sum(0) + logdet
        trace = np.einsum("rii->r", np.linalg.solve(m_xx, dm[:, :p, :p]))
        slope = dof * d_rss / rss + (self.counts * sizes / (1.0 + sizes * gamma)).sum(0) + trace
        return value, slope

    def minimise(self) -> np.ndarray:
        """REML estimate of gamma >= 0 per replicate."""
        n_rep = self.n_obs.size
        grid = RHO_GRID / (1.0 - RHO_GRID)
        values = np.stack([self.criterion(np.full(n_rep, g))[0] for g in grid])
        best = np.argmin(values, axis=0)
        low = RHO_GRID[np.maximum(best - 1, 0)]
        upper = np.append(RHO_GRID[1:], 1.0 - 1e-12)  # the bracket's upper end per grid point
        high = upper[best]
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (low + high)
            rising = self.criterion(mid / (1.0 - mid))[1] > 0
            high = np.where(rising, mid, high)
            low = np.where(rising, low, mid)
        rho = 0.5 * (low + high)
        boundary = (best == 0) & (self.criterion(np.zeros(n_rep))[1] >= 0)
        return np.where(boundary, 0.0, rho / (1.0 - rho))


def _fit(rows: _Rows) -> _Fit:
    """REML fit of the random-intercept model for every replicate of ``rows``."""
    reml = _ProfiledReml(rows)
    p = reml.p
    full = reml.within + reml.between.sum(axis=0)
    rank_design = _normalised_rank(full[:, :p, :p])
    rank_within = _normalised_rank(reml.within[:, :p, :p])
    df_within = reml.n_obs - reml.n_patients - rank_within
    bad = np.flatnonzero((rank_design < p) | (df_within < 1))
    if bad.size:
        raise _NotEstimable(bad, rank_design[bad] < p)
    gamma = reml.minimise()
    m, _ = reml.cross_products(gamma)
    inverse = np.linalg.inv(m[:, :p, :p])
    beta = np.einsum("rij,rj->ri", inverse, m[:, :p, p])
    rss = m[:, p, p] - np.einsum("ri,ri->r", m[:, :p, p], beta)
    sigma2 = rss / (reml.n_obs - p)
    return _Fit(beta, sigma2[:, None, None] * inverse, sigma2, gamma * sigma2, df_within)


class _NotEstimable(ValueError):
    """Replicates (codes) whose design is rank deficient or leaves no within-patient df."""

    def __init__(self, replicates: np.ndarray, rank_deficient: np.ndarray) -> None:
        super().__init__(f"replicates {replicates.tolist()[:5]} not estimable")
        self.replicates = replicates
        self.rank_deficient = rank_deficient


def _rows(
    work: pd.DataFrame, treatment: str, covariates: list[str], replicate: np.ndarray
) -> _Rows:
    """Design ``[1, treated, period indicators (first period = reference), covariates]``."""
    periods = np.sort(work["period"].unique())[1:]
    design = np.column_stack(
        [
            np.ones(len(work)),
            (work["treatment"] == treatment).to_numpy(dtype=float),
            *(work["period"].to_numpy() == k for k in periods),
            *(work[c].to_numpy(dtype=float) for c in covariates),
        ]
    ).astype(float)
    patient = pd.factorize(pd.MultiIndex.from_arrays([replicate, work["patient"].to_numpy()]))[0]
    codes, uniques = pd.factorize(replicate, sort=True)
    return _Rows(design, work["value"].to_numpy(dtype=float), patient, codes, len(uniques))


def crossover_effect(table: pd.DataFrame, control: str, treatment: str) -> TreatmentEffect:
    """Treatment effect in a crossover trial from a linear mixed model.

    Model (REML, see the module docstring): ``value ~ treated + C(period) [+ baseline]`` with a
    random intercept per patient, fitted to the rows with treatment ``control`` or ``treatment``
    and a non-missing ``value`` (and ``baseline`` if that column exists); rows of other
    treatments are ignored. ``treated`` is 1 for ``treatment``. The effect is its coefficient,
    treatment minus control in outcome units, with the standard error of ``(X'V^-1 X)^-1`` at
    the REML variance estimates (as nlme, lme4 and SAS PROC MIXED); CI and p-value use a t
    distribution with the within-patient residual df, ``n_rows - n_patients - rank(within-
    patient design)`` (``n - 2`` for a complete AB/BA trial of n patients, as in the classical
    analysis of period differences). For a complete, balanced AB/BA design without baseline
    the estimate equals Senn's estimator, half the difference between the sequences' mean
    period differences (Senn 2002, *Cross-over Trials in Clinical Research*, 2nd ed., ch. 3).
    Sequence enters only through the patient intercepts (no sequence or carry-over term).

    ``n_analysed`` counts patients with a value under each of the two treatments.

    Raises
    ------
    ValueError
        Missing columns, non-integer periods, duplicated (patient, period) rows, a patient in
        several sequences, ``control``/``treatment`` not in column ``treatment``, a rank-
        deficient design or no within-patient degrees of freedom left.
    """
    name = "table"
    check_frame(table, name, CROSSOVER_COLUMNS, "patient and period")
    has_baseline = "baseline" in table.columns
    columns = list(CROSSOVER_COLUMNS) + (["baseline"] if has_baseline else [])
    df = table.loc[:, columns].reset_index(drop=True).copy()
    check_labels(df, name, ("patient", "sequence", "treatment"))
    check_numeric(df, name, "period", integer=True)
    for col in columns[4:]:
        check_numeric(df, name, col, integer=False)
    check_constant_within(df, name, "sequence")
    check_unique(df, name, "period")
    check_levels(df, name, "treatment", control, treatment)

    work = df.loc[df["treatment"].isin([control, treatment])].dropna(subset=columns[4:])
    work = work.reset_index(drop=True)
    covariates = ["baseline"] if has_baseline else []
    try:
        fit = _fit(_rows(work, treatment, covariates, np.zeros(len(work), dtype=int)))
    except _NotEstimable as exc:
        why = (
            "the design (treatment, period, baseline) is rank deficient"
            if exc.rank_deficient[0]
            else "no within-patient degrees of freedom are left"
        )
        raise ValueError(
            f"table column 'treatment': too few patients observed under both {control!r} "
            f"and {treatment!r} ({len(work)} rows, {work['patient'].nunique()} patients); {why}"
        ) from None
    estimate, se = fit.beta[0, 1], float(np.sqrt(fit.cov_beta[0, 1, 1]))
    df_within = int(fit.df_within[0])
    tests = t_tests(np.array([estimate]), np.array([se]), np.array([df_within]))
    covariate_names = "treatment, period" + (" and baseline" if has_baseline else "")
    method = (
        f"Linear mixed model (REML) of the period values with fixed effects {covariate_names} "
        f"and a random patient intercept (between-patient variance {fit.tau2[0]:.4g}, within "
        f"{fit.sigma2[0]:.4g}), SE from (X'V^-1 X)^-1 at the REML estimates, t-test on "
        f"{df_within} within-patient df"
    )
    counts = {
        arm: int(work.loc[work["treatment"] == arm, "patient"].nunique())
        for arm in (control, treatment)
    }
    return TreatmentEffect(
        estimate=float(estimate),
        ci_low=float(tests["ci_low"][0]),
        ci_high=float(tests["ci_high"][0]),
        p_value=float(tests["p_value"][0]),
        n_analysed=counts,
        method=method,
        endpoint="period value (crossover)",
    )


def crossover_effects(table: pd.DataFrame, control: str, treatment: str) -> pd.DataFrame:
    """:func:`crossover_effect` for many replicate trials at once.

    ``table`` has the columns of :func:`crossover_effect` (``sequence`` is not needed) plus
    ``replicate`` (a label per replicate trial); patients are identified by (replicate,
    patient). Every replicate is fitted by the same REML computation, vectorised over
    replicates, so the results equal :func:`crossover_effect` on each replicate's rows (to
    rounding).

    Returns
    -------
    pandas.DataFrame
        One row per replicate (sorted by label): ``replicate``, ``estimate`` (treatment minus
        control, outcome units), ``se``, ``df`` (within-patient), ``ci_low``, ``ci_high``,
        ``p_value``, ``within_variance`` and ``between_variance`` (outcome units squared).

    Raises
    ------
    ValueError
        Missing columns, non-numeric values, duplicated (replicate, patient, period) rows,
        ``control``/``treatment`` absent, or a replicate whose design is not estimable (named).
    """
    name = "table"
    required = ("replicate", "patient", "period", "treatment", "value")
    check_frame(table, name, required, "replicate, patient and period")
    has_baseline = "baseline" in table.columns
    columns = list(required) + (["baseline"] if has_baseline else [])
    df = table.loc[:, columns]
    check_labels(df, name, ("replicate", "patient", "treatment"))
    check_numeric(df, name, "period", integer=True)
    for col in columns[4:]:
        check_numeric(df, name, col, integer=False)
    duplicated = df.duplicated(subset=["replicate", "patient", "period"])
    if duplicated.any():
        first = df.loc[duplicated, ["replicate", "patient", "period"]].iloc[0].tolist()
        raise ValueError(
            f"{name} columns 'replicate'/'patient'/'period': duplicate rows, e.g. {first}; "
            "expected at most one row per replicate, patient and period"
        )
    check_levels(df, name, "treatment", control, treatment)
    work = df.loc[df["treatment"].isin([control, treatment])].dropna(subset=columns[4:])
    covariates = ["baseline"] if has_baseline else []
    replicate = work["replicate"].to_numpy()
    labels = np.sort(pd.unique(replicate))
    try:
        fit = _fit(_rows(work, treatment, covariates, replicate))
    except _NotEstimable as exc:
        raise ValueError(
            f"{name}: replicates {labels[exc.replicates].tolist()[:5]} are not estimable (rank-"
            "deficient design or no within-patient df: too few patients under both treatments)"
        ) from None
    estimate = fit.beta[:, 1]
    se = np.sqrt(fit.cov_beta[:, 1, 1])
    return pd.DataFrame(
        {
            "replicate": labels,
            "estimate": estimate,
            "se": se,
            "df": fit.df_within.astype(float),
            **t_tests(estimate, se, fit.df_within),
            "within_variance": fit.sigma2,
            "between_variance": fit.tau2,
        }
    )
