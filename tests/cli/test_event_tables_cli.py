"""Event tables on the command line (``--events``, ``--nonmem``): a table and the equivalent
YAML protocol give identical simulations in ``simulate``, ``therapies`` and ``trial``; a bad
table or option ends with one line (file, row, column, value, expectation) and exit code 2."""

from __future__ import annotations

from pathlib import Path

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
         "2,0,340,inhibitor_depot,batoclimab\n",
         ":3: column ID: value '2': expected one course for every patient"),
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
        ("batoclimab", "--events: got 'batoclimab': expected ARM=FILE"),
        ("nosuch=TABLE", "--events: got arm 'nosuch': expected one of the trial's arms"),
    ],
)
def test_trial_bad_events_option_is_one_line(tmp_path, option, expected):
    trial = write(tmp_path, "trial.yaml", TRIAL.format(therapy="{type: placebo}"))
    table = write(tmp_path, "table.csv", BATOCLIMAB_TABLE)
    option = option.replace("TABLE", str(table))
    line = one_line_error(invoke("trial", trial, "--no-power", "--events", option))
    assert expected in line
