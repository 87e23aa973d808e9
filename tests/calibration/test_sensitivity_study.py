"""The sensitivity study's analyses: mouse passive transfer, IgG reduction by a therapy in
patients, a virtual trial's effect and power; each against an independent expectation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fmsim.calibration.sensitivity import sobol_indices
from fmsim.calibration.sensitivity_study import (
    DEFAULT_TRIAL,
    FRACTION,
    GAIN,
    SHARE,
    detection_probability,
    passive_transfer_outputs,
    salib_problem,
    sensitivity_study,
    therapy_analysis,
    time_above,
    trial_outputs,
)
from fmsim.config.trial import parse_trial_config
from fmsim.model.parameters import load_parameter_set


def test_time_above_interpolates_a_triangle():
    t = np.arange(0.0, 10.25, 0.25)
    curve = np.minimum(t, 10.0 - t)[:, None]  # peak 5 at day 5
    assert time_above(curve, 2.0, 0.25)[0] == pytest.approx(6.0)


def test_detection_probability_is_the_welch_power():
    """Against a Monte-Carlo Welch t-test of the same normal model."""
    from scipy import stats

    rng = np.random.default_rng(0)
    noise = 100 * math.sqrt(math.log1p(0.08**2) * (1 + 1 / 6))
    between = 6.0
    donor = 10.0 + rng.normal(0, math.hypot(noise, between), (20000, 4))
    control = rng.normal(0, noise, (20000, 24))
    simulated = np.mean(stats.ttest_ind(donor, control, axis=1, equal_var=False).pvalue < 0.05)
    expected = detection_probability(np.array([10.0]), 0.08, 6, between_sd=between)[0]
    assert expected == pytest.approx(simulated, abs=0.03)


def test_model_indices_have_intervals_and_rank_the_pd_parameters():
    parameters = load_parameter_set()
    problem = salib_problem(parameters)
    found = sobol_indices(
        lambda frame: passive_transfer_outputs(frame, parameters, inner=4), problem, 64, seed=0
    )
    peak = found[found["output"] == "peak_mechanical_percent"].set_index("parameter")
    top = peak["ST"].nlargest(3).index
    assert (peak["ST_conf"] >= 0).all() and (peak.loc[top, "ST_conf"] > 0).all()
    # IENFD parameters do not act on behaviour at all
    assert peak.loc["ienfd_loss_rate", "ST"] < 1e-6
    # the anti-SGC fraction and the occupancy-effect curve drive the peak; volumes do not
    assert {FRACTION, "sensitisation_occupancy50"} <= set(top)
    assert peak.loc["interstitial_volume_per_kg", "ST"] < 0.05


def test_efgartigimod_lowers_igg_as_published_and_drug_clearance_matters():
    """Typical patient, 10 mg/kg i.v. weekly x4: the largest fall of total IgG lies within the
    published means, 55.9 % (ADAPT+ per cycle) to 75 % (multiple doses in healthy volunteers,
    Ulrichts et al., J Clin Invest 2018) - the drug's PK was calibrated to the midpoint on day
    28, so this checks the therapy analysis' wiring rather than the model; a faster-cleared
    drug lowers IgG less."""
    analysis = therapy_analysis()
    names = analysis.problem["names"]
    assert "efgartigimod.clearance" in names and "igg_catabolic_rate" in names
    medians = {n: math.exp(b[0]) for n, b in zip(names, analysis.problem["bounds"], strict=True)}
    frame = pd.DataFrame([medians, medians | {"efgartigimod.clearance": 2 * medians[
        "efgartigimod.clearance"]}])  # fmt: skip
    out = analysis.function(frame)
    nadir = out["igg_nadir_reduction_percent"]
    assert 55.9 <= nadir[0] <= 75.0
    assert nadir[1] < nadir[0] - 2.0
    # the anti-SGC IgG falls with the total IgG; its mean fall over 8 weeks is below the nadir
    assert 0.0 < out["anti_sgc_mean_reduction_percent"][0] < nadir[0]


@pytest.fixture(scope="module")
def small_trial():
    return parse_trial_config(
        DEFAULT_TRIAL | {"patients": 30, "duration_weeks": 4,
                         "primary": {"outcome": "pain_nrs", "week": 4, "analysis": "ancova"}}
    )  # fmt: skip


def test_trial_outputs_follow_the_gain_only_in_positive_patients(small_trial):
    """Common random numbers: without gain the positive share changes nothing, without
    positive patients the gain changes nothing; a large gain in an all-positive population
    gives a clear benefit and more power."""
    frame = pd.DataFrame({GAIN: [0.0, 0.0, 8.0, 8.0], SHARE: [0.0, 1.0, 0.0, 1.0]})
    out = trial_outputs(frame, small_trial, replicates=2)
    null = out.iloc[0]
    pd.testing.assert_series_equal(out.iloc[1], null, check_names=False)
    pd.testing.assert_series_equal(out.iloc[2], null, check_names=False)
    assert out["trial_effect"][3] < null["trial_effect"] - 0.5
    assert out["trial_power"][3] > null["trial_power"]


def test_study_reports_every_analysis_with_inputs_and_sources(small_trial):
    result = sensitivity_study(
        4, 0, analyses=["therapy", "trial"], trial_n_base=4, trial_replicates=2,
        trial_config=small_trial,
    )  # fmt: skip
    assert set(result.sobol["analysis"]) == {"therapy", "trial"}
    assert set(result.sobol["output"]) == {
        "igg_nadir_reduction_percent", "anti_sgc_mean_reduction_percent",
        "trial_effect", "trial_power",
    }  # fmt: skip
    assert (result.inputs["source"] != "").all()
    share = result.inputs.set_index("parameter").loc[SHARE]
    assert share["a"] == pytest.approx(68 / 184)
    assert result.n_evaluations == result.runs["parameter_sets"].sum() > 0
    assert set(result.tables()) == {"sobol", "local", "inputs", "outputs", "runs"}
