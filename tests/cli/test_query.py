"""``fmsim query``: SQL over a run folder from the command line; bad input is one line, exit 2."""

from __future__ import annotations

import io
import json

import pandas as pd
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.io.store import write_table

runner = CliRunner()


def folder_with_power(tmp_path):
    write_table(pd.DataFrame({"n": [30, 60, 90], "power": [0.4, 0.7, 0.9]}), tmp_path, "power")
    return str(tmp_path)


def test_query_prints_the_result_as_a_table_csv_or_json(tmp_path):
    folder = folder_with_power(tmp_path)
    sql = "SELECT n FROM power WHERE power >= 0.7 ORDER BY n"
    result = runner.invoke(app, ["query", folder, sql])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["n", "60", "90"]
    csv = runner.invoke(app, ["query", folder, sql, "--format", "csv"])
    assert pd.read_csv(io.StringIO(csv.stdout))["n"].tolist() == [60, 90]
    as_json = runner.invoke(app, ["query", folder, sql, "--format", "json"])
    assert json.loads(as_json.stdout) == [{"n": 60}, {"n": 90}]


def test_bad_sql_a_missing_folder_and_a_bad_format_are_one_line_exit_2(tmp_path):
    folder = folder_with_power(tmp_path)
    for argv, message in [
        (["query", folder, "SELECT nope FROM power"], "error: SQL: Binder Error"),
        (["query", str(tmp_path / "absent"), "SELECT 1"], "no such run folder"),
        (["query", folder, "SELECT 1", "--format", "xml"], "expected table, csv or json"),
    ]:
        result = runner.invoke(app, argv)
        assert result.exit_code == 2, (argv, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
