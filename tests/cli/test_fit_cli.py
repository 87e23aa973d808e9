"""`fmsim fit DATA CONFIG` and `fmsim export petab`: a simulated study is fitted and reported in
a run folder; mistakes (config, data, output folder) give one line and exit code 2."""

from __future__ import annotations

import json

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
    result = runner.invoke(app, result_args(lab_data, tmp_path, out))
    assert result.exit_code == 0, result.output
    estimates = pd.read_csv(out / "estimates.csv")
    row = estimates.iloc[0]
    assert row["parameter"] == "sensitisation_occupancy50"
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["verdict"] == "identifiable"
    html = (out / "report.html").read_text()
    assert "Profile likelihoods" in html and "Fitted curves over data" in html
    starts = pd.read_csv(out / "starts.csv")
    assert len(starts) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "fit" and manifest["status"] == "complete"
    assert {"estimates.parquet", "profiles.csv", "report.html", "figures/waterfall.png"} <= set(
        manifest["files"]
    )
    assert json.loads((out / "tables.json").read_text())["estimates"]["rows"] == 1
    chain = pd.read_csv(out / "posterior_chain.csv")
    assert len(chain) == 101 and "Posterior sampling" in html
    assert "posterior: 100 adaptive_metropolis iterations" in result.output
    # the starts and the profile are chunks kept in the run folder: the same command reuses them
    assert len(list((out / "chunks").glob("*.parquet"))) == 3
    again = runner.invoke(app, [*result_args(lab_data, tmp_path, out), "--overwrite"])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "starts.csv"), starts)
    pd.testing.assert_frame_equal(pd.read_csv(out / "estimates.csv"), estimates)
    log = (out / "run.log").read_text()
    assert "starts: 2 chunks reused after verification" in log
    assert "profiles: 1 chunks reused after verification" in log


def result_args(lab_data, folder, out) -> list[str]:
    config = _config(folder, profile=True, sample={"samples": 100, "seed": 2})
    return ["fit", str(lab_data), str(config), "--out", str(out)]


# Runs `fmsim fit` or `fmsim export petab` on a bad fit YAML and prints which of the heavy
# libraries were imported before the one-line refusal.
IMPORTS_BEFORE_REFUSAL = """
import sys
from fmsim.cli.main import main
sys.argv = ["fmsim", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    print("exit", stop.code, sorted(m for m in ("pypesto", "petab") if m in sys.modules))
"""


@pytest.mark.parametrize("command", [["fit"], ["export", "petab"]])
def test_a_bad_fit_yaml_is_refused_before_pypesto_and_petab_load(lab_data, tmp_path, command):
    import subprocess
    import sys

    config = _config(tmp_path, starts=0)
    argv = [*command, str(lab_data), str(config), str(tmp_path / "out")]
    if command == ["fit"]:
        argv.insert(-1, "--out")
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_BEFORE_REFUSAL, *argv], capture_output=True, text=True
    )
    assert done.stdout.strip().endswith("exit 2 []"), done.stdout + done.stderr
    assert "fit.yaml: starts" in done.stderr


def _one_line_error(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


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
        ({"sample": {"sampler": "gibbs"}}, "sample.sampler"),
        ({"sample": {"samples": 10}}, "sample.samples"),
    ],
)
def test_bad_fit_configs_give_one_line(lab_data, tmp_path, fields, expected):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["fit", str(lab_data), str(_config(tmp_path, **fields)), "--out", str(out)]
    )
    _one_line_error(result, expected)
    assert not out.exists()


def _data(folder, frame: pd.DataFrame):
    path = folder / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_unknown_observable_in_the_data_gives_one_line(lab_data, tmp_path):
    data = pd.read_csv(lab_data).assign(test="tail_flick")
    result = runner.invoke(app, ["fit", str(_data(tmp_path, data)), str(_config(tmp_path))])
    assert result.exit_code == 2, result.output
    assert "tail_flick" in result.output and len(result.output.strip().splitlines()) == 1


def test_data_without_spread_give_no_noise_and_one_line(lab_data, tmp_path):
    data = pd.read_csv(lab_data).assign(value=100.0)  # zero SD: no standard error, noise 0
    result = runner.invoke(app, ["fit", str(_data(tmp_path, data)), str(_config(tmp_path))])
    _one_line_error(result, "has no spread between mice")


def test_too_few_data_points_give_one_line(lab_data, tmp_path):
    data = pd.read_csv(lab_data)
    first_donor = data[data["group"] == "HC-IgG"]["donor"].iloc[0]
    data = data[(data["day"] == 1) & (data["donor"] == first_donor)]  # one mean of 4 mice
    config = _config(tmp_path, estimate=["sensitisation_occupancy50", "sensitisation_turnover"])
    result = runner.invoke(app, ["fit", str(_data(tmp_path, data)), str(config)])
    _one_line_error(result, "need more data points than estimated parameters")


def test_out_over_a_users_file_gives_one_line(lab_data, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("my notes")
    result = runner.invoke(app, ["fit", str(lab_data), str(_config(tmp_path)), "--out", str(mine)])
    _one_line_error(result, "is an existing file")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    result = runner.invoke(
        app, ["fit", str(lab_data), str(_config(tmp_path)), "--out", str(folder)]
    )
    _one_line_error(result, "holds files fmsim did not write (notes.txt)")
    assert mine.read_text() == "my notes" and sorted(p.name for p in folder.iterdir()) == [
        "notes.txt"
    ]


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
    assert json.loads((out / "manifest.json").read_text())["kind"] == "petab"
    # a second export into the same folder replaces its own run; a fit run there is refused
    again = runner.invoke(app, ["export", "petab", str(lab_data), str(_config(tmp_path)), str(out)])
    assert again.exit_code == 0, again.output


def test_export_petab_never_writes_over_a_users_folder(lab_data, tmp_path):
    out = tmp_path / "petab"
    out.mkdir()
    (out / "model.xml").write_text("<my model/>")
    result = runner.invoke(
        app, ["export", "petab", str(lab_data), str(_config(tmp_path)), str(out)]
    )
    _one_line_error(result, "holds files fmsim did not write (model.xml)")
    assert (out / "model.xml").read_text() == "<my model/>"


def test_export_petab_refuses_derived_parameters(lab_data, tmp_path):
    config = _config(tmp_path, estimate=["body_weight"])
    out = tmp_path / "petab"
    result = runner.invoke(app, ["export", "petab", str(lab_data), str(config), str(out)])
    _one_line_error(result, "'body_weight' sets derived constants")
    assert not out.exists()
