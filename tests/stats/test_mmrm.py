"""MMRM (fmsim.stats.mmrm) against R on identical data, the degrees-of-freedom methods against
their exact values, and the batched path against the single-trial path (outcome units)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmsim.stats.mmrm import mmrm, mmrm_effects
from fmsim.stats.trial import ancova_effects

#: Required agreement with R (relative): estimates and standard errors.
ESTIMATE_RTOL, SE_RTOL = 1e-6, 1e-4
#: emmeans computes Satterthwaite df for gls by numerical differentiation
#: ("appx-satterthwaite"), good to about 1 %.
EMMEANS_DF_RTOL = 1e-2
VISITS = ["visits_complete", "visits_dropout", "visits_intermittent", "visits_small"]


def fit(table: pd.DataFrame, week: int, **options) -> pd.Series:
    return mmrm_effects(table.assign(replicate=0), week, "placebo", "drug", **options).iloc[0]


@pytest.mark.parametrize("name", VISITS)
def test_unstructured_mmrm_matches_r_gls(name, r_results, reference_table):
    ref = r_results[name]["mmrm_unstructured"]
    week = r_results[name]["endpoint_week"]
    table = reference_table(name)
    result = fit(table, week, df_method="satterthwaite")
    assert result.covariance == "unstructured"
    assert result.estimate == pytest.approx(ref["estimate"], rel=ESTIMATE_RTOL)
    assert result.se == pytest.approx(ref["se"], rel=SE_RTOL)
    assert result.df == pytest.approx(ref["satterthwaite_df"], rel=EMMEANS_DF_RTOL)
    single = mmrm(table, week, "placebo", "drug", df_method="satterthwaite")
    assert single.estimate == pytest.approx(ref["estimate"], rel=ESTIMATE_RTOL)


@pytest.mark.parametrize("name", VISITS)
def test_compound_symmetry_kenward_roger_and_satterthwaite_match_pbkrtest_and_lmertest(
    name, r_results, reference_table
):
    """The same fixed effects with a random patient intercept in lme4: the KR adjusted SE and
    df (pbkrtest) and the Satterthwaite df (lmerTest) exercise the whole df machinery."""
    ref = r_results[name]["mmrm_compound_symmetry"]
    week = r_results[name]["endpoint_week"]
    table = reference_table(name)
    satterthwaite = fit(table, week, df_method="satterthwaite", covariance="compound symmetry")
    kenward_roger = fit(table, week, df_method="kenward-roger", covariance="compound symmetry")
    assert satterthwaite.covariance == "compound symmetry"
    assert satterthwaite.estimate == pytest.approx(ref["estimate"], rel=ESTIMATE_RTOL)
    assert satterthwaite.se == pytest.approx(ref["se"], rel=SE_RTOL)
    assert satterthwaite.df == pytest.approx(ref["satterthwaite_df"], rel=1e-4)
    assert kenward_roger.se == pytest.approx(ref["kenward_roger_se"], rel=SE_RTOL)
    assert kenward_roger.df == pytest.approx(ref["kenward_roger_df"], rel=1e-4)


def test_with_complete_data_every_df_method_gives_the_exact_ancova_t_test(reference_table):
    """Complete data, every covariate x week: the estimate is the per-week OLS one, exactly
    t-distributed on n - 3 df; the KR correction is zero (Q_ab = P_a Phi P_b)."""
    table = reference_table("visits_complete")
    exact = ancova_effects(table.assign(replicate=0), 3, "placebo", "drug").iloc[0]
    assert exact.df == 37
    for method in ("kenward-roger", "satterthwaite", "residual"):
        result = fit(table, 3, df_method=method)
        assert result.estimate == pytest.approx(exact.estimate, rel=1e-10)
        assert result.se == pytest.approx(exact.se, rel=1e-8)
        assert result.df == pytest.approx(37, rel=1e-8)


def test_kenward_roger_inflates_the_se_with_dropout(reference_table):
    table = reference_table("visits_dropout")
    kr, model_based = fit(table, 4), fit(table, 4, df_method="satterthwaite")
    assert kr.estimate == model_based.estimate
    assert 1.0 < kr.se / model_based.se < 1.05


def random_trials(seed: int, replicates: int) -> pd.DataFrame:
    """Parallel trials with unequal arms (6-40 patients each), 3-5 post-baseline weeks,
    correlated weekly values, MAR dropout and intermittent missing visits."""
    rng = np.random.default_rng(seed)
    n_weeks = 4
    weeks = np.arange(n_weeks + 1)
    cov = 1.5**2 * 0.7 ** np.abs(weeks[:, None] - weeks[None, :])
    frames = []
    for r in range(replicates):
        n = rng.integers(6, 41, size=2)
        arm = np.repeat(["placebo", "drug"], n)
        y = rng.multivariate_normal(np.full(n_weeks + 1, 6.0), cov, size=arm.size)
        y[arm == "drug", 1:] -= 0.5
        present = np.ones_like(y, dtype=bool)
        for w in range(1, n_weeks + 1):
            present[:, w] = present[:, w - 1] & ~(
                (y[:, w - 1] > 6.5) & (rng.random(arm.size) < 0.3)
            )
        present[:, 1:] &= rng.random((arm.size, n_weeks)) > 0.05
        frame = pd.DataFrame(
            {
                "replicate": r,
                "patient": np.repeat([f"p{i}" for i in range(arm.size)], n_weeks + 1),
                "arm": np.repeat(arm, n_weeks + 1),
                "week": np.tile(weeks, arm.size),
                "value": y.ravel(),
            }
        )
        frames.append(frame[present.ravel()])
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("method", ["kenward-roger", "satterthwaite"])
def test_batched_equals_single_trial_fits_on_random_designs(method):
    table = random_trials(3, 12)
    # one replicate where week 2 is observed in one arm only: the single-trial path leaves the
    # week out, and so must the batched path
    hole = (table["replicate"] == 5) & (table["week"] == 2) & (table["arm"] == "drug")
    table = table[~hole]
    batched = mmrm_effects(table, 4, "placebo", "drug", df_method=method)
    for replicate, rows in table.groupby("replicate"):
        single = mmrm(rows.drop(columns="replicate"), 4, "placebo", "drug", df_method=method)
        row = batched.iloc[replicate]
        assert row.estimate == pytest.approx(single.estimate, rel=1e-8, abs=1e-10)
        assert (row.ci_low, row.ci_high) == pytest.approx((single.ci_low, single.ci_high), rel=1e-7)
        assert row.p_value == pytest.approx(single.p_value, rel=1e-6, abs=1e-12)
    assert "weeks [2] left out" in mmrm(table[table["replicate"] == 5], 4, "placebo", "drug").method


def test_bad_options_and_tables_raise_one_line(reference_table):
    table = reference_table("visits_small")
    with pytest.raises(ValueError, match="df_method must be one of"):
        mmrm(table, 4, "placebo", "drug", df_method="between-within")
    with pytest.raises(ValueError, match="covariance must be one of"):
        mmrm_effects(table.assign(replicate=0), 4, "placebo", "drug", covariance="ar1")
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['replicate'\]"):
        mmrm_effects(table, 4, "placebo", "drug")
    lost = table[~((table["week"] == 4) & (table["arm"] == "drug"))].assign(replicate="r9")
    with pytest.raises(ValueError, match="replicate 'r9'.*arm 'drug' has 0 patient"):
        mmrm_effects(pd.concat([lost, table.assign(replicate="r1")]), 4, "placebo", "drug")
