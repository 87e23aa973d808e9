"""``--scheduler`` / ``--workers`` of fmsim power and fmsim trial, and the trial config's
``power.scheduler`` and ``power.pool_patients``: bad values are one line, exit code 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()

TRIAL = """\
name: options
patients: 20
duration_weeks: 2
arms: [{name: placebo}, {name: drug, therapies: [{type: plasma_exchange, days: [0]}]}]
control_arm: placebo
primary: {outcome: pain_nrs, week: 2}
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scheduler", "localhost:8786"], "expected 'local' or a Dask scheduler address"),
        (["--scheduler", "tcp://host"], "expected 'local' or a Dask scheduler address"),
        (["--workers", "0"], "--workers"),
        (["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "applies to a local cluster"),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler tcp://127.0.0.1:9: cannot connect"),
    ],
)
def test_bad_execution_options_are_one_line(tmp_path, options, message):
    argv = ["power", "--n", "3", "--replicates", "20", "--out", str(tmp_path / "out"), *options]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing left behind


@pytest.mark.parametrize(
    ("power", "field"),
    [
        ("{scheduler: 'http://host:1'}", "power.scheduler"),
        ("{pool_patients: 10}", "power.pool_patients"),
    ],
)
def test_bad_execution_fields_of_a_trial_config_are_one_line(tmp_path, power, field):
    config = tmp_path / "trial.yaml"
    config.write_text(TRIAL + f"power: {power}\n")
    result = runner.invoke(app, ["trial", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert field in result.stderr and "Traceback" not in result.output
