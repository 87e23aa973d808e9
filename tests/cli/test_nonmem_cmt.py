"""``--nonmem-cmt number``: the data sets of ``simulate``, ``therapies`` and ``trial`` have CMT
as the model's compartment numbers (docs/event_tables.md; for ``therapies`` the named data set
record by record), read back with ``--events`` to identical simulations, and carry the NONMEM
``$INPUT`` record in tables.json; bad values are one line (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.cli.test_event_tables_cli import (
    BATOCLIMAB_YAML,
    SCENARIO,
    TRIAL,
    invoke,
    ok,
    one_line_error,
    same_tables,
    write,
)

from fmsim.model.human import HUMAN_MODEL


def numbered_like(named: Path, numbered: Path, model) -> pd.DataFrame:
    """Check that the numbered data set is the named one with CMT replaced by the engine's
    state position + 1; return the numbered one."""
    by_name = pd.read_parquet(named / "nonmem.parquet")
    by_number = pd.read_parquet(numbered / "nonmem.parquet")
    assert str(by_number["CMT"].dtype) == "int64"
    assert by_number["CMT"].tolist() == [model.index(c) + 1 for c in by_name["CMT"]]
    pd.testing.assert_frame_equal(
        by_name.drop(columns=["ID", "CMT"]), by_number.drop(columns=["ID", "CMT"])
    )
    assert by_number["ID"].tolist() == [int(i) for i in by_name["ID"]]
    return by_number


def input_record(run: Path) -> str:
    """The $INPUT record of the run's data dictionary, checked against the CSV header."""
    description = json.loads((run / "tables.json").read_text())["nonmem"]["description"]
    record = description.split("NONMEM reads it with $DATA nonmem.csv IGNORE=@ and ", 1)[1]
    header = (run / "nonmem.csv").read_text().split("\n", 1)[0].split(",")
    items = record.split("$INPUT ", 1)[1].split()
    assert [item.removesuffix("=DROP") for item in items] == header
    return record


def test_simulate_numbers_read_back_to_the_same_experiment(tmp_path):
    scenario = write(tmp_path, "scenario.yaml", SCENARIO)
    numbered, again = tmp_path / "numbered", tmp_path / "again"
    ok(invoke("simulate", scenario, "--nonmem", "--nonmem-cmt", "number", "--out", numbered))
    data = pd.read_parquet(numbered / "nonmem.parquet")
    assert str(data["CMT"].dtype) == str(data["ID"].dtype) == "int64"
    assert set(data["ID"]) == set(range(1, 9))
    # docs/event_tables.md: 1 human_ip_depot (doses), 2 human_plasma (plasma human IgG),
    # 7 sensitisation (behavioural tests), 8 ienfd_relative (IENFD)
    records = data["EVID"].astype(str) + ":" + data["DVID"].fillna("")
    cmt = {key: sorted(set(group)) for key, group in data["CMT"].groupby(records)}
    fixed = {"1:": [1], "0:human_igg_plasma": [2], "0:ienfd": [8]}
    assert {key: cmt.pop(key) for key in fixed} == fixed
    assert len(cmt) >= 3 and all(numbers == [7] for numbers in cmt.values())  # the tests
    assert input_record(numbered) == (
        "$INPUT ID TIME AMT RATE DUR CMT EVID DV MDV DVID=DROP UNIT=DROP MOUSE=DROP "
        "GROUP=DROP DONOR=DROP"
    )

    ok(invoke("simulate", scenario, "--events", numbered / "nonmem.csv", "--out", again))
    same_tables(numbered, again, ("trajectories", "measurements"))
    assert len(pd.read_csv(again / "dosing.csv")) == 24  # 4 mg on days 0-3 for 6 IgG mice


def test_therapies_numbers_read_back_per_patient_to_identical_patients(tmp_path):
    protocol = write(tmp_path, "yaml.yaml", f"name: bato\ntherapies: [{BATOCLIMAB_YAML}]\n")
    named, numbered, again = tmp_path / "named", tmp_path / "numbered", tmp_path / "again"
    common = ["--patients", 4, "--days", 20, "--seed", 5, "--nonmem"]
    given = [protocol, "examples/therapies/tpe.yaml", *common]
    ok(invoke("therapies", *given, "--out", named))
    ok(invoke("therapies", *given, "--nonmem-cmt", "number", "--out", numbered))
    data = numbered_like(named, numbered, HUMAN_MODEL)
    assert set(data.loc[data["EVID"] == 2, "CMT"]) == {1}  # sessions: igg_plasma
    assert set(data.loc[data["EVID"] == 1, "CMT"]) == {7}  # s.c. batoclimab: inhibitor_depot
    assert "THERAPY=DROP" in input_record(numbered)

    ok(invoke("therapies", "--events", numbered / "nonmem.csv", *common, "--out", again))
    same_tables(named, again, ("therapy_patients", "therapy_courses", "nonmem"))


def test_trial_numbers_read_back_per_patient_to_the_identical_trial(tmp_path):
    trial = write(tmp_path, "trial.yaml", TRIAL.format(therapy=BATOCLIMAB_YAML))
    numbered, again = tmp_path / "numbered", tmp_path / "again"
    by_number = ["--nonmem", "--nonmem-cmt", "number"]
    ok(invoke("trial", trial, "--no-power", *by_number, "--out", numbered))
    data = pd.read_parquet(numbered / "nonmem.parquet")
    dosed = data[data["EVID"] == 1]
    assert len(dosed) and set(dosed["CMT"]) == {HUMAN_MODEL.index("inhibitor_depot") + 1}
    assert set(data.loc[data["DVID"] == "pain_nrs", "CMT"]) == {15}  # sensitisation
    assert "ARM=DROP" in input_record(numbered)

    ok(invoke("trial", trial, "--no-power", *by_number, "--events", numbered / "nonmem.csv",
              "--out", again))  # fmt: skip
    same_tables(numbered, again, ("visits", "courses", "effects", "nonmem"))


@pytest.mark.parametrize("command", ["simulate", "therapies", "trial"])
def test_bad_nonmem_cmt_is_one_line(tmp_path, command):
    files = {
        "simulate": [write(tmp_path, "s.yaml", SCENARIO)],
        "therapies": ["examples/therapies/tpe.yaml", "--patients", 2, "--days", 5],
        "trial": [write(tmp_path, "t.yaml", TRIAL.format(therapy=BATOCLIMAB_YAML)), "--no-power"],
    }[command]
    out = tmp_path / "out"
    line = one_line_error(invoke(command, *files, "--nonmem", "--nonmem-cmt", "numbers",
                                 "--out", out))  # fmt: skip
    assert "--nonmem-cmt" in line and "got 'numbers': expected 'name' or 'number'" in line
    line = one_line_error(invoke(command, *files, "--nonmem-cmt", "number", "--out", out))
    assert line == "error: --nonmem-cmt number: applies to the --nonmem data set; add --nonmem"
    assert not out.exists()


def test_a_cmt_number_outside_the_model_names_file_row_value_and_the_numbers(tmp_path):
    table = write(
        tmp_path,
        "course.csv",
        "ID,TIME,AMT,CMT,DRUG\n1,0,680,7,batoclimab\n2,0,680,16,batoclimab\n",
    )
    out = tmp_path / "out"
    line = one_line_error(invoke("therapies", "--events", table, "--patients", 2, "--days", 5,
                                 "--out", out))  # fmt: skip
    numbers = ", ".join(f"{k} {s}" for k, s in enumerate(HUMAN_MODEL.states, start=1))
    assert line == (
        f"error: {table}:3: column CMT: value '16': expected a compartment number 1-15 of "
        f"human_fibromyalgia: {numbers}"
    )
    assert "15 sensitisation" in line and not out.exists()
