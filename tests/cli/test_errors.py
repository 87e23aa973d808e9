"""How commands end: one line for a user's mistake (exit 2), one line and a log file for anything
unexpected (exit 1; --debug prints the traceback), ``--version``, argument values checked when
the command line is read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import fmsim
import fmsim.experiments.studies as studies
from fmsim.cli.main import app

runner = CliRunner()


def _boom(*args, **kwargs):
    raise ZeroDivisionError("the model divided by zero")


def test_unexpected_error_is_one_line_with_a_log_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FMSIM_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(studies, "passive_transfer_study", _boom)
    out = tmp_path / "out"
    result = runner.invoke(app, ["reproduce", "--out", str(out), "--seed", "5"])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    (log,) = (tmp_path / "logs").iterdir()
    assert lines[0] == (
        "error: unexpected failure (ZeroDivisionError: the model divided by zero); "
        f"full traceback in {log} (or rerun with --debug)"
    )
    text = log.read_text()
    assert text.startswith(
        f"command: fmsim reproduce --out {out} --seed 5\nfmsim {fmsim.__version__}"
    )
    assert "Traceback (most recent call last)" in text and "in _boom" in text
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["logs"]


def test_debug_prints_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("FMSIM_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(studies, "passive_transfer_study", _boom)
    result = runner.invoke(app, ["--debug", "reproduce", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: the model divided by zero")
    assert not (tmp_path / "logs").exists()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"fmsim {fmsim.__version__}\n"
    assert fmsim.__version__ == "0.1.0"  # pyproject.toml's version, read from the metadata


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["trial"], "fmsim trial: Missing argument 'CONFIG_FILE'"),
        (["reproduce", "--seed", "-1"], "'--seed': -1 is not in the range"),
        (["reproduce", "--mice-per-donor", "0"], "'--mice-per-donor': 0 is not in the range"),
        (["reproduce", "--mice-per-donor", "100000"], "'--mice-per-donor': 100000 is not"),
        (["power", "--n", "1,4"], "'--n': got 1: expected a value from 2 to 1000"),
        (["power", "--n", "4,x"], "'--n': got '4,x': expected comma-separated whole numbers"),
        (["power", "--n", "4,4"], "'--n': got '4,4': a value is repeated"),
        (["power", "--n", ","], "'--n': got ',': expected at least 1 value(s)"),
        (["power", "--titre", "1.5"], "'--titre': got 1.5: expected a value from 0 to 1"),
        (["power", "--titre", "nan"], "'--titre': got nan: expected a value from 0 to 1"),
        (["power", "--test-days", "0,3,1"], "'--test-days': got '0,3,1': expected increasing"),
        (["power", "--test-days", "1,3"], "the first test day must be 0"),
        (["power", "--test-days", "0"], "'--test-days': got '0': expected at least 2"),
        (["power", "--replicates", "5"], "'--replicates': 5 is not in the range"),
        (["power", "--target", "1"], "'--target': 1.0 is not in the range"),
        (["therapies", "--patients", "0"], "'--patients': 0 is not in the range"),
        (["therapies", "--days", "1e9"], "'--days': 1000000000.0 is not in the range"),
        (["trial", "x.yaml", "--replicates", "3"], "'--replicates': 3 is not in the range"),
        (["analyze", "x.csv", "--control", "HC", "--groups", "A,A"], "a name is repeated"),
        (["reproduce", "--bad"], "No such option: --bad"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_bad_argument_values_are_one_line_and_exit_2(tmp_path, args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: fmsim"), result.stderr
    assert fragment in lines[0]
    assert "(see 'fmsim" in lines[0] and "env var" not in lines[0]


def test_no_arguments_prints_the_help():
    result = runner.invoke(app, [])
    assert result.exit_code == 0 and "reproduce" in result.stdout and "trial" in result.stdout
