"""Tests for fmsim.stats.trial (outcome in pain NRS points, time in weeks or days)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from fmsim.stats.trial import (
    PowerEstimate,
    ResponderAnalysis,
    TreatmentEffect,
    ancova,
    ancova_effects,
    crossover_effect,
    mmrm,
    mmrm_effects,
    power_from_replicates,
    required_sample_size,
    responder_analysis,
    responder_effects,
    weekly_means,
)

PLACEBO = "placebo"
DRUG = "drug"
Z95 = stats.norm.ppf(0.975)


def simulate_trial(
    rng: np.random.Generator,
    n_per_arm: int = 30,
    n_weeks: int = 4,
    effect: float = 0.0,
    rho: float = 0.8,
    sd: float = 1.5,
    dropout: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly pain NRS with AR(1) correlation over weeks 0..n_weeks (mean 6, no clipping).

    ``effect`` is added to every post-baseline week of the drug arm. Dropout for lack of
    efficacy is missing at random: after each week a patient whose value that week is
    above 6.5 leaves with probability ``dropout``. Returns the complete visits table and
    the same table with the visits after dropout removed.
    """
    weeks = np.arange(n_weeks + 1)
    cov = sd**2 * rho ** np.abs(weeks[:, None] - weeks[None, :])
    y = rng.multivariate_normal(np.full(n_weeks + 1, 6.0), cov, size=2 * n_per_arm)
    treated = np.repeat([False, True], n_per_arm)
    y[treated, 1:] += effect
    present = np.ones_like(y, dtype=bool)
    for w in range(1, n_weeks + 1):
        leave = (y[:, w - 1] > 6.5) & (rng.random(len(y)) < dropout)
        present[:, w] = present[:, w - 1] & ~leave
    arms = np.where(treated, DRUG, PLACEBO)
    complete = pd.DataFrame(
        {
            "patient": np.repeat([f"p{i:03d}" for i in range(len(y))], n_weeks + 1),
            "arm": np.repeat(arms, n_weeks + 1),
            "week": np.tile(weeks, len(y)),
            "value": y.ravel(),
        }
    )
    return complete, complete.loc[present.ravel()].reset_index(drop=True)


def t_se(effect: TreatmentEffect, df: float) -> float:
    """Standard error implied by a t-based 95 % CI on ``df`` degrees of freedom."""
    return (effect.ci_high - effect.ci_low) / (2 * stats.t.ppf(0.975, df))


# ----------------------------------------------------------------- ANCOVA


def test_ancova_equals_hand_computed_ols():
    _, visits = simulate_trial(np.random.default_rng(11), n_per_arm=25, effect=-0.7, dropout=0.1)
    visits.loc[visits.index[3], "value"] = np.nan  # a NaN value is missing, like an absent row
    res = ancova(visits, 4, PLACEBO, DRUG)

    wide = visits.pivot(index="patient", columns="week", values="value")
    arm = visits.drop_duplicates("patient").set_index("patient")["arm"]
    cases = wide[[0, 4]].dropna()
    x = np.column_stack([np.ones(len(cases)), (arm[cases.index] == DRUG).to_numpy(float), cases[0]])
    y = (cases[4] - cases[0]).to_numpy()
    beta, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - 3
    se = math.sqrt(rss[0] / df * np.linalg.inv(x.T @ x)[1, 1])

    assert res.estimate == pytest.approx(beta[1], abs=1e-10)
    assert t_se(res, df) == pytest.approx(se, rel=1e-10)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(beta[1]) / se, df), rel=1e-8)
    assert res.n_analysed == {
        PLACEBO: int((arm[cases.index] == PLACEBO).sum()),
        DRUG: int((arm[cases.index] == DRUG).sum()),
    }
    assert res.endpoint == "change from baseline at week 4"
    assert f"t-test on {df} residual df" in res.method


@pytest.mark.parametrize(
    "name", ["visits_complete", "visits_dropout", "visits_intermittent", "visits_small"]
)
def test_ancova_matches_r_lm(name, r_results, reference_table):
    ref = r_results[name]["ancova"]
    week = r_results[name]["endpoint_week"]
    table = reference_table(name)
    single = ancova(table, week, PLACEBO, DRUG)
    batched = ancova_effects(table.assign(replicate=0), week, PLACEBO, DRUG).iloc[0]
    assert single.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    assert t_se(single, ref["df"]) == pytest.approx(ref["se"], rel=1e-4)
    assert batched.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    assert batched.se == pytest.approx(ref["se"], rel=1e-4)
    assert batched.df == ref["df"]


def test_batched_ancova_and_responders_equal_single_trial_analyses():
    rng = np.random.default_rng(8)
    tables = [
        simulate_trial(rng, n_per_arm=int(rng.integers(5, 30)), effect=-1.0, dropout=0.3)[1]
        for _ in range(10)
    ]
    table = replicate_table(tables)
    batched = ancova_effects(table, 4, PLACEBO, DRUG)
    responders = responder_effects(table, 4, PLACEBO, DRUG, 0.3)
    for r, visits in enumerate(tables):
        single = ancova(visits, 4, PLACEBO, DRUG)
        assert batched.loc[r, "estimate"] == pytest.approx(single.estimate, rel=1e-10)
        assert batched.loc[r, "ci_low"] == pytest.approx(single.ci_low, rel=1e-10)
        assert batched.loc[r, "p_value"] == pytest.approx(single.p_value, rel=1e-8)
        one = responder_analysis(visits, 4, PLACEBO, DRUG, 0.3)
        assert responders.loc[r, "treatment"] == one.proportions[DRUG]
        assert responders.loc[r, "control"] == one.proportions[PLACEBO]
        assert responders.loc[r, "ci_low"] == pytest.approx(one.effect.ci_low, rel=1e-12)
        assert responders.loc[r, "ci_high"] == pytest.approx(one.effect.ci_high, rel=1e-12)
        assert responders.loc[r, "p_value"] == pytest.approx(one.effect.p_value, rel=1e-12)


def test_batched_ancova_and_responders_reject_bad_input():
    _, visits = simulate_trial(np.random.default_rng(1), n_per_arm=4)
    table = visits.assign(replicate="r1")
    lost = table[~((table["week"] == 4) & (table["arm"] == DRUG))].assign(replicate="r0")
    with pytest.raises(ValueError, match=r"replicates \['r0'\]: fewer than 2 patients per arm"):
        ancova_effects(pd.concat([lost, table]), 4, PLACEBO, DRUG)
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['replicate'\]"):
        ancova_effects(visits, 4, PLACEBO, DRUG)
    with pytest.raises(ValueError, match="threshold must be in"):
        responder_effects(table, 4, PLACEBO, DRUG, 30)
    zero = table.assign(value=np.where(table.index == 0, 0.0, table["value"]))
    with pytest.raises(ValueError, match=r"replicate 'r1' patients \['p000'\] have a baseline"):
        responder_effects(zero, 4, PLACEBO, DRUG, 0.3)


# ----------------------------------------------------------------- MMRM


def test_mmrm_equals_ancova_on_complete_data():
    # Complete data, every covariate x week: GLS = per-week OLS for any covariance, and the
    # REML unstructured covariance is the residual cross-product / (n - 3).
    complete, _ = simulate_trial(np.random.default_rng(5), n_per_arm=30, n_weeks=12)
    a = ancova(complete, 12, PLACEBO, DRUG)
    m = mmrm(complete, 12, PLACEBO, DRUG)
    assert m.estimate == pytest.approx(a.estimate, abs=1e-8)
    assert t_se(m, 57) == pytest.approx(t_se(a, 57), rel=1e-5)
    assert m.p_value == pytest.approx(a.p_value, abs=1e-5)
    assert "covariance unstructured" in m.method
    assert "fallback" not in m.method
    assert m.n_analysed == {PLACEBO: 30, DRUG: 30}


def test_mmrm_falls_back_to_compound_symmetry_matching_random_intercept_model():
    # 3 patients per arm, 8 weeks: the unstructured REML likelihood is unbounded.
    rng = np.random.default_rng(5)
    rows = []
    for arm in (PLACEBO, DRUG):
        for i in range(3):
            level = rng.normal(0.0, 2.0)
            for week in range(9):
                if (week > 5 and i == 0) or (week == 3 and i == 1 and arm == DRUG):
                    continue  # dropout and one intermittent missing visit
                rows.append((f"{arm}{i}", arm, week, 6.0 + level + rng.normal(0.0, 1.0)))
    visits = pd.DataFrame(rows, columns=["patient", "arm", "week", "value"])
    res = mmrm(visits, 8, PLACEBO, DRUG, df_method="residual")
    assert "covariance compound symmetry" in res.method
    assert "fallback because unstructured" in res.method

    baseline = visits[visits["week"] == 0].set_index("patient")["value"]
    post = visits[visits["week"] > 0].copy()
    post["change"] = post["value"] - post["patient"].map(baseline)
    post["treated"] = (post["arm"] == DRUG).astype(float)
    post["base"] = post["patient"].map(baseline) - baseline.mean()
    ref = smf.mixedlm(
        "change ~ 0 + C(week) + C(week):treated + C(week):base", post, groups=post["patient"]
    ).fit(reml=True)
    assert ref.converged
    assert res.estimate == pytest.approx(ref.fe_params["C(week)[8]:treated"], abs=1e-5)
    assert t_se(res, 4 - 3) == pytest.approx(ref.bse_fe["C(week)[8]:treated"], rel=1e-3)


def test_mmrm_never_raises_for_two_patients_per_arm_and_drops_unestimable_week():
    _, visits = simulate_trial(np.random.default_rng(2), n_per_arm=2, n_weeks=12)
    visits = visits[~((visits["week"] == 7) & ~visits["patient"].isin(["p000", "p002"]))]
    res = mmrm(visits, 12, PLACEBO, DRUG)
    assert all(math.isfinite(v) for v in (res.estimate, res.ci_low, res.ci_high, res.p_value))
    assert res.ci_low < res.estimate < res.ci_high
    assert "weeks [7] left out" in res.method
    assert res.n_analysed == {PLACEBO: 2, DRUG: 2}


def test_mmrm_falls_back_to_independent_visits_for_degenerate_covariance():
    # Change = patient offset + week trend exactly: residuals are identical across weeks,
    # so both the unstructured and the compound-symmetry covariance are singular. With
    # independent visits the pooled residual variance equals the week-4 one, so the result
    # equals the ANCOVA.
    rng = np.random.default_rng(0)
    rows = []
    for arm in (PLACEBO, DRUG):
        for i in range(4):
            baseline, offset = rng.normal(6.0, 1.0), rng.normal(0.0, 1.0)
            rows += [
                (f"{arm}{i}", arm, w, baseline + (offset - 0.2 * w) * (w > 0)) for w in range(5)
            ]
    visits = pd.DataFrame(rows, columns=["patient", "arm", "week", "value"])
    res = mmrm(visits, 4, PLACEBO, DRUG, df_method="residual")
    ref = ancova(visits, 4, PLACEBO, DRUG)
    assert "covariance independent" in res.method
    assert "compound symmetry REML fit" in res.method
    assert res.estimate == pytest.approx(ref.estimate, abs=1e-10)
    assert (res.ci_low, res.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), abs=1e-9)


# ----------------------------------------------------------------- simulation checks


#: Replicate trials per simulation check (fitted together by the batched analyses, which
#: tests/stats/test_mmrm.py checks against the single-trial fits).
N_REPLICATES = 400


def replicate_table(tables: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([t.assign(replicate=i) for i, t in enumerate(tables)], ignore_index=True)


@pytest.fixture(scope="module")
def null_p_values():
    """p-values of trials without arm effect, MAR dropout."""
    rng = np.random.default_rng(20250101)
    table = replicate_table([simulate_trial(rng, dropout=0.4)[1] for _ in range(N_REPLICATES)])
    return {
        "ancova": ancova_effects(table, 4, PLACEBO, DRUG)["p_value"],
        "mmrm": mmrm_effects(table, 4, PLACEBO, DRUG)["p_value"],
    }


@pytest.fixture(scope="module")
def effect_fits():
    """True effect -1.0 NRS: ANCOVA on the complete and on the observed data, MMRM on the
    observed data (about a third of the patients drop out by week 4)."""
    rng = np.random.default_rng(20250202)
    complete, observed = zip(
        *(simulate_trial(rng, effect=-1.0, dropout=0.4) for _ in range(N_REPLICATES)),
        strict=True,
    )
    complete, observed = replicate_table(list(complete)), replicate_table(list(observed))
    return {
        "ancova": ancova_effects(complete, 4, PLACEBO, DRUG),
        "mmrm": mmrm_effects(observed, 4, PLACEBO, DRUG),
        "completers": ancova_effects(observed, 4, PLACEBO, DRUG),
    }


@pytest.mark.parametrize("name", ["ancova", "mmrm"])
def test_type_one_error_is_nominal(null_p_values, name):
    n = len(null_p_values[name])
    rejections = int(np.sum(np.array(null_p_values[name]) < 0.05))
    low, high = stats.binom.interval(0.99, n, 0.05)
    assert low <= rejections <= high, f"{name}: {rejections}/{n} rejections"


def mean_and_mc_se(fits: pd.DataFrame) -> tuple[float, float]:
    estimates = fits["estimate"].to_numpy()
    return estimates.mean(), estimates.std(ddof=1) / math.sqrt(len(estimates))


@pytest.mark.parametrize("name", ["ancova", "mmrm"])
def test_known_effect_is_recovered_with_nominal_coverage(effect_fits, name):
    fits = effect_fits[name]
    mean, mc_se = mean_and_mc_se(fits)
    assert abs(mean + 1.0) <= 3 * mc_se, f"{name}: mean {mean:.3f} +/- {mc_se:.3f}"
    covered = int(((fits["ci_low"] <= -1.0) & (-1.0 <= fits["ci_high"])).sum())
    low, high = stats.binom.interval(0.99, len(fits), 0.95)
    assert low <= covered <= high, f"{name}: coverage {covered}/{len(fits)}"


def test_dropout_is_informative_so_mmrm_recovery_is_a_mar_check(effect_fits):
    # The complete-case ANCOVA on the same observed data is biased towards 0.
    mean, mc_se = mean_and_mc_se(effect_fits["completers"])
    assert mean + 1.0 > 3 * mc_se


# ----------------------------------------------------------------- crossover


def simulate_crossover(seed: int, n_per_sequence: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for sequence, order in (("AB", (PLACEBO, DRUG)), ("BA", (DRUG, PLACEBO))):
        for i in range(n_per_sequence):
            level = rng.normal(0.0, 1.5)
            for period, treatment in enumerate(order, start=1):
                value = 6.0 + level + 0.3 * (period == 2) - 0.8 * (treatment == DRUG)
                rows.append(
                    (f"{sequence}{i}", sequence, period, treatment, value + rng.normal(0, 0.7))
                )
    return pd.DataFrame(rows, columns=["patient", "sequence", "period", "treatment", "value"])


def test_crossover_equals_senn_estimator_on_balanced_complete_data():
    table = simulate_crossover(3)
    res = crossover_effect(table, PLACEBO, DRUG)

    wide = table.pivot(index="patient", columns="period", values="value")
    sequence = table.drop_duplicates("patient").set_index("patient")["sequence"]
    difference = wide[1] - wide[2]
    d_ab, d_ba = difference[sequence == "AB"], difference[sequence == "BA"]
    senn = (d_ba.mean() - d_ab.mean()) / 2
    assert res.estimate == pytest.approx(senn, abs=1e-6)
    # With an interior between-patient variance REML reproduces the t-test on the
    # period differences (n - 2 df).
    assert res.p_value == pytest.approx(stats.ttest_ind(d_ba, d_ab).pvalue, rel=1e-3)
    assert res.n_analysed == {PLACEBO: 24, DRUG: 24}
    assert "22 within-patient df" in res.method


def test_crossover_with_baseline_and_incomplete_patient():
    table = simulate_crossover(4)
    table["baseline"] = 6.0 + np.random.default_rng(0).normal(0.0, 1.0, len(table))
    table = table.drop(index=[1])  # patient AB0 misses period 2
    res = crossover_effect(table, PLACEBO, DRUG)
    assert res.n_analysed == {PLACEBO: 24, DRUG: 23}
    # 47 rows - 24 patients - rank 3 (treatment, period, baseline) within patients
    assert "treatment, period and baseline" in res.method
    assert "20 within-patient df" in res.method
    assert res.ci_low < res.estimate < res.ci_high


# ----------------------------------------------------------------- responders


def wilson(count: int, n: int) -> tuple[float, float]:
    p = count / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2))
    return centre - half, centre + half


def test_responder_analysis_by_hand():
    rows = [
        # placebo: reductions 30 % (float-rounded), 10 %, missing endpoint, dropout
        ("c1", PLACEBO, 0, 7.0), ("c1", PLACEBO, 12, 4.9),
        ("c2", PLACEBO, 0, 5.0), ("c2", PLACEBO, 12, 4.5),
        ("c3", PLACEBO, 0, 7.0), ("c3", PLACEBO, 12, np.nan),
        ("c4", PLACEBO, 0, 8.0),
        # drug: 50 %, 60 %, 20 %, 100 %, missing baseline
        ("t1", DRUG, 0, 8.0), ("t1", DRUG, 12, 4.0),
        ("t2", DRUG, 0, 5.0), ("t2", DRUG, 12, 2.0),
        ("t3", DRUG, 0, 5.0), ("t3", DRUG, 12, 4.0),
        ("t4", DRUG, 0, 4.0), ("t4", DRUG, 12, 0.0),
        ("t5", DRUG, 12, 1.0),
    ]  # fmt: skip
    visits = pd.DataFrame(rows, columns=["patient", "arm", "week", "value"])

    res = responder_analysis(visits, 12, PLACEBO, DRUG, 0.30)
    assert isinstance(res, ResponderAnalysis)
    assert res.responders == {PLACEBO: 1, DRUG: 3}
    assert res.proportions == {PLACEBO: 0.25, DRUG: 0.6}
    assert res.effect.n_analysed == {PLACEBO: 4, DRUG: 5}
    assert res.effect.estimate == pytest.approx(0.35)
    (l1, u1), (l2, u2) = wilson(3, 5), wilson(1, 4)
    assert res.effect.ci_low == pytest.approx(0.35 - math.hypot(0.6 - l1, u2 - 0.25))
    assert res.effect.ci_high == pytest.approx(0.35 + math.hypot(0.25 - l2, u1 - 0.6))
    # Fisher: 4 responders among 9, 5 drug patients; sum P(tables) <= P(observed)
    dist = stats.hypergeom(9, 4, 5)
    probs = dist.pmf(np.arange(5))
    assert res.effect.p_value == pytest.approx(probs[probs <= dist.pmf(3) * (1 + 1e-9)].sum())
    assert "non-responder" in res.effect.method

    res50 = responder_analysis(visits, 12, PLACEBO, DRUG, 0.50)
    assert res50.responders == {PLACEBO: 0, DRUG: 3}


# ----------------------------------------------------------------- diaries


def test_weekly_means_four_of_seven_rule():
    rows = [("a", PLACEBO, d, 5.0) for d in range(-8, 1)]  # days -8, -7 ignored
    rows[0] = ("a", PLACEBO, -8, 100.0)
    rows += [("a", PLACEBO, d, float(d)) for d in (1, 2, 3, 7)]  # week 1: 4 days
    rows += [("a", PLACEBO, d, 3.0) for d in (8, 9, 10)]  # week 2: 3 days
    rows += [("a", PLACEBO, 11, np.nan)]  # a NaN entry is not a diary day
    rows += [("b", DRUG, d, 2.0) for d in range(-6, 22)]  # weeks 0-3 complete
    res = weekly_means(pd.DataFrame(rows, columns=["patient", "arm", "day", "value"]))

    a = res[res["patient"] == "a"].set_index("week")
    assert list(a.index) == [0, 1, 2, 3]
    assert a.loc[0, "value"] == 5.0 and a.loc[0, "n_days"] == 7
    assert a.loc[1, "value"] == pytest.approx((1 + 2 + 3 + 7) / 4)
    assert np.isnan(a.loc[2, "value"]) and a.loc[2, "n_days"] == 3
    assert np.isnan(a.loc[3, "value"]) and a.loc[3, "n_days"] == 0
    assert (a["arm"] == PLACEBO).all()
    b = res[res["patient"] == "b"].set_index("week")
    assert list(b["value"]) == [2.0, 2.0, 2.0, 2.0]

    relaxed = weekly_means(pd.DataFrame(rows, columns=["patient", "arm", "day", "value"]), 3)
    assert relaxed.set_index(["patient", "week"]).loc[("a", 2), "value"] == 3.0


# ----------------------------------------------------------------- power


def test_power_from_replicates_with_wilson_interval():
    p = np.r_[np.full(37, 0.01), np.full(63, 0.5)]
    p[0] = 0.05  # not below alpha
    res = power_from_replicates(p)
    assert isinstance(res, PowerEstimate)
    assert res.power == pytest.approx(0.36) and res.n_replicates == 100
    low, high = wilson(36, 100)
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high))
    with pytest.raises(ValueError, match="p_values must be finite"):
        power_from_replicates([0.01, np.nan])


def test_required_sample_size_interpolates_monotone_curve():
    assert required_sample_size([20, 40, 60, 80], [0.5, 0.7, 0.9, 0.95]) == pytest.approx(50)
    # unsorted input and a Monte Carlo dip: isotonic fit gives 0.725 at n = 40 and 60
    n = required_sample_size([80, 20, 60, 40], [0.9, 0.5, 0.7, 0.75], target=0.8)
    assert n == pytest.approx(60 + (0.8 - 0.725) / (0.9 - 0.725) * 20)
    with pytest.raises(ValueError, match="not reached at the largest sample size 80"):
        required_sample_size([20, 40, 60, 80], [0.5, 0.6, 0.7, 0.75])
    with pytest.raises(ValueError, match="already reached at the smallest"):
        required_sample_size([20, 40], [0.85, 0.9])


# ----------------------------------------------------------------- validation


@pytest.fixture()
def small_trial() -> pd.DataFrame:
    return simulate_trial(np.random.default_rng(1), n_per_arm=4)[0]


@pytest.mark.parametrize("analysis", [ancova, mmrm])
@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda v: v.drop(columns="value"), r"missing required column\(s\) \['value'\]"),
        (lambda v: v[v["week"] != 0], r"no baseline rows \(week 0\)"),
        (lambda v: v.assign(arm=v["arm"].replace(DRUG, "active")), "column 'arm' has no 'drug'"),
        (lambda v: v[v["week"] != 4], r"endpoint_week=4 is not a post-baseline week"),
        (lambda v: pd.concat([v, v.iloc[:1]]), r"duplicate rows for \(patient, week\)"),
        (lambda v: v.assign(week=v["week"] + 0.5), "column 'week' must hold whole numbers"),
        (
            lambda v: v.assign(arm=np.where(v.index == 1, DRUG, v["arm"])),
            r"patients \['p000'\] have more than one arm",
        ),
        (
            lambda v: v[~((v["week"] == 4) & v["patient"].isin(["p004", "p005", "p006"]))],
            "arm 'drug' has 1 patient",
        ),
    ],
)
def test_bad_visits_tables_raise(small_trial, analysis, mutate, message):
    with pytest.raises(ValueError, match=message):
        analysis(mutate(small_trial), 4, PLACEBO, DRUG)


def test_bad_inputs_of_other_analyses_raise(small_trial):
    with pytest.raises(ValueError, match="threshold must be in"):
        responder_analysis(small_trial, 4, PLACEBO, DRUG, 30)
    with pytest.raises(ValueError, match=r"patients \['p000'\] have a baseline <= 0"):
        responder_analysis(
            small_trial.assign(value=np.where(small_trial.index == 0, 0.0, small_trial["value"])),
            4,
            PLACEBO,
            DRUG,
            0.3,
        )
    table = simulate_crossover(1, n_per_sequence=3)
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['sequence'\]"):
        crossover_effect(table.drop(columns="sequence"), PLACEBO, DRUG)
    with pytest.raises(ValueError, match="column 'treatment' has no 'active'"):
        crossover_effect(table, PLACEBO, "active")
    with pytest.raises(ValueError, match="no within-patient degrees of freedom"):
        crossover_effect(table[table["period"] == 1], PLACEBO, DRUG)
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['day'\]"):
        weekly_means(small_trial)
