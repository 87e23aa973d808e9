"""Mixed model for repeated measures (MMRM) of change from baseline in a parallel trial, for one
trial (:func:`mmrm`) or many replicate trials at once (:func:`mmrm_effects`).

Model of one trial: patient ``i`` with covariates ``z_i = [1, treated, baseline - mean]`` has
changes from baseline ``y_i`` at its observed post-baseline weeks ``O_i``,
``y_i ~ N(B[O_i] z_i, Sigma[O_i, O_i])``, with one coefficient row of ``B`` (weeks x 3) per week
(fixed effects week, arm x week, baseline x week) and a within-patient covariance ``Sigma``
that is **unstructured** (SAS ``REPEATED / TYPE=UN``; nlme ``gls`` with ``corSymm`` +
``varIdent``), or, as fallbacks, compound symmetric or independent. Patients sharing a set of
observed weeks (a missingness pattern) enter only through the sums ``Z'Z``, ``Y'Z`` and ``Y'Y``
of their rows, so the REML likelihood, its gradient and information cost a few small matrix
products per pattern, vectorised over replicate trials.

Fitting: ``Sigma = sum_i theta_i G_i`` is linear in its parameters (the distinct entries of
``Sigma`` for the unstructured form; ``sigma^2 I + tau^2 J`` for compound symmetry). REML is
maximised by Fisher scoring with the information of the covariance given the fixed effects,
``1/2 sum_i tr(S_i^-1 G_a S_i^-1 G_b)`` (step halving keeps ``Sigma`` positive definite and the
likelihood increasing); its fixed point is the exact REML optimum (the exact REML gradient is
used), reached to rounding in a few steps. Standard errors are ``(X'V^-1 X)^-1`` at the REML
estimate, as nlme, lme4, SAS PROC MIXED and R ``mmrm`` report them.

Degrees of freedom for the treatment effect at the endpoint week, contrast ``c``, with
``Phi = (X'V^-1 X)^-1``, ``P_a = X'V^-1 G_a V^-1 X``, ``g_a = c'Phi P_a Phi c`` (the derivative
of ``c'Phi c``) and the REML projection ``P``:

``"kenward-roger"`` (default; SAS ``DDFM=KR``, R pbkrtest / mmrm, Kenward & Roger 1997,
    Biometrics 53:983): the SE is inflated to ``c'Phi_A c`` with
    ``Phi_A = Phi + 2 Phi [sum_ab W_ab (Q_ab - P_a Phi P_b)] Phi``, ``Q_ab = X'V^-1 G_a V^-1
    G_b V^-1 X`` and ``W`` the inverse expected information ``(1/2 tr(P G_a P G_b))^-1``; for
    one contrast the KR denominator df reduce to ``2 (c'Phi c)^2 / (g'W g)`` and the F
    scaling to 1 (with ``Theta = c (c'Phi c)^-1 c'`` built from the unadjusted ``Phi``, as
    pbkrtest computes it). The linear parametrisation makes the second-derivative term of
    Kenward and Roger vanish. Checked against pbkrtest on the compound-symmetry form (the
    same machinery serves the unstructured form; no Debian-packaged R tool computes KR for
    ``gls``), and against the exact ``n - 3`` df with complete data.
``"satterthwaite"`` (SAS ``DDFM=SATTERTH``, lmerTest, emmeans): model-based SE and
    ``2 (c'Phi c)^2 / (g'H^-1 g)`` with ``H`` the observed REML information (Hessian of minus
    the REML log-likelihood) at the estimate.
``"residual"``: model-based SE and ``n - 3`` df, ``n`` the patients observed at the endpoint
    week (the residual df of the complete-case ANCOVA there).

With complete data every method gives the exact t test of the per-week regression:
``n - 3`` df and the model-based SE (the KR correction is zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fmsim.stats.effects import (
    TreatmentEffect,
    arm_counts,
    change_from_baseline,
    endpoint_cases,
    replicate_changes,
    t_tests,
    validate_visits,
)
from fmsim.stats.grouped import grouped_gram

__all__ = ["DF_METHODS", "DEFAULT_DF_METHOD", "mmrm", "mmrm_effects"]

#: Degrees-of-freedom methods for the MMRM treatment effect (see the module docstring).
DF_METHODS: tuple[str, ...] = ("kenward-roger", "satterthwaite", "residual")
#: The default: Kenward-Roger, the usual choice for MMRM in trial analysis plans.
DEFAULT_DF_METHOD = "kenward-roger"
#: Covariance structures in the order they are tried.
STRUCTURES: tuple[str, ...] = ("unstructured", "compound symmetry", "independent")
#: Fisher-scoring iterations; the Newton decrement (REML log-likelihood units) that ends them,
#: and the largest one at which a step that no longer improves counts as converged (rounding).
MAX_ITER = 100
DECREMENT_TOL = 1e-22
STALL_TOL = 1e-9
#: Step halvings before a scoring step counts as failed.
MAX_HALVINGS = 40
#: A fitted covariance with eigenvalue ratio below this counts as singular.
MIN_EIGEN_RATIO = 1e-10
#: Replicates fitted together (bounds memory: a block holds a few arrays of
#: block x patterns x weeks^4 floats).
BLOCK_ELEMENTS = 4_000_000
N_COVARIATES = 3  # intercept, treated, centred baseline


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class _Patterns:
    """Sufficient statistics per replicate ``r`` and missingness pattern ``p`` (slot).

    Unobserved weeks hold zeros in ``yz`` and ``yy``; unused slots have ``count`` 0.
    """

    mask: np.ndarray  # (R, P, T) 1.0 where the week is observed
    count: np.ndarray  # (R, P) patients
    zz: np.ndarray  # (R, P, k, k)
    yz: np.ndarray  # (R, P, T, k)
    yy: np.ndarray  # (R, P, T, T)

    def take(self, index: np.ndarray) -> _Patterns:
        return _Patterns(*(getattr(self, f)[index] for f in ("mask", "count", "zz", "yz", "yy")))

    @property
    def n_obs(self) -> np.ndarray:
        return np.einsum("rp,rpt->r", self.count, self.mask)


def _patterns(
    change: np.ndarray, covariates: np.ndarray, replicate: np.ndarray, n_rep: int
) -> _Patterns:
    """Group patients (rows of ``change``: weeks, NaN = missing; ``covariates``: k columns) by
    replicate code and missingness pattern."""
    observed = np.isfinite(change)
    n_weeks, k = change.shape[1], covariates.shape[1]
    keys = np.column_stack([replicate, observed]).astype(np.int64)
    pair, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    slot = np.arange(len(pair)) - np.searchsorted(pair[:, 0], pair[:, 0])
    n_slots = int(slot.max()) + 1
    gram = grouped_gram(
        np.column_stack([covariates, np.where(observed, change, 0.0)]), group, len(pair)
    )
    mask = np.ones((n_rep, n_slots, n_weeks))
    count = np.zeros((n_rep, n_slots))
    full = np.zeros((n_rep, n_slots, k + n_weeks, k + n_weeks))
    mask[pair[:, 0], slot] = pair[:, 1:]
    count[pair[:, 0], slot] = np.bincount(group, minlength=len(pair))
    full[pair[:, 0], slot] = gram
    return _Patterns(mask, count, full[..., :k, :k], full[..., k:, :k], full[..., k:, k:])


# --------------------------------------------------------------------------- covariance


class _Structure:
    """Linear covariance structure ``Sigma(theta) = sum_a theta_a G_a`` over ``n_weeks``."""

    def __init__(self, kind: str, n_weeks: int) -> None:
        self.kind = kind
        eye = np.eye(n_weeks)
        if kind == "unstructured":
            rows, cols = np.tril_indices(n_weeks)
            basis = np.zeros((rows.size, n_weeks, n_weeks))
            basis[np.arange(rows.size), rows, cols] = 1.0
            basis[np.arange(rows.size), cols, rows] = 1.0
        elif kind == "compound symmetry":
            basis = np.stack([eye, np.ones_like(eye)])
        else:
            basis = eye[None]
        self.basis = basis
        self.flat = basis.reshape(len(basis), -1)

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        return np.einsum("ra,ast->rst", theta, self.basis)

    def theta_from(self, sigma: np.ndarray) -> np.ndarray:
        """Parameters of the structure near ``sigma`` (R, T, T), positive definite."""
        if self.kind == "unstructured":
            rows, cols = np.tril_indices(sigma.shape[-1])
            return sigma[:, rows, cols]
        diag = np.einsum("rtt->rt", sigma).mean(axis=1)
        if self.kind == "independent":
            return diag[:, None]
        n = sigma.shape[-1]
        off = (sigma.sum(axis=(1, 2)) - diag * n) / max(n * (n - 1), 1)
        covariance = np.clip(off, 0.05 * diag, 0.95 * diag)
        return np.column_stack([diag - covariance, covariance])

    def gradient(self, d_sigma: np.ndarray) -> np.ndarray:
        return np.einsum("ast,rst->ra", self.basis, d_sigma)

    def pair_trace(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``sum_p tr(G_i a_p G_j b_p)`` for all pairs: (R, q, q) from (R, P, T, T) arrays."""
        n_rep, n_slots, n = a.shape[:3]
        # K[(b, c), (d, a)] = sum_p a_p[b, c] b_p[d, a], then reordered to [(a, b), (c, d)]
        tensor = np.swapaxes(a.reshape(n_rep, n_slots, -1), 1, 2) @ b.reshape(n_rep, n_slots, -1)
        tensor = tensor.reshape(n_rep, n, n, n, n).transpose(0, 4, 1, 2, 3)
        return self.flat @ tensor.reshape(n_rep, n * n, n * n) @ self.flat.T


# --------------------------------------------------------------------------- REML


@dataclass(frozen=True)
class _Evaluation:
    neg_loglik: np.ndarray  # (R,)
    d_sigma: np.ndarray  # (R, T, T) d(-REML loglik)/dSigma
    beta: np.ndarray  # (R, T, k)
    cov_beta: np.ndarray  # (R, T*k, T*k)
    inverse: np.ndarray  # (R, P, T, T) S_p^-1 padded with zeros
    resid_ss: np.ndarray  # (R, P, T, T) residual cross-products per pattern
    leverage: np.ndarray  # (R, P, T, T) sum_i X_i Phi X_i' per pattern
    valid: np.ndarray  # (R,) False where a covariance or X'V^-1 X is numerically singular


def _kron_sum(a: np.ndarray, zz: np.ndarray) -> np.ndarray:
    """``sum_p kron(a_p, zz_p)`` for ``a`` (R, P, ..., T, T) and ``zz`` (R, P, k, k), as
    (R, ..., T*k, T*k) with row index ``week * k + covariate``."""
    n_rep, n_slots = zz.shape[:2]
    k, n = zz.shape[-1], a.shape[-1]
    middle = a.shape[2:-2]
    flat = a.reshape(n_rep, n_slots, -1)
    total = np.swapaxes(flat, 1, 2) @ zz.reshape(n_rep, n_slots, k * k)  # (R, ...*T*T, k*k)
    total = total.reshape(n_rep, *middle, n, n, k, k)
    axes = len(middle) + 1
    order = (*range(axes), axes, axes + 2, axes + 1, axes + 3)
    return total.transpose(order).reshape(n_rep, *middle, n * k, n * k)


def _inverse_logdet(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse, log-determinant and positive definiteness of symmetric matrices (..., n, n)."""
    try:  # fast path: all positive definite
        chol_inv = np.linalg.inv(np.linalg.cholesky(a))
        diag = np.einsum("...ii->...i", chol_inv)
        ok = np.all(diag > 0, axis=-1) & np.isfinite(diag).all(axis=-1)
        condition = (diag.max(axis=-1) / diag.min(axis=-1)) ** 2
        if ok.all() and np.all(condition < 1.0 / MIN_EIGEN_RATIO):
            inverse = np.swapaxes(chol_inv, -1, -2) @ chol_inv
            return inverse, -2.0 * np.log(diag).sum(axis=-1), ok
    except np.linalg.LinAlgError:
        pass
    eigval, eigvec = np.linalg.eigh(a)
    ok = eigval[..., 0] > MIN_EIGEN_RATIO * np.abs(eigval[..., -1])
    safe = np.where(ok[..., None], eigval, 1.0)
    inverse = (eigvec / safe[..., None, :]) @ np.swapaxes(eigvec, -1, -2)
    return inverse, np.log(safe).sum(axis=-1), ok


def _evaluate(data: _Patterns, sigma: np.ndarray) -> _Evaluation:
    """REML quantities at covariance ``sigma`` (R, T, T), positive definite."""
    n_rep, _, n_weeks = data.mask.shape
    k = data.zz.shape[-1]
    pair = data.mask[..., :, None] * data.mask[..., None, :]
    hidden = np.eye(n_weeks) * (1.0 - data.mask)[..., None]
    padded = sigma[:, None] * pair + hidden
    inverse, logdet, ok_sigma = _inverse_logdet(padded)
    inverse -= hidden
    info = _kron_sum(inverse, data.zz)
    score = np.einsum("rpst,rptb->rsb", inverse, data.yz).reshape(n_rep, -1)
    cov_beta, logdet_info, ok_info = _inverse_logdet(info)
    beta = np.einsum("rab,rb->ra", cov_beta, score).reshape(n_rep, n_weeks, k)
    cross = np.einsum("rpsa,rta->rpst", data.yz, beta)
    fitted = beta[:, None] @ data.zz @ np.swapaxes(beta, -1, -2)[:, None]
    resid_ss = (data.yy - cross - np.swapaxes(cross, -1, -2) + fitted) * pair
    blocks = cov_beta.reshape(n_rep, n_weeks, k, n_weeks, k)
    leverage = np.einsum("rsatb,rpab->rpst", blocks, data.zz) * pair
    quadratic = np.einsum("rpst,rpst->r", inverse, resid_ss)
    weighted = inverse @ (resid_ss + leverage) @ inverse
    d_sigma = 0.5 * np.einsum("rp,rpst->rst", data.count, inverse) - 0.5 * weighted.sum(axis=1)
    n_beta = n_weeks * k
    constant = (data.n_obs - n_beta) * math.log(2 * math.pi)
    neg_loglik = 0.5 * ((data.count * logdet).sum(1) + logdet_info + quadratic + constant)
    valid = ok_info & (ok_sigma | (data.count == 0)).all(axis=1) & np.isfinite(neg_loglik)
    neg_loglik = np.where(valid, neg_loglik, np.inf)
    return _Evaluation(neg_loglik, d_sigma, beta, cov_beta, inverse, resid_ss, leverage, valid)


def _positive_definite(sigma: np.ndarray) -> np.ndarray:
    eigval = np.linalg.eigvalsh(sigma)
    return eigval[:, 0] > MIN_EIGEN_RATIO * eigval[:, -1]


def _information(data: _Patterns, fit: _Evaluation, structure: _Structure):
    """Expected REML information ``E = 1/2 tr(P G_a P G_b)`` and observed information
    ``H = y'P G_a P G_b P y - E`` (Hessian of minus the REML log-likelihood), both (R, q, q),
    and the matrices ``P_a = X'V^-1 G_a V^-1 X`` (R, q, Tk, Tk)."""
    n_rep, _, n_weeks = data.mask.shape
    n_param = len(structure.basis)
    inv = fit.inverse
    left = inv[:, :, None] @ structure.basis  # S^-1 G_a, (R, P, q, T, T)
    sandwich = left @ inv[:, :, None]
    p_mats = _kron_sum(sandwich, data.zz)
    n_beta = p_mats.shape[-1]
    phi_p = fit.cov_beta[:, None] @ p_mats
    weighted = data.count[..., None, None] * inv
    expected = 0.5 * (
        structure.pair_trace(inv, weighted)
        - 2.0 * structure.pair_trace(inv, inv @ fit.leverage @ inv)
        + phi_p.reshape(n_rep, n_param, -1)
        @ np.swapaxes(phi_p, -1, -2).reshape(n_rep, n_param, -1).swapaxes(1, 2)
    )
    fitted_z = fit.beta[:, None] @ data.zz  # (R, P, T, k)
    resid_z = (data.yz - fitted_z) * data.mask[..., None]
    v = (sandwich @ resid_z[:, :, None]).sum(axis=1).reshape(n_rep, n_param, n_beta)
    quadratic = structure.pair_trace(inv, inv @ fit.resid_ss @ inv)
    quadratic -= v @ fit.cov_beta @ np.swapaxes(v, -1, -2)
    return expected, quadratic - expected, p_mats


def _fit(data: _Patterns, structure: _Structure, start: np.ndarray):
    """REML Fisher scoring from ``start`` (R, T, T); returns the final evaluation and a
    per-replicate flag: converged to a positive definite covariance."""
    theta = structure.theta_from(start)
    current = _evaluate(data, structure.sigma(theta))
    active = np.ones(len(theta), dtype=bool)
    failed = ~current.valid
    for _ in range(MAX_ITER):
        gradient = structure.gradient(current.d_sigma)
        expected, observed, _ = _information(data, current, structure)
        observed_inverse, _, newton = _inverse_logdet(observed)
        info_inverse, _, ok_info = _inverse_logdet(expected)
        failed |= ~ok_info
        # Newton where the observed information is positive definite, else Fisher scoring
        info_inverse = np.where(newton[:, None, None], observed_inverse, info_inverse)
        step = np.einsum("rab,rb->ra", info_inverse, np.where(np.isfinite(gradient), gradient, 0))
        decrement = np.einsum("ra,ra->r", gradient, step)
        active &= ~failed & ~(decrement < DECREMENT_TOL)
        if not active.any():
            break
        length = np.where(active, 1.0, 0.0)
        pending = active.copy()
        for _ in range(MAX_HALVINGS):
            trial = theta - length[:, None] * step
            ok = _positive_definite(structure.sigma(trial))
            safe = np.where(ok[:, None], trial, theta)
            candidate = _evaluate(data, structure.sigma(safe))
            tolerance = 1e-12 * np.abs(current.neg_loglik)
            ok &= candidate.valid & (candidate.neg_loglik <= current.neg_loglik + tolerance)
            accept = pending & ok
            theta = np.where(accept[:, None], trial, theta)
            current = _merge(current, candidate, accept)
            pending &= ~ok
            length = np.where(pending, 0.5 * length, length)
            if not pending.any():
                break
        # no step improves the likelihood: converged if already at rounding level
        failed |= pending & (decrement > STALL_TOL)
        active &= ~pending
    converged = ~active & ~failed & _positive_definite(structure.sigma(theta))
    return current, converged


def _merge(old: _Evaluation, new: _Evaluation, take: np.ndarray) -> _Evaluation:
    fields = {}
    for name in _Evaluation.__dataclass_fields__:
        a, b = getattr(old, name), getattr(new, name)
        fields[name] = np.where(take.reshape(-1, *([1] * (a.ndim - 1))), b, a)
    return _Evaluation(**fields)


def _starting_covariance(data: _Patterns) -> np.ndarray:
    """Pairwise covariance of per-week OLS residuals, made positive definite: (R, T, T)."""
    weekly_zz = np.einsum("rpt,rpab->rtab", data.mask, data.zz)
    weekly_zy = data.yz.sum(axis=1)
    beta = np.linalg.solve(weekly_zz, weekly_zy[..., None])[..., 0]
    pair = data.mask[..., :, None] * data.mask[..., None, :]
    cross = np.einsum("rpsa,rta->rpst", data.yz, beta)
    fitted = beta[:, None] @ data.zz @ np.swapaxes(beta, -1, -2)[:, None]
    resid = ((data.yy - cross - np.swapaxes(cross, -1, -2) + fitted) * pair).sum(axis=1)
    pairs = np.einsum("rp,rpst->rst", data.count, pair)
    cov = np.where(pairs >= 2, resid / np.maximum(pairs, 1), 0.0)
    diag = np.einsum("rtt->rt", cov)
    mean_var = np.array([d[d > 0].mean() if (d > 0).any() else 1.0 for d in diag])
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.maximum(eigval, 1e-2 * mean_var[:, None])
    return (eigvec * eigval[:, None, :]) @ np.swapaxes(eigvec, -1, -2)


# --------------------------------------------------------------------------- df and SE


def _se_and_df(
    data: _Patterns,
    fit: _Evaluation,
    structure: _Structure,
    column: int,
    method: str,
    n_endpoint: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Standard error and df of coefficient ``column`` of vec(B) (row-major weeks x k)."""
    phi = fit.cov_beta
    variance = phi[:, column, column]
    if method == "residual":
        return np.sqrt(variance), n_endpoint - N_COVARIATES
    n_rep, _, n_weeks = data.mask.shape
    k = data.zz.shape[-1]
    inv = fit.inverse
    u = phi[:, :, column]
    expected, observed, p_mats = _information(data, fit, structure)
    gradient = np.einsum("ra,riab,rb->ri", u, p_mats, u)
    if method == "satterthwaite":
        step = np.linalg.solve(observed, gradient[..., None])[..., 0]
        return np.sqrt(variance), 2.0 * variance**2 / np.einsum("ri,ri->r", gradient, step)
    u_mat = u.reshape(n_rep, n_weeks, k)
    c_mats = inv @ (u_mat[:, None] @ data.zz @ np.swapaxes(u_mat, -1, -2)[:, None]) @ inv
    q_term = structure.pair_trace(inv, c_mats)
    p_u = np.einsum("riab,rb->ria", p_mats, u)
    p_term = p_u @ phi @ np.swapaxes(p_u, -1, -2)
    w = np.linalg.inv(expected)
    adjusted = variance + 2.0 * np.einsum("rij,rij->r", w, q_term - p_term)
    spread = np.einsum("ri,rij,rj->r", gradient, w, gradient)
    return np.sqrt(adjusted), 2.0 * variance**2 / spread


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class _Result:
    """Per replicate: treatment effect, its SE and df, and the covariance structure used
    (``""`` where none converged)."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    structure: np.ndarray


def _take(fit: _Evaluation, index: np.ndarray) -> _Evaluation:
    return _Evaluation(*(getattr(fit, name)[index] for name in _Evaluation.__dataclass_fields__))


def _fit_blocks(
    data: _Patterns,
    endpoint: int,
    method: str,
    n_endpoint: np.ndarray,
    structures: tuple[str, ...],
) -> _Result:
    """Fit every replicate (in memory-bounded blocks) with the first of ``structures`` that
    converges; the treatment effect is the coefficient of (endpoint week index, treated)."""
    n_rep, n_slots, n_weeks = data.mask.shape
    q = n_weeks * (n_weeks + 1) // 2
    size = n_slots * n_weeks**4 + q * (n_weeks * N_COVARIATES) ** 2
    block = max(1, BLOCK_ELEMENTS // size)
    column = endpoint * N_COVARIATES + 1
    estimate, se, df = (np.full(n_rep, np.nan) for _ in range(3))
    used = np.full(n_rep, "", dtype=object)
    for first in range(0, n_rep, block):
        index = np.arange(first, min(first + block, n_rep))
        start = _starting_covariance(data.take(index))
        for kind in structures:
            part = data.take(index)
            structure = _Structure(kind, n_weeks)
            fit, ok = _fit(part, structure, start)
            if ok.any():
                good = np.flatnonzero(ok)
                final = _take(fit, good)
                se_ok, df_ok = _se_and_df(
                    part.take(good), final, structure, column, method, n_endpoint[index[good]]
                )
                estimate[index[good]] = final.beta[:, endpoint, 1]
                se[index[good]], df[index[good]] = se_ok, df_ok
                used[index[good]] = kind
            index, start = index[~ok], start[~ok]
            if index.size == 0:
                break
    return _Result(estimate, se, df, used)


def _wide_changes(post: pd.DataFrame, weeks: list[int], keys: list[str]):
    """Changes (patients x weeks, NaN = missing), covariates ``[1, treated, baseline]`` with
    baseline centred within each replicate, and the patients' index (``keys`` columns)."""
    wide = post.pivot(index=keys, columns="week", values="change").reindex(columns=weeks)
    patients = post.drop_duplicates(keys).set_index(keys).reindex(wide.index)
    baseline = patients["baseline"]
    if len(keys) > 1:
        centre = baseline.groupby(level=0).transform("mean")
    else:
        centre = baseline.mean()
    covariates = np.column_stack(
        [np.ones(len(patients)), patients["treated"].to_numpy(), (baseline - centre).to_numpy()]
    )
    return wide.to_numpy(dtype=float), covariates, wide.index


def _check_options(df_method: str, covariance: str) -> None:
    if df_method not in DF_METHODS:
        raise ValueError(f"df_method must be one of {list(DF_METHODS)}, got {df_method!r}")
    if covariance not in STRUCTURES:
        raise ValueError(f"covariance must be one of {list(STRUCTURES)}, got {covariance!r}")


@dataclass(frozen=True)
class _Single:
    estimate: float
    se: float
    df: float
    structure: str
    weeks: list[int]
    dropped: list[int]
    reasons: list[str]
    n_endpoint: int


def _mmrm_single(
    post: pd.DataFrame, endpoint_week: int, df_method: str, covariance: str
) -> _Single:
    """MMRM of one trial's post-baseline rows (columns patient, week, change, baseline,
    treated; an estimable endpoint week), with week dropping and structure fallbacks."""
    post = post.loc[post["change"].notna()]
    weeks, dropped = [], []
    for week, rows in post.groupby("week"):
        design = rows[["treated", "baseline"]].assign(intercept=1.0).to_numpy()
        (weeks if np.linalg.matrix_rank(design) == N_COVARIATES else dropped).append(int(week))
    post = post.loc[post["week"].isin(weeks)]
    change, covariates, _ = _wide_changes(post, weeks, ["patient"])
    data = _patterns(change, covariates, np.zeros(len(change), dtype=int), 1)
    n_endpoint = int(post["week"].eq(endpoint_week).sum())
    structures = STRUCTURES[STRUCTURES.index(covariance) :]
    result = _fit_blocks(
        data, weeks.index(endpoint_week), df_method, np.array([n_endpoint]), structures
    )
    structure = str(result.structure[0])
    if not structure:
        raise RuntimeError("MMRM: no covariance structure could be fitted, not even independent")
    reasons = [
        f"{kind} REML fit did not converge to a positive definite covariance (likelihood "
        "possibly unbounded, e.g. fewer patients than weeks)"
        for kind in structures[: structures.index(structure)]
    ]
    return _Single(
        float(result.estimate[0]),
        float(result.se[0]),
        float(result.df[0]),
        structure,
        weeks,
        dropped,
        reasons,
        n_endpoint,
    )


_DF_TEXT = {
    "kenward-roger": "Kenward-Roger SE and df",
    "satterthwaite": "model-based SE, Satterthwaite df",
    "residual": "model-based SE, residual df (n at the endpoint week - 3)",
}


def mmrm(
    visits: pd.DataFrame,
    endpoint_week: int,
    control_arm: str,
    treatment_arm: str,
    df_method: str = DEFAULT_DF_METHOD,
    covariance: str = "unstructured",
) -> TreatmentEffect:
    """Mixed model for repeated measures (MMRM) of change from baseline.

    Fitted model (module docstring): for every patient of the two arms with a baseline, the
    changes from baseline at all observed post-baseline weeks are multivariate normal with mean
    ``mu_week + delta_week * treated + gamma_week * baseline`` (baseline centred) and an
    **unstructured** within-patient covariance, estimated by REML. This is the likelihood-based
    MMRM of Mallinckrodt et al. (2008, Drug Inf J 42:303) as fitted by SAS PROC MIXED
    (``REPEATED / TYPE=UN``), nlme ``gls`` (``corSymm`` + ``varIdent``) or R ``mmrm``. All
    observed visits are used, so estimates are valid under missing-at-random dropout.

    The effect is ``delta`` at ``endpoint_week`` (outcome units, treatment minus control). CI
    and p-value use a t distribution; ``df_method`` (one of :data:`DF_METHODS`) chooses
    Kenward-Roger (default: adjusted SE and df), Satterthwaite (model-based SE) or the residual
    df of the complete-case ANCOVA at the endpoint (model-based SE). With complete data all
    three give the ANCOVA's estimate, SE and ``n - 3`` df.

    ``covariance`` chooses the structure to fit first: ``"unstructured"`` (default),
    ``"compound symmetry"`` (a random patient intercept; SAS ``TYPE=CS``) or
    ``"independent"``.

    Robustness: weeks whose week-specific design ``[1, treated, baseline]`` is rank deficient
    among the patients observed that week are left out. If the unstructured fit does not
    converge to a positive definite covariance (e.g. fewer patients than weeks), the model is
    refitted with a compound-symmetry covariance (equivalent to a random patient intercept),
    and if that fails too, with independent visits. ``TreatmentEffect.method`` states the
    structure, the df method and why a fallback was needed.

    Raises
    ------
    ValueError
        As :func:`fmsim.stats.trial.ancova` (the endpoint week needs at least 2 patients per
        arm with a baseline and a value there), or an unknown ``df_method`` or
        ``covariance``.
    """
    _check_options(df_method, covariance)
    df = validate_visits(visits, endpoint_week, control_arm, treatment_arm)
    post = change_from_baseline(df, treatment_arm)
    endpoint_cases(post, endpoint_week, control_arm, treatment_arm)
    fit = _mmrm_single(post, endpoint_week, df_method, covariance)
    tests = t_tests(fit.estimate, fit.se, fit.df)
    method = (
        f"MMRM: REML linear model of change from baseline at weeks {fit.weeks} with fixed "
        f"effects week, arm x week and baseline x week and within-patient covariance "
        f"{fit.structure}, {_DF_TEXT[df_method]} ({fit.df:.1f} df)"
    )
    if fit.reasons:
        method += "; fallback because " + "; ".join(fit.reasons)
    if fit.dropped:
        method += f"; weeks {fit.dropped} left out (week-specific design not estimable)"
    return TreatmentEffect(
        estimate=fit.estimate,
        ci_low=float(tests["ci_low"]),
        ci_high=float(tests["ci_high"]),
        p_value=float(tests["p_value"]),
        n_analysed=arm_counts(post.loc[post["change"].notna()], (control_arm, treatment_arm)),
        method=method,
        endpoint=f"change from baseline at week {endpoint_week}",
    )


def mmrm_effects(
    visits: pd.DataFrame,
    endpoint_week: int,
    control_arm: str,
    treatment_arm: str,
    df_method: str = DEFAULT_DF_METHOD,
    covariance: str = "unstructured",
) -> pd.DataFrame:
    """:func:`mmrm` for many replicate trials at once.

    ``visits`` has the columns of :func:`mmrm` plus ``replicate`` (a label per replicate
    trial); patients are identified by (replicate, patient). Replicates whose unstructured fit
    converges are fitted together (vectorised REML); the others (a week to leave out or a
    fallback structure) go through :func:`mmrm`'s computation one by one, so every row equals
    :func:`mmrm` on that replicate's rows (to rounding).

    Returns
    -------
    pandas.DataFrame
        One row per replicate (sorted by label): ``replicate``, ``estimate`` (outcome units,
        treatment minus control), ``se``, ``df``, ``ci_low``, ``ci_high``, ``p_value`` and
        ``covariance`` (the structure used).

    Raises
    ------
    ValueError
        Missing columns, non-integer weeks, duplicated (replicate, patient, week) rows, an arm
        absent, an unknown ``df_method``, or a replicate whose endpoint is not estimable (named).
    """
    _check_options(df_method, covariance)
    name = "visits"
    df, post = replicate_changes(visits, control_arm, treatment_arm)
    post = post.loc[post["change"].notna()]
    keys = ["replicate", "patient"]
    labels = np.sort(pd.unique(df["replicate"]))
    if endpoint_week not in set(post["week"]):
        raise ValueError(f"endpoint_week={endpoint_week!r} is not a post-baseline week with data")
    weeks = sorted(int(w) for w in pd.unique(post["week"]))
    change, covariates, index = _wide_changes(post, weeks, keys)
    replicate = pd.Index(labels).get_indexer(index.get_level_values(0))
    data = _patterns(change, covariates, replicate, len(labels))

    at_end = post.loc[post["week"] == endpoint_week]
    per_arm = at_end.groupby(["replicate", "treated"]).size().unstack(fill_value=0)
    per_arm = per_arm.reindex(index=labels, columns=[0.0, 1.0], fill_value=0)
    n_endpoint = per_arm.sum(axis=1).to_numpy()
    weekly_zz = np.einsum("rpt,rpab->rtab", data.mask, data.zz)
    eigval = np.linalg.eigvalsh(weekly_zz)
    full_rank = (eigval[..., 0] > 1e-9 * eigval[..., -1]).all(axis=1)
    batched = np.flatnonzero(full_rank & (per_arm.min(axis=1).to_numpy() >= 2))
    result = _fit_blocks(
        data.take(batched),
        weeks.index(endpoint_week),
        df_method,
        n_endpoint[batched],
        (covariance,),
    )
    estimate, se, dof = (np.full(len(labels), np.nan) for _ in range(3))
    used = np.full(len(labels), "", dtype=object)
    estimate[batched], se[batched], dof[batched] = result.estimate, result.se, result.df
    used[batched] = result.structure
    for r in np.flatnonzero(used == ""):
        rows = post.loc[post["replicate"] == labels[r]]
        try:
            endpoint_cases(rows, endpoint_week, control_arm, treatment_arm)
        except ValueError as exc:
            raise ValueError(f"{name}: replicate {labels[r]!r}: {exc}") from None
        single = _mmrm_single(rows, endpoint_week, df_method, covariance)
        estimate[r], se[r], dof[r] = single.estimate, single.se, single.df
        used[r] = single.structure
    return pd.DataFrame(
        {
            "replicate": labels,
            "estimate": estimate,
            "se": se,
            "df": dof,
            **t_tests(estimate, se, dof),
            "covariance": used.astype(str),
        }
    )
