"""From model states to readouts: the disease's effect on each behavioural test and on IENFD."""

from __future__ import annotations

import numpy as np

from fmsim.model.parameters import ReadoutSpec

IENFD = "ienfd"


def expected_readout(
    spec: ReadoutSpec,
    animal_baseline: np.ndarray,
    sensitisation: np.ndarray,
    sensitisation_emax: np.ndarray,
    ienfd_relative: np.ndarray,
) -> np.ndarray:
    """Noise-free value of a readout (in ``spec.unit``) for each animal.

    Behaviour: ``baseline * (1 + max_change * (S - 1) / Emax)`` so that ``max_change`` is the
    fractional change at maximal sensitisation. IENFD: ``baseline * ienfd_relative``.
    """
    if spec.name == IENFD:
        return animal_baseline * ienfd_relative
    fraction = (sensitisation - 1.0) / sensitisation_emax
    return animal_baseline * np.maximum(1.0 + spec.max_change * fraction, 0.05)


def lognormal_factor(cv: float, size: int | tuple[int, ...], rng: np.random.Generator):
    """Multiplicative lognormal noise with median 1 and coefficient of variation ``cv``."""
    if cv <= 0:
        return np.ones(size)
    return np.exp(np.sqrt(np.log1p(cv**2)) * rng.standard_normal(size))
