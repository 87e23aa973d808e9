"""Never lose data: a command never writes over its inputs or a user's files, refuses an output
folder holding another kind of run, checks ``--out`` before computing, keeps concurrent runs
apart, and writes spreadsheet-safe CSV. Every case asserts that the files that were there before
are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.io.store import MANIFEST, RunFolder, write_table

runner = CliRunner()
MESSY = Path(__file__).resolve().parents[1] / "io" / "fixtures" / "messy_lab_data.csv"
THERAPY = Path(__file__).resolve().parents[2] / "examples" / "therapies" / "tpe.yaml"


def snapshot(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folders`` (to show that nothing changed)."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def refused(args: list[str], *fragments: str) -> str:
    """Run ``fmsim args``: exit code 2, one line on stderr holding ``fragments``."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return result.stdout


def lab_data(folder: Path, name: str = "clean_data.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(MESSY.read_bytes())
    return path


def test_analyze_never_writes_over_its_input(tmp_path):
    data = lab_data(tmp_path / "X")
    before = snapshot(tmp_path)
    for extra in ([], ["--overwrite"]):
        refused(
            ["analyze", str(data), "--out", str(tmp_path / "X"), "--control", "HC-IgG", *extra],
            "holds the input file",
            "clean_data.csv",
        )
    assert snapshot(tmp_path) == before


def test_export_never_writes_over_its_scenario(tmp_path):
    scenario = tmp_path / "scen.yaml"
    scenario.write_text("seed: 3\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(scenario)
    before = snapshot(tmp_path)
    for extra in ([], ["--overwrite"]):
        refused(["export", "sbml", str(scenario), str(scenario), *extra], "is the input file")
    refused(["export", "sbml", str(scenario), str(link), "--overwrite"], "is the input file")
    assert snapshot(tmp_path) == before  # (the symlink reads as the scenario)


def test_export_does_not_replace_an_existing_file_without_overwrite(tmp_path):
    existing = tmp_path / "model.xml"
    existing.write_text("my model")
    refused(["export", "sbml", "default", str(existing)], "file exists", "--overwrite")
    assert existing.read_text() == "my model"


def test_users_measurements_in_out_are_refused_before_simulating(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "measurements.csv").write_text("mouse,value\nM1,1.0\n")
    before = snapshot(tmp_path)
    stdout = refused(
        ["reproduce", "--out", str(out), "--mice-per-donor", "1"],
        "holds files fmsim did not write (measurements.csv)",
        "--overwrite",
    )
    assert "simulating" not in stdout
    assert snapshot(tmp_path) == before


def test_out_pointing_at_a_file_fails_before_simulating(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("<p>my report</p>")
    started = time.perf_counter()
    stdout = refused(["reproduce", "--out", str(target)], "is an existing file")
    assert "simulating" not in stdout and time.perf_counter() - started < 10
    assert target.read_text() == "<p>my report</p>"


def test_out_holding_another_kind_of_run(tmp_path):
    """``analyze --out`` into a ``simulate`` folder: refused; with --overwrite the simulation's
    files go and no CSV/Parquet pair disagrees."""
    simulation = tmp_path / "sim"
    frame = pd.DataFrame({"test": ["grip_strength"], "first_significant_day": [1.0]})
    with RunFolder(simulation, "passive_transfer") as run:
        write_table(frame, run.path, "time_course_summary")
        write_table(frame.assign(value=2.0), run.path, "measurements")
    data = lab_data(tmp_path / "data", "lab.csv")
    before = snapshot(tmp_path)
    refused(
        ["analyze", str(data), "--out", str(simulation), "--control", "HC-IgG"],
        "holds a 'passive_transfer' run",
    )
    assert snapshot(tmp_path) == before
    args = ["analyze", str(data), "--out", str(simulation), "--control", "HC-IgG", "--overwrite"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not (simulation / "measurements.csv").exists()
    for csv in simulation.glob("*.csv"):
        parquet = csv.with_suffix(".parquet")
        assert parquet.exists(), csv.name
        from_csv, from_parquet = pd.read_csv(csv), pd.read_parquet(parquet)
        assert from_csv.shape == from_parquet.shape, csv.name
        assert list(from_csv.columns) == list(from_parquet.columns), csv.name
    summary = pd.read_parquet(simulation / "time_course_summary.parquet")
    assert len(summary) > len(frame)  # the analysis' table, not the simulation's
    assert data.read_bytes() == MESSY.read_bytes()


def test_concurrent_run_into_one_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out, "therapies", command="fmsim therapies (first run)") as first:
        (first.path / "report.html").write_text("first")
        refused(
            ["therapies", str(THERAPY), "--patients", "2", "--days", "5", "--out", str(out)],
            "another fmsim run is writing this folder",
            "fmsim therapies (first run)",
        )
    assert (out / "report.html").read_text() == "first"


def test_csv_outputs_neutralise_formulas_from_user_data(tmp_path):
    """OWASP CSV injection: text cells from the user's file that a spreadsheet would execute get
    a leading quote in CSV; Parquet keeps the text; numbers (negative too) are unchanged."""
    frame = pd.read_csv(MESSY, dtype=str, keep_default_na=False)
    formulas = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(A1)"]
    first = frame["mouse"].iloc[0]
    frame.loc[frame["mouse"] == first, "mouse"] = formulas[0]
    frame["note"] = [formulas[i % 4] for i in range(len(frame))]
    frame.loc[0, "note"] = "-3.5"
    data = tmp_path / "lab.csv"
    frame.to_csv(data, index=False)
    result = runner.invoke(
        app, ["analyze", str(data), "--out", str(tmp_path / "out"), "--control", "HC-IgG"]
    )
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(tmp_path / "out" / "clean_data.csv", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(tmp_path / "out" / "clean_data.parquet")
    assert "'" + formulas[0] in set(csv["mouse"]) and formulas[0] in set(parquet["mouse"])
    for text in formulas:
        assert not (csv[["mouse", "note"]] == text).any().any()
        assert ("'" + text) in set(csv["note"]) and text in set(parquet["note"])
    assert "-3.5" in set(csv["note"])
    assert pd.to_numeric(csv["value"]).tolist() == pytest.approx(parquet["value"].tolist())
    assert (tmp_path / "out" / MANIFEST).exists()
