"""Event tables on the command line (``--events``, ``--nonmem``): a table and the equivalent
YAML protocol give identical simulations in ``simulate``, ``therapies`` and ``trial``; a bad
table or option ends with one line (file, row, column, value, expectation) and exit code 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()

SCENARIO = """\
name: event-table scenario
seed: 3
dose: 4 mg
injection_days: [0, 1, 2, 3]
test_days: [0, 1, 3, 7, 14]
ienfd_days: [14]
groups:
  - {name: FMS-IgG, material: igg, donors: [{id: F1, anti_sgc_fraction: 0.008}], mice: 3}
  - {name: HC-IgG, material: igg, donors: [{id: H1, anti_sgc_fraction: 0.0}], mice: 3}
  - {name: Saline, material: saline, mice: 2}
control_group: HC-IgG
disease_group: FMS-IgG
"""
BATOCLIMAB_YAML = (
    "{type: fcrn_inhibitor, drug: batoclimab, dose: 680 mg, route: sc, start: 0, every: 7, "
    "count: 6}"
)
BATOCLIMAB_TABLE = "TIME,AMT,CMT,DRUG,ADDL,II\n0,680,inhibitor_depot,batoclimab,5,7\n"
TRIAL = """\
name: event-table trial
seed: 7
patients: 20
duration_weeks: 6
arms:
  - {{name: placebo, therapies: [{{type: placebo}}]}}
  - {{name: batoclimab, therapies: [{therapy}]}}
control_arm: placebo
primary: {{outcome: pain_nrs, week: 6, analysis: ancova}}
"""


def invoke(*arguments: str):
    return runner.invoke(app, [str(a) for a in arguments])


def ok(result) -> None:
    assert result.exit_code == 0, result.output


def one_line_error(result) -> str:
    """The single stderr line of a user mistake (exit code 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def same_tables(first: Path, second: Path, names: tuple[str, ...]) -> None:
    for name in names:
        pd.testing.assert_frame_equal(
            pd.read_parquet(first / f"{name}.parquet"), pd.read_parquet(second / f"{name}.parquet")
        )


def test_simulate_writes_nonmem_data_that_doses_the_same_mice_again(tmp_path):
    scenario = write(tmp_path, "scenario.yaml", SCENARIO)
    ok(invoke("simulate", scenario, "--nonmem", "--out", tmp_path / "yaml"))
    data = pd.read_csv(tmp_path / "yaml" / "nonmem.csv")
    doses = data[data["EVID"] == 1]
    # 4 mg i.p. on days 0-3 for the 6 mice of the IgG groups, none for the saline mice
    assert (
        len(doses) == 24 and set(doses["AMT"]) == {4.0} and set(doses["CMT"]) == {"human_ip_depot"}
    )
    assert set(doses["GROUP"]) == {"FMS-IgG", "HC-IgG"} and set(data["ID"]) == set(range(1, 9))
    assert (data.loc[data["EVID"] == 0, "MDV"] == 0).all() and doses["DV"].isna().all()
    plasma = data[data["DVID"] == "human_igg_plasma"]
    assert set(plasma["UNIT"]) == {"mg/mL"} and set(plasma["TIME"]) == {0, 1, 3, 7, 14}
    measured = pd.read_parquet(tmp_path / "yaml" / "measurements.parquet")
    assert (data["EVID"] == 0).sum() == len(measured) + len(plasma)

    # the data set read back as a per-mouse event table (ID = number) gives the same experiment;
    # here named in the scenario ('events:', relative to the file) instead of by --events
    with_table = write(tmp_path, "with_table.yaml", SCENARIO + "events: yaml/nonmem.csv\n")
    ok(invoke("simulate", with_table, "--out", tmp_path / "table"))
    same_tables(tmp_path / "yaml", tmp_path / "table", ("trajectories", "measurements"))
    report = (tmp_path / "table" / "report.html").read_text()
    assert "4 mg per dose into human_ip_depot as the event table gives (dosing.csv)" in report
    dosing = pd.read_csv(tmp_path / "table" / "dosing.csv")
    assert len(dosing) == 24 and not dosing["ID"].str.startswith("Saline").any()


def test_a_table_for_every_mouse_doses_the_igg_groups_as_the_scenario_does(tmp_path):
    from fmsim.config import load_config
    from fmsim.experiments.passive_transfer import run_passive_transfer
    from fmsim.io.event_table import read_event_table
    from fmsim.model.equations import MODEL

    config = load_config(write(tmp_path, "scenario.yaml", SCENARIO))
    table = write(tmp_path, "doses.csv", "TIME,AMT,CMT,ADDL,II\n0,4,human_ip_depot,3,1\n")
    by_table = run_passive_transfer(config, dosing=read_event_table(table, MODEL))
    by_yaml = run_passive_transfer(config)
    pd.testing.assert_frame_equal(by_table.trajectories, by_yaml.trajectories)
    pd.testing.assert_frame_equal(by_table.measurements, by_yaml.measurements)


def test_therapies_table_and_yaml_protocol_give_identical_patients(tmp_path):
    protocol = write(tmp_path, "yaml.yaml", f"name: yaml\ntherapies: [{BATOCLIMAB_YAML}]\n")
    table = write(tmp_path, "table.csv", BATOCLIMAB_TABLE)
    field = write(tmp_path, "field.yaml", "name: field\nevents: table.csv\n")
    out = tmp_path / "out"
    ok(invoke("therapies", protocol, field, "--events", table, "--patients", 5, "--days", 60,
              "--out", out))  # fmt: skip
    patients = pd.read_parquet(out / "therapy_patients.parquet")

    def of(therapy: str) -> pd.DataFrame:
        rows = patients[patients["therapy"] == therapy].drop(columns="therapy")
        return rows.reset_index(drop=True)

    assert len(of("yaml")) == 5
    pd.testing.assert_frame_equal(of("table"), of("yaml"))
    pd.testing.assert_frame_equal(of("field"), of("yaml"))
    assert "table.csv" in (out / "manifest.json").read_text()


def test_trial_arm_from_a_table_gives_the_trial_of_the_yaml_arm(tmp_path):
    yaml_trial = write(tmp_path, "yaml.yaml", TRIAL.format(therapy=BATOCLIMAB_YAML))
    placebo = write(tmp_path, "placebo.yaml", TRIAL.format(therapy="{type: placebo}"))
    table = write(tmp_path, "table.csv", BATOCLIMAB_TABLE)
    ok(invoke("trial", yaml_trial, "--no-power", "--out", tmp_path / "yaml"))
    ok(invoke("trial", placebo, "--no-power", "--events", f"batoclimab={table}",
              "--out", tmp_path / "table"))  # fmt: skip
    same_tables(tmp_path / "yaml", tmp_path / "table", ("visits", "courses", "effects"))
    # the arm's 'events:' in the trial file adds the table's blocks to its (no) therapies
    field = TRIAL.format(therapy="{type: placebo}").replace(
        "- {name: batoclimab, therapies: [{type: placebo}]}",
        "- {name: batoclimab, events: table.csv}",
    )
    ok(invoke("trial", write(tmp_path, "field.yaml", field), "--no-power",
              "--out", tmp_path / "field"))  # fmt: skip
    same_tables(tmp_path / "yaml", tmp_path / "field", ("visits", "courses", "effects"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("ID,TIME,AMT,CMT\n1,0,4,human_ip_depot\nM1,0,4,human_ip_depot\n",
         ":3: column ID: value 'M1': expected a mouse of the scenario by name"),
        ("TIME,AMT,CMT\n0,4,spleen\n", ":2: column CMT: value 'spleen': expected a state of"),
        ("TIME,AMT,CMT\n0,-4,human_ip_depot\n",
         ":2: column AMT: value '-4': expected an amount >= 0"),
        ("TIME,AMT\n0,4\n", "missing column(s) ['CMT']"),
    ],
)  # fmt: skip
def test_simulate_bad_table_is_one_line(tmp_path, content, expected):
    scenario = write(tmp_path, "scenario.yaml", SCENARIO)
    table = write(tmp_path, "doses.csv", content)
    out = tmp_path / "out"
    line = one_line_error(invoke("simulate", scenario, "--events", table, "--out", out))
    assert line.startswith(f"error: {table}") and expected in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("TIME,AMT,CMT\n0,680,inhibitor_depot\n",
         ":2: column DRUG: value None: expected the library entry of the fcrn_inhibitor"),
        ("TIME,AMT,CMT,DRUG\n0,680,igg_plasma,batoclimab\n",
         ":2: column CMT: value 'igg_plasma': expected a therapy's dosing state"),
        ("TIME,AMT,CMT,DRUG\n0,700,inhibitor_central,efgartigimod\n",
         ":2: column RATE: value None: expected an infusion into inhibitor_central"),
        ("ID,TIME,AMT,CMT,DRUG\n1,0,680,inhibitor_depot,batoclimab\n"
         "500,0,340,inhibitor_depot,batoclimab\n",
         ":3: column ID: value '500': expected a patient number from 1 to 200 (the n-th virtual "
         "patient sampled with seed 2024)"),
        ("ID,TIME,AMT,CMT,EVID,FRAC\n1,0,0,igg_plasma,2,1.2\n",
         ":2: column FRAC: value '1.2': expected the fraction of plasma removed"),
        ("TIME,AMT,CMT,DRUG\n0,680,inhibitor_depot,nosuchdrug\n", "nosuchdrug"),
        ("TIME,AMT,CMT,EVID\n0,0,1,0\n", "no dose records"),
    ],
)  # fmt: skip
def test_therapies_bad_table_is_one_line(tmp_path, content, expected):
    table = write(tmp_path, "course.csv", content)
    out = tmp_path / "out"
    line = one_line_error(invoke("therapies", "--events", table, "--out", out))
    assert line.startswith(f"error: {table}") and expected in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("batoclimab", "batoclimab: no such file"),
        ("=TABLE", "--events: got '="),
        ("TABLE", "without ARM= a table gives records per patient"),
        ("batoclimab=PATIENTS", "add --no-power"),
        ("nosuch=TABLE", "--events: got arm 'nosuch': expected one of the trial's arms"),
    ],
)
def test_trial_bad_events_option_is_one_line(tmp_path, option, expected):
    trial = write(tmp_path, "trial.yaml", TRIAL.format(therapy="{type: placebo}"))
    table = write(tmp_path, "table.csv", BATOCLIMAB_TABLE)
    patients = write(tmp_path, "patients.csv", PER_PATIENT)
    option = option.replace("TABLE", str(table)).replace("PATIENTS", str(patients))
    power = [] if "PATIENTS" in option or patients.name in option else ["--no-power"]
    out = tmp_path / "out"
    line = one_line_error(invoke("trial", trial, *power, "--events", option, "--out", out))
    assert expected in line and not out.exists()


PER_PATIENT = (
    "ID,TIME,AMT,CMT,DRUG\n1,0,680,inhibitor_depot,batoclimab\n2,0,680,inhibitor_depot,batoclimab\n"
)


def test_therapies_nonmem_data_set_read_back_per_patient_gives_identical_patients(tmp_path):
    protocol = write(tmp_path, "yaml.yaml", f"name: bato\ntherapies: [{BATOCLIMAB_YAML}]\n")
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--patients", 4, "--days", 20, "--seed", 5, "--nonmem"]
    ok(invoke("therapies", protocol, "examples/therapies/tpe.yaml", *common, "--out", first))
    data = pd.read_csv(first / "nonmem.csv", keep_default_na=False, na_values=[""])
    assert list(dict.fromkeys(data["THERAPY"])) == ["bato", "plasma exchange 5 x 1 plasma volume"]
    sessions = data[data["EVID"] == 2]
    assert len(sessions) == 4 * 5 and set(sessions["CMT"]) == {"igg_plasma"}
    assert set(sessions["DRUG"]) == {"plasma_exchange"} and set(sessions["FLUID"]) == {"albumin"}
    doses = data[data["EVID"] == 1]  # batoclimab on days 0 and 7 and 14 within 20 days: all 6
    assert len(doses) == 4 * 6 and set(doses["AMT"]) == {680.0}
    observed = data[data["EVID"] == 0]
    assert set(observed["DVID"]) == {"total_igg", "anti_sgc_igg", "sensitisation"}
    # ID n is the n-th sampled patient: its covariates are row n of patients.csv
    patients = pd.read_csv(first / "patients.csv")
    weights = data.groupby("ID")["WT"].first()
    np.testing.assert_allclose(weights.to_numpy(), patients["body_weight"].to_numpy())

    ok(invoke("therapies", "--events", first / "nonmem.csv", *common, "--out", second))
    same_tables(first, second, ("therapy_patients", "therapy_courses", "nonmem"))


def test_trial_nonmem_data_set_read_back_per_patient_gives_the_identical_trial(tmp_path):
    trial = write(tmp_path, "trial.yaml", TRIAL.format(therapy=BATOCLIMAB_YAML))
    first, second = tmp_path / "first", tmp_path / "second"
    ok(invoke("trial", trial, "--no-power", "--nonmem", "--out", first))
    data = pd.read_csv(first / "nonmem.csv")
    patients = pd.read_csv(first / "patients.csv")
    arms = data.groupby("ID")["ARM"].first()
    assert list(arms) == list(patients["group"]) and len(arms) == 20
    dosed = set(data.loc[data["EVID"] == 1, "ID"])
    assert dosed == set(patients.index[patients["group"] == "batoclimab"] + 1)
    pain = data[data["DVID"] == "pain_nrs"]
    visits = pd.read_csv(first / "visits.csv")
    assert len(pain) == len(visits) and set(pain["TIME"]) == {7.0 * w for w in range(7)}

    ok(invoke("trial", trial, "--no-power", "--nonmem", "--events", first / "nonmem.csv",
              "--out", second))  # fmt: skip
    same_tables(first, second, ("visits", "courses", "effects", "nonmem"))
    # an arm's per-patient table must name patients of that arm
    placebo = int(patients.index[patients["group"] == "placebo"][0]) + 1
    table = write(tmp_path, "arm.csv", PER_PATIENT.replace("\n1,", f"\n{placebo},"))
    line = one_line_error(invoke("trial", trial, "--no-power", "--events",
                                 f"batoclimab={table}", "--out", tmp_path / "third"))  # fmt: skip
    assert line == (
        f"error: {table}:2: column ID: patient {placebo} is randomised to 'placebo', not "
        "'batoclimab' (seed and allocation of the trial file decide the arms; see the run's "
        "patients.csv)"
    )
    assert not (tmp_path / "third").exists()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["therapies", "examples/therapies/tpe.yaml", "--patients", "10000", "--days", "100"],
         "--nonmem: 10,000 patients x 101 days x 3 outputs x 1 therapies is about 3,030,000 "
         "records, more than the 2,000,000"),
        (["trial", "TRIAL", "--no-power"], "--nonmem: 2,000 patients x 365 days x 3 outputs"),
    ],
)  # fmt: skip
def test_a_data_set_too_large_is_refused_before_simulating(tmp_path, command, expected):
    big = TRIAL.format(therapy=BATOCLIMAB_YAML).replace("patients: 20", "patients: 2000")
    big = big.replace("duration_weeks: 6", "duration_weeks: 52").replace("week: 6", "week: 52")
    trial = write(tmp_path, "big.yaml", big)
    out = tmp_path / "out"
    command = [str(trial) if c == "TRIAL" else c for c in command]
    line = one_line_error(invoke(*command, "--nonmem", "--out", out))
    assert line.startswith("error: ") and expected in line and not out.exists()
