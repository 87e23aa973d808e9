"""Simplified up-down method (SUDO) for von Frey thresholds: simulation and analysis.

Source: Bonin RP, Bories C, De Koninck Y. A simplified up-down method (SUDO) for measuring
mechanical nociception in rodents using von Frey filaments. Mol Pain 2014;10:26
(doi:10.1186/1744-8069-10-26). From its abstract: a constant number of **five stimuli** per
test, and the paw withdrawal threshold (PWT) is estimated directly from the response to the
fifth stimulus, without Dixon's look-up table.

Procedure implemented here
--------------------------
* Testing starts with the filament at ``FilamentSet.start_index`` (Bonin et al. start at the
  middle filament of their series; for :data:`~fmsim.assays.von_frey.MOUSE_FILAMENTS` this is
  0.4 g, index 5 of 0-9, the same start as the Chaplan procedure in
  :mod:`fmsim.assays.von_frey`).
* Up-down rule as in Chaplan/Dixon: after a withdrawal (``X``) the next filament down, after
  no response (``O``) the next filament up; exactly 5 stimuli, no stopping rule.
* Threshold in *filament units*: the position (index) of the 5th filament ``+ 0.5`` if the
  5th stimulus gave no response, ``- 0.5`` if it gave a withdrawal, i.e. half-way towards
  the filament that would have been presented 6th.
* Conversion to force: the filament scale is treated as linear in log10 force, so the
  half-way position is converted by linear interpolation of ``log10(force_g)`` between the
  5th filament and its neighbour, i.e. the geometric mean of the two forces. (A secondary
  description of SUDO - "the average of the fifth filament and the next lightest filament"
  after a withdrawal - agrees up to the choice of a log-scale average; for a set evenly
  spaced in log force this is the same as converting via a straight-line fit of log force
  against filament number. We could not retrieve the paper's exact conversion text.)

Documented choices (not from the paper)
---------------------------------------
* If the rule asks for a filament beyond either end of the set, the end filament is
  presented again ("clamping"), as in :mod:`fmsim.assays.von_frey`.
* If the half-way position lies beyond an end of the set (5th stimulus at the top filament
  with no response, or at the lowest filament with a withdrawal), the log force is
  extrapolated by half of the set's mean log step ``filaments.mean_log_step``.

Units: forces and thresholds in grams (gram-force, as printed on the filaments); the
psychometric slope is per log10 unit of force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fmsim.assays.von_frey import (
    MOUSE_FILAMENTS,
    FilamentSet,
    _check_sim_args,
    _validate,
    withdrawal_probability,
)

__all__ = [
    "N_STIMULI",
    "SudoResult",
    "simulate_sudo",
    "sudo_position",
    "sudo_threshold",
]

#: Number of stimuli per SUDO test (Bonin et al. 2014).
N_STIMULI = 5


@dataclass(frozen=True)
class SudoResult:
    """Outcome of one SUDO test.

    Attributes
    ----------
    threshold_g:
        Estimated 50% paw withdrawal threshold in grams.
    position:
        Threshold in filament units (0-based index into the set): index of the 5th filament
        +0.5 (no response) or -0.5 (withdrawal).
    filament_indices:
        Index of each of the 5 filaments presented, in order.
    responses:
        ``True`` = withdrawal (X), ``False`` = no response (O), one per stimulus.
    """

    threshold_g: float
    position: float
    filament_indices: tuple[int, ...]
    responses: tuple[bool, ...]


def _checked(
    filament_indices: Sequence[int], responses: Sequence[bool], filaments: FilamentSet
) -> tuple[tuple[int, ...], tuple[bool, ...]]:
    idx, resp = _validate(filament_indices, responses, filaments)
    if len(idx) != N_STIMULI:
        raise ValueError(f"SUDO uses exactly {N_STIMULI} stimuli, got {len(idx)}")
    return idx, resp


def sudo_position(
    filament_indices: Sequence[int],
    responses: Sequence[bool],
    filaments: FilamentSet = MOUSE_FILAMENTS,
) -> float:
    """SUDO threshold in filament units (0-based index): 5th index +0.5 if O, -0.5 if X.

    Raises ``ValueError`` for the same problems as :func:`sudo_threshold`.
    """
    idx, resp = _checked(filament_indices, responses, filaments)
    return idx[-1] + (-0.5 if resp[-1] else 0.5)


def _position_to_grams(position: float, filaments: FilamentSet) -> float:
    log_f = np.log10(np.asarray(filaments.forces_g, dtype=float))
    top = filaments.n - 1
    if position < 0:
        value = log_f[0] + position * filaments.mean_log_step
    elif position > top:
        value = log_f[top] + (position - top) * filaments.mean_log_step
    else:
        value = float(np.interp(position, np.arange(filaments.n), log_f))
    return float(10.0**value)


def sudo_threshold(
    filament_indices: Sequence[int],
    responses: Sequence[bool],
    filaments: FilamentSet = MOUSE_FILAMENTS,
) -> float:
    """Analyse a recorded SUDO test into a 50% paw withdrawal threshold (grams).

    Parameters
    ----------
    filament_indices:
        Index into ``filaments.forces_g`` of each of the 5 filaments presented, in order.
    responses:
        ``True`` = withdrawal (X), ``False`` = no response (O), one per stimulus.
    filaments:
        The filament set used (forces in grams).

    Returns
    -------
    float
        Threshold in grams: ``10**`` of the log10 force linearly interpolated at the filament
        position of :func:`sudo_position` (geometric mean of the 5th filament and the next
        one in the direction of the rule; half a mean log step beyond an end of the set).

    Raises
    ------
    ValueError
        Unequal lengths, empty input, not exactly 5 stimuli, indices out of range or not
        integers, responses not bool/0/1, wrong start filament, or a step that breaks the
        up-down rule.
    """
    position = sudo_position(filament_indices, responses, filaments)
    return _position_to_grams(position, filaments)


def simulate_sudo(
    true_threshold_g: float,
    rng: np.random.Generator,
    filaments: FilamentSet = MOUSE_FILAMENTS,
    psychometric_slope: float = 4.0,
) -> SudoResult:
    """Simulate one SUDO test on a mouse with a given true 50% threshold (grams).

    The response model is that of :func:`fmsim.assays.von_frey.simulate_up_down`: P(withdrawal
    | filament of force F g) = ``1 / (1 + exp(-psychometric_slope * (log10 F -
    log10 true_threshold_g)))``, slope per log10 unit of force (default 4.0, an assumption).
    Exactly 5 uniforms are drawn from ``rng`` per call. The record is analysed with
    :func:`sudo_threshold`.
    """
    _check_sim_args(float(true_threshold_g), float(psychometric_slope))
    p = withdrawal_probability(
        np.asarray(filaments.forces_g, dtype=float), float(true_threshold_g), psychometric_slope
    )
    uniforms = rng.random(N_STIMULI)
    top = filaments.n - 1
    i = filaments.start_index
    idx: list[int] = []
    resp: list[bool] = []
    for u in uniforms:
        r = bool(u < p[i])
        idx.append(i)
        resp.append(r)
        i = max(i - 1, 0) if r else min(i + 1, top)
    position = sudo_position(idx, resp, filaments)
    return SudoResult(
        threshold_g=_position_to_grams(position, filaments),
        position=position,
        filament_indices=tuple(idx),
        responses=tuple(resp),
    )
