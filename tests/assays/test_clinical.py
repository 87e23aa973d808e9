"""Clinical outcome instruments of virtual fibromyalgia trials (fmsim.assays.clinical)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fmsim.assays.clinical import (
    WPI_SITES,
    PatientTraits,
    ar1_fluctuation,
    calibrate_placebo_response,
    diary_table,
    dropout_days,
    eligible,
    generalized_pain,
    load_clinical_parameters,
    meets_acr2016,
    pain_diary,
    placebo_responder_rates,
    responder_fractions,
    sample_patients,
    visit_outcomes,
    visits_table,
    weekly_mean_pain,
)

PARAMS = load_clinical_parameters()


def uniform_traits(n: int, **values: float) -> PatientTraits:
    """``n`` identical patients: baseline 5, gain 2, SD 1.2, no placebo relief, unless given."""
    traits = sample_patients(n, np.random.default_rng(0), PARAMS)
    fixed = {
        "baseline_pain": 5.0,
        "antibody_pain_gain": 2.0,
        "fluctuation_sd": 1.2,
        "placebo_relief": 0.0,
        "bpi_interference_at_reference": 5.0,
        "bpi_interference_slope": 1.0,
    } | values
    return replace(traits, **{name: np.full(n, value) for name, value in fixed.items()})


def test_parameter_file_is_complete():
    for p in PARAMS.parameters.values():
        assert p.source.strip(), p.name
        assert p.unit.strip(), p.name
        assert p.cv >= 0.0, p.name
    assert PARAMS["pain_autocorrelation"].value == 0.5


def test_placebo_arm_reproduces_haeuser_2011_responder_rates():
    # Haeuser et al. 2011: 30.8% (95% CI 29.4-32.3) >=30% and 18.8% (17.5-20.1) >=50% responders
    # on placebo in >=12-week FM RCTs. With ~100 000 simulated patients the Monte Carlo SE is
    # ~0.15 percentage points, so the published CIs are the tolerance.
    at_least_30, at_least_50 = placebo_responder_rates(100_000, np.random.default_rng(7), PARAMS)
    assert 0.294 <= at_least_30 <= 0.323
    assert 0.175 <= at_least_50 <= 0.201


def test_placebo_rates_depend_on_placebo_relief():
    # The calibration test above must be able to fail: halving the relief lowers both rates.
    weaker = PARAMS.with_values(placebo_relief=PARAMS["placebo_relief"].value / 2)
    at_least_30, at_least_50 = placebo_responder_rates(50_000, np.random.default_rng(7), weaker)
    assert at_least_30 < 0.25
    assert at_least_50 < 0.15


def test_calibration_recovers_the_relief_that_made_the_rates():
    n, seed = 4_000, 3
    targets = placebo_responder_rates(n, np.random.default_rng(seed), PARAMS)
    start = PARAMS.with_values(placebo_relief=0.3)
    mean, cv = calibrate_placebo_response(start, targets=targets, n=n, seed=seed)
    assert mean == pytest.approx(PARAMS["placebo_relief"].value, abs=0.02)
    assert cv == pytest.approx(PARAMS["placebo_relief"].cv, abs=0.15)


@pytest.mark.parametrize("baseline", [3.0, 5.0, 7.0])
def test_without_antibody_or_placebo_mean_pain_stays_at_baseline(baseline):
    days = np.arange(-7, 84)
    traits = uniform_traits(5_000, baseline_pain=baseline, placebo_relief=0.4)
    diary = pain_diary(days, 1.0, traits, np.random.default_rng(1), PARAMS, placebo_response=False)
    weekly = np.nanmean(diary, axis=0).reshape(13, 7).mean(axis=1)
    # SE of one weekly mean over 5000 patients ~ 0.01 NRS points
    np.testing.assert_allclose(weekly, baseline, atol=0.05)


def test_placebo_relief_is_a_fraction_of_baseline_reached_within_weeks():
    days = np.arange(0, 84)
    traits = uniform_traits(5_000, baseline_pain=6.0, placebo_relief=0.5)
    diary = pain_diary(days, 1.0, traits, np.random.default_rng(2), PARAMS)
    mean = diary.mean(axis=0)
    tau = PARAMS["placebo_onset_time"].value
    expected = 6.0 - 3.0 * (1.0 - np.exp(-days / tau))
    np.testing.assert_allclose(mean, expected, atol=0.1)
    assert mean[77:].mean() == pytest.approx(3.0, abs=0.03)


def test_a_step_in_sensitisation_raises_mean_pain_by_gain_times_step():
    days = np.arange(100)
    s = np.where(days < 50, 1.0, 1.5)[None, :]
    traits = uniform_traits(10_000, baseline_pain=4.0, antibody_pain_gain=2.0)
    diary = pain_diary(days, s, traits, np.random.default_rng(3), PARAMS)
    rise = diary[:, 50:].mean() - diary[:, :50].mean()
    assert rise == pytest.approx(2.0 * 0.5, abs=0.03)


def test_ar1_fluctuation_has_stated_sd_and_lag1_autocorrelation():
    sd, rho = 1.2, 0.5
    e = ar1_fluctuation(np.arange(200), np.full(5_000, sd), rho, np.random.default_rng(4))
    assert e.std() == pytest.approx(sd, rel=0.01)
    lag1 = np.mean(e[:, 1:] * e[:, :-1]) / e.var()
    assert lag1 == pytest.approx(rho, abs=0.01)
    gaps = ar1_fluctuation(np.array([0.0, 3.0]), np.ones(200_000), rho, np.random.default_rng(5))
    assert np.corrcoef(gaps.T)[0, 1] == pytest.approx(rho**3, abs=0.01)


def test_diary_fluctuation_matches_ar1_plus_rounding():
    # Rounding to integers adds variance 1/12 (Sheppard) and leaves the covariance unchanged.
    sd, rho = 1.2, PARAMS["pain_autocorrelation"].value
    traits = uniform_traits(5_000, baseline_pain=5.0, fluctuation_sd=sd)
    diary = pain_diary(
        np.arange(150), 1.0, traits, np.random.default_rng(6), PARAMS, placebo_response=False
    )
    residual = diary - 5.0
    variance = sd**2 + 1.0 / 12.0
    assert residual.var() == pytest.approx(variance, rel=0.02)
    lag1 = np.mean(residual[:, 1:] * residual[:, :-1]) / residual.var()
    assert lag1 == pytest.approx(rho * sd**2 / variance, abs=0.01)


def test_nrs_diary_holds_integers_between_0_and_10():
    rng = np.random.default_rng(8)
    traits = sample_patients(3_000, rng, PARAMS)
    days = np.arange(-7, 84)
    s = np.linspace(1.0, 6.0, len(days))[None, :]  # drives many patients to the ceiling
    diary = pain_diary(days, s, traits, rng, PARAMS)
    assert np.all(diary == np.round(diary))
    assert diary.min() == 0.0
    assert diary.max() == 10.0


def test_sensitisation_below_one_is_rejected():
    with pytest.raises(ValueError, match="S must be >= 1"):
        pain_diary(np.arange(3), 0.9, uniform_traits(2), np.random.default_rng(0), PARAMS)


def test_dropout_hazard_gives_expected_fraction_by_week_12():
    n = 200_000
    for hazard in (PARAMS["dropout_weekly_hazard"].value, 0.1):
        params = PARAMS.with_values(dropout_weekly_hazard=hazard)
        day = dropout_days(n, 84, np.random.default_rng(9), params)
        # SE of the fraction ~0.001
        assert np.mean(day < 84) == pytest.approx(1.0 - (1.0 - hazard) ** 12, abs=0.005)
        assert np.mean(day < 28) == pytest.approx(1.0 - (1.0 - hazard) ** 4, abs=0.005)
    no_dropout = dropout_days(
        10, 84, np.random.default_rng(9), PARAMS.with_values(**{"dropout_weekly_hazard": 0.0})
    )
    assert np.all(np.isinf(no_dropout))


def test_observations_after_dropout_are_missing():
    days = np.arange(-7, 14)
    dropout = np.array([np.inf, 0.5, 3.0, 13.2])
    diary = pain_diary(days, 1.0, uniform_traits(4), np.random.default_rng(10), PARAMS, dropout)
    recorded = ~np.isnan(diary)
    np.testing.assert_array_equal(recorded.sum(axis=1), [21, 8, 10, 21])
    assert np.all(recorded[:, days < 0])
    weekly = weekly_mean_pain(diary, days, np.array([0, 1, 2]), dropout)
    np.testing.assert_array_equal(
        np.isnan(weekly),
        [[False, False, False], [False, True, True], [False, True, True], [False, False, True]],
    )


def test_weekly_mean_pain_by_hand():
    days = np.arange(-7, 7)
    diary = np.array([[1.0] * 7 + [2.0, 4.0, np.nan, 6.0, np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(weekly_mean_pain(diary, days, np.array([0, 1])), [[1.0, 4.0]])


def test_eligibility_uses_configurable_minimum_baseline_pain():
    baseline = np.array([3.9, 4.0, 6.5])
    np.testing.assert_array_equal(eligible(baseline, PARAMS), [False, True, True])
    np.testing.assert_array_equal(eligible(baseline, PARAMS, 6.0), [False, False, True])


def test_responder_fractions_by_hand():
    baseline = np.array([10.0, 10.0, 10.0, 10.0])
    endpoint = np.array([7.0, 5.0, 9.0, np.nan])  # -30%, -50%, -10%, missing
    assert responder_fractions(baseline, endpoint) == (0.5, 0.25)


def sites(*names: str) -> np.ndarray:
    painful = np.zeros(len(WPI_SITES), dtype=bool)
    for name in names:
        painful[WPI_SITES.index(name)] = True
    return painful


@pytest.mark.parametrize(
    ("painful", "expected"),
    [
        (
            (
                "shoulder girdle, left",
                "shoulder girdle, right",
                "upper leg, left",
                "lower leg, right",
            ),
            True,
        ),
        (("neck", "upper arm, left", "lower arm, right", "hip (buttock, trochanter), left"), True),
        # 3 regions only (left upper, right upper, left lower)
        (
            (
                "shoulder girdle, left",
                "shoulder girdle, right",
                "upper leg, left",
                "lower leg, left",
            ),
            False,
        ),
        # jaw, chest and abdomen do not count: only the two lower regions
        (
            ("jaw, left", "jaw, right", "chest", "abdomen", "upper leg, left", "lower leg, right"),
            False,
        ),
    ],
)
def test_generalized_pain_by_hand(painful, expected):
    assert generalized_pain(sites(*painful)) == expected


def test_wpi_has_19_sites():
    assert len(WPI_SITES) == len(set(WPI_SITES)) == 19


@pytest.mark.parametrize(
    ("wpi", "sss", "generalized", "expected"),
    [
        (7, 5, True, True),
        (7, 4, True, False),
        (19, 12, False, False),
        (6, 9, True, True),
        (6, 8, True, False),
        (4, 9, True, True),
        (3, 12, True, False),
        (np.nan, np.nan, False, False),
    ],
)
def test_acr2016_criteria_by_hand(wpi, sss, generalized, expected):
    assert bool(meets_acr2016(wpi, sss, generalized)) == expected


def test_visit_outcomes_follow_weekly_pain_within_ranges():
    n = 20_000
    reference = PARAMS["baseline_pain"].value
    traits = uniform_traits(n)
    weekly = np.column_stack(
        [np.full(n, reference), np.full(n, reference - 2.0), np.full(n, np.nan)]
    )
    out = visit_outcomes(weekly, traits, np.random.default_rng(11), PARAMS)
    interference = out["bpi_interference"]
    # level 5 at the reference pain, slope 1 per NRS point (uniform_traits)
    assert np.nanmean(interference[:, 0]) == pytest.approx(5.0, abs=0.02)
    assert np.nanmean(interference[:, 1]) == pytest.approx(3.0, abs=0.02)
    np.testing.assert_allclose(interference[:, :2] * 7, np.round(interference[:, :2] * 7))
    for name, upper in (("bpi_interference", 10), ("fiqr", 100), ("wpi", 19), ("sss", 12)):
        values = out[name][:, :2]
        assert values.min() >= 0 and values.max() <= upper, name
        assert np.all(np.isnan(out[name][:, 2])), name
    assert np.all(out["wpi"][:, :2] == np.round(out["wpi"][:, :2]))
    assert not out["meets_acr2016"][:, 2].any()
    fiqr_drop = np.mean(out["fiqr"][:, 0] - out["fiqr"][:, 1])
    # mean slope = median * exp(sigma^2 / 2) for the lognormal; 2 NRS points less pain
    cv = PARAMS["fiqr_slope"].cv
    assert fiqr_drop == pytest.approx(
        2.0 * PARAMS["fiqr_slope"].value * np.sqrt(1 + cv**2), rel=0.05
    )


def test_simulation_is_reproducible_with_a_seed():
    def run(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rng = np.random.default_rng(seed)
        days = np.arange(-7, 28)
        traits = sample_patients(50, rng, PARAMS)
        dropout = dropout_days(50, 28, rng, PARAMS)
        diary = pain_diary(days, 1.2, traits, rng, PARAMS, dropout)
        weekly = weekly_mean_pain(diary, days, np.arange(5), dropout)
        return diary, visit_outcomes(weekly, traits, rng, PARAMS)

    (diary_a, visits_a), (diary_b, visits_b) = run(12), run(12)
    np.testing.assert_array_equal(diary_a, diary_b)
    for name in visits_a:
        np.testing.assert_array_equal(visits_a[name], visits_b[name])
    assert not np.array_equal(run(13)[0], diary_a, equal_nan=True)


def test_tidy_tables_omit_missing_entries():
    days = np.array([-1, 0, 1])
    diary = np.array([[3.0, 4.0, np.nan], [5.0, 6.0, 7.0]])
    table = diary_table(days, diary, patient_ids=np.array([10, 11]))
    assert list(table.columns) == ["patient", "day", "value"]
    assert table.values.tolist() == [[10, -1, 3], [10, 0, 4], [11, -1, 5], [11, 0, 6], [11, 1, 7]]

    weeks = np.array([0, 12])
    weekly = np.array([[6.0, np.nan], [7.0, 4.0]])
    outcomes = visit_outcomes(weekly, uniform_traits(2), np.random.default_rng(0), PARAMS)
    visits = visits_table(weeks, weekly, outcomes)
    assert list(visits.columns) == [
        "patient",
        "week",
        "pain",
        "bpi_interference",
        "fiqr",
        "wpi",
        "sss",
        "generalized_pain",
        "meets_acr2016",
    ]
    assert visits[["patient", "week"]].values.tolist() == [[0, 0], [1, 0], [1, 12]]
    assert visits["pain"].tolist() == [6.0, 7.0, 4.0]
