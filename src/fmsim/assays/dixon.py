"""Dixon's up-and-down k computed by maximum likelihood instead of typed in.

Source: Dixon WJ. The up-and-down method for small samples. J Am Stat Assoc
1965;60:967-978 (origin of the k table); reprinted as Table 7 of Dixon WJ. Efficient analysis
of experimental observations. Annu Rev Pharmacol Toxicol 1980;20:441-462, and used by
Chaplan et al. 1994 (see :mod:`fmsim.assays.von_frey`).

Model (the one that reproduces the published table)
---------------------------------------------------
* Test levels are equally spaced by ``d`` on the log-dose scale. Levels are measured in units
  of ``d``: the first test is at level 0; after no response (``O``) the next test is one level
  up, after a response (``X``) one level down.
* The probability of a response at level ``x`` is normal (probit):
  ``P(X | x) = Phi((x - mu) / sigma)``, with ``sigma`` *known* and equal to the spacing
  (``sigma = d``, i.e. ``sigma_in_steps = 1``).
* ``mu`` is estimated by maximum likelihood using **every** response of the series,
  including all responses of the initial run of like responses (the "first part", e.g. the
  ``OOO`` of ``OOOXOXO``), maximising
  ``sum_X log Phi((x_i - mu)/sigma) + sum_O log(1 - Phi((x_i - mu)/sigma))``.
* ``k = mu_hat - x_f`` in units of ``d``, where ``x_f`` is the level of the last test, so the
  50% point is ``x_f + k d`` (Dixon 1965/1980; Chaplan 1994's ``Xf + k delta``).

How this was established: the brief's description of Dixon 1965 (probit, sigma = d, MLE,
estimate ``x_f + k d``) was checked numerically against the transcribed 248-entry table in
:data:`fmsim.assays.von_frey.PUBLISHED_K_TABLE`. With sigma = d and the whole series
(initial run included) in the likelihood, all 248 entries agree with the printed 3 decimals
(max |difference| 0.00048, i.e. every computed value rounds to the printed one); with
sigma = 0.9 d or 1.1 d only 38 and 22 entries agree (max |difference| ~0.07), and dropping the
earlier responses of the initial run would make the four first-part columns identical, which
the table is not. We could not read Dixon 1965 itself through the available search; the same
likelihood (normal CDF, sd = one step, all responses) is used by the independent R code
``up_down_ld50`` (Mikkel Ammentorp Storm, "Analyze Up-Down Lethal Dose 50% Experiments", an R
adaptation citing Brownlee et al. 1953 and Dixon 1980). The numerical agreement, not a quoted
sentence, is our evidence for the model.

"Nominal sample size": Dixon counts N from the last of the initial like responses, so a
table row (second part) combined with first parts of length 1-4 has the same N. The earlier
responses of the initial run do not count towards N but they *are* in the likelihood; that is
why the columns differ slightly and converge as the run gets longer.

Infinite MLE: a series without both a response and a non-response (``"OOO"``, ``"X"``) has
no finite maximum (the likelihood increases monotonically in ``mu``); :func:`dixon_k_mle`
raises ``ValueError`` for it. Any series containing both has a strictly concave
log-likelihood tending to -inf at both ends, hence a unique finite MLE.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr

__all__ = [
    "dixon_k_mle",
    "dixon_k_table_mle",
    "dixon_table_patterns",
    "up_down_levels",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _normalise(pattern: str) -> str:
    if not isinstance(pattern, str):
        raise ValueError(f"pattern must be a str of X/O, got {type(pattern).__name__}")
    key = pattern.strip().upper()
    if not key or set(key) - {"X", "O"}:
        raise ValueError(f"pattern must be a non-empty string of 'X'/'O' only, got {pattern!r}")
    return key


def up_down_levels(pattern: str) -> np.ndarray:
    """Test levels (units of the spacing ``d``, first test at 0) implied by the up-down rule.

    After ``O`` (no response) the next level is one step up, after ``X`` (response) one step
    down. Returns a float array with one level per response.
    """
    key = _normalise(pattern)
    steps = [1.0 if c == "O" else -1.0 for c in key[:-1]]
    return np.concatenate(([0.0], np.cumsum(steps)))


def _score(mu: float, x: np.ndarray, resp: np.ndarray, sigma: float) -> float:
    """d/dmu of the probit log-likelihood (numerically stable via log_ndtr)."""
    z = (x - mu) / sigma
    log_pdf = -0.5 * z * z - _LOG_SQRT_2PI
    # Response (X): d/dmu log Phi(z) = -phi(z)/Phi(z)/sigma.
    # No response (O): d/dmu log Phi(-z) = +phi(z)/Phi(-z)/sigma.
    hazard_x = np.exp(log_pdf[resp] - log_ndtr(z[resp]))
    hazard_o = np.exp(log_pdf[~resp] - log_ndtr(-z[~resp]))
    return float((hazard_o.sum() - hazard_x.sum()) / sigma)


def dixon_k_mle(pattern: str, sigma_in_steps: float = 1.0) -> float:
    """Dixon's k (dimensionless, units of the step ``d``) by maximum likelihood.

    Parameters
    ----------
    pattern:
        Full response series, ``X`` = response, ``O`` = no response (case-insensitive), e.g.
        ``"OOXOXO"``. All responses, including the whole initial run, enter the likelihood.
    sigma_in_steps:
        Known probit standard deviation in units of the spacing ``d``; Dixon's table uses 1.

    Returns
    -------
    float
        ``k = mu_hat - x_f`` where ``x_f`` is the level of the last test; the 50% point on the
        log-dose scale is ``x_f + k d``.

    Raises
    ------
    ValueError
        Bad characters, non-positive/non-finite ``sigma_in_steps``, or a series without both
        ``X`` and ``O`` (its MLE is infinite).
    """
    key = _normalise(pattern)
    sigma = float(sigma_in_steps)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma_in_steps must be finite and > 0, got {sigma_in_steps!r}")
    if "X" not in key or "O" not in key:
        direction = "+inf" if "X" not in key else "-inf"
        raise ValueError(
            f"pattern {pattern!r} has no change of response: the maximum-likelihood estimate "
            f"of the 50% point is infinite ({direction}), so k is undefined"
        )
    x = up_down_levels(key)
    resp = np.array([c == "X" for c in key])
    # Score is strictly decreasing; it is > 0 far below and < 0 far above the tested levels.
    pad = 10.0 * sigma + 10.0
    lo, hi = float(x.min()) - pad, float(x.max()) + pad
    mu = brentq(_score, lo, hi, args=(x, resp, sigma), xtol=1e-13, rtol=4 * np.finfo(float).eps)
    return float(mu - x[-1])


def dixon_table_patterns() -> list[str]:
    """The 248 series covered by Dixon's table, as full response strings.

    First part: 1-4 like responses (``O``... or ``X``...); second part: the changed response
    followed by 0-4 further responses (1-5 responses in all). 2 x 4 x 31 = 248 patterns.
    """
    patterns: list[str] = []
    for first, other in (("O", "X"), ("X", "O")):
        for run in range(1, 5):
            for n_more in range(5):
                for tail in product("OX", repeat=n_more):
                    patterns.append(first * run + other + "".join(tail))
    return patterns


@lru_cache(maxsize=4)
def _table(sigma_in_steps: float) -> tuple[tuple[str, float], ...]:
    return tuple((p, dixon_k_mle(p, sigma_in_steps)) for p in dixon_table_patterns())


def dixon_k_table_mle(sigma_in_steps: float = 1.0) -> dict[str, float]:
    """Full-precision MLE k for every pattern of Dixon's table (see :func:`dixon_table_patterns`).

    Keys are the same strings as :data:`fmsim.assays.von_frey.PUBLISHED_K_TABLE` (first part +
    second part). Computed once per ``sigma_in_steps`` and cached; a new dict is returned.
    """
    return dict(_table(float(sigma_in_steps)))
