"""`fmsim sensitivity`: a tiny run of every analysis into a run folder with the report; bad
options and output folders give one line and exit code 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from fmsim.calibration.sensitivity_trial import DEFAULT_TRIAL
from fmsim.cli.main import app

runner = CliRunner()


def _trial(folder):
    path = folder / "trial.yaml"
    small = DEFAULT_TRIAL | {
        "patients": 20,
        "duration_weeks": 4,
        "primary": {"outcome": "pain_nrs", "week": 4, "analysis": "ancova"},
    }
    path.write_text(yaml.safe_dump(small))
    return path


TINY = ["--n", "4", "--trial-n", "4", "--trial-replicates", "2"]


def test_sensitivity_writes_tables_figures_and_report(tmp_path):
    out = tmp_path / "out"
    args = ["sensitivity", *TINY, "--trial", str(_trial(tmp_path)), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["status"] == "complete"
    sobol = pd.read_parquet(out / "sobol.parquet")
    assert set(sobol["analysis"]) == {"passive_transfer", "therapy", "trial"}
    html = (out / "report.html").read_text()
    for analysis in ("passive_transfer", "therapy", "trial"):
        for figure in ("sobol", "tornado", "elasticities"):
            assert (out / "figures" / f"{analysis}_{figure}.png").is_file()
    assert "Elasticities at the medians" in html and "igg_nadir_reduction_percent" in html
    assert "trial/trial_power: largest total-order indices" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--n", "6"], "expected a power of 2"),
        (["--analyses", "passive_transfer,weather"], "--analyses weather"),
        (["--therapy", "leeches"], "--therapy 'leeches'"),
        (["--trial-replicates", "1"], "--trial-replicates"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_bad_options_give_one_line(tmp_path, args, expected):
    out = tmp_path / "out"
    result = runner.invoke(app, ["sensitivity", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_trial_file_gives_one_line(tmp_path):
    path = _trial(tmp_path)
    path.write_text(path.read_text().replace("patients: 20", "patients: many"))
    result = runner.invoke(app, ["sensitivity", "--trial", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert (
        "trial.yaml: patients: got 'many'" in result.output
        and len(result.output.strip().splitlines()) == 1
    )


def test_out_over_a_users_files_gives_one_line(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["sensitivity", *TINY, "--out", str(mine)])
    assert result.exit_code == 2 and "is an existing file" in result.output
    assert len(result.output.strip().splitlines()) == 1
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "sobol.csv").write_text("mine\n")
    result = runner.invoke(app, ["sensitivity", *TINY, "--out", str(folder)])
    assert result.exit_code == 2 and "holds files fmsim did not write (sobol.csv)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert mine.read_text() == "a,b\n1,2\n" and (folder / "sobol.csv").read_text() == "mine\n"
