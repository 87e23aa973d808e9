"""Sums over groups of rows, the building block of the analyses batched across replicates."""

from __future__ import annotations

import numpy as np


def grouped_gram(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of ``outer(v, v)`` over the rows ``v`` of ``values`` (rows, m) in each group.

    ``group`` holds each row's group code in ``0 .. n_groups - 1``; returns (n_groups, m, m).
    """
    m = values.shape[1]
    gram = np.empty((n_groups, m, m))
    for a in range(m):
        for b in range(a, m):
            total = np.bincount(group, weights=values[:, a] * values[:, b], minlength=n_groups)
            gram[:, a, b] = gram[:, b, a] = total
    return gram
