"""Virtual clinical trials (fmsim.experiments.trial): screening, randomisation, crossover
protocols and tables, analysis, and the acceptance criteria of the trial simulator:

1. without pathogenic IgG in the population no therapy does better than placebo (sensitisation
   stays exactly 1; replicate trials reject at the nominal 5 %);
2. with an inert (second placebo) arm replicate trials reject at about 5 %;
3. enriching for anti-SGC-positive patients raises the effect size and lowers the sample size
   needed, and power rises with the anti-SGC-positive share of the population.

Trials are small (6 weeks, tens of patients); replicate trials are simulated in one vectorised
call (``simulate_trial(config, n, replicates=R, keep_courses=False)``) and analysed with
``primary_results``. Seeds are fixed, so every number is reproducible; the tolerances are
Monte Carlo intervals (binomial 99 % intervals for rejection rates, a few Monte Carlo standard
errors for mean effects), not fudge factors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fmsim.config.therapy import TherapyProtocol
from fmsim.config.trial import TrialConfig, parse_trial_config
from fmsim.experiments import therapy
from fmsim.experiments import trial as tr

WEEKS = 6
ALPHA = 0.05
EFGARTIGIMOD_WEEKLY = [
    {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": WEEKS}
]
THERAPIES = {
    "efgartigimod_iv": EFGARTIGIMOD_WEEKLY,
    "rozanolixizumab": [
        {"type": "rozanolixizumab", "dose": "7 mg/kg", "start": 0, "every": 7, "count": WEEKS}
    ],
    "tpe": [{"type": "tpe", "plasma_volumes": 1.0, "days": [0, 2, 4, 7, 9]}],
    "ivig": [{"type": "ivig", "dose": "0.4 g/kg", "start": 0, "every": 1, "count": 5}],
    "rituximab": [{"type": "rituximab", "dose": "1000 mg", "days": [0, 14]}],
}


def trial_config(**overrides) -> TrialConfig:
    """A 6-week parallel trial of efgartigimod 10 mg/kg i.v. weekly versus placebo."""
    data = {
        "name": "test trial",
        "seed": 3,
        "patients": 40,
        "duration_weeks": WEEKS,
        "population": {"anti_sgc_positive_fraction": 0.37},
        "arms": [
            {"name": "placebo", "therapies": [{"type": "placebo"}]},
            {"name": "efgartigimod", "therapies": EFGARTIGIMOD_WEEKLY},
        ],
        "control_arm": "placebo",
        "primary": {"outcome": "pain_nrs", "week": WEEKS, "analysis": "ancova"},
    }
    data.update(overrides)
    return parse_trial_config(data)


def crossover_config(**overrides) -> TrialConfig:
    """Three sequences (roza-placebo, placebo-roza, placebo-placebo), 3-week periods, 1-week
    washout (7 weeks in all), period outcome = mean of the last 2 weeks of each period."""
    data = {
        "seed": 11,
        "design": "crossover",
        "patients": 24,
        "population": {"inclusion_outcome": "bpi_interference", "inclusion_minimum": 6},
        "arms": [
            {"name": "placebo", "therapies": [{"type": "placebo"}]},
            {
                "name": "roza",
                "therapies": [
                    {
                        "type": "rozanolixizumab",
                        "dose": "7 mg/kg",
                        "start": 0,
                        "every": 7,
                        "count": 3,
                    }
                ],
            },
        ],
        "control_arm": "placebo",
        "crossover": {
            "sequences": [
                {"name": "RP", "periods": ["roza", "placebo"]},
                {"name": "PR", "periods": ["placebo", "roza"]},
                {"name": "PP", "periods": ["placebo", "placebo"]},
            ],
            "period_weeks": 3,
            "washout_weeks": 1,
            "assessment_weeks": 2,
        },
        "primary": {"outcome": "bpi_interference"},
        "secondary": [{"outcome": "pain_nrs"}],
    }
    data.update(overrides)
    return parse_trial_config(data)


def binomial_99(n: int, p: float = ALPHA) -> tuple[float, float]:
    """Central 99 % interval of the rejection rate of n replicates with true rate p."""
    low, high = stats.binom.interval(0.99, n, p)
    return low / n, high / n


def mc_se(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / math.sqrt(values.size))


def group_of(simulation) -> pd.Series:
    return simulation.patients.set_index("patient")["group"]


# ------------------------------------------------- 1. no pathogenic IgG: nothing beats placebo


def test_without_anti_sgc_igg_sensitisation_stays_exactly_one_in_every_arm():
    arms = [{"name": "placebo"}] + [{"name": k, "therapies": v} for k, v in THERAPIES.items()]
    population = {"anti_sgc_positive_fraction": 0.0, "inclusion_minimum": 0}
    config = trial_config(patients=36, arms=arms, population=population)
    simulation = tr.simulate_trial(config)
    courses = simulation.courses.assign(
        group=lambda f: f["patient"].map(group_of(simulation)).to_numpy()
    )
    assert set(courses["group"]) == {"placebo", *THERAPIES}
    assert not simulation.patients["anti_sgc_positive"].any()
    assert (simulation.patients["baseline_sensitisation"] == 1.0).all()
    # every patient of every arm, every day 0..42: S exactly 1 and no anti-SGC IgG
    assert courses["patient"].nunique() == 36
    assert courses.groupby("patient")["day"].apply(lambda d: sorted(d) == list(range(43))).all()
    assert (courses["sensitisation"] == 1.0).all()
    assert (courses["anti_sgc_igg"] == 0.0).all()
    # ... although the therapies act on IgG as they should (not a vacuous check)
    ratio = courses.groupby(["group", "patient"])["total_igg"].agg(lambda x: x.min() / x.iloc[0])
    peak = courses.groupby(["group", "patient"])["total_igg"].agg(lambda x: x.max() / x.iloc[0])
    by_arm = ratio.groupby("group").max()
    assert by_arm["efgartigimod_iv"] < 0.6 and by_arm["rozanolixizumab"] < 0.6
    assert by_arm["tpe"] < 0.7 and by_arm["rituximab"] < 0.99
    assert peak.groupby("group").min()["ivig"] > 1.3

    # the same trial with everyone anti-SGC positive: S > 1, and the FcRn inhibitor lowers it
    positive = tr.simulate_trial(
        trial_config(patients=36, arms=arms, population={"anti_sgc_positive_fraction": 1.0})
    )
    s = positive.courses.assign(group=lambda f: f["patient"].map(group_of(positive)).to_numpy())
    assert (s.loc[s["day"] == 0, "sensitisation"] > 1.0).all()
    last = s[s["day"] == 42].groupby("group")["sensitisation"].mean()
    assert last["efgartigimod_iv"] < last["placebo"] - 0.2


def test_without_anti_sgc_igg_no_therapy_beats_placebo_in_replicate_trials():
    replicates, patients = 200, 60  # 20 per arm; each comparison has 40 patients
    arms = [
        {"name": "placebo"},
        {"name": "efgartigimod", "therapies": THERAPIES["efgartigimod_iv"]},
        {"name": "tpe", "therapies": THERAPIES["tpe"]},
    ]
    config = trial_config(arms=arms, population={"anti_sgc_positive_fraction": 0.0}, seed=101)
    simulation = tr.simulate_trial(config, patients, replicates=replicates, keep_courses=False)
    low, high = binomial_99(replicates)
    for arm in ("efgartigimod", "tpe"):
        results = tr.primary_results(simulation, arm)
        assert len(results) == replicates and results["p_value"].between(0, 1).all()
        rate = float((results["p_value"] < ALPHA).mean())
        mean, se = float(results["estimate"].mean()), mc_se(results["estimate"])
        # measured (seed 101; 99 % interval 0.015-0.095): efgartigimod 0.045, mean +0.053
        # (SE 0.051); tpe 0.050, mean -0.021 (SE 0.052)
        assert low <= rate <= high, (arm, rate, (low, high))
        assert abs(mean) < 3 * se, (arm, mean, se)


# ------------------------------------------------- 2. an inert arm rejects at about 5 %


def test_inert_arm_rejects_at_the_nominal_rate():
    replicates = 200
    arms = [
        {"name": "placebo", "therapies": [{"type": "placebo"}]},
        {"name": "inert", "therapies": [{"type": "placebo"}]},
    ]
    config = trial_config(arms=arms, seed=202)  # default population, 37 % anti-SGC positive
    assert config.population.anti_sgc_positive_fraction == 0.37
    simulation = tr.simulate_trial(config, 50, replicates=replicates, keep_courses=False)
    positive = simulation.patients["anti_sgc_positive"].mean()
    assert 0.3 < positive < 0.45  # pathogenic IgG is present, in both arms
    results = tr.primary_results(simulation)
    rate = float((results["p_value"] < ALPHA).mean())
    low, high = binomial_99(replicates)
    # measured (seed 202; 99 % interval 0.015-0.095): 0.035, mean effect +0.012 (SE 0.043)
    assert low <= rate <= high, (rate, (low, high))
    assert abs(results["estimate"].mean()) < 3 * mc_se(results["estimate"])


# ------------------------------------------------- 3. enrichment for anti-SGC positives


def test_enrichment_raises_the_effect_size_in_proportion_to_the_positive_share():
    config = trial_config(seed=303, dropout_per_week=0.0)
    replicates, patients = 150, 40
    runs = {}
    for enrichment in ("none", "anti_sgc_positive"):
        simulation = tr.simulate_trial(
            config, patients, replicates=replicates, keep_courses=False, enrichment=enrichment
        )
        results = tr.primary_results(simulation)
        share = float(simulation.patients["anti_sgc_positive"].mean())
        runs[enrichment] = (float(results["estimate"].mean()), mc_se(results["estimate"]), share)
    (all_mean, all_se, all_share), (enr_mean, enr_se, enr_share) = runs.values()
    # measured (seed 303): all comers -0.43 (SE 0.055, 38 % positive; 0.38 x -1.00 = -0.38
    # expected), enriched -1.00 (SE 0.053); difference 0.57 = 7.4 combined SEs
    assert enr_share == 1.0 and 0.3 < all_share < 0.45
    assert enr_mean < -0.7
    combined = math.hypot(all_se, enr_se)
    assert enr_mean < all_mean - 6 * combined, runs
    # anti-SGC-negative patients gain nothing, so the all-comers effect is the enriched effect
    # diluted by the positive share (independent expectation, within 4 Monte Carlo SEs)
    expected = all_share * enr_mean
    assert abs(all_mean - expected) < 4 * math.hypot(all_se, all_share * enr_se), runs


def test_enrichment_lowers_the_required_sample_size(tmp_path):
    power = {"sample_sizes": [30, 80, 160], "replicates": 40, "target": 0.8}
    config = trial_config(seed=404, dropout_per_week=0.0, power=power)
    populations = tr.enrichment_populations(config)
    assert populations == {
        "all comers (as configured)": {},
        "anti-SGC positive only": {"enrichment": "anti_sgc_positive"},
    }
    curve = tr.power_curve(config, chunks=tr.chunk_store(config, tmp_path))
    table = curve.table.set_index(["population", "patients"])
    assert len(table) == 6 and (table["replicates"] == 40).all()
    assert len(list(tmp_path.glob("*.parquet"))) == 6
    assert (table["ci_low"] <= table["power"]).all() and (table["power"] <= table["ci_high"]).all()
    enriched = table.loc["anti-SGC positive only"]
    comers = table.loc["all comers (as configured)"]
    # measured (seed 404), power at 30/80/160 patients: enriched 0.375/0.50/0.925 (mean effect
    # -1.09 at 160), all comers 0.075/0.10/0.20 (-0.41); required n 137 versus more than 160
    assert (enriched["power"] > comers["power"]).all()
    assert (enriched["mean_effect"] < comers["mean_effect"] - 0.3).all()
    required = curve.required.set_index("population")["required_n"]
    assert math.isfinite(required["anti-SGC positive only"])
    assert 30 < required["anti-SGC positive only"] <= 160
    assert required["anti-SGC positive only"] < required["all comers (as configured)"]
    labels = curve.required.set_index("population")["label"]
    assert labels["all comers (as configured)"] == "more than 160"

    # the same config run again reuses the chunks (same table, no new files)
    again = tr.power_curve(config, chunks=tr.chunk_store(config, tmp_path))
    pd.testing.assert_frame_equal(again.table, curve.table)
    assert len(list(tmp_path.glob("*.parquet"))) == 6


def test_power_rises_with_the_anti_sgc_positive_share(tmp_path):
    power = {"positive_fractions": [0.0, 0.5, 1.0], "replicates": 40}
    config = trial_config(seed=505, patients=80, dropout_per_week=0.0, power=power)
    table = tr.power_by_positive_fraction(config, chunks=tr.chunk_store(config, tmp_path))
    assert table["positive_fraction"].tolist() == [0.0, 0.5, 1.0]
    assert (table["patients"] == 80).all()
    # per-replicate estimates from the chunk files, matched to the rows by their mean
    chunks = [pd.read_parquet(p)["estimate"] for p in tmp_path.glob("*.parquet")]
    se = {round(c.mean(), 9): mc_se(c) for c in chunks}
    table["se"] = table["mean_effect"].round(9).map(se)
    assert table["se"].notna().all()
    # measured (seed 505): power 0.075/0.175/0.775, mean effect +0.03/-0.51/-1.29 (SE ~0.07)
    power_values = table["power"].to_numpy()
    assert (np.diff(power_values) > 0).all(), table
    assert power_values[-1] - power_values[0] > 0.4
    effects, ses = table["mean_effect"].to_numpy(), table["se"].to_numpy()
    assert abs(effects[0]) < 3 * ses[0]
    assert abs(effects[1] - 0.5 * effects[2]) < 4 * math.hypot(ses[1], 0.5 * ses[2]), table
    assert effects[2] < -0.7


# ------------------------------------------------- randomisation and screening


def test_randomisation_counts_follow_the_allocation_weights_exactly():
    arms = [
        {"name": "placebo", "allocation": 1},
        {"name": "low", "allocation": 2, "therapies": THERAPIES["rituximab"]},
        {"name": "high", "allocation": 1.5, "therapies": EFGARTIGIMOD_WEEKLY},
    ]
    config = trial_config(
        arms=arms, duration_weeks=1, primary={"outcome": "pain_nrs", "week": 1}, patients=20
    )
    simulation = tr.simulate_trial(config, replicates=3, keep_courses=False)
    counts = simulation.patients.groupby(["replicate", "group"]).size().unstack()
    # 20 x (1, 2, 1.5) / 4.5 = 4.44, 8.89, 6.67 -> floors 4, 8, 6 and the two spare patients go
    # to the largest remainders (0.89, 0.67): 4, 9, 7
    for replicate in range(3):
        assert counts.loc[replicate].to_dict() == {"placebo": 4, "low": 9, "high": 7}
    orders = [g["group"].tolist() for _, g in simulation.patients.groupby("replicate")]
    assert orders[0] != orders[1] != orders[2]  # permuted, not blocked
    assert simulation.patients.groupby("replicate").size().eq(20).all()

    crossover = crossover_config(
        patients=11,
        crossover={
            **crossover_config().crossover.model_dump(),
            "sequences": [
                {"name": "RP", "periods": ["roza", "placebo"], "allocation": 2},
                {"name": "PR", "periods": ["placebo", "roza"], "allocation": 1},
                {"name": "PP", "periods": ["placebo", "placebo"], "allocation": 1},
            ],
        },
    )
    groups = tr.simulate_trial(crossover, keep_courses=False).patients["group"]
    # 11 x (2, 1, 1) / 4 = 5.5, 2.75, 2.75 -> 5, 2, 2 plus one each for the 0.75 remainders
    assert groups.value_counts().to_dict() == {"RP": 5, "PR": 3, "PP": 3}


def test_screening_enrols_only_eligible_patients():
    weeks = {"duration_weeks": 1, "primary": {"outcome": "pain_nrs", "week": 1}}
    # pain inclusion: every enrolled patient's week-0 visit pain is at least the minimum
    config = trial_config(population={"inclusion_minimum": 6}, **weeks)
    simulation = tr.simulate_trial(config, 60, keep_courses=False)
    baseline = simulation.visits[simulation.visits["week"] == 0]
    assert len(baseline) == 60 and baseline["patient"].is_unique
    assert (baseline["pain_nrs"] >= 6).all()
    assert simulation.screened > 60  # some candidates fail a minimum of 6

    # BPI interference inclusion with enrichment: positive, severe, and more were screened
    population = {
        "inclusion_outcome": "bpi_interference",
        "inclusion_minimum": 6,
        "enrichment": "anti_sgc_positive",
    }
    enriched = tr.simulate_trial(
        trial_config(population=population, **weeks), 40, replicates=2, keep_courses=False
    )
    baseline = enriched.visits[enriched.visits["week"] == 0]
    assert len(baseline) == 80 and (baseline["bpi_interference"] >= 6).all()
    assert enriched.patients["anti_sgc_positive"].all()
    assert (enriched.patients["anti_sgc_baseline"] > 0).all()
    assert (enriched.patients["baseline_sensitisation"] > 1).all()
    assert enriched.screened >= 80 / 0.37  # at most 37 % of candidates are positive

    # no inclusion minimum: everyone screened is randomised
    open_config = trial_config(population={"inclusion_minimum": 0}, **weeks)
    assert tr.simulate_trial(open_config, 50, keep_courses=False).screened == 50

    # enrichment alone at 50 % positive: screened - randomised is negative binomial
    # (200 successes, p = 0.5): mean 200, SD 20
    half = trial_config(
        population={
            "inclusion_minimum": 0,
            "anti_sgc_positive_fraction": 0.5,
            "enrichment": "anti_sgc_positive",
        },
        **weeks,
    )
    screened = tr.simulate_trial(half, 50, replicates=4, keep_courses=False).screened
    assert abs(screened - 400) < 4 * 20, screened


@pytest.mark.parametrize(
    "population",
    [
        {"anti_sgc_positive_fraction": 0.0, "enrichment": "anti_sgc_positive"},
        {"inclusion_outcome": "pain_nrs", "inclusion_minimum": 10.5},
    ],
)
def test_too_strict_inclusion_is_a_clear_error(population):
    config = trial_config(population=population, patients=4)
    with pytest.raises(ValueError, match=r"relax inclusion or enrichment") as info:
        tr.simulate_trial(config)
    message = str(info.value)
    assert "\n" not in message and message.startswith("population: only 0 of")
    assert "inclusion pain_nrs >=" in message


# ------------------------------------------------- crossover


def test_group_protocol_shifts_later_periods_by_period_and_washout():
    tpe = {"name": "tpe", "therapies": [{"type": "tpe", "plasma_volumes": 1.0, "days": [0, 2]}]}
    config = crossover_config(
        arms=[*(a.model_dump() for a in crossover_config().arms), tpe],
        crossover={
            **crossover_config().crossover.model_dump(),
            "sequences": [
                {"name": "RP", "periods": ["roza", "placebo"]},
                {"name": "PR", "periods": ["placebo", "roza"]},
                {"name": "PP", "periods": ["placebo", "placebo"]},
                {"name": "RT", "periods": ["roza", "tpe"]},
            ],
        },
    )

    def schedule(group):
        return [(b.type, b.schedule()) for b in tr.group_protocol(config, group).therapies]

    # period 2 starts on day 7 x (3 + 1) = 28
    assert schedule("RP") == [("fcrn_inhibitor", [0.0, 7.0, 14.0])]
    assert schedule("PR") == [("fcrn_inhibitor", [28.0, 35.0, 42.0])]
    assert schedule("PP") == [("placebo", [])]
    assert schedule("RT") == [
        ("fcrn_inhibitor", [0.0, 7.0, 14.0]),
        ("plasma_exchange", [28.0, 30.0]),
    ]
    assert config.total_weeks == 7
    # parallel: the arm's own protocol, unshifted
    parallel = trial_config()
    assert tr.group_protocol(parallel, "efgartigimod").therapies[0].schedule() == [
        0.0,
        7.0,
        14.0,
        21.0,
        28.0,
        35.0,
    ]


def test_crossover_table_has_the_right_treatment_and_window_per_period():
    config = crossover_config()
    simulation = tr.simulate_trial(config)
    visits = simulation.visits
    table = tr.crossover_table(config, visits, "bpi_interference")
    periods = {"RP": ["roza", "placebo"], "PR": ["placebo", "roza"], "PP": ["placebo", "placebo"]}
    group = group_of(simulation)
    wide = visits.pivot(index="patient", columns="week", values="bpi_interference")
    # period windows: weeks 2-3 (period 1 ends at week 3) and 6-7 (3 + 1 washout + 3)
    windows = {1: [2, 3], 2: [6, 7]}
    assert set(table["period"]) == {1, 2}
    for row in table.itertuples():
        patient = int(row.patient)
        assert row.sequence == group[patient]
        assert row.treatment == periods[row.sequence][row.period - 1]
        expected = wide.loc[patient, windows[row.period]].mean()  # skips missed visits
        assert row.value == pytest.approx(expected, abs=1e-12)
        assert row.baseline == pytest.approx(wide.loc[patient, 0], abs=1e-12)
    completers = visits.groupby("patient")["week"].max() == 7
    assert (table.groupby("patient").size().reindex(completers.index.astype(str)) == 2)[
        completers.to_numpy()
    ].all()

    analysis = tr.analyse_trial(simulation)
    effects = analysis.effects
    assert effects[["role", "outcome"]].values.tolist() == [
        ["primary", "bpi_interference"],
        ["secondary", "pain_nrs"],
    ]
    assert (effects["comparison"] == "roza vs placebo").all()
    assert (
        (effects["ci_low"] < effects["estimate"]) & (effects["estimate"] < effects["ci_high"])
    ).all()
    assert analysis.responders.empty  # responder rates are for parallel designs


# ------------------------------------------------- analysis and reproducibility


def test_analyse_trial_gives_one_row_per_endpoint_and_comparison():
    arms = [
        {"name": "placebo"},
        {"name": "efgartigimod", "therapies": EFGARTIGIMOD_WEEKLY},
        {"name": "tpe", "therapies": THERAPIES["tpe"]},
    ]
    config = trial_config(
        arms=arms,
        patients=45,
        secondary=[
            {"outcome": "bpi_interference", "week": WEEKS, "analysis": "mmrm"},
            {"outcome": "fiqr", "week": 4},
        ],
    )
    simulation = tr.simulate_trial(config, keep_courses=False)
    analysis = tr.analyse_trial(simulation)
    effects = analysis.effects
    assert len(effects) == 6
    assert set(map(tuple, effects[["comparison", "outcome", "role"]].values)) == {
        (f"{arm} vs placebo", outcome, role)
        for arm in ("efgartigimod", "tpe")
        for outcome, role in (
            ("pain_nrs", "primary"),
            ("bpi_interference", "secondary"),
            ("fiqr", "secondary"),
        )
    }
    assert (
        (effects["ci_low"] < effects["estimate"]) & (effects["estimate"] < effects["ci_high"])
    ).all()
    assert effects["p_value"].between(0, 1).all()
    assert (
        effects.loc[effects["outcome"] == "fiqr", "endpoint"]
        .eq("change from baseline at week 4")
        .all()
    )
    assert effects["method"].str.startswith("ANCOVA").sum() == 4
    responders = analysis.responders
    assert len(responders) == 4 and set(responders["threshold"]) == {0.3, 0.5}
    assert responders[["treatment", "control"]].stack().between(0, 1).all()

    # the primary ANCOVA, recomputed by least squares from the visits table
    visits = simulation.visits
    wide = visits.pivot(index="patient", columns="week", values="pain_nrs")
    group = group_of(simulation).reindex(wide.index)
    keep = group.isin(["placebo", "efgartigimod"]) & wide[0].notna() & wide[WEEKS].notna()
    design = np.column_stack(
        [np.ones(keep.sum()), (group[keep] == "efgartigimod").to_numpy(float), wide[0][keep]]
    )
    change = (wide[WEEKS] - wide[0])[keep].to_numpy()
    coef, residual, *_ = np.linalg.lstsq(design, change, rcond=None)
    dof = keep.sum() - 3
    se = math.sqrt(residual[0] / dof * np.linalg.inv(design.T @ design)[1, 1])
    row = effects[
        (effects["role"] == "primary") & (effects["comparison"] == "efgartigimod vs placebo")
    ]
    assert row["estimate"].iloc[0] == pytest.approx(coef[1], abs=1e-9)
    assert row["p_value"].iloc[0] == pytest.approx(2 * stats.t.sf(abs(coef[1]) / se, dof), rel=1e-6)


def test_same_seed_gives_identical_trials_and_replicates_match_single_analysis():
    config = trial_config(patients=24)
    first, second = tr.simulate_trial(config), tr.simulate_trial(config)
    for name in ("patients", "visits", "courses"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.screened == second.screened
    other = tr.simulate_trial(config, seed=config.seed + 1)
    assert not first.visits["pain_nrs"].equals(other.visits["pain_nrs"])

    replicated = tr.simulate_trial(config, replicates=3, keep_courses=False)
    assert replicated.courses.empty
    results = tr.primary_results(replicated)
    assert results["replicate"].tolist() == [0, 1, 2]
    for k in range(3):
        primary = tr.analyse_trial(replicated, replicate=k).effects.iloc[0]
        # batched analysis of all replicates = single-trial analysis (to rounding)
        assert primary["estimate"] == pytest.approx(results["estimate"][k], rel=1e-9)
        assert primary["p_value"] == pytest.approx(results["p_value"][k], rel=1e-9)
    assert results["estimate"].nunique() == 3  # independent replicates


def test_questionnaires_only_at_the_configured_visit_weeks():
    config = parse_trial_config(
        {
            "patients": 30,
            "duration_weeks": 8,
            "questionnaire_weeks": [4, 8],
            "dropout_per_week": 0.0,
            "arms": [{"name": "placebo"}, {"name": "inert"}],
            "control_arm": "placebo",
            "primary": {"outcome": "bpi_interference", "analysis": "mmrm"},
        }
    )
    visits = tr.simulate_trial(config, keep_courses=False).visits
    taken = visits.groupby("week")[["pain_nrs", "bpi_interference", "fiqr", "wpi", "sss"]].count()
    assert (taken["pain_nrs"] == 30).all()  # the diary is summarised every week
    for instrument in ("bpi_interference", "fiqr", "wpi", "sss"):
        assert taken.loc[[0, 4, 8], instrument].eq(30).all()
        assert taken.loc[[1, 2, 3, 5, 6, 7], instrument].eq(0).all()
    effect = tr.analyse_trial(tr.simulate_trial(config, keep_courses=False)).effects
    assert np.isfinite(effect["estimate"]).all()


# ------------------------------------------------- patient pools and placebo courses


def test_a_placebo_course_is_the_steady_state_the_engine_keeps():
    population = therapy.sample_population(50, np.random.default_rng(8), 0.5)
    placebo = TherapyProtocol(name="placebo", therapies=[{"type": "placebo"}])
    constant = tr.sensitisation_course(population, placebo, 42)
    integrated = therapy.simulate_course(population, placebo, 42).sensitisation
    assert constant.shape == integrated.shape == (43, 50)
    assert (constant > 1.0).any() and (constant == constant[0]).all()
    np.testing.assert_allclose(integrated, constant, rtol=1e-8)


def test_a_pool_is_used_only_where_it_simulates_fewer_courses():
    config = trial_config(power={"pool_patients": 4000})  # 2 arms, 1 with a therapy
    assert tr.treated_groups(config) == ["efgartigimod"]
    # fresh: half of the patients are treated; pool: 4,000 courses
    assert not tr.uses_pool(config, [(40, 200)])  # 4,000 treated patients: not fewer
    assert tr.uses_pool(config, [(40, 200), (80, 10)])  # 4,400
    assert not tr.uses_pool(trial_config(power={"pool_patients": None}), [(400, 1000)])


def test_trials_drawn_from_a_pool_take_its_courses_and_match_fresh_trials():
    """Replicate trials drawn from a pool of 2,000 simulated patients (fresh traits, diaries,
    screening and randomisation) give the power and mean effect of trials of freshly simulated
    patients, within Monte Carlo error."""
    config = trial_config(
        seed=606, dropout_per_week=0.0, population={"enrichment": "anti_sgc_positive"}
    )
    pool = tr.simulate_pool(config, 2000, seed=7)
    assert set(pool.courses) == {"efgartigimod"} and pool.courses["efgartigimod"].shape[1] == 2000
    assert pool.population.anti_sgc_positive.all()  # enrichment: the positive population
    drawn = tr.simulate_trial(config, 40, replicates=3, keep_courses=False, pool=pool)
    assert np.isin(drawn.patients["baseline_sensitisation"], pool.baseline).all()

    replicates = 200
    trials = [
        tr.simulate_trial(config, 40, replicates=replicates, keep_courses=False, pool=source)
        for source in (None, pool)
    ]
    fresh, pooled = (tr.primary_results(t) for t in trials)
    power = {k: float((r["p_value"] < ALPHA).mean()) for k, r in (("f", fresh), ("p", pooled))}
    se = math.sqrt(sum(p * (1 - p) for p in power.values()) / replicates)
    # measured (seeds 606 / 7): power fresh 0.385, pool 0.325 (difference 1.3 SE); mean
    # effect -1.08 (SE 0.050) and -0.98 (SE 0.045); bounds: 4 SEs of the difference
    assert abs(power["f"] - power["p"]) < 4 * se, power
    means = [float(r["estimate"].mean()) for r in (fresh, pooled)]
    combined = math.hypot(mc_se(fresh["estimate"]), mc_se(pooled["estimate"]))
    assert abs(means[0] - means[1]) < 4 * combined, (means, combined)
    assert means[1] < -0.2  # the pool's treated patients do respond


def test_a_virtual_trial_runs_in_blocks_that_are_stored_and_reused(tmp_path):
    config = trial_config(duration_weeks=2, primary={"outcome": "pain_nrs", "week": 2})
    store = tr.chunk_store(config, tmp_path)
    table = tr.virtual_trial(config, 250, block=100, chunks=store)
    assert table["patient"].tolist() == list(range(250))
    assert table.groupby("block").size().tolist() == [100, 100, 50]
    assert set(table["group"]) == {"placebo", "efgartigimod"}
    assert table["baseline"].between(0, 10).all()
    completed = table["endpoint"].dropna()  # NaN after dropout
    assert completed.between(0, 10).all() and len(completed) > 200
    # each block is trial_block with its own seed, wherever it runs
    key = "virtual trial|250|block 2 of 100"
    last = tr.trial_block(config, 50, tr.chunk_seed(config.seed, key))
    pd.testing.assert_frame_equal(
        table[table["block"] == 2].drop(columns="block").reset_index(drop=True),
        last.assign(patient=last["patient"] + 200),
    )
    again = tr.virtual_trial(config, 250, block=100, chunks=tr.chunk_store(config, tmp_path))
    pd.testing.assert_frame_equal(again, table)
    assert store.written == 3 and len(list(tmp_path.glob("*.parquet"))) == 3
