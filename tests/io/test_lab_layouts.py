"""Lab data in the labs' own layouts (fmsim.io.lab_layouts): Prism grouped and per-mouse
tables and a column-mapped file with a user-named test read to the same data as the tidy file;
issues point at the file's cells; bad formats are one line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fmsim.config import ConfigError
from fmsim.io.lab_data import LabDataError, read_lab_data
from fmsim.io.lab_layouts import lab_format, read_lab_file

FIXTURES = Path(__file__).parent / "fixtures"
PAW = {"test": "paw_pressure_threshold", "unit": "g"}
KEY = ["mouse", "group", "day", "test", "value", "unit"]


def tidy_rows(clean: pd.DataFrame) -> pd.DataFrame:
    return clean[KEY].sort_values(["mouse", "day"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    clean, issues = read_lab_data(FIXTURES / "lab_tidy.csv")
    assert issues == [] and len(clean) == 40
    return tidy_rows(clean)


@pytest.mark.parametrize("name", ["lab_prism_grouped.csv", "lab_prism_per_mouse.csv"])
def test_prism_tables_give_the_tidy_data(tidy, name):
    clean, issues = read_lab_file(FIXTURES / name, lab_format(**PAW))
    assert issues == []
    pd.testing.assert_frame_equal(tidy_rows(clean), tidy)


def test_a_prism_table_from_excel_gives_the_tidy_data(tidy, tmp_path):
    cells = pd.read_csv(FIXTURES / "lab_prism_grouped.csv", header=None, dtype=str)
    path = tmp_path / "prism.xlsx"
    cells.to_excel(path, header=False, index=False)
    clean, issues = read_lab_file(path, lab_format(**PAW))
    assert issues == []
    pd.testing.assert_frame_equal(tidy_rows(clean), tidy)


def test_mapped_columns_and_a_user_named_test_give_the_tidy_data(tidy):
    clean, issues = read_lab_file(
        FIXTURES / "lab_mapped.csv", lab_format(FIXTURES / "lab_mapping.yaml")
    )
    assert issues == [] and set(clean["test"]) == {"paw_withdrawal_force"}
    assert set(clean["cage"]) == {"C1", "C2"}  # an unmapped extra column is kept
    pd.testing.assert_frame_equal(
        tidy_rows(clean), tidy.assign(test="paw_withdrawal_force"), check_like=True
    )


def test_the_mapping_given_inline_equals_the_yaml_file():
    inline = lab_format(
        "Mouse ID=mouse,Treatment=group,Timepoint=day,Assay=test,Reading=value,Units=unit",
        tests="Paw withdrawal force=g",
    )
    assert inline == lab_format(FIXTURES / "lab_mapping.yaml")


def test_one_header_row_with_repeated_group_names_numbers_the_mice(tmp_path):
    path = tmp_path / "grouped.csv"
    path.write_text("Day,HC,HC,FMS,FMS\n0,10,11,12,13\n1,10.5,11.5,8,n/a\n")
    clean, issues = read_lab_file(path, lab_format(test="burrowing", unit="g"))
    assert list(pd.unique(clean["mouse"])) == ["HC#1", "HC#2", "FMS#1", "FMS#2"]
    assert clean.loc[clean["mouse"] == "FMS#1", "value"].tolist() == [12.0, 8.0]
    (issue,) = issues  # the n/a cell: file row 3, column E
    assert (issue.row, issue.column, issue.value, issue.action) == (
        3, "E (FMS / FMS#2)", "n/a", "excluded"
    )  # fmt: skip
    assert clean["source_row"].tolist() == [2, 3, 2, 3, 2, 3, 2]


def test_prism_replicate_titles_stand_for_numbered_mice(tmp_path):
    path = tmp_path / "grouped.csv"
    path.write_text("Day,HC,,FMS,\n,A:Y1,A:Y2,B:Y1,B:Y2\n0,10,11,12,13\n")
    clean, _ = read_lab_file(path, lab_format(test="grip_strength", unit="g"))
    assert list(clean["mouse"]) == ["HC#1", "HC#2", "FMS#1", "FMS#2"]


def test_a_unit_other_than_the_declared_one_is_an_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(
        "mouse,group,day,test,value,unit\nA,HC,0,burrowing,100,g\nB,HC,0,burrowing,0.1,kg\n"
    )
    clean, issues = read_lab_file(path, lab_format(tests="burrowing=g"))
    assert len(clean) == 1
    (issue,) = issues
    assert (issue.row, issue.column, issue.value, issue.action) == (3, "unit", "kg", "error")


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        ("Day,A,B,C\n0,1,2,3\n", PAW, "ambiguous layout: every column has its own name"),
        ("Day,HC,HC\n0,1,2\n", {}, "holds one test: name it and its unit"),
        ("mouse,grp,day,test,value,unit\n", {"columns": "Group=group"},
         "--columns: column 'Group' is not in the file"),
        ("mouse,group,day,test,value,unit\n", {"columns": "group=mouse"},
         "'group' is mapped to 'mouse', which the file already has"),
        ("Day,HC,HC\n0,1,2\n", {**PAW, "columns": "Day=day"}, "renames the columns of a tidy"),
        ("Day,M1,M1\ngroup,HC,HC\n0,1,2\n", PAW, "the same mouse 'M1'"),
        ("Day,M1,M2\ngroup,HC,\n0,1,2\n", PAW, "column C: no group in row 2"),
        ("Day,,HC\n0,1,2\n", PAW, "column B: no group name in row 1"),
    ],
)  # fmt: skip
def test_unusable_layouts_are_one_line(tmp_path, content, options, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(LabDataError) as error:
        read_lab_file(path, lab_format(**options))
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": "Mouse ID=mouse,Mouse ID=group"}, "--columns: got 'Mouse ID' twice"),
        ({"columns": "A=mouse,B=mouse"}, "'A' and 'B' are both mapped to 'mouse'"),
        ({"columns": "A=weight"}, "'A' -> 'weight': expected one of the columns"),
        ({"columns": "Mouse ID"}, "--columns: got 'Mouse ID': expected NAME=VALUE pairs"),
        ({"test": "burrowing", "unit": "furlongs"}, "unknown unit 'furlongs'"),
        ({"tests": "burrowing=parsecs"}, "--tests: test 'burrowing': unknown unit 'parsecs'"),
        ({"test": "burrowing"}, "give both the test and its unit"),
        ({"layout": "long"}, "--layout: got 'long'"),
    ],
)
def test_bad_formats_are_one_line(options, message):
    with pytest.raises(ConfigError, match=None) as error:
        lab_format(**options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_mapping_file_is_named(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("columns: {Mouse ID: mouse}\nunits: {x: g}\n")
    with pytest.raises(ConfigError, match=r"mapping.yaml: unknown key\(s\) \['units'\]"):
        lab_format(path)
