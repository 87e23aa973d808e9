"""The command line: a reduced `reproduce`, `simulate` errors, `params`."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_reduced_reproduce_writes_report_and_tables(tmp_path):
    result = runner.invoke(app, ["reproduce", "--out", str(tmp_path), "--mice-per-donor", "1"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert "simulations, not experimental or clinical evidence" in html
    assert "Assumptions and limits" in html and "Hansen" in html
    table = pd.read_parquet(tmp_path / "measurements.parquet")
    assert list(table.columns[:7]) == ["mouse", "group", "donor", "day", "test", "value", "unit"]
    assert set(table["group"]) == {"FMS-IgG", "HC-IgG", "Saline", "IgG-depleted FMS serum"}
    assert (tmp_path / "figures" / "behaviour.png").stat().st_size > 10_000
    assert (tmp_path / "figures" / "behaviour.svg").is_file()  # vector copies for journals
    assert (tmp_path / "figures" / "behaviour.pdf").is_file()
    assert 'id="figure-behaviour"' in html and (tmp_path / "plotly.min.js").is_file()
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "measurements.csv").iloc[:, :6], table.iloc[:, :6], check_dtype=False
    )


def test_bad_config_gives_one_line_per_problem_and_exit_2(tmp_path):
    result = runner.invoke(
        app, ["simulate", str(EXAMPLES / "bad_config.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 4
    assert all("bad_config.yaml" in line for line in lines)
    assert any("dose: got '-8 mg'" in line for line in lines)
    assert any("dose_mg" in line and "unknown field" in line for line in lines)


def test_unknown_parameter_override_is_a_clear_error(tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("parameters:\n  sgc_kdd: 0.1\n")
    result = runner.invoke(app, ["simulate", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "sgc_kdd" in result.output and "Traceback" not in result.output


def test_missing_config_file(tmp_path):
    result = runner.invoke(app, ["simulate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_example_configs_validate():
    from fmsim.config import load_config

    for path in EXAMPLES.glob("*.yaml"):
        if path.name != "bad_config.yaml":
            load_config(path)


def test_params_prints_units_and_sources():
    result = runner.invoke(app, ["params"])
    assert result.exit_code == 0
    assert "pinocytic_clearance_per_kg" in result.output and "HB2002" in result.output
    assert "mL/kg" in result.output
