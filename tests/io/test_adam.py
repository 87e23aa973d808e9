"""Virtual-trial data sets in an ADaM-like layout (fmsim.io.adam), checked against their
documented columns and derivations."""

import numpy as np
import pytest

from fmsim.config.trial import parse_trial_config
from fmsim.experiments.trial import simulate_trial
from fmsim.io.adam import ADEFF_COLUMNS, ADSL_COLUMNS, PARAMETERS, adeff, adsl

ARMS = [
    {"name": "placebo", "therapies": [{"type": "placebo"}]},
    {
        "name": "efgartigimod",
        "therapies": [
            {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 2}
        ],
    },
]


@pytest.fixture(scope="module")
def parallel():
    config = parse_trial_config(
        {
            "name": "ADAM-TEST",
            "patients": 12,
            "duration_weeks": 3,
            "arms": ARMS,
            "control_arm": "placebo",
            "primary": {"outcome": "pain_nrs", "week": 3, "analysis": "ancova"},
        }
    )
    return simulate_trial(config)


def test_adsl_has_its_documented_columns_one_row_per_patient(parallel):
    table = adsl(parallel)
    assert list(table.columns) == list(ADSL_COLUMNS)
    assert len(table) == len(parallel.patients) and table["USUBJID"].is_unique
    assert set(table["TRT01P"]) == {"placebo", "efgartigimod"}
    assert set(table["EOSSTT"]) <= {"COMPLETED", "DISCONTINUED"}
    discontinued = table["EOSSTT"] == "DISCONTINUED"
    assert table.loc[discontinued, "DCSDY"].notna().all()
    assert table.loc[~discontinued, "DCSDY"].isna().all()
    assert (table["ASGCPOS"] == "Y").eq(parallel.patients["anti_sgc_positive"]).all()


def test_adeff_is_a_bds_with_baseline_and_change(parallel):
    table = adeff(parallel)
    assert list(table.columns) == list(ADEFF_COLUMNS)
    assert set(table["PARAMCD"]) <= {code for code, _ in PARAMETERS.values()}
    assert "PAINNRS" in set(table["PARAMCD"])
    baseline = table[table["ABLFL"] == "Y"]
    assert (baseline["AVISITN"] == 0).all() and (baseline["AVISIT"] == "Baseline").all()
    np.testing.assert_array_equal(baseline["AVAL"], baseline["BASE"])
    np.testing.assert_allclose(table["CHG"], table["AVAL"] - table["BASE"])
    assert not table.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any()
    # the weekly pain of a visit is the visits table's, patient by patient
    pain = table[table["PARAMCD"] == "PAINNRS"].sort_values(["USUBJID", "AVISITN"])
    visits = parallel.visits.dropna(subset=["pain_nrs"])
    assert len(pain) == len(visits)
    assert np.isclose(np.sort(pain["AVAL"].to_numpy()), np.sort(visits["pain_nrs"])).all()
    assert (table["TRTP"] == table["TRT01P"]).all()  # parallel: one treatment throughout


def test_crossover_records_carry_the_period_treatment():
    config = parse_trial_config(
        {
            "name": "ADAM-XO",
            "design": "crossover",
            "patients": 8,
            "arms": ARMS,
            "crossover": {
                "sequences": [
                    {"name": "P-E", "periods": ["placebo", "efgartigimod"]},
                    {"name": "E-P", "periods": ["efgartigimod", "placebo"]},
                ],
                "period_weeks": 2,
                "washout_weeks": 1,
            },
            "control_arm": "placebo",
            "primary": {"outcome": "pain_nrs", "week": 2, "analysis": "ancova"},
        }
    )
    table = adeff(simulate_trial(config))
    first = table[(table["TRT01P"] == "P-E") & (table["AVISITN"].isin([1, 2]))]
    washout = table[(table["TRT01P"] == "P-E") & (table["AVISITN"] == 3)]
    second = table[(table["TRT01P"] == "P-E") & (table["AVISITN"].isin([4, 5]))]
    assert set(first["TRTP"]) == {"placebo"}
    assert set(washout["TRTP"]) == {"WASHOUT"}
    assert set(second["TRTP"]) == {"efgartigimod"}
