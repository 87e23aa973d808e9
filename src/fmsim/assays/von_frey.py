"""Von Frey up-down procedure: simulate what a lab records and analyse it into a 50% threshold.

The same code analyses real and simulated sequences.

Procedure (Chaplan SR, Bach FW, Pogrel JW, Chung JM, Yaksh TL. Quantitative assessment of
tactile allodynia in the rat paw. J Neurosci Methods 1994;53:55-63), using Dixon's up-down
estimator (Dixon WJ. Efficient analysis of experimental observations. Annu Rev Pharmacol
Toxicol 1980;20:441-462):

* Testing starts with the filament at ``FilamentSet.start_index`` (0.4 g for mice).
* After a withdrawal (``X``) the next filament down is used; after no response (``O``) the
  next filament up.
* Once the response first changes (the *crossover*), 4 more responses are collected. The
  critical series of 6 is the last response before the crossover, the crossover response
  and those 4 (Chaplan's "6 critical data points").
* 50% threshold in grams = ``10**(Xf + k * delta) / 10_000``, where ``Xf`` is the
  filament's log unit ``log10(10_000 * force_g)`` (force in grams) for the last filament
  used, ``delta`` is the mean difference in log units between successive filaments, and
  ``k`` is Dixon's tabulated value for the response pattern.

Dixon's k table (``dixon_k``)
-----------------------------
Dixon's table is indexed by the *first part* of the series (the run of identical responses
before the first change: ``O``, ``OO``, ``OOO``, ``OOOO``, or the ``X`` equivalents) and the
*second part* (from the crossover response on, 1 to 5 responses, i.e. up to the 4 responses
that follow the crossover). Keys here are the concatenation, e.g. ``"OOXOXO"`` = first part
``"OO"`` + second part ``"XOXO"``. Values are dimensionless and printed to 3 decimals as in
Dixon 1980 (Table 7) / Chaplan 1994 (Appendix). The table has 248 entries; series that start
with X are the negatives of their O/X mirror images.

Values used (``K_TABLE``): computed by maximum likelihood with
:func:`fmsim.assays.dixon.dixon_k_table_mle` (probit, sigma = step, all responses in the
likelihood; see :mod:`fmsim.assays.dixon`) once at import and rounded to 3 decimals. They
equal the printed table (``PUBLISHED_K_TABLE``) for all 248 entries (max |difference| before
rounding 0.00048); ``tests/assays/test_dixon.py`` checks this.

Source of the printed values (``PUBLISHED_K_TABLE``): we could not consult the printed papers
directly. The values were transcribed from two independent public transcriptions of the
Dixon/Chaplan table and cross-checked:

* ``get-a-grep/VonFreyCalculator`` (GitHub, McGill; ``src/main/resources/application.properties``)
* ``shaoqiu0116/von_frey`` (GitHub; ``factor_looup_table.csv``)

The two agree on 246/248 entries. The 2 disagreements are typos in the second one
(``XXXXOXOX`` printed as +0.741 and ``XOOOOO`` as -0.983); the first transcription and the
mirror-symmetry requirement (k(pattern) = -k(mirror)) both give -0.741 and -0.893, and those
are used here. The tests check the whole table for mirror antisymmetry.

Conventions used here (documented choices)
------------------------------------------
* First parts longer than 4 (possible when the start filament is 5+ steps from an end of
  the set) are looked up with the 4-long column (``OOOO``/``XXXX``), the longest in Dixon's
  table; the k values have essentially converged there.
* After the crossover, if the rule asks for a filament beyond either end of the set, the
  end filament is presented again ("clamping").
* Before any crossover, if the animal does not respond even to the top filament the test
  stops: flag ``"ceiling"``, threshold = top filament force (Chaplan's cut-off
  convention: the highest filament is assigned). If it responds all the way down to and
  including the lowest filament: flag ``"floor"``, threshold = lowest filament force. In
  both cases ``k`` is ``nan``.
* Sequences that stop after the crossover but with fewer than 4 follow-up responses are
  still analysed with Dixon's k for the shorter series (the table covers them).

Units: forces and thresholds are in grams (gram-force, as printed on filaments); log units
are ``log10(10_000 * force_g)`` (i.e. log10 of force in units of 0.1 mg), as printed on the
filaments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fmsim.assays.dixon import dixon_k_table_mle

__all__ = [
    "FilamentSet",
    "MOUSE_FILAMENTS",
    "UpDownResult",
    "dixon_k",
    "fifty_percent_threshold",
    "simulate_up_down",
    "simulate_up_down_many",
    "simulate_up_down_cohort",
    "UpDownCohortResult",
    "withdrawal_probability",
    "N_AFTER_CROSSOVER",
]

#: Number of responses collected after the first change of response (Chaplan 1994).
N_AFTER_CROSSOVER = 4
#: Longest first part (run of identical responses before the change) tabulated by Dixon.
_MAX_FIRST_PART = 4
#: Dixon 1980 (Annu Rev Pharmacol Toxicol 20:441, p. 455, "Step 4"): a series that begins with
#: more than four like responses uses Table 7's final column, except five entries whose k is one
#: unit larger in the third decimal. Second parts written for a series starting with ``O``; the
#: mirrored (``X``-first) series takes the increment with the opposite sign.
_STEP4_PLUS_ONE = ("XXXX", "XXOXX", "XXXOX", "XXXXO", "XXXXX")


@dataclass(frozen=True)
class FilamentSet:
    """A set of von Frey filaments.

    Attributes
    ----------
    name:
        Human-readable label.
    forces_g:
        Nominal bending forces in grams, strictly ascending.
    start_index:
        Index into ``forces_g`` of the filament the test starts with.
    """

    name: str
    forces_g: tuple[float, ...]
    start_index: int

    def __post_init__(self) -> None:
        forces = tuple(float(f) for f in self.forces_g)
        if len(forces) < 2:
            raise ValueError("FilamentSet needs at least 2 filaments")
        if any(not math.isfinite(f) or f <= 0 for f in forces):
            raise ValueError("filament forces must be finite and > 0 g")
        if any(b <= a for a, b in zip(forces, forces[1:], strict=False)):
            raise ValueError("filament forces must be strictly ascending")
        if not 0 <= self.start_index < len(forces):
            raise ValueError(
                f"start_index {self.start_index} out of range for {len(forces)} filaments"
            )
        object.__setattr__(self, "forces_g", forces)

    @property
    def log_units(self) -> np.ndarray:
        """Filament log units ``log10(10_000 * force_g)`` (Chaplan's Xf units; force in g).

        These are the "evaluator size" numbers printed on the filaments, computed from the
        nominal gram forces (printed handle numbers can differ by ~0.01-0.08 because the
        nominal gram labels are rounded).
        """
        return np.log10(10_000.0 * np.asarray(self.forces_g, dtype=float))

    @property
    def mean_log_step(self) -> float:
        """Delta: mean difference in log units (log10 g) between successive filaments."""
        lu = self.log_units
        return float((lu[-1] - lu[0]) / (len(lu) - 1))

    @property
    def n(self) -> int:
        """Number of filaments."""
        return len(self.forces_g)


#: Standard mouse set (grams): 0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 1.4, 2.0,
#: i.e. the low end of the Stoelting / North Coast Touch-Test (Semmes-Weinstein) range, testing
#: starting at 0.4 g (handle 3.61), as used for mice with Chaplan's method. Typical set,
#: assumed: we could not verify this exact set against a primary source (these are
#: catalogue nominal forces; labs vary in which filaments they include).
MOUSE_FILAMENTS = FilamentSet(
    name="mouse (Touch-Test / Stoelting 0.008-2.0 g, start 0.4 g)",
    forces_g=(0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 1.4, 2.0),
    start_index=5,
)


@dataclass(frozen=True)
class UpDownResult:
    """Outcome of one up-down test.

    Attributes
    ----------
    threshold_g:
        50% paw withdrawal threshold in grams.
    filament_indices:
        Index (into the filament set) of each filament presented, in order.
    responses:
        ``True`` = withdrawal (X), ``False`` = no response (O), one per presentation.
    pattern:
        Dixon key used for ``k`` (first part capped at 4 + responses from the crossover
        on), e.g. ``"OOXOXO"``; for flagged tests, the full response string.
    k:
        Dixon's k used (dimensionless); ``nan`` when ``flag`` is set.
    flag:
        ``""`` normally; ``"ceiling"`` if no response even at the top filament (threshold
        = top force); ``"floor"`` if response down to the lowest filament (threshold =
        lowest force).
    """

    threshold_g: float
    filament_indices: tuple[int, ...]
    responses: tuple[bool, ...]
    pattern: str
    k: float
    flag: str


# Dixon (1980) / Chaplan (1994) k values, 3 decimals as printed. Rows: second part of the
# series (from the crossover response on); columns: first part of length 1, 2, 3, 4.
# See the module docstring for the transcription sources and cross-check.
_K_FIRST_O: dict[str, tuple[float, float, float, float]] = {
    "X": (-0.500, -0.388, -0.378, -0.377),
    "XO": (0.842, 0.890, 0.894, 0.894),
    "XX": (-0.178, 0.000, 0.026, 0.028),
    "XOO": (0.299, 0.314, 0.315, 0.315),
    "XOX": (-0.500, -0.439, -0.432, -0.432),
    "XXO": (1.000, 1.122, 1.139, 1.140),
    "XXX": (0.194, 0.449, 0.500, 0.506),
    "XOOO": (-0.157, -0.154, -0.154, -0.154),
    "XOOX": (-0.878, -0.861, -0.860, -0.860),
    "XOXO": (0.701, 0.737, 0.741, 0.741),
    "XOXX": (0.084, 0.169, 0.181, 0.182),
    "XXOO": (0.305, 0.372, 0.380, 0.381),
    "XXOX": (-0.305, -0.169, -0.144, -0.142),
    "XXXO": (1.288, 1.500, 1.544, 1.549),
    "XXXX": (0.555, 0.897, 0.985, 1.000),
    "XOOOO": (-0.547, -0.547, -0.547, -0.547),
    "XOOOX": (-1.250, -1.247, -1.246, -1.246),
    "XOOXO": (0.372, 0.380, 0.381, 0.381),
    "XOOXX": (-0.169, -0.144, -0.142, -0.142),
    "XOXOO": (0.022, 0.039, 0.040, 0.040),
    "XOXOX": (-0.500, -0.458, -0.453, -0.453),
    "XOXXO": (1.169, 1.237, 1.247, 1.248),
    "XOXXX": (0.611, 0.732, 0.756, 0.758),
    "XXOOO": (-0.296, -0.266, -0.263, -0.263),
    "XXOOX": (-0.831, -0.763, -0.753, -0.752),
    "XXOXO": (0.831, 0.935, 0.952, 0.954),
    "XXOXX": (0.296, 0.463, 0.500, 0.504),
    "XXXOO": (0.500, 0.648, 0.678, 0.681),
    "XXXOX": (-0.043, 0.187, 0.244, 0.252),
    "XXXXO": (1.603, 1.917, 2.000, 2.014),
    "XXXXX": (0.893, 1.329, 1.465, 1.496),
}
_K_FIRST_X: dict[str, tuple[float, float, float, float]] = {
    "O": (0.500, 0.388, 0.378, 0.377),
    "OO": (0.178, 0.000, -0.026, -0.028),
    "OX": (-0.842, -0.890, -0.894, -0.894),
    "OOO": (-0.194, -0.449, -0.500, -0.506),
    "OOX": (-1.000, -1.122, -1.139, -1.140),
    "OXO": (0.500, 0.439, 0.432, 0.432),
    "OXX": (-0.299, -0.314, -0.315, -0.315),
    "OOOO": (-0.555, -0.897, -0.985, -1.000),
    "OOOX": (-1.288, -1.500, -1.544, -1.549),
    "OOXO": (0.305, 0.169, 0.144, 0.142),
    "OOXX": (-0.305, -0.372, -0.380, -0.381),
    "OXOO": (-0.084, -0.169, -0.181, -0.182),
    "OXOX": (-0.701, -0.737, -0.741, -0.741),
    "OXXO": (0.878, 0.861, 0.860, 0.860),
    "OXXX": (0.157, 0.154, 0.154, 0.154),
    "OOOOO": (-0.893, -1.329, -1.465, -1.496),
    "OOOOX": (-1.603, -1.917, -2.000, -2.014),
    "OOOXO": (0.043, -0.187, -0.244, -0.252),
    "OOOXX": (-0.500, -0.648, -0.678, -0.681),
    "OOXOO": (-0.296, -0.463, -0.500, -0.504),
    "OOXOX": (-0.831, -0.935, -0.952, -0.954),
    "OOXXO": (0.831, 0.763, 0.753, 0.752),
    "OOXXX": (0.296, 0.266, 0.263, 0.263),
    "OXOOO": (-0.611, -0.732, -0.756, -0.758),
    "OXOOX": (-1.169, -1.237, -1.247, -1.248),
    "OXOXO": (0.500, 0.458, 0.453, 0.453),
    "OXOXX": (-0.022, -0.039, -0.040, -0.040),
    "OXXOO": (0.169, 0.144, 0.142, 0.142),
    "OXXOX": (-0.372, -0.380, -0.381, -0.381),
    "OXXXO": (1.250, 1.247, 1.246, 1.246),
    "OXXXX": (0.547, 0.547, 0.547, 0.547),
}


def _build_k_table() -> dict[str, float]:
    table: dict[str, float] = {}
    for first, rows in (("O", _K_FIRST_O), ("X", _K_FIRST_X)):
        for second, values in rows.items():
            for run, value in enumerate(values, start=1):
                table[first * run + second] = value
    return table


#: Printed (transcribed) table: full Dixon key (first part + second part) -> k.
PUBLISHED_K_TABLE: dict[str, float] = _build_k_table()
#: Table used by :func:`dixon_k`: maximum-likelihood k (:mod:`fmsim.assays.dixon`) rounded to
#: the printed 3 decimals, computed once at import (``+ 0.0`` turns -0.0 into 0.0).
K_TABLE: dict[str, float] = {p: round(k, 3) + 0.0 for p, k in dixon_k_table_mle().items()}


def dixon_k(pattern: str) -> float:
    """Dixon's k (dimensionless) for a response pattern, from ``K_TABLE``.

    ``K_TABLE`` holds the maximum-likelihood k rounded to 3 decimals, identical to Dixon's
    printed table (``PUBLISHED_K_TABLE``) for every entry.

    Parameters
    ----------
    pattern:
        ``X`` (withdrawal) / ``O`` (no response) string (case-insensitive): a first part of
        1-4 identical responses followed by the second part (the crossover response and up
        to 4 more), e.g. ``"OOXOXO"``.

    Raises
    ------
    ValueError
        If the pattern contains other characters or is not in Dixon's table.
    """
    if not isinstance(pattern, str):
        raise ValueError(f"pattern must be a str of X/O, got {type(pattern).__name__}")
    key = pattern.strip().upper()
    if not key or set(key) - {"X", "O"}:
        raise ValueError(f"pattern must be a non-empty string of 'X'/'O' only, got {pattern!r}")
    try:
        return K_TABLE[key]
    except KeyError:
        raise ValueError(
            f"pattern {pattern!r} is not in Dixon's k table: it needs a first part of 1-4 "
            "identical responses followed by 1-5 responses starting with the opposite one "
            "(crossover + up to 4 more)"
        ) from None


def _responses_to_str(responses: Sequence[bool]) -> str:
    return "".join("X" if r else "O" for r in responses)


def _validate(
    filament_indices: Sequence[int], responses: Sequence[bool], filaments: FilamentSet
) -> tuple[tuple[int, ...], tuple[bool, ...]]:
    try:
        n_idx, n_resp = len(filament_indices), len(responses)
    except TypeError as exc:
        raise ValueError("filament_indices and responses must be sequences") from exc
    if n_idx != n_resp:
        raise ValueError(
            f"filament_indices and responses have different lengths ({n_idx} vs {n_resp})"
        )
    if n_idx == 0:
        raise ValueError("empty sequence: at least one presentation is needed")
    idx: list[int] = []
    for i, v in enumerate(filament_indices):
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | np.integer):
            raise ValueError(f"filament index at position {i} is not an integer: {v!r}")
        if not 0 <= int(v) < filaments.n:
            raise ValueError(
                f"filament index {int(v)} at position {i} out of range 0..{filaments.n - 1}"
            )
        idx.append(int(v))
    resp: list[bool] = []
    for i, r in enumerate(responses):
        if isinstance(r, bool | np.bool_) or (isinstance(r, int | np.integer) and r in (0, 1)):
            resp.append(bool(r))
        else:
            raise ValueError(f"response at position {i} must be a bool (or 0/1), got {r!r}")
    if idx[0] != filaments.start_index:
        raise ValueError(
            f"sequence must start at start_index {filaments.start_index} "
            f"({filaments.forces_g[filaments.start_index]} g), got index {idx[0]}"
        )
    top = filaments.n - 1
    for i in range(1, n_idx):
        expected = max(idx[i - 1] - 1, 0) if resp[i - 1] else min(idx[i - 1] + 1, top)
        if idx[i] != expected:
            word = "withdrawal (X)" if resp[i - 1] else "no response (O)"
            raise ValueError(
                f"sequence breaks the up-down rule at position {i}: after {word} at index "
                f"{idx[i - 1]} the next filament must be index {expected}, got {idx[i]}"
            )
    return tuple(idx), tuple(resp)


def _series_k(pattern: str, long_first_part: bool) -> float:
    """Dixon's k (dimensionless) for a series' ``pattern`` (first part capped at 4 responses);
    ``long_first_part``: the series began with more than 4 like responses, so Dixon's Step 4
    increments (``_STEP4_PLUS_ONE``) apply."""
    k = dixon_k(pattern)
    if long_first_part:
        o_first = pattern if pattern[0] == "O" else pattern.translate(str.maketrans("XO", "OX"))
        if o_first[_MAX_FIRST_PART:] in _STEP4_PLUS_ONE:
            k = round(k + (0.001 if pattern[0] == "O" else -0.001), 3)
    return k


def _chaplan_threshold_g(xf: float, k: float, delta: float) -> float:
    """Chaplan's 50% threshold in grams, ``10**(Xf + k*delta) / 10_000``: ``xf`` the log unit
    of the last filament, ``k`` Dixon's k, ``delta`` the mean log step (log10 g)."""
    return 10.0 ** (xf + k * delta) / 10_000.0


def fifty_percent_threshold(
    filament_indices: Sequence[int],
    responses: Sequence[bool],
    filaments: FilamentSet = MOUSE_FILAMENTS,
) -> UpDownResult:
    """Analyse a recorded up-down sequence into a 50% paw withdrawal threshold (grams).

    Parameters
    ----------
    filament_indices:
        Index into ``filaments.forces_g`` of each filament presented, in order.
    responses:
        ``True`` = withdrawal (X), ``False`` = no response (O), one per presentation.
    filaments:
        The filament set used (forces in grams).

    Returns
    -------
    UpDownResult
        ``threshold_g = 10**(Xf + k*delta) / 10_000`` in grams (Chaplan 1994), with Xf the
        log unit of the last filament used, delta ``filaments.mean_log_step`` and k from
        :func:`dixon_k`; or the floor/ceiling convention (see module docstring).

    Raises
    ------
    ValueError
        Unequal lengths, empty input, indices out of range, wrong start filament, a step that
        breaks the up-down rule, presentations after a floor/ceiling stop, more than 4
        responses after the crossover, or a sequence that ends before any crossover without
        reaching an end of the set.
    """
    idx, resp = _validate(filament_indices, responses, filaments)
    top = filaments.n - 1
    first = resp[0]
    crossover = next((i for i, r in enumerate(resp) if r != first), None)

    if crossover is None:
        # No change of response yet: valid only if the run has reached the end of the set.
        at_end = (first and idx[-1] == 0) or (not first and idx[-1] == top)
        if not at_end:
            raise ValueError(
                "incomplete sequence: no change of response and the end of the filament set "
                f"was not reached (last index {idx[-1]}, responses "
                f"{_responses_to_str(resp)!r})"
            )
        flag = "floor" if first else "ceiling"
        threshold = filaments.forces_g[0] if first else filaments.forces_g[top]
        return UpDownResult(
            threshold_g=float(threshold),
            filament_indices=idx,
            responses=resp,
            pattern=_responses_to_str(resp),
            k=float("nan"),
            flag=flag,
        )

    # The test stops as soon as the initial run hits an end of the set without a change.
    for i in range(crossover):
        if (first and idx[i] == 0) or (not first and idx[i] == top):
            flag = "floor" if first else "ceiling"
            raise ValueError(
                f"sequence continues after a {flag} stop at position {i} "
                f"(index {idx[i]}); the test should have ended there"
            )
    n_after = len(resp) - crossover - 1
    if n_after > N_AFTER_CROSSOVER:
        raise ValueError(
            f"{n_after} responses after the crossover (position {crossover}); Chaplan's "
            f"procedure stops after {N_AFTER_CROSSOVER}"
        )

    run = min(crossover, _MAX_FIRST_PART)
    pattern = _responses_to_str(resp[crossover - run :])
    k = _series_k(pattern, crossover > _MAX_FIRST_PART)
    xf = float(filaments.log_units[idx[-1]])
    return UpDownResult(
        threshold_g=_chaplan_threshold_g(xf, k, filaments.mean_log_step),
        filament_indices=idx,
        responses=resp,
        pattern=pattern,
        k=k,
        flag="",
    )


def _max_presentations(filaments: FilamentSet) -> int:
    # Longest initial run (to either end) + crossover is at most n, plus 4 after.
    return filaments.n + N_AFTER_CROSSOVER


def withdrawal_probability(
    forces_g: np.ndarray, true_threshold_g: float, psychometric_slope: float
) -> np.ndarray:
    """P(withdrawal) for filaments of ``forces_g`` (g): logistic in log10 force, 50% at the
    mouse's true threshold (g); ``psychometric_slope`` per log10 unit (assumed)."""
    return _logistic_in_log_force(
        np.log10(forces_g), math.log10(true_threshold_g), psychometric_slope
    )


def _logistic_in_log_force(
    log10_force_g: np.ndarray, log10_threshold_g: float | np.ndarray, psychometric_slope: float
) -> np.ndarray:
    """P(withdrawal), logistic in log10 force (g) with 50% at ``log10_threshold_g``; shared by
    the single-mouse and the cohort simulations so that both compute the same numbers."""
    x = psychometric_slope * (log10_force_g - log10_threshold_g)
    return 1.0 / (1.0 + np.exp(-x))


def _run_procedure(
    true_threshold_g: float,
    uniforms: np.ndarray,
    filaments: FilamentSet,
    psychometric_slope: float,
) -> tuple[list[int], list[bool]]:
    """Run the up-down stopping rule with pre-drawn U(0,1) numbers (one per presentation)."""
    forces = np.asarray(filaments.forces_g, dtype=float)
    p = withdrawal_probability(forces, true_threshold_g, psychometric_slope)
    top = filaments.n - 1
    i = filaments.start_index
    idx: list[int] = []
    resp: list[bool] = []
    crossover: int | None = None
    for u in uniforms:
        r = bool(u < p[i])
        idx.append(i)
        resp.append(r)
        n = len(resp)
        if crossover is None:
            if n > 1 and r != resp[0]:
                crossover = n - 1
            elif (r and i == 0) or (not r and i == top):
                break  # floor / ceiling: no change possible
        if crossover is not None and n - crossover - 1 == N_AFTER_CROSSOVER:
            break
        i = max(i - 1, 0) if r else min(i + 1, top)
    return idx, resp


def _check_slope(psychometric_slope: float) -> None:
    if not (math.isfinite(psychometric_slope) and psychometric_slope > 0):
        raise ValueError(f"psychometric_slope must be finite and > 0, got {psychometric_slope}")


def _check_sim_args(true_threshold_g: float, psychometric_slope: float) -> None:
    if not (math.isfinite(true_threshold_g) and true_threshold_g > 0):
        raise ValueError(f"true_threshold_g must be finite and > 0 g, got {true_threshold_g}")
    _check_slope(psychometric_slope)


def simulate_up_down(
    true_threshold_g: float,
    rng: np.random.Generator,
    filaments: FilamentSet = MOUSE_FILAMENTS,
    psychometric_slope: float = 4.0,
) -> UpDownResult:
    """Simulate one up-down test on a mouse with a given true 50% threshold (grams).

    At each presentation of a filament with force F (g) the probability of withdrawal is
    ``1 / (1 + exp(-psychometric_slope * (log10 F - log10 true_threshold_g)))``, i.e.
    logistic in log10 force, 50% at the true threshold. The slope is per log10 unit of
    force; the default 4.0 is an assumption (not fitted to data). It gives a
    logistic SD of pi/(sqrt(3)*4) ~ 0.45 log10 units, about 1.7 mean filament steps of the
    mouse set, and takes P from 27% to 73% over +/-0.25 log10 units (~x1.8 in force).
    The filament sequence follows the up-down rule and Chaplan's stopping rule, and the
    record is analysed with :func:`fifty_percent_threshold`.

    Known bias (by design of the short Chaplan series, not a simulation artefact): with the
    mouse set, start 0.4 g and slope 4, the geometric mean of estimates / true threshold is
    about 1.14 at 0.02-0.05 g, 1.02 at 0.16 g, 0.88 at 0.4 g, 0.79 at 1.0 g and 0.71 at
    1.5 g (20 000 simulated mice each). Estimates are pulled toward the start filament, and
    above it the set's log steps are smaller than the mean step delta used in the formula.
    The bias is unchanged if filaments are added above 2 g. It is smaller for
    evenly log-spaced filaments (1.00 when the truth equals the start filament) and
    larger for shallower slopes (at 1.0 g: 0.61 for slope 2, 0.95 for slope 8).

    Exactly ``len(filaments.forces_g) + 4`` uniforms are drawn from ``rng`` per call
    (unused ones are discarded), so results match :func:`simulate_up_down_cohort` (all mice
    at once; the reference for it) for the same generator state.
    """
    _check_sim_args(float(true_threshold_g), float(psychometric_slope))
    uniforms = rng.random(_max_presentations(filaments))
    idx, resp = _run_procedure(float(true_threshold_g), uniforms, filaments, psychometric_slope)
    return fifty_percent_threshold(idx, resp, filaments)


def simulate_up_down_many(
    true_thresholds_g: np.ndarray,
    rng: np.random.Generator,
    filaments: FilamentSet = MOUSE_FILAMENTS,
    psychometric_slope: float = 4.0,
) -> np.ndarray:
    """Simulate one up-down test per mouse; return measured 50% thresholds (grams).

    The ``threshold_g`` of :func:`simulate_up_down_cohort` (same random stream, same numbers
    as calling :func:`simulate_up_down` for each element in order), with the shape of
    ``true_thresholds_g``. Floor/ceiling tests return the end filament force.
    """
    return simulate_up_down_cohort(
        true_thresholds_g, rng, filaments, psychometric_slope
    ).threshold_g


@dataclass(frozen=True)
class UpDownCohortResult:
    """Outcome of one up-down test per mouse; arrays shaped like the true thresholds.

    Attributes
    ----------
    threshold_g:
        50% paw withdrawal thresholds in grams (float).
    pattern:
        Dixon key per test, or the full response string of a flagged test (``str`` objects),
        as :attr:`UpDownResult.pattern`.
    k:
        Dixon's k used (dimensionless); ``nan`` for flagged tests.
    flag:
        ``""``, ``"floor"`` or ``"ceiling"`` per test (``str`` objects), as
        :attr:`UpDownResult.flag`.
    """

    threshold_g: np.ndarray
    pattern: np.ndarray
    k: np.ndarray
    flag: np.ndarray


def simulate_up_down_cohort(
    true_thresholds_g: np.ndarray,
    rng: np.random.Generator,
    filaments: FilamentSet = MOUSE_FILAMENTS,
    psychometric_slope: float = 4.0,
) -> UpDownCohortResult:
    """Simulate one up-down test per mouse (true 50% thresholds in grams), all mice at once.

    Gives exactly (bit for bit) what calling :func:`simulate_up_down` for each element of
    ``true_thresholds_g`` in C order with the same generator gives: the same
    ``len(filaments.forces_g) + 4`` uniforms per mouse are drawn in one block, the
    presentations are stepped for all mice together, and the stopping rule, Dixon's k and
    Chaplan's formula are applied to the whole cohort. Each distinct outcome (last filament and
    pattern, or floor/ceiling and length) is evaluated once with the scalar code of
    :func:`fifty_percent_threshold`; the records are not re-validated (the simulator produces
    them by the rule).

    Raises
    ------
    ValueError
        If a true threshold is not finite and > 0 g (the first one is named), or the slope is
        not finite and > 0.
    """
    true = np.asarray(true_thresholds_g, dtype=float)
    flat = true.ravel()
    bad = np.flatnonzero(~(np.isfinite(flat) & (flat > 0)))
    if bad.size:
        raise ValueError(
            f"true_threshold_g must be finite and > 0 g, got {flat[bad[0]]} "
            f"(element {int(bad[0])} of {flat.size})"
        )
    _check_slope(float(psychometric_slope))
    uniforms = rng.random((flat.size, _max_presentations(filaments)))
    indices, responses = _walk_up_down(flat, uniforms, filaments, float(psychometric_slope))
    keys, inverse = np.unique(_outcome_keys(indices, responses, filaments), return_inverse=True)
    threshold_g, k = np.empty(keys.size), np.empty(keys.size)
    pattern, flag = np.empty(keys.size, dtype=object), np.empty(keys.size, dtype=object)
    log_units, delta = filaments.log_units, filaments.mean_log_step
    for j, key in enumerate(keys.tolist()):
        threshold_g[j], pattern[j], k[j], flag[j] = _describe_outcome(
            key, filaments, log_units, delta
        )
    return UpDownCohortResult(
        *(column[inverse].reshape(true.shape) for column in (threshold_g, pattern, k, flag))
    )


def _walk_up_down(
    true_thresholds_g: np.ndarray,
    uniforms: np.ndarray,
    filaments: FilamentSet,
    psychometric_slope: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Filament indices and responses (``True`` = withdrawal) of each mouse (rows) at each
    presentation (columns, one per uniform), following the up-down rule without stopping; the
    stopping rule is applied afterwards (:func:`_outcome_keys`): the procedure's record is a
    prefix of this walk."""
    n, m = uniforms.shape
    # math.log10 per mouse, as in withdrawal_probability (numpy's SIMD log10 may differ by 1 ulp)
    log10_true = np.array([math.log10(t) for t in true_thresholds_g.tolist()]).reshape(n, 1)
    forces = np.asarray(filaments.forces_g, dtype=float)
    p = _logistic_in_log_force(np.log10(forces), log10_true, psychometric_slope).ravel()
    row_start = np.arange(n) * filaments.n  # offset of each mouse's row in p
    by_step = np.ascontiguousarray(uniforms.T)  # one contiguous row of uniforms per step
    indices = np.empty((m, n), dtype=np.intp)
    responses = np.empty((m, n), dtype=bool)
    i = np.full(n, filaments.start_index, dtype=np.intp)
    for step in range(m):
        indices[step] = i
        responses[step] = r = by_step[step] < p[row_start + i]
        # down after a withdrawal, up after none; the end filament is presented again
        i = np.clip(i + 1 - 2 * r, 0, filaments.n - 1)
    return indices.T, responses.T


#: Longest Dixon key: a first part of 4 + the crossover + 4 more responses.
_MAX_KEY = _MAX_FIRST_PART + 1 + N_AFTER_CROSSOVER
#: Outcome code bit set when the series began with more than 4 like responses (Dixon's Step 4).
_LONG_FIRST_PART = 1 << (_MAX_KEY + 1)
#: Number of outcome codes per last filament.
_N_CODES = 2 * _LONG_FIRST_PART


def _pattern_code(pattern: str, long_first_part: bool) -> int:
    """Integer code of a Dixon key: bit j = response j (X = 1), a 1 bit above the last
    response (so that length is kept), plus ``_LONG_FIRST_PART`` for a long first part."""
    bits = sum(1 << j for j, c in enumerate(pattern) if c == "X")
    return bits + (1 << len(pattern)) + (_LONG_FIRST_PART if long_first_part else 0)


#: Code -> (Dixon key, k) for every key the procedure can produce (a long first part is
#: capped to 4 like responses).
_K_BY_CODE: dict[int, tuple[str, float]] = {
    _pattern_code(key, long): (key, _series_k(key, long))
    for key in K_TABLE
    for long in (False, True)
    if not long or len(key) - len(key.lstrip(key[0])) == _MAX_FIRST_PART
}


def _outcome_keys(indices: np.ndarray, responses: np.ndarray, filaments: FilamentSet) -> np.ndarray:
    """One integer per mouse that determines its result: for a completed series
    ``last filament * _N_CODES + pattern code`` (>= 0), for a floor/ceiling stop
    ``-(2 * presentations + first response) - 1`` (< 0)."""
    n, m = responses.shape
    step = np.arange(m)
    first = responses[:, 0]
    changed = responses != first[:, None]
    crossover = np.where(changed.any(axis=1), changed.argmax(axis=1), m)
    # Before the crossover, reaching the end filament in the run's direction ends the test.
    at_end = np.where(first[:, None], indices == 0, indices == filaments.n - 1)
    stop = at_end & (step < crossover[:, None])
    flagged = stop.any(axis=1)
    flagged_key = -(2 * (stop.argmax(axis=1) + 1) + first) - 1

    # Completed series: crossover + N_AFTER_CROSSOVER more, within the m = n + 4 presentations
    # as the initial run reaches an end of the set within n presentations.
    done = np.where(flagged, 0, crossover)  # any valid column for flagged mice
    run = np.minimum(done, _MAX_FIRST_PART)
    length = run + 1 + N_AFTER_CROSSOVER
    offsets = np.arange(_MAX_KEY)
    # (clipped: a flagged mouse's or a short set's unused columns may lie beyond the record)
    columns = np.minimum(done[:, None] - run[:, None] + offsets, m - 1)
    bits = np.take_along_axis(responses, columns, axis=1) & (offsets < length[:, None])
    code = (
        (bits.astype(np.int64) << offsets).sum(axis=1)
        + (np.int64(1) << length)
        + np.where(done > _MAX_FIRST_PART, _LONG_FIRST_PART, 0)
    )
    last = indices[np.arange(n), done + N_AFTER_CROSSOVER]
    return np.where(flagged, flagged_key, last * _N_CODES + code)


def _describe_outcome(
    key: int, filaments: FilamentSet, log_units: np.ndarray, delta: float
) -> tuple[float, str, float, str]:
    """Threshold (g), pattern, k and flag of an outcome key of :func:`_outcome_keys`, computed
    with the scalar code of :func:`fifty_percent_threshold` (``log_units`` and ``delta``: the
    set's ``log_units`` and ``mean_log_step``, computed once per cohort)."""
    if key < 0:
        presentations, withdrew = divmod(-key - 1, 2)
        end = 0 if withdrew else filaments.n - 1
        flag = "floor" if withdrew else "ceiling"
        pattern = ("X" if withdrew else "O") * presentations
        return float(filaments.forces_g[end]), pattern, float("nan"), flag
    last, code = divmod(key, _N_CODES)
    pattern, k = _K_BY_CODE[code]
    return _chaplan_threshold_g(float(log_units[last]), k, delta), pattern, k, ""
