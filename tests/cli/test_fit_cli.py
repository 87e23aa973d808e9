"""`fmsim fit DATA CONFIG`: a simulated study is fitted and reported; mistakes give one line."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.config import default_config
from fmsim.experiments.passive_transfer import run_passive_transfer

runner = CliRunner()


@pytest.fixture(scope="module")
def lab_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    measurements = run_passive_transfer(default_config().model_copy(update={"seed": 3}))
    data = measurements.measurements.drop(columns="raw")
    path = folder / "study.csv"
    data[data["test"] == "paw_pressure_threshold"].to_csv(path, index=False)
    return path


def _config(folder, **fields):
    settings = {"estimate": ["sensitisation_occupancy50"], "starts": 2, "profile": False}
    path = folder / "fit.yaml"
    path.write_text(yaml.safe_dump(settings | fields))
    return path


def test_fit_writes_estimates_and_report(lab_data, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["fit", str(lab_data), str(_config(tmp_path, profile=True)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    estimates = pd.read_csv(out / "estimates.csv")
    row = estimates.iloc[0]
    assert row["parameter"] == "sensitisation_occupancy50"
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["verdict"] == "identifiable"
    html = (out / "report.html").read_text()
    assert "Profile likelihoods" in html and "Fitted curves over data" in html
    assert len(pd.read_csv(out / "starts.csv")) == 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"estimate": ["tail_length"]}, "'tail_length' is not a parameter of the model"),
        (
            {"estimate": [{"name": "sensitisation_turnover", "lower": 2, "upper": 1}]},
            "lower < upper",
        ),
        ({"tests": ["tail_flick"]}, "tests: ['tail_flick'] are not observables"),
        ({"level": "herd"}, "level"),
        ({"starts": 0}, "starts"),
    ],
)
def test_bad_fit_configs_give_one_line(lab_data, tmp_path, fields, expected):
    result = runner.invoke(app, ["fit", str(lab_data), str(_config(tmp_path, **fields))])
    assert result.exit_code == 2
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_missing_data_file_gives_one_line(tmp_path):
    result = runner.invoke(app, ["fit", str(tmp_path / "none.csv"), str(_config(tmp_path))])
    assert result.exit_code == 2
    assert "none.csv" in result.output and len(result.output.strip().splitlines()) == 1


def test_export_petab_writes_a_linted_problem(lab_data, tmp_path):
    out = tmp_path / "petab"
    result = runner.invoke(
        app, ["export", "petab", str(lab_data), str(_config(tmp_path)), str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "PEtab linter: no errors" in result.output
    assert {p.name for p in out.iterdir()} >= {"model.xml", "problem.yaml", "parameters.tsv"}


def test_export_petab_refuses_derived_parameters(lab_data, tmp_path):
    config = _config(tmp_path, estimate=["body_weight"])
    result = runner.invoke(app, ["export", "petab", str(lab_data), str(config), str(tmp_path)])
    assert result.exit_code == 2
    assert "'body_weight' sets derived constants" in result.output
    assert len(result.output.strip().splitlines()) == 1
