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

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from numpy.typing import ArrayLike
from scipy import optimize, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from fmsim.stats.repeated_measures import check_frame, fit_mixed_model

__all__ = [
    "PowerEstimate",
    "ResponderAnalysis",
    "TreatmentEffect",
    "ancova",
    "crossover_effect",
    "mmrm",
    "power_from_replicates",
    "required_sample_size",
    "responder_analysis",
    "weekly_means",
]

VISIT_COLUMNS: tuple[str, ...] = ("patient", "arm", "week", "value")
CROSSOVER_COLUMNS: tuple[str, ...] = ("patient", "sequence", "period", "treatment", "value")
DIARY_COLUMNS: tuple[str, ...] = ("patient", "arm", "day", "value")
CI_LEVEL = 0.95
BASELINE_WEEK = 0
#: Minimum number of non-missing diary days (of 7) for a weekly mean (assumed convention).
MIN_DIARY_DAYS = 4
#: Absolute tolerance on the relative reduction when classifying responders.
RESPONDER_TOLERANCE = 1e-9
#: BFGS iteration limit and gradient tolerance (max |score|) of the MMRM REML fit.
MMRM_MAX_ITER = 1000
MMRM_GTOL = 1e-6
#: An MMRM fit is accepted if max |d(-REML loglik)/d theta| is below this (looser than
#: MMRM_GTOL so that a stop on loss of precision next to the optimum is accepted).
MMRM_GRAD_TOL = 1e-3
#: A fitted within-patient covariance with eigenvalue ratio below this counts as singular.
MMRM_MIN_EIGEN_RATIO = 1e-10


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


# --------------------------------------------------------------------------- validation


def _check_labels(df: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for col in columns:
        if df[col].isna().any():
            raise ValueError(f"{name} column '{col}' contains missing values; expected a label")


def _check_numeric(df: pd.DataFrame, name: str, col: str, *, integer: bool) -> None:
    """Numeric column; NaN allowed unless ``integer`` (then finite whole numbers)."""
    if pd.api.types.is_bool_dtype(df[col]) or not pd.api.types.is_numeric_dtype(df[col]):
        raise ValueError(f"{name} column '{col}' must be numeric, got dtype {df[col].dtype}")
    values = df[col].to_numpy(dtype=float)
    if integer:
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(f"{name} column '{col}' must hold whole numbers (no NaN)")
    elif np.any(np.isinf(values)):
        raise ValueError(f"{name} column '{col}' contains infinite values; use NaN for missing")


def _check_constant_within(df: pd.DataFrame, name: str, col: str) -> None:
    per_patient = df.groupby("patient", sort=False)[col].nunique()
    ambiguous = per_patient[per_patient > 1].index.tolist()
    if ambiguous:
        raise ValueError(
            f"{name} column '{col}': patients {ambiguous[:5]} have more than one {col}; "
            f"expected one {col} per patient"
        )


def _check_unique(df: pd.DataFrame, name: str, key: str) -> None:
    duplicated = df.duplicated(subset=["patient", key], keep=False)
    if duplicated.any():
        pairs = df.loc[duplicated, ["patient", key]].drop_duplicates().values.tolist()
        raise ValueError(
            f"{name} columns 'patient'/'{key}': duplicate rows for (patient, {key}) "
            f"{pairs[:5]}; expected at most one row per patient and {key}"
        )


def _check_levels(df: pd.DataFrame, name: str, col: str, first: str, second: str) -> None:
    if first == second:
        raise ValueError(f"{name}: control and treatment {col} are both {first!r}")
    present = list(pd.unique(df[col]))
    for level in (first, second):
        if level not in present:
            raise ValueError(f"{name} column '{col}' has no {level!r}; expected one of {present}")


def _validate_visits(
    visits: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> pd.DataFrame:
    """Check a visits table; return the two arms' rows with integer ``week``."""
    name = "visits"
    check_frame(visits, name, VISIT_COLUMNS, "patient and week")
    df = visits.loc[:, list(VISIT_COLUMNS)].reset_index(drop=True).copy()
    _check_labels(df, name, ("patient", "arm"))
    _check_numeric(df, name, "week", integer=True)
    _check_numeric(df, name, "value", integer=False)
    df["week"] = df["week"].astype(int)
    _check_constant_within(df, name, "arm")
    _check_unique(df, name, "week")
    _check_levels(df, name, "arm", control_arm, treatment_arm)
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


def _change_from_baseline(df: pd.DataFrame, treatment_arm: str) -> pd.DataFrame:
    """Post-baseline rows with ``baseline``, ``change`` and 0/1 ``treated`` columns."""
    baseline = df.loc[df["week"] == BASELINE_WEEK].set_index("patient")["value"]
    post = df.loc[df["week"] != BASELINE_WEEK].copy()
    post["baseline"] = post["patient"].map(baseline).astype(float)
    post["change"] = post["value"] - post["baseline"]
    post["treated"] = (post["arm"] == treatment_arm).astype(float)
    return post


def _endpoint_cases(
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


def _arm_counts(patients: pd.DataFrame, arms: tuple[str, str]) -> dict[str, int]:
    """Number of distinct patients per arm in ``patients`` (columns patient, arm)."""
    unique = patients.drop_duplicates("patient")
    return {arm: int((unique["arm"] == arm).sum()) for arm in arms}


def _t_effect(
    estimate: float, se: float, df: float, n: dict[str, int], method: str, endpoint: str
) -> TreatmentEffect:
    half = stats.t.ppf(0.5 + CI_LEVEL / 2, df) * se
    p_value = 2 * stats.t.sf(abs(estimate) / se, df)
    return TreatmentEffect(
        estimate=float(estimate),
        ci_low=float(estimate - half),
        ci_high=float(estimate + half),
        p_value=float(p_value),
        n_analysed=n,
        method=method,
        endpoint=endpoint,
    )


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
    df = _validate_visits(visits, endpoint_week, control_arm, treatment_arm)
    post = _change_from_baseline(df, treatment_arm)
    cases = _endpoint_cases(post, endpoint_week, control_arm, treatment_arm)
    fit = smf.ols("change ~ treated + baseline", data=cases).fit()
    method = (
        f"ANCOVA (OLS) of change from baseline at week {endpoint_week} with arm and "
        f"baseline as covariates, complete cases (n = {int(fit.nobs)}), t-test on "
        f"{int(fit.df_resid)} residual df"
    )
    return _t_effect(
        fit.params["treated"],
        fit.bse["treated"],
        fit.df_resid,
        _arm_counts(cases, (control_arm, treatment_arm)),
        method,
        f"change from baseline at week {endpoint_week}",
    )


# --------------------------------------------------------------------------- MMRM


class _CovarianceStructure:
    """Within-patient covariance ``Sigma(theta)`` over the modelled weeks.

    ``kind`` is ``"unstructured"`` (``Sigma = L L'``, ``theta`` = log of the diagonal
    of the lower-triangular ``L`` followed by its sub-diagonal entries) or
    ``"compound symmetry"`` (``Sigma = exp(theta0) I + exp(theta1) J``).
    """

    def __init__(self, kind: str, n_weeks: int) -> None:
        self.kind = kind
        self.n_weeks = n_weeks
        self._lower = np.tril_indices(n_weeks, -1)

    def theta_from(self, sigma: np.ndarray) -> np.ndarray:
        """Parameters of the structure closest to ``sigma`` (a positive definite start)."""
        if self.kind == "unstructured":
            chol = np.linalg.cholesky(sigma)
            return np.concatenate([np.log(np.diag(chol)), chol[self._lower]])
        mean_var = float(np.mean(np.diag(sigma)))
        off = sigma[self._lower]
        covariance = float(np.clip(off.mean() if off.size else 0.0, 0.05, 0.95 * mean_var))
        return np.log([mean_var - covariance, covariance])

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        if self.kind == "unstructured":
            chol = self._cholesky(theta)
            return chol @ chol.T
        eye = np.eye(self.n_weeks)
        return np.exp(theta[0]) * eye + np.exp(theta[1]) * np.ones_like(eye)

    def gradient(self, theta: np.ndarray, d_sigma: np.ndarray) -> np.ndarray:
        """Chain rule from a symmetric derivative with respect to ``Sigma`` to ``theta``."""
        if self.kind == "unstructured":
            chol = self._cholesky(theta)
            d_chol = 2.0 * d_sigma @ chol
            return np.concatenate([np.diag(d_chol) * np.diag(chol), d_chol[self._lower]])
        return np.array([np.exp(theta[0]) * np.trace(d_sigma), np.exp(theta[1]) * d_sigma.sum()])

    def _cholesky(self, theta: np.ndarray) -> np.ndarray:
        chol = np.diag(np.exp(theta[: self.n_weeks]))
        chol[self._lower] = theta[self.n_weeks :]
        return chol


@dataclass(frozen=True)
class _Pattern:
    """Sufficient statistics of the patients sharing one set of observed weeks.

    With covariate rows ``Z`` (m patients x k) and changes ``Y`` (m x n observed weeks):
    ``zz = Z'Z``, ``yz = Y'Z`` and ``yy = Y'Y``.
    """

    weeks: np.ndarray  # (n,) indices of the observed weeks
    n_patients: int
    zz: np.ndarray  # (k, k)
    yz: np.ndarray  # (n, k)
    yy: np.ndarray  # (n, n)

    def scaled(self, scale: float) -> _Pattern:
        """The same patients with the changes divided by ``scale``."""
        return _Pattern(self.weeks, self.n_patients, self.zz, self.yz / scale, self.yy / scale**2)


@dataclass(frozen=True)
class _RemlEvaluation:
    neg_loglik: float
    d_sigma: np.ndarray  # d(-loglik)/dSigma, (weeks x weeks)
    beta: np.ndarray  # (weeks, k): coefficients of the k covariates at each week
    cov_beta: np.ndarray  # (weeks * k, weeks * k): (sum_i X_i' S_i^-1 X_i)^-1
    quadratic: float  # sum_i r_i' S_i^-1 r_i


class _Reml:
    """REML log-likelihood of a multivariate linear model with missing visits.

    Patient ``i`` has covariates ``z_i`` (k) and changes ``y_i`` at its observed weeks
    ``O_i``: ``y_i ~ N(B[O_i] z_i, Sigma[O_i, O_i])`` with a separate coefficient row of
    ``B`` (weeks x k) per week, i.e. every covariate interacts with week. The design of
    patient ``i`` is ``X_i = P_i kron z_i'`` (``P_i`` selects ``O_i``), so per
    missingness pattern only ``Z'Z``, ``Y'Z`` and ``Y'Y`` are needed:
    ``sum_i X_i' S^-1 X_i = S^-1 kron Z'Z`` and ``sum_i X_i' S^-1 y_i = vec(S^-1 Y'Z)``.
    The gradient with respect to ``Sigma`` is the analytic
    ``1/2 sum_i P_i' (S_i^-1 - S_i^-1 r_i r_i' S_i^-1 - S_i^-1 X_i M^-1 X_i' S_i^-1) P_i``
    of ``-loglik`` with ``M = sum_i X_i' S_i^-1 X_i``.
    """

    def __init__(self, patterns: list[_Pattern], n_weeks: int) -> None:
        self.patterns = patterns
        self.n_weeks = n_weeks
        self.n_cov = patterns[0].zz.shape[0]
        self.n_beta = n_weeks * self.n_cov
        self.n_obs = sum(pat.n_patients * pat.weeks.size for pat in patterns)
        self.constant = (self.n_obs - self.n_beta) * math.log(2 * math.pi)

    def evaluate(self, sigma: np.ndarray) -> _RemlEvaluation:
        k = self.n_cov
        cov_index = np.arange(k)
        info = np.zeros((self.n_weeks, k, self.n_weeks, k))
        score = np.zeros((self.n_weeks, k))
        logdet = 0.0
        inverses = []
        for pat in self.patterns:
            chol_inv = np.linalg.inv(np.linalg.cholesky(sigma[np.ix_(pat.weeks, pat.weeks)]))
            s_inv = chol_inv.T @ chol_inv
            block = np.ix_(pat.weeks, cov_index, pat.weeks, cov_index)
            info[block] += s_inv[:, None, :, None] * pat.zz[None, :, None, :]
            score[pat.weeks] += s_inv @ pat.yz
            logdet -= pat.n_patients * 2.0 * np.log(np.diag(chol_inv)).sum()
            inverses.append(s_inv)
        info_chol_inv = np.linalg.inv(np.linalg.cholesky(info.reshape(self.n_beta, self.n_beta)))
        cov_beta = info_chol_inv.T @ info_chol_inv
        beta = (cov_beta @ score.ravel()).reshape(self.n_weeks, k)
        cov_blocks = cov_beta.reshape(self.n_weeks, k, self.n_weeks, k)
        quadratic = 0.0
        d_sigma = np.zeros((self.n_weeks, self.n_weeks))
        for pat, s_inv in zip(self.patterns, inverses, strict=True):
            coef = beta[pat.weeks]
            cross = pat.yz @ coef.T
            resid_ss = pat.yy - cross - cross.T + coef @ pat.zz @ coef.T
            quadratic += float(np.sum(s_inv * resid_ss))
            block = np.ix_(pat.weeks, cov_index, pat.weeks, cov_index)
            leverage = np.einsum("jakb,ab->jk", cov_blocks[block], pat.zz)
            d_sigma[np.ix_(pat.weeks, pat.weeks)] += 0.5 * (
                pat.n_patients * s_inv - s_inv @ (resid_ss + leverage) @ s_inv
            )
        logdet -= 2.0 * np.log(np.diag(info_chol_inv)).sum()
        return _RemlEvaluation(
            neg_loglik=0.5 * (logdet + quadratic + self.constant),
            d_sigma=d_sigma,
            beta=beta,
            cov_beta=cov_beta,
            quadratic=quadratic,
        )

    def objective(
        self, structure: _CovarianceStructure
    ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            sigma = structure.sigma(theta)
            if not np.all(np.isfinite(sigma)):
                return math.inf, np.zeros_like(theta)
            try:
                result = self.evaluate(sigma)
            except np.linalg.LinAlgError:  # not numerically positive definite
                return math.inf, np.zeros_like(theta)
            return result.neg_loglik, structure.gradient(theta, result.d_sigma)

        return fun


def _mmrm_patterns(
    post: pd.DataFrame, weeks: list[int]
) -> tuple[list[_Pattern], np.ndarray, np.ndarray]:
    """Group patients by observed weeks with covariates ``[1, treated, baseline]``.

    Returns the patterns, the changes (patients x weeks, NaN = missing) and the covariate
    matrix (patients x 3; baseline centred at its mean).
    """
    patients = post.drop_duplicates("patient").set_index("patient")
    covariates = np.column_stack(
        [
            np.ones(len(patients)),
            patients["treated"].to_numpy(),
            patients["baseline"].to_numpy() - patients["baseline"].mean(),
        ]
    )
    wide = post.pivot(index="patient", columns="week", values="change")
    wide = wide.reindex(index=patients.index, columns=weeks).to_numpy(dtype=float)
    observed = np.isfinite(wide)
    patterns = []
    for mask in np.unique(observed, axis=0):
        rows = np.flatnonzero((observed == mask).all(axis=1))
        idx = np.flatnonzero(mask)
        z, y = covariates[rows], wide[np.ix_(rows, idx)]
        patterns.append(_Pattern(idx, rows.size, z.T @ z, y.T @ z, y.T @ y))
    return patterns, wide, covariates


def _starting_covariance(wide: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """Pairwise covariance of per-week OLS residuals, made positive definite."""
    resid = np.full_like(wide, np.nan)
    for j in range(wide.shape[1]):
        rows = np.isfinite(wide[:, j])
        coef, *_ = np.linalg.lstsq(covariates[rows], wide[rows, j], rcond=None)
        resid[rows, j] = wide[rows, j] - covariates[rows] @ coef
    cov = pd.DataFrame(resid).cov(min_periods=2).to_numpy()
    diag = np.diag(cov)
    usable = np.isfinite(diag) & (diag > 0)
    mean_var = float(diag[usable].mean()) if usable.any() else 1.0
    np.fill_diagonal(cov, np.where(usable, diag, mean_var))
    cov = np.nan_to_num(cov, nan=0.0)
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.maximum(eigval, 1e-2 * mean_var)
    return (eigvec * eigval) @ eigvec.T


def _fit_covariance(
    reml: _Reml, structure: _CovarianceStructure, start: np.ndarray
) -> tuple[np.ndarray | None, str]:
    """Maximise the REML likelihood over ``structure``; ``(Sigma_hat, "")`` or ``(None, why)``."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        result = optimize.minimize(
            reml.objective(structure),
            structure.theta_from(start),
            jac=True,
            method="BFGS",
            options={"maxiter": MMRM_MAX_ITER, "gtol": MMRM_GTOL},
        )
    messages = "; ".join(dict.fromkeys(str(w.message) for w in caught))
    max_grad = float(np.max(np.abs(result.jac))) if np.all(np.isfinite(result.jac)) else np.inf
    # Judged by the gradient: BFGS may report a loss of precision at an optimum, and progress
    # can stall far from a stationary point when the likelihood is unbounded.
    if not (np.isfinite(result.fun) and max_grad < MMRM_GRAD_TOL):
        why = (
            f"{structure.kind} REML fit stopped away from a maximum (max |score| "
            f"{max_grad:.2g} after {result.nit} iterations; likelihood possibly unbounded, "
            "e.g. fewer patients than weeks"
        )
        return None, why + (f"; warnings: {messages})" if messages else ")")
    sigma = structure.sigma(result.x)
    eigval = np.linalg.eigvalsh(sigma)
    if eigval[0] < MMRM_MIN_EIGEN_RATIO * eigval[-1]:
        return None, f"{structure.kind} REML fit gave a singular covariance"
    return sigma, ""


def mmrm(
    visits: pd.DataFrame, endpoint_week: int, control_arm: str, treatment_arm: str
) -> TreatmentEffect:
    """Mixed model for repeated measures (MMRM) of change from baseline.

    Fitted model: for every patient of the two arms with a baseline, the changes from
    baseline at all observed post-baseline weeks are multivariate normal with mean
    ``mu_week + delta_week * treated + gamma_week * baseline`` (fixed effects week,
    arm x week and baseline x week; baseline centred) and an **unstructured** within-
    patient covariance over the post-baseline weeks, estimated by REML (log-Cholesky
    parametrisation, analytic gradient, scipy BFGS). This is the likelihood-based
    MMRM of Mallinckrodt et al. (2008, Drug Inf J 42:303) as fitted by SAS PROC MIXED
    (``REPEATED / TYPE=UN``) or R ``mmrm``; it is implemented here because statsmodels
    MixedLM has no unstructured residual covariance (a random effect per visit would add
    a non-identifiable residual variance) and GEE is valid only under MCAR. All observed
    visits are used, so estimates are valid under missing-at-random dropout.

    The effect is ``delta`` at ``endpoint_week`` (outcome units, treatment minus
    control) with its model-based standard error. CI and p-value use a t distribution
    with ``n_endpoint - 3`` df, the residual df of the complete-case ANCOVA at that week
    (a simple rule in place of Kenward-Roger/Satterthwaite df, which are not implemented;
    it is exact for complete data and smaller than Satterthwaite-type df when earlier
    visits add information). The model-based standard error does not include the
    Kenward-Roger inflation for the estimated covariance; in the simulation tests (60
    patients, 4 visits, about a third dropping out at random) type I error and CI
    coverage are nominal. With complete data the estimate and standard error equal those
    of :func:`ancova`.

    Robustness: weeks whose week-specific design ``[1, treated, baseline]`` is rank
    deficient among the patients observed that week are left out. If the unstructured
    fit does not converge or its covariance is singular (e.g. fewer patients than
    weeks), the model is refitted with a compound-symmetry covariance (equivalent to a
    random patient intercept); if that fails too, with independent visits (OLS, REML
    variance). ``TreatmentEffect.method`` states the structure used and why a fallback
    was needed. Warnings of the optimiser are captured, never raised.

    Raises
    ------
    ValueError
        As :func:`ancova` (the endpoint week needs at least 2 patients per arm with a
        baseline and a value there). Never raises for such well-formed data.
    """
    df = _validate_visits(visits, endpoint_week, control_arm, treatment_arm)
    post = _change_from_baseline(df, treatment_arm)
    _endpoint_cases(post, endpoint_week, control_arm, treatment_arm)
    post = post.loc[post["change"].notna()]

    weeks, dropped = [], []
    for week, rows in post.groupby("week"):
        design = rows[["treated", "baseline"]].assign(intercept=1.0).to_numpy()
        (weeks if np.linalg.matrix_rank(design) == 3 else dropped).append(int(week))
    post = post.loc[post["week"].isin(weeks)]
    patterns, wide, covariates = _mmrm_patterns(post, weeks)
    # Work with changes in units of their typical SD so that theta is of order 1.
    start = _starting_covariance(wide, covariates)
    scale = math.sqrt(float(np.mean(np.diag(start))))
    reml = _Reml([pat.scaled(scale) for pat in patterns], len(weeks))

    reasons = []
    for kind in ("unstructured", "compound symmetry"):
        sigma, why = _fit_covariance(reml, _CovarianceStructure(kind, len(weeks)), start / scale**2)
        if sigma is not None:
            structure = kind
            fit = reml.evaluate(sigma)
            cov_beta = fit.cov_beta
            break
        reasons.append(why)
    else:
        structure = "independent (no within-patient correlation)"
        fit = reml.evaluate(np.eye(len(weeks)))
        cov_beta = fit.quadratic / (reml.n_obs - reml.n_beta) * fit.cov_beta

    j = weeks.index(endpoint_week)
    estimate = scale * fit.beta[j, 1]
    column = j * reml.n_cov + 1
    se = scale * math.sqrt(cov_beta[column, column])
    n_endpoint = int(post["week"].eq(endpoint_week).sum())

    method = (
        f"MMRM: REML linear model of change from baseline at weeks {weeks} with fixed "
        f"effects week, arm x week and baseline x week and within-patient "
        f"covariance {structure}, model-based SE, t-test on {n_endpoint - 3} df (n at week "
        f"{endpoint_week} - 3)"
    )
    if reasons:
        method += "; fallback because " + "; ".join(reasons)
    if dropped:
        method += f"; weeks {dropped} left out (week-specific design not estimable)"
    return _t_effect(
        estimate,
        se,
        n_endpoint - 3,
        _arm_counts(post, (control_arm, treatment_arm)),
        method,
        f"change from baseline at week {endpoint_week}",
    )


# --------------------------------------------------------------------------- crossover


def crossover_effect(table: pd.DataFrame, control: str, treatment: str) -> TreatmentEffect:
    """Treatment effect in a crossover trial from a linear mixed model.

    Model (statsmodels MixedLM, REML): ``value ~ treated + C(period) [+ baseline]`` with
    a random intercept per patient, fitted to the rows with treatment ``control`` or
    ``treatment`` and a non-missing ``value`` (and ``baseline`` if that column exists);
    rows of other treatments are ignored. ``treated`` is 1 for ``treatment``. The effect
    is its coefficient, treatment minus control in outcome units; CI and p-value use a
    t distribution with the within-patient residual df, ``n_rows - rank([patient
    indicators, fixed-effect design])`` (``n - 2`` for a complete AB/BA trial of n
    patients, as in the classical analysis of period differences). For a complete,
    balanced AB/BA design without baseline the estimate equals Senn's estimator, half the
    difference between the sequences' mean period differences (Senn 2002, *Cross-over
    Trials in Clinical Research*, 2nd ed., ch. 3). Sequence enters only through the
    patient intercepts (no sequence or carry-over term).

    ``n_analysed`` counts patients with a value under each of the two treatments.

    Raises
    ------
    ValueError
        Missing columns, non-integer periods, duplicated (patient, period) rows, a
        patient in several sequences, ``control``/``treatment`` not in column
        ``treatment``, or no within-patient degrees of freedom left.
    RuntimeError
        If no optimiser produces a converged mixed-model fit.
    """
    name = "table"
    check_frame(table, name, CROSSOVER_COLUMNS, "patient and period")
    has_baseline = "baseline" in table.columns
    columns = list(CROSSOVER_COLUMNS) + (["baseline"] if has_baseline else [])
    df = table.loc[:, columns].reset_index(drop=True).copy()
    _check_labels(df, name, ("patient", "sequence", "treatment"))
    _check_numeric(df, name, "period", integer=True)
    for col in columns[4:]:
        _check_numeric(df, name, col, integer=False)
    _check_constant_within(df, name, "sequence")
    _check_unique(df, name, "period")
    _check_levels(df, name, "treatment", control, treatment)

    work = df.loc[df["treatment"].isin([control, treatment])].dropna(subset=columns[4:])
    work = work.reset_index(drop=True)
    work["treated"] = (work["treatment"] == treatment).astype(float)
    work["period"] = work["period"].astype(int)
    formula = "value ~ treated + C(period)" + (" + baseline" if has_baseline else "")
    model = smf.mixedlm(formula, work, groups=work["patient"])

    exog = pd.DataFrame(model.exog).iloc[:, 1:]
    within = exog - exog.groupby(work["patient"].to_numpy()).transform("mean")
    rank = np.linalg.matrix_rank(within.to_numpy())
    df_within = len(work) - work["patient"].nunique() - rank
    if df_within < 1:
        raise ValueError(
            f"table column 'treatment': too few patients observed under both {control!r} "
            f"and {treatment!r} ({len(work)} rows, {work['patient'].nunique()} patients); "
            "no within-patient degrees of freedom are left"
        )

    result, _, attempts = fit_mixed_model(model)
    log = "; ".join(attempts)
    covariates = "treatment, period" + (" and baseline" if has_baseline else "")
    method = (
        f"Linear mixed model (REML, statsmodels MixedLM) of the period values with fixed "
        f"effects {covariates} and a random patient intercept, t-test on {df_within} "
        f"within-patient df; fit log: {log}"
    )
    counts = {
        arm: int(work.loc[work["treatment"] == arm, "patient"].nunique())
        for arm in (control, treatment)
    }
    return _t_effect(
        result.fe_params["treated"],
        result.bse_fe["treated"],
        df_within,
        counts,
        method,
        "period value (crossover)",
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
    df = _validate_visits(visits, endpoint_week, control_arm, treatment_arm)
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
    _check_labels(df, name, ("patient", "arm"))
    _check_numeric(df, name, "day", integer=True)
    _check_numeric(df, name, "value", integer=False)
    _check_constant_within(df, name, "arm")
    _check_unique(df, name, "day")

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
