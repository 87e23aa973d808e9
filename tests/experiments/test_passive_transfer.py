"""The in-silico passive transfer reproduces the qualitative findings of Goebel et al. 2021."""

import numpy as np
import pandas as pd
import pytest

from fmsim.assays.von_frey import simulate_up_down
from fmsim.config import PassiveTransferConfig, default_config
from fmsim.experiments.passive_transfer import build_virtual_cohort, run_passive_transfer
from fmsim.model.readouts import IENFD, expected_readout, lognormal_factor

LAST_DOSE = 3.0


@pytest.fixture(scope="module")
def study():
    base = default_config()
    groups = [
        g.model_copy(update={"mice_per_donor": 2}) if g.mice_per_donor else g for g in base.groups
    ]
    return run_passive_transfer(base.model_copy(update={"groups": groups, "seed": 5}))


def _mean(measurements: pd.DataFrame, test: str, group: str, days) -> float:
    m = measurements
    rows = m[(m["test"] == test) & (m["group"] == group) & m["day"].isin(days)]
    return float(rows["value"].mean())


def _relative(study, test, group, days):
    """Group mean on ``days`` relative to the same group's baseline (day 0)."""
    m = study.measurements
    return _mean(m, test, group, days) / _mean(m, test, group, [0.0])


def test_fms_igg_produces_hypersensitivity_within_two_days(study):
    assert _relative(study, "paw_pressure_threshold", "FMS-IgG", [1.0, 2.0]) < 0.9
    assert _relative(study, "von_frey_threshold", "FMS-IgG", [2.0, 3.0, 5.0]) < 0.85
    assert _relative(study, "cold_response", "FMS-IgG", [2.0, 3.0]) > 1.2


def test_fms_igg_weakens_grip_and_movement_but_not_heat(study):
    assert _relative(study, "grip_strength", "FMS-IgG", [3.0, 5.0, 7.0]) < 0.9
    assert _relative(study, "locomotor_activity", "FMS-IgG", [3.0, 5.0, 7.0]) < 0.9
    heat = _relative(study, "heat_latency", "FMS-IgG", [3.0, 5.0, 7.0])
    assert abs(heat - 1.0) < 0.08


def test_ienfd_is_reduced_by_fms_igg_only(study):
    m = study.measurements
    fms = _mean(m, "ienfd", "FMS-IgG", [14.0])
    hc = _mean(m, "ienfd", "HC-IgG", [14.0])
    assert fms < 0.9 * hc


@pytest.mark.parametrize("group", ["HC-IgG", "Saline", "IgG-depleted FMS serum"])
def test_control_groups_stay_at_baseline(study, group):
    traj = study.trajectories
    rows = traj[traj["group"] == group]
    np.testing.assert_allclose(rows["sensitisation"], 1.0, atol=1e-9)
    np.testing.assert_allclose(rows["ienfd_relative"], 1.0, atol=1e-9)
    for test in ("paw_pressure_threshold", "cold_response", "grip_strength"):
        assert abs(_relative(study, test, group, [1.0, 2.0, 3.0, 5.0, 7.0]) - 1.0) < 0.1


def test_only_igg_groups_carry_human_igg(study):
    traj = study.trajectories
    peak = traj.groupby("group")["human_igg_plasma"].max()
    assert peak["Saline"] == 0.0 and peak["IgG-depleted FMS serum"] == 0.0
    assert peak["FMS-IgG"] > 5.0 and peak["HC-IgG"] > 5.0  # mg/mL, 32 mg into ~1 mL plasma


def test_recovery_within_three_weeks_of_last_dose(study):
    traj = study.trajectories
    fms = traj[traj["group"] == "FMS-IgG"].groupby("day")["sensitisation"].mean()
    excess_peak = fms.max() - 1.0
    assert fms.idxmax() <= LAST_DOSE + 4
    assert fms[LAST_DOSE + 21] - 1.0 < 0.15 * excess_peak
    # and the behaviour is back: paw pressure within 7% of baseline three weeks after dosing
    assert _relative(study, "paw_pressure_threshold", "FMS-IgG", [LAST_DOSE + 21 - 3]) > 0.93
    human = traj[traj["group"] == "FMS-IgG"].groupby("day")["human_igg_plasma"].mean()
    assert human[LAST_DOSE + 21] < 0.2 * human.max()


def _peak_and_duration(dose: str, fraction: float) -> tuple[float, float]:
    config = PassiveTransferConfig(
        dose=dose,
        test_days=[0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0],
        ienfd_days=[],
        groups=[
            {
                "name": "FMS-IgG",
                "material": "igg",
                "donors": [{"id": "D", "anti_sgc_fraction": fraction}],
                "mice": 4,
            },
            {
                "name": "HC-IgG",
                "material": "igg",
                "donors": [{"id": "H", "anti_sgc_fraction": 0.0}],
                "mice": 2,
            },
        ],
    )
    traj = run_passive_transfer(config).trajectories
    s = traj[traj["group"] == "FMS-IgG"].groupby("day")["sensitisation"].mean()
    above = s[s > 1.0 + 0.1 * (s.max() - 1.0)]
    return s.max(), above.index.max() - above.index.min()


def test_smaller_doses_and_lower_titres_give_smaller_shorter_effects():
    full_peak, full_duration = _peak_and_duration("8 mg", 0.006)
    half_peak, half_duration = _peak_and_duration("4 mg", 0.006)
    low_peak, low_duration = _peak_and_duration("8 mg", 0.003)
    assert half_peak < full_peak and half_duration < full_duration
    assert low_peak < full_peak and low_duration < full_duration


def test_same_seed_same_data(study):
    again = run_passive_transfer(study.config)
    pd.testing.assert_frame_equal(again.measurements, study.measurements)


def test_dose_per_kg_scales_with_body_weight():
    config = PassiveTransferConfig(
        dose="400 mg/kg",
        injection_days=[0.0],
        test_days=[0.0, 1.0],
        ienfd_days=[],
        groups=[
            {
                "name": "HC-IgG",
                "material": "igg",
                "donors": [{"id": "H", "anti_sgc_fraction": 0.0}],
                "mice": 3,
            },
            {
                "name": "FMS-IgG",
                "material": "igg",
                "donors": [{"id": "F", "anti_sgc_fraction": 0.0}],
                "mice": 3,
            },
        ],
    )
    result = run_passive_transfer(config)
    assert result.trajectories["human_igg_plasma"].max() > 0


def _measurements_one_mouse_at_a_time(config, virtual, trajectories) -> pd.DataFrame:
    """The measurements table as fmsim built it before the cohort-wide von Frey simulation:
    one reference simulate_up_down call per mouse and day, one frame per test and day."""
    rng, parameters, cohort = virtual.rng, virtual.parameters, virtual.cohort
    n, rows = len(cohort), []
    for name in [*config.readouts, IENFD]:
        spec = parameters.readouts[name]
        days = config.ienfd_days if name == IENFD else config.test_days
        animal_baseline = spec.baseline * lognormal_factor(spec.animal_cv, n, rng)
        for day in days:
            at = trajectories[trajectories["day"] == day]
            true_value = expected_readout(
                spec,
                animal_baseline,
                at["sensitisation"].to_numpy(),
                at["sensitisation_emax"].to_numpy(),
                at["ienfd_relative"].to_numpy(),
            )
            if name == "von_frey_threshold":
                tests = [simulate_up_down(float(v), rng) for v in true_value]
                measured, raw = np.array([t.threshold_g for t in tests]), [t.pattern for t in tests]
            else:
                measured, raw = true_value * lognormal_factor(spec.measurement_cv, n, rng), [""] * n
            columns = {"mouse": cohort["mouse"], "group": cohort["group"], "donor": cohort["donor"]}
            frame = pd.DataFrame({k: v.to_numpy() for k, v in columns.items()})
            frame = frame.assign(day=day, test=name, value=measured, unit=spec.unit, raw=raw)
            rows.append(frame)
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"seed": 5, "readouts": ["grip_strength", "von_frey_threshold"], "ienfd_days": []},
        {"test_days": [0.0, 3.0, 7.0], "ienfd_days": [3.0, 7.0, 28.0], "readouts": []},
    ],
    ids=["default", "two-readouts-no-ienfd", "ienfd-only"],
)
def test_measurements_equal_those_of_the_per_mouse_reference_path(changes):
    # The cohort-wide von Frey simulation, the noise drawn for all days at once and the table
    # built in one go give exactly the table of the per-mouse reference path (bit for bit).
    config = default_config().model_copy(update=changes)
    study = run_passive_transfer(config)
    expected = _measurements_one_mouse_at_a_time(
        config, build_virtual_cohort(config), study.trajectories
    )
    pd.testing.assert_frame_equal(study.measurements, expected, check_exact=True)
    von_frey = study.measurements[study.measurements["test"] == "von_frey_threshold"]
    vf_days = len(config.test_days) if "von_frey_threshold" in config.readouts else 0
    assert len(von_frey) == len(study.cohort) * vf_days  # 72 mice x 12 days by default
    assert von_frey["raw"].str.fullmatch("[XO]+").all()


def test_a_design_that_measures_nothing_gives_an_empty_table():
    config = default_config().model_copy(update={"readouts": [], "ienfd_days": []})
    measurements = run_passive_transfer(config).measurements
    assert measurements.empty
    assert list(measurements.columns) == [
        "mouse",
        "group",
        "donor",
        "day",
        "test",
        "value",
        "unit",
        "raw",
    ]
    assert measurements["value"].dtype == float and measurements["raw"].dtype == object
