"""`fmsim analyze`: a lab's data file in, data-quality report and statistics out."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.config import default_config
from fmsim.experiments.analysis import analyze_passive_transfer
from fmsim.experiments.passive_transfer import run_passive_transfer

runner = CliRunner()
MESSY = Path(__file__).resolve().parents[1] / "io" / "fixtures" / "messy_lab_data.csv"


def test_messy_lab_data_gives_report_with_data_quality_section(tmp_path):
    result = runner.invoke(
        app, ["analyze", str(MESSY), "--out", str(tmp_path), "--control", "HC-IgG"]
    )
    assert result.exit_code == 0, result.output
    assert "115 rows used, 11 data issue(s)" in result.output
    assert f"{MESSY}:40: column 'group': value 'HC-lgG'" in result.output
    html = (tmp_path / "analysis.html").read_text()
    assert 'id="data-quality"' in html
    assert "HC-lgG" in html and "misspelling of group &#39;HC-IgG&#39;" in html
    assert "excluded duplicate: identical to row 19" in html
    assert "individual mouse time courses" in html and "Post-hoc comparisons" in html
    assert (tmp_path / "figures" / "individual_mice.png").stat().st_size > 10_000
    clean = pd.read_csv(tmp_path / "clean_data.csv")
    issues = pd.read_csv(tmp_path / "data_issues.csv")
    assert len(clean) == 115 and len(issues) == 11
    assert set(issues["action"]) == {"excluded", "error", "converted"}
    assert set(issues["row"]) >= {20, 28, 34, 40, 57, 61, 82}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    base = default_config()
    groups = [
        g.model_copy(update={"mice_per_donor": 1}) if g.mice_per_donor else g for g in base.groups
    ]
    config = base.model_copy(
        update={"groups": groups, "seed": 3, "test_days": [0.0, 1.0, 3.0, 7.0], "ienfd_days": [7.0]}
    )
    result = run_passive_transfer(config)
    path = tmp_path_factory.mktemp("sim") / "measurements.csv"
    result.measurements.to_csv(path, index=False)
    return result.measurements, path


def test_simulated_data_gives_no_issues_and_the_same_statistics(simulated, tmp_path):
    measurements, path = simulated
    assert list(measurements.columns) == [
        "mouse", "group", "donor", "day", "test", "value", "unit", "raw"
    ]  # fmt: skip
    result = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--out",
            str(tmp_path),
            "--control",
            "HC-IgG",
            "--disease",
            "FMS-IgG",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{len(measurements)} rows used, 0 data issue(s)" in result.output
    assert pd.read_csv(tmp_path / "data_issues.csv").empty
    clean = pd.read_csv(tmp_path / "clean_data.csv")
    assert {"donor", "raw"} <= set(clean.columns) and len(clean) == len(measurements)

    direct = analyze_passive_transfer(
        measurements, control="HC-IgG", disease_group="FMS-IgG", baseline_day=0.0
    )
    expected = pd.concat(
        [a.posthoc.assign(test=t) for t, a in direct.readouts.items()], ignore_index=True
    )
    expected = expected[["test", *direct.readouts["grip_strength"].posthoc.columns]]
    posthoc = pd.read_csv(tmp_path / "posthoc.csv")
    pd.testing.assert_frame_equal(posthoc, expected, check_dtype=False, rtol=1e-9)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "donor_effects.csv"), direct.donors, check_dtype=False, rtol=1e-9
    )
    assert "No problems found" in (tmp_path / "analysis.html").read_text()


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    return lines[0]


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    line = _error_line(
        runner.invoke(app, ["analyze", str(tmp_path / "nope.csv"), "--control", "x"])
    )
    assert line == f"error: {tmp_path / 'nope.csv'}: file not found"


def test_missing_column_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "no_group.csv"
    pd.read_csv(MESSY, dtype=str).drop(columns=["group"]).to_csv(path, index=False)
    line = _error_line(
        runner.invoke(app, ["analyze", str(path), "--out", str(tmp_path), "--control", "HC-IgG"])
    )
    assert "missing required column(s) ['group']" in line and "columns present" in line


def test_unknown_control_lists_the_groups(tmp_path):
    line = _error_line(
        runner.invoke(app, ["analyze", str(MESSY), "--out", str(tmp_path), "--control", "HC"])
    )
    assert "--control: group 'HC'" in line and "FMS-IgG, HC-IgG, Saline" in line
    assert not (tmp_path / "analysis.html").exists()


def test_declared_groups_make_other_groups_errors(tmp_path):
    result = runner.invoke(
        app,
        [
            "analyze", str(MESSY), "--out", str(tmp_path), "--control", "HC-IgG",
            "--groups", "FMS-IgG,HC-IgG,Saline",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "unknown group; did you mean 'HC-IgG'?" in result.output
