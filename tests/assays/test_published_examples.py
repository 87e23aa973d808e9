"""Known-answer tests against worked examples printed in the literature.

Only numbers that were actually read are used here. The printed papers were NOT available
to us directly; every value below is quoted *verbatim* from a public repository that
transcribed it from the paper, and the repository is named so the quote can be checked.

Source A - the only complete published worked example we found:
    Dixon WJ. Efficient analysis of experimental observations. Annu Rev Pharmacol Toxicol
    1980;20:441-462, Figure 6 (p. 455), as quoted (from the authors' PDF of the paper) in
    github.com/FaresMahmud/limiar-app, ``src-tauri/src/dixon.rs`` (test
    ``figura6_exemplo_do_artigo``) and ``docs/DOMINIO.md``:

        "For this series OXXOXO the estimate of LD50 is 0.602 + 0.831(0.301) = 0.852."

    Doses (concentration, %) in test order: 8, 16, 8, 4, 8, 4 -> x_f = 4 (log10 4 = 0.602),
    doses doubling so d = log10 2 = 0.301, k = 0.831 (first part "O", second part "XXOXO"),
    estimate 0.852 in log10 units (= 7.11 %).

Source B - a published rule (Dixon 1980, "Step 4", p. 455), quoted in the same repository
(``src-tauri/src/dixon_table.rs``):

        "If the series begins with more than four like responses (i.e. N' - N >= 3) the
        entry in the final column of Table 7 can be used (except for five tabular entries
        where an additional increment in the third decimal place is indicated)."

    The five entries (marked with a superscript "+1" in the final column) are the second
    parts XXXX, XXOXX, XXXOX, XXXXO and XXXXX (and their O/X mirrors for series that start
    with X). The repository reads "+1" as +0.001 on the printed value.

Searched without finding readable worked numbers: Chaplan et al. 1994 (appendix), Dixon 1965
(JASA 60:967), Bonin et al. 2014 (SUDO), Christensen et al. 2020, Gonzalez-Cano et al. 2018
(Up-Down Reader), Deuis et al. 2017 (only abstracts or first pages were readable).
"""

from __future__ import annotations

import math

import pytest

from fmsim.assays.dixon import dixon_k_mle
from fmsim.assays.von_frey import (
    MOUSE_FILAMENTS,
    PUBLISHED_K_TABLE,
    FilamentSet,
    dixon_k,
    fifty_percent_threshold,
)

X, NO = True, False  # X = response (withdrawal / "dead"), NO = no response (O)

# ------------------------------------------------------------------ Source A: Dixon 1980 Fig. 6

# Dose levels of the example (concentration, %). The package's FilamentSet is unit-agnostic:
# threshold = 10**(Xf + k*delta) / 10_000 with Xf = log10(10_000 * level), i.e.
# level_f * 10**(k * delta), so it returns the estimate in the units of the levels (% here).
DIXON_FIG6_LEVELS = FilamentSet("Dixon 1980 Fig. 6 (concentration, %)", (4.0, 8.0, 16.0), 1)
DIXON_FIG6_IDX = [1, 2, 1, 0, 1, 0]  # 8, 16, 8, 4, 8, 4 %
DIXON_FIG6_RESP = [NO, X, X, NO, X, NO]  # "OXXOXO"
# Printed values (3 decimals).
FIG6_K = 0.831
FIG6_XF_LOG = 0.602
FIG6_D = 0.301
FIG6_ESTIMATE_LOG = 0.852


def test_dixon1980_fig6_printed_arithmetic_is_self_consistent():
    # 0.602 + 0.831 * 0.301 = 0.852131 -> 0.852 as printed (guards the transcription).
    assert round(FIG6_XF_LOG + FIG6_K * FIG6_D, 3) == FIG6_ESTIMATE_LOG
    assert [DIXON_FIG6_LEVELS.forces_g[i] for i in DIXON_FIG6_IDX] == [8, 16, 8, 4, 8, 4]


def test_dixon1980_fig6_k_value():
    # First part "O" + second part "XXOXO" -> k = 0.831 (Table 7, N = 6, column "O").
    assert dixon_k("OXXOXO") == FIG6_K
    assert PUBLISHED_K_TABLE["OXXOXO"] == FIG6_K
    # The package's maximum-likelihood k (sigma = d) rounds to the printed value.
    assert round(dixon_k_mle("OXXOXO"), 3) == FIG6_K


def test_dixon1980_fig6_estimate_through_fifty_percent_threshold():
    res = fifty_percent_threshold(DIXON_FIG6_IDX, DIXON_FIG6_RESP, DIXON_FIG6_LEVELS)
    assert res.flag == ""
    assert res.pattern == "OXXOXO"
    assert res.k == FIG6_K
    # Rounding convention: Dixon printed x_f = log10(4) and d = log10(2) rounded to 3
    # decimals (0.602, 0.301); the package uses the exact logs (0.60206, 0.30103). Both give
    # log10 estimates that round to the printed 0.852 (package: 0.852216; paper: 0.852131),
    # so the comparison is at the published precision of 3 decimals in log10 units.
    assert round(DIXON_FIG6_LEVELS.mean_log_step, 3) == FIG6_D
    assert round(math.log10(DIXON_FIG6_LEVELS.forces_g[res.filament_indices[-1]]), 3) == (
        FIG6_XF_LOG
    )
    assert round(math.log10(res.threshold_g), 3) == FIG6_ESTIMATE_LOG
    assert res.threshold_g == pytest.approx(10**FIG6_ESTIMATE_LOG, abs=0.01)  # 7.11 %


# ------------------------------------------------ Source B: Dixon 1980 Step 4 (first part > 4)

# The five second parts whose final-column entry carries the "+1" mark (series starting
# with O), and their mirrors for series starting with X.
PLUS_ONE_SECOND_PARTS_O_FIRST = ("XXXX", "XXOXX", "XXXOX", "XXXXO", "XXXXX")
_MIRROR = str.maketrans("OX", "XO")
PLUS_ONE_SECOND_PARTS_X_FIRST = tuple(p.translate(_MIRROR) for p in PLUS_ONE_SECOND_PARTS_O_FIRST)

# All second parts of a Chaplan/Dixon series starting with X: the crossover "O" followed by
# 0-4 further responses (31 parts).
SECOND_PARTS_X_FIRST = tuple(
    "O" + "".join("X" if (bits >> j) & 1 else "O" for j in range(n_more))
    for n_more in range(5)
    for bits in range(2**n_more)
)


def _five_x_then(second_part: str) -> tuple[list[int], list[bool]]:
    """Mouse-set record: X at 0.4, 0.16, 0.07, 0.04, 0.02 g (5 like responses, more than
    Table 7's four), crossover O at 0.008 g, then ``second_part[1:]`` by the up-down rule
    (clamped at the ends of the set, as the package does)."""
    resp = [X] * 5 + [c == "X" for c in second_part]
    idx = [MOUSE_FILAMENTS.start_index]
    for r in resp[:-1]:
        idx.append(max(idx[-1] - 1, 0) if r else min(idx[-1] + 1, MOUSE_FILAMENTS.n - 1))
    return idx, resp


def _step4_params():
    for part in SECOND_PARTS_X_FIRST:
        if part in PLUS_ONE_SECOND_PARTS_X_FIRST:
            # Mirror entry: k = -(final-column value + 0.001), reading '+1' as +0.001.
            # (For OOOOO the package's own MLE gives -1.500, not -1.497; see below.)
            expected = round(PUBLISHED_K_TABLE["XXXX" + part] - 0.001, 3)
            yield pytest.param(part, expected, id=f"XXXXX+{part}-plus1")
        else:
            yield pytest.param(part, PUBLISHED_K_TABLE["XXXX" + part], id=f"XXXXX+{part}")


@pytest.mark.parametrize(("second_part", "expected_k"), list(_step4_params()))
def test_dixon1980_step4_first_part_longer_than_four(second_part, expected_k):
    # Rule quoted above: with more than four like responses, use Table 7's final column,
    # except five entries that get +0.001 (for series starting with X: -0.001).
    idx, resp = _five_x_then(second_part)
    res = fifty_percent_threshold(idx, resp, MOUSE_FILAMENTS)
    assert res.flag == ""
    assert res.pattern == "XXXX" + second_part  # first part capped at Table 7's 4 columns
    assert res.k == pytest.approx(expected_k, abs=1e-9)


def test_step4_plus_one_entries_agree_with_the_packages_own_mle():
    # Independent support for the "+1" entries (not a published number): the package's
    # maximum-likelihood k for a first part of 5+ like responses rounds to final column
    # + 0.001 for four of the five marked entries. For XXXXX it gives 1.500 rather than
    # 1.496 + 0.001 = 1.497 (reported as an open question, not tested as published).
    for tail in ("XXXX", "XXOXX", "XXXOX", "XXXXO"):
        k4 = PUBLISHED_K_TABLE["OOOO" + tail]
        assert round(dixon_k_mle("O" * 5 + tail), 3) == pytest.approx(k4 + 0.001, abs=1e-9)
        assert round(dixon_k_mle("O" * 10 + tail), 3) == pytest.approx(k4 + 0.001, abs=1e-9)
    # The other 26 second parts do not change at the 3rd decimal.
    unchanged = [
        p
        for p in PUBLISHED_K_TABLE
        if p.startswith("OOOOX") and p[4:] not in PLUS_ONE_SECOND_PARTS_O_FIRST
    ]
    assert len(unchanged) == 26
    for p in unchanged:
        assert round(dixon_k_mle("O" + p), 3) == PUBLISHED_K_TABLE[p]
