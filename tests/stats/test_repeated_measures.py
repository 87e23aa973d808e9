"""Tests for fmsim.stats.repeated_measures (values in g of paw-pressure threshold, days)."""

from __future__ import annotations

import gc
import math
import re

import numpy as np
import pandas as pd
import pytest

from fmsim.stats import repeated_measures as rm
from fmsim.stats.repeated_measures import (
    ReadoutAnalysis,
    analyze_readout,
    area_under_curve,
    compare_to_control,
    hedges_g,
)

CONTROL = "IgG-HC"
TREATED = "IgG-FM"


def simulate(
    seed: int,
    days=(0, 1, 3, 5, 7),
    n_per_group: int = 8,
    effect: float = -2.0,
    effect_days=(1, 3, 5, 7),
    sd: float = 0.5,
    intercept_sd: float = 0.3,
    groups=(CONTROL, TREATED),
    baseline: float = 10.0,
) -> pd.DataFrame:
    """Paw-pressure thresholds (g): random mouse intercepts, effect in non-control groups."""
    rng = np.random.default_rng(seed)
    rows = []
    for group in groups:
        for i in range(n_per_group):
            intercept = rng.normal(0.0, intercept_sd)
            for day in days:
                shift = effect if (group != CONTROL and day in effect_days) else 0.0
                value = baseline + intercept + shift + rng.normal(0.0, sd)
                rows.append((f"{group}-m{i}", group, day, value))
    return pd.DataFrame(rows, columns=["mouse", "group", "day", "value"])


# ----------------------------------------------------------------- (1) known effect recovery


@pytest.fixture(scope="module")
def known_effect():
    data = simulate(seed=20240611)
    return data, analyze_readout(data, control=CONTROL)


def test_known_effect_posthoc_recovers_difference(known_effect):
    data, res = known_effect
    assert isinstance(res, ReadoutAnalysis)
    post = res.posthoc
    assert list(post.columns) == list(rm.POSTHOC_COLUMNS)
    assert post["group"].tolist() == [TREATED] * 5
    assert post["day"].tolist() == [0, 1, 3, 5, 7]
    for _, row in post.iterrows():
        on_day = data[data["day"] == row["day"]]
        x = on_day.loc[on_day["group"] == TREATED, "value"]
        y = on_day.loc[on_day["group"] == CONTROL, "value"]
        assert row["n_group"] == 8 and row["n_control"] == 8
        assert row["difference"] == pytest.approx(x.mean() - y.mean())
        se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        truth = -2.0 if row["day"] > 0 else 0.0
        assert abs(row["difference"] - truth) < 3 * se
        assert row["ci_low"] < row["difference"] < row["ci_high"]
    effect_rows = post[post["day"] > 0]
    assert effect_rows["significant"].all()
    assert (effect_rows["difference"] < 0).all()
    assert (effect_rows["hedges_g"] < 0).all() and (effect_rows["g_ci_high"] < 0).all()
    day0 = post[post["day"] == 0].iloc[0]
    assert not day0["significant"]
    assert day0["p_adjusted"] >= 0.05


def test_known_effect_omnibus(known_effect):
    _, res = known_effect
    omni = res.omnibus
    assert omni.index.tolist() == ["group", "day", "group:day"]
    assert list(omni.columns) == ["statistic", "df", "p_value", "test"]
    assert omni["df"].tolist() == [1, 4, 4]
    assert omni.loc["group:day", "p_value"] < 0.001
    assert (omni["test"] == "Wald chi2 (mixed model)").all()
    assert (omni["statistic"] > 0).all()


def test_known_effect_text_outputs(known_effect):
    _, res = known_effect
    assert "Mixed Linear Model" in res.model_summary
    assert "REML" in res.model_summary
    assert "optimiser used" in res.model_summary
    assert "Welch" in res.method and "Holm" in res.method and "5 group x day" in res.method


def test_interaction_not_significant_without_effect():
    res = analyze_readout(simulate(seed=7, effect=0.0), control=CONTROL)
    assert res.omnibus.loc["group:day", "p_value"] > 0.05
    assert not res.posthoc["significant"].any()


def test_omnibus_matches_coefficient_block_and_handles_three_groups():
    data = simulate(seed=3, groups=(CONTROL, TREATED, "IgG-RA"), days=(0, 1, 3))
    res = analyze_readout(data, control=CONTROL)
    assert res.omnibus["df"].tolist() == [2, 2, 4]
    assert len(res.posthoc) == 2 * 3
    # Interaction test equals the joint Wald test of the interaction coefficients.
    work = data.copy()
    groups = [CONTROL, TREATED, "IgG-RA"]
    work["group"] = pd.Categorical(work["group"], categories=groups)
    work["day"] = pd.Categorical(work["day"], categories=[0, 1, 3])
    fit, _, _ = rm._fit_mixed_model(work)
    names = list(fit.params.index)
    idx = [i for i, n in enumerate(names) if ":" in n]
    assert len(idx) == 4
    beta = fit.params.to_numpy()[idx]
    cov = np.asarray(fit.cov_params())[np.ix_(idx, idx)]
    chi2 = float(beta @ np.linalg.solve(cov, beta))
    assert res.omnibus.loc["group:day", "statistic"] == pytest.approx(chi2, rel=1e-6)


def test_baseline_day_excluded_from_posthoc_but_kept_in_model():
    data = simulate(seed=11)
    res = analyze_readout(data, control=CONTROL, baseline_day=0)
    assert res.posthoc["day"].tolist() == [1, 3, 5, 7]
    assert res.omnibus.loc["day", "df"] == 4  # day 0 still a model level
    assert re.search(r"No\. Observations:\s+80\s", res.model_summary)
    assert "4 group x day" in res.method and "baseline day 0" in res.method


def test_posthoc_equals_compare_to_control_and_holm_by_hand():
    data = simulate(seed=5, groups=(CONTROL, TREATED, "IgG-RA"), effect=-0.4)
    res = analyze_readout(data, control=CONTROL, baseline_day=0, alpha=0.05)
    post = compare_to_control(data, control=CONTROL, baseline_day=0, alpha=0.05)
    pd.testing.assert_frame_equal(res.posthoc, post)
    # Holm step-down over all 8 group x day rows, by hand.
    p = post["p_value"].to_numpy()
    m = p.size
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    np.testing.assert_allclose(post["p_adjusted"].to_numpy(), adjusted, rtol=1e-12)
    assert (post["significant"] == (post["p_adjusted"] < 0.05)).all()


def test_fit_falls_back_to_next_optimiser(monkeypatch):
    monkeypatch.setattr(rm, "FIT_METHODS", ("no-such-optimiser", "bfgs"))
    res = analyze_readout(simulate(seed=2, days=(0, 1)), control=CONTROL)
    assert "no-such-optimiser: failed (ValueError" in res.model_summary
    assert "bfgs" in res.model_summary


def test_boundary_fit_records_warnings():
    # No between-mouse variance: the random-intercept variance sits on the boundary at 0.
    data = simulate(seed=4, intercept_sd=0.0, n_per_group=4, days=(0, 1))
    res = analyze_readout(data, control=CONTROL)
    assert "Fit log" in res.model_summary
    assert "Warning" in res.model_summary
    assert np.isfinite(res.omnibus["p_value"]).all()


@pytest.fixture
def skip_gc_collect(monkeypatch):
    """Speed only: statsmodels' Holm branch of ``multipletests`` calls ``gc.collect()``.

    That costs ~60 ms per call in a full pytest process, which would dominate the
    200-seed loops below. Results are unaffected.
    """
    monkeypatch.setattr(gc, "collect", lambda *args, **kwargs: 0)


# ----------------------------------------------------------------- (2) CI coverage


def test_welch_ci_coverage_over_seeds(skip_gc_collect):
    truth = 1.5
    covered = 0
    n_seeds = 200
    for seed in range(n_seeds):
        data = simulate(
            seed=1000 + seed,
            days=(0, 1),
            effect_days=(1,),
            effect=truth,
            n_per_group=6,
            sd=0.8,
        )
        row = compare_to_control(data, control=CONTROL, baseline_day=0).iloc[0]
        covered += row["ci_low"] <= truth <= row["ci_high"]
    assert 0.90 <= covered / n_seeds <= 0.99


# ----------------------------------------------------------------- (3) type I error


def test_type_one_error_on_prechosen_day(skip_gc_collect):
    chosen_day = 3
    rejections = 0
    n_seeds = 200
    for seed in range(n_seeds):
        data = simulate(seed=5000 + seed, days=(0, 1, 3), effect=0.0, n_per_group=8)
        post = compare_to_control(data, control=CONTROL)
        rejections += post.loc[post["day"] == chosen_day, "p_value"].iloc[0] < 0.05
    assert 0.02 <= rejections / n_seeds <= 0.09


# ----------------------------------------------------------------- (4) Hedges' g


def test_hedges_g_hand_computed():
    x = np.array([1.0, 2.0, 3.0, 4.0])  # mean 2.5, var 5/3
    y = np.array([2.0, 4.0, 6.0])  # mean 4, var 4
    pooled_sd = math.sqrt((3 * (5 / 3) + 2 * 4.0) / 5)  # sqrt(2.6)
    j = 1 - 3 / (4 * 7 - 9)
    g_expected = j * (2.5 - 4.0) / pooled_sd
    var = 7 / 12 + g_expected**2 / (2 * 7)
    half = 1.959963984540054 * math.sqrt(var)
    assert g_expected == pytest.approx(-0.78338, abs=1e-5)

    g, lo, hi = hedges_g(x, y)
    assert g == pytest.approx(g_expected, rel=1e-12)
    assert lo == pytest.approx(g_expected - half, rel=1e-9)
    assert hi == pytest.approx(g_expected + half, rel=1e-9)

    # Same numbers through the post-hoc table (day 1 carries x vs y).
    rows = [(f"t{i}", TREATED, 1, v) for i, v in enumerate(x)]
    rows += [(f"c{i}", CONTROL, 1, v) for i, v in enumerate(y)]
    rows += [(f"t{i}", TREATED, 0, 5.0 + i) for i in range(4)]
    rows += [(f"c{i}", CONTROL, 0, 5.0 - i) for i in range(3)]
    data = pd.DataFrame(rows, columns=["mouse", "group", "day", "value"])
    row = analyze_readout(data, control=CONTROL, baseline_day=0).posthoc.iloc[0]
    assert row["hedges_g"] == pytest.approx(g_expected, rel=1e-12)
    assert row["g_ci_low"] == pytest.approx(g_expected - half, rel=1e-9)
    assert row["difference"] == pytest.approx(-1.5)
    assert (row["n_group"], row["n_control"]) == (4, 3)


# ----------------------------------------------------------------- (5) AUC


def test_area_under_curve_hand_computed():
    data = pd.DataFrame(
        {
            # Rows deliberately out of day order.
            "mouse": ["a", "a", "a", "a", "b", "b", "b", "b"],
            "group": [CONTROL] * 4 + [TREATED] * 4,
            "day": [3, 0, 7, 1, 0, 1, 3, 7],
            "value": [7.0, 10.0, 9.0, 8.0, 4.0, 4.0, 6.0, 2.0],
        }
    )
    raw = area_under_curve(data, baseline_day=None)
    assert list(raw.columns) == ["mouse", "group", "auc"]
    assert raw["mouse"].tolist() == ["a", "b"]
    assert raw["group"].tolist() == [CONTROL, TREATED]
    # a: days 0,1,3,7 values 10,8,7,9 -> 9*1 + 7.5*2 + 8*4 = 56 g*day
    # b: values 4,4,6,2 -> 4*1 + 5*2 + 4*4 = 30 g*day
    np.testing.assert_allclose(raw["auc"], [56.0, 30.0])

    rel = area_under_curve(data, baseline_day=0)
    # a: 0,-2,-3,-1 -> -1 - 5 - 8 = -14 ; b: 0,0,2,-2 -> 0 + 2 + 0 = 2
    np.testing.assert_allclose(rel["auc"], [-14.0, 2.0])

    days = np.array([0.0, 1.0, 3.0, 7.0])
    np.testing.assert_allclose(rel["auc"].iloc[0], np.trapezoid([0, -2, -3, -1], days))


# ----------------------------------------------------------------- (6) validation


def _base() -> pd.DataFrame:
    return simulate(seed=1, days=(0, 1), n_per_group=3)


@pytest.mark.parametrize(
    ("mutate", "kwargs", "match"),
    [
        (lambda d: d.drop(columns="value"), {}, r"missing required column\(s\) \['value'\]"),
        (lambda d: d.drop(columns=["mouse", "day"]), {}, r"\['mouse', 'day'\]"),
        (lambda d: d, {"control": "saline"}, r"control group 'saline' not found"),
        (
            lambda d: d[~d["mouse"].isin([f"{TREATED}-m1", f"{TREATED}-m2"])],
            {},
            rf"'{TREATED}' \(1 mouse\) have fewer than 2 mice",
        ),
        (lambda d: d.assign(value=d["value"].where(d.index != 2)), {}, r"column 'value'.*non-fin"),
        (lambda d: d.assign(day=d["day"].astype(float).where(d.index != 0, np.inf)), {}, "'day'"),
        (lambda d: d.assign(value=d["value"].astype(str)), {}, r"column 'value' must be numeric"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), {}, r"duplicate measurements"),
        (lambda d: d, {"baseline_day": 2}, r"baseline_day=2 not found"),
        (
            lambda d: d.assign(group=np.where(d.index == 0, TREATED, d["group"])),
            {},
            r"more than one group",
        ),
        (lambda d: d[d["group"] == CONTROL], {}, r"only the control group"),
        (lambda d: d, {"alpha": 1.5}, r"alpha must be between 0 and 1"),
        (
            lambda d: d[~((d["group"] == TREATED) & (d["day"] == 1))],
            {},
            r"no measurements for \(group, day\)",
        ),
    ],
)
def test_analyze_readout_validation(mutate, kwargs, match):
    kwargs = {"control": CONTROL, **kwargs}
    with pytest.raises(ValueError, match=match):
        analyze_readout(mutate(_base()), **kwargs)


def test_area_under_curve_validation():
    data = _base()
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['group'\]"):
        area_under_curve(data.drop(columns="group"), baseline_day=None)
    no_baseline = data[~((data["mouse"] == f"{CONTROL}-m0") & (data["day"] == 0))]
    with pytest.raises(ValueError, match=r"no measurement on baseline_day=0"):
        area_under_curve(no_baseline, baseline_day=0)
    one_day = data[~((data["mouse"] == f"{CONTROL}-m0") & (data["day"] == 1))]
    with pytest.raises(ValueError, match=r"expected at\s+least 2 days"):
        area_under_curve(one_day, baseline_day=None)
    with pytest.raises(ValueError, match="non-finite"):
        area_under_curve(data.assign(value=np.nan), baseline_day=None)
