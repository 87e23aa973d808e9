"""Tests for fmsim.model.fcrn: free endosomal FcRn at quasi-steady state (all in uM).

The defining equation is R_T = R + sum_k E_k R / (KD_k + R). For one kind it is the quadratic
R^2 + (KD + E - R_T) R - R_T KD = 0, whose positive root is the independent reference here.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fmsim.model.fcrn import free_fcrn, free_fcrn_single_kind, recycled_fraction

GRID = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 1e2, 1e3, 1e4]
LIGANDS = [0.0, *GRID, 1e6, 1e9]


def quadratic_root(total: float, ligand: float, kd: float) -> float:
    """Positive root of R^2 + (KD + E - R_T) R - R_T KD = 0, written independently of src
    (cancellation-free form chosen by the sign of b)."""
    b = kd + ligand - total
    disc = np.sqrt(b * b + 4.0 * total * kd)
    return (2.0 * total * kd) / (b + disc) if b > 0 else (disc - b) / 2.0


def residual(free, total, ligands, kds):
    return free + sum(e * free / (kd + free) for e, kd in zip(ligands, kds, strict=True)) - total


def test_closed_form_matches_independent_quadratic_root():
    for total, ligand, kd in itertools.product(GRID, LIGANDS, GRID):
        expected = quadratic_root(total, ligand, kd)
        assert free_fcrn_single_kind(total, ligand, kd) == pytest.approx(expected, rel=1e-12)


def test_free_fcrn_matches_closed_form_over_grid_vectorised():
    combos = np.array(list(itertools.product(GRID, LIGANDS, GRID)))
    total, ligand, kd = combos.T
    free = free_fcrn(total, ligand[None, :], kd[None, :])
    assert free.shape == (len(combos),)
    expected = np.array([free_fcrn_single_kind(*row) for row in combos])
    np.testing.assert_allclose(free, expected, rtol=1e-10, atol=0.0)


@pytest.mark.parametrize("total", GRID)
@pytest.mark.parametrize("kd", GRID)
def test_free_fcrn_matches_closed_form_scalar_total(total, kd):
    ligand = np.array([LIGANDS])
    free = free_fcrn(total, ligand, np.array([kd]))
    expected = [free_fcrn_single_kind(total, e, kd) for e in LIGANDS]
    np.testing.assert_allclose(free, expected, rtol=1e-10, atol=0.0)


def test_no_ligand_leaves_all_receptor_free():
    total = np.array(GRID)
    free = free_fcrn(total, np.zeros((2, total.size)), np.array([0.75, 0.082]))
    np.testing.assert_allclose(free, total, rtol=1e-14)


def test_very_large_ligand_leaves_almost_no_free_receptor():
    # E >> R_T, KD: R ~ R_T KD / E.
    free = free_fcrn(np.array([10.0]), np.array([[1e9]]), np.array([0.75]))
    assert free[0] == pytest.approx(10.0 * 0.75 / 1e9, rel=1e-6)
    assert free[0] > 0.0


def test_zero_total_gives_zero_free_and_zero_recycling():
    free = free_fcrn(np.zeros(3), np.array([[0.0, 1.0, 1e4]]), np.array([0.75]))
    np.testing.assert_array_equal(free, 0.0)
    np.testing.assert_array_equal(recycled_fraction(free, np.array([0.75])), 0.0)


def test_huge_total_recycles_almost_everything():
    free = free_fcrn(np.array([1e9]), np.array([[10.0], [100.0]]), np.array([0.75, 0.082]))
    fraction = recycled_fraction(free, np.array([0.75, 0.082]))
    assert fraction.shape == (2, 1)
    assert np.all(fraction > 0.999)
    assert np.all(fraction <= 1.0)


def test_free_decreases_when_any_ligand_increases():
    kd = np.array([0.75, 0.082])
    base = np.array([[3.0], [2.0]])
    f0 = free_fcrn(np.array([5.0]), base, kd)[0]
    for k in range(2):
        more = base.copy()
        more[k] *= 1.5
        assert free_fcrn(np.array([5.0]), more, kd)[0] < f0


def test_free_decreases_monotonically_along_a_ligand_sweep():
    ligand = np.geomspace(1e-3, 1e4, 50)
    free = free_fcrn(np.full(50, 14.6), np.vstack([np.full(50, 5.5), ligand]), [0.75, 0.75])
    assert np.all(np.diff(free) < 0)


def test_free_increases_with_total():
    total = np.geomspace(1e-3, 1e4, 50)
    ligand = np.vstack([np.full(50, 5.5), np.full(50, 20.0)])
    free = free_fcrn(total, ligand, np.array([0.75, 0.082]))
    assert np.all(np.diff(free) > 0)
    assert np.all(free <= total)


@pytest.mark.parametrize(
    "total, ligands, kds",
    [
        (14.6473, (5.48, 40.0), (0.75, 0.75)),
        (14.6473, (5.48, 40.0), (0.75, 0.082)),
        (1e-3, (1e3, 1e-3), (1e-3, 1e4)),
        (1e4, (1e4, 1e4), (1e-3, 1e2)),
        (1.0, (1e9, 1.0), (0.75, 0.082)),
    ],
)
def test_two_kind_residual_vanishes(total, ligands, kds):
    free = free_fcrn(np.array([total]), np.array(ligands)[:, None], np.array(kds))[0]
    assert 0.0 < free <= total
    assert abs(residual(free, total, ligands, kds)) <= 1e-12 * total


def test_two_equal_kinds_equal_one_kind_with_summed_ligand():
    # Same KD: the kinds are indistinguishable, so E1 + E2 acts as one kind.
    free = free_fcrn(np.array([14.6473]), np.array([[5.48], [12.0]]), np.array([0.75, 0.75]))
    assert free[0] == pytest.approx(free_fcrn_single_kind(14.6473, 17.48, 0.75), rel=1e-12)


def test_per_subject_kd_shape():
    kd = np.array([[0.75, 0.5, 2.0], [0.082, 0.1, 1.0]])
    ligand = np.array([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])
    total = np.array([14.0, 10.0, 20.0])
    free = free_fcrn(total, ligand, kd)
    for j in range(3):
        r = residual(free[j], total[j], ligand[:, j], kd[:, j])
        assert abs(r) <= 1e-12 * total[j]


def test_tiny_negative_ligand_is_treated_as_zero():
    free = free_fcrn(np.array([2.0, 2.0]), np.array([[-1e-12, -1e-300]]), np.array([0.75]))
    assert np.all(free >= 0.0)
    np.testing.assert_allclose(free, 2.0, rtol=1e-14)
    fraction = recycled_fraction(free, np.array([0.75]))
    np.testing.assert_allclose(fraction, 2.0 / 2.75, rtol=1e-14)
