"""Free endosomal FcRn at quasi-steady state.

With endosomal binding fast relative to transit, the free receptor concentration R solves

    R_T = R + sum_k E_k * R / (KD_k + R)

where R_T is total endosomal FcRn, E_k the total endosomal concentration of IgG kind k and
KD_k its FcRn dissociation constant at pH 6 (all in uM). The left side minus the right is
monotone increasing and concave in R, so Newton's method started at R = 0 converges
monotonically from below to the unique root in (0, R_T] for any non-negative input; no step can
overshoot. Kind k is recycled with fraction R / (KD_k + R), the rest is degraded.
"""

from __future__ import annotations

import numpy as np

_MAX_ITERATIONS = 60
_RELATIVE_TOLERANCE = 1e-14


def free_fcrn(
    total_fcrn: np.ndarray | float,
    endosomal_igg: np.ndarray,
    kd: np.ndarray,
) -> np.ndarray:
    """Free endosomal FcRn R (uM), vectorised over subjects.

    Parameters
    ----------
    total_fcrn:
        Total endosomal FcRn R_T (uM), shape ``(n,)`` or scalar.
    endosomal_igg:
        Endosomal concentration E_k of each IgG kind (uM), shape ``(n_kinds, n)``; values below
        zero (tiny solver undershoots) are treated as zero.
    kd:
        FcRn dissociation constants KD_k (uM), shape ``(n_kinds,)`` or ``(n_kinds, n)``.
    """
    total = np.asarray(total_fcrn, dtype=float)
    ligand = np.maximum(np.asarray(endosomal_igg, dtype=float), 0.0)
    kd = np.asarray(kd, dtype=float)
    if kd.ndim == 1:
        kd = kd[:, None]
    free = np.zeros(np.broadcast_shapes(total.shape, ligand.shape[1:]))
    for _ in range(_MAX_ITERATIONS):
        step = newton_step(free, total, ligand, kd) - free
        free = free + step
        # converged, or rounding noise: from below the exact iterates only increase, so a step
        # that does not increase R means the root is reached to the last bits
        if np.all((np.abs(step) <= _RELATIVE_TOLERANCE * np.maximum(free, 1e-300)) | (step <= 0)):
            break
    return np.minimum(free, total)


def newton_step(free, total, ligands, kds):
    """One Newton step for the free-FcRn equation from ``free``, for any number of IgG kinds.

    Plain arithmetic, so the same definition serves numpy arrays (``ligands`` and ``kds``
    indexable by kind) and symbolic expressions: R - g(R) / g'(R) with
    g(R) = R + sum_k E_k R / (KD_k + R) - R_T.
    """
    residual = free - total
    slope = 1.0
    for ligand, kd in zip(ligands, kds, strict=True):
        residual = residual + ligand * free / (kd + free)
        slope = slope + ligand * kd / (kd + free) ** 2
    return free - residual / slope


def free_fcrn_single_kind(total_fcrn: float, endosomal_igg: float, kd: float) -> float:
    """Closed-form free FcRn (uM) for one IgG kind: the positive root of
    R^2 + (KD + E - R_T) R - R_T KD = 0. Used to check :func:`free_fcrn`."""
    b = kd + endosomal_igg - total_fcrn
    root = np.sqrt(b * b + 4.0 * total_fcrn * kd)
    # Two algebraically equal forms; each avoids cancellation on its side of b = 0.
    return 2.0 * total_fcrn * kd / (b + root) if b >= 0 else (root - b) / 2.0


def recycled_fraction(free: np.ndarray, kd: np.ndarray) -> np.ndarray:
    """Fraction of endosomal IgG of each kind returned to plasma: R / (KD_k + R)."""
    kd = np.asarray(kd, dtype=float)
    if kd.ndim == 1:
        kd = kd[:, None]
    return free / (kd + free)
