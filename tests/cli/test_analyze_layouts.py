"""``fmsim analyze`` on a Prism grouped table and on a file with the lab's own column names and
test name: the same statistics as the tidy file; bad layout options are one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "io" / "fixtures"
STATISTICS = ("posthoc", "omnibus", "time_course_summary", "auc_versus_control")


def analyze(out: Path, data: str, *options: str):
    argv = ["analyze", str(FIXTURES / data), "--control", "HC-IgG", "--out", str(out), *options]
    return runner.invoke(app, argv)


def statistics(folder: Path) -> dict[str, pd.DataFrame]:
    """The analysis tables without the test's name (a user-named test has its own)."""
    return {
        name: pd.read_parquet(folder / f"{name}.parquet").drop(columns="test")
        for name in STATISTICS
    }


def test_prism_and_mapped_files_give_the_statistics_of_the_tidy_file(tmp_path):
    runs = {
        "tidy": ("lab_tidy.csv",),
        "prism": ("lab_prism_grouped.csv", "--test", "paw_pressure_threshold", "--unit", "g"),
        "mapped": ("lab_mapped.csv", "--columns", str(FIXTURES / "lab_mapping.yaml")),
    }
    for name, arguments in runs.items():
        result = analyze(tmp_path / name, *arguments)
        assert result.exit_code == 0, result.output
        assert "40 rows used, 0 data issue(s)" in result.output
    tidy = statistics(tmp_path / "tidy")
    assert tidy["posthoc"]["p_value"].notna().all() and len(tidy["posthoc"]) == 4  # days 1-14
    for other in ("prism", "mapped"):
        for name, table in statistics(tmp_path / other).items():
            pd.testing.assert_frame_equal(table, tidy[name], obj=f"{other}: {name}")
    mapped = pd.read_parquet(tmp_path / "mapped" / "posthoc.parquet")
    assert set(mapped["test"]) == {"paw_withdrawal_force"}
    assert "lab_mapping.yaml" in (tmp_path / "mapped" / "manifest.json").read_text()


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        ("lab_prism_grouped.csv", [], "a grouped (Prism) table holds one test"),
        ("lab_prism_grouped.csv", ["--test", "grip_strength", "--unit", "stone"],
         "--unit: test 'grip_strength': unknown unit 'stone'"),
        ("lab_mapped.csv", ["--columns", "Mouse=mouse"], "column 'Mouse' is not in the file"),
        ("lab_mapped.csv", ["--columns", "Mouse ID=mouse,Treatment=mouse"],
         "'Mouse ID' and 'Treatment' are both mapped to 'mouse'"),
        ("lab_tidy.csv", ["--layout", "wide"], "--layout: got 'wide'"),
    ],
)  # fmt: skip
def test_bad_layout_options_are_one_line(tmp_path, data, options, message):
    result = analyze(tmp_path / "out", data, *options)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()
