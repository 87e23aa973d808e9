"""Reading a lab's behavioural data: every problem named with file, row and column."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmsim.assays.von_frey import MOUSE_FILAMENTS, fifty_percent_threshold
from fmsim.io.lab_data import (
    Issue,
    LabDataError,
    format_issues,
    parse_up_down,
    read_lab_data,
    validate_lab_data,
)

FIXTURE = Path(__file__).parent / "fixtures" / "messy_lab_data.csv"
N_DATA_ROWS = 121  # 3 groups x 5 mice x 4 days x 2 tests + 1 duplicated row
# Rows (as numbered in the file, header = 1) the fixture was built to contain.
DUPLICATE, DECIMAL_COMMA, MISSPELLED_GROUP, NOT_A_NUMBER = 20, 28, 40, 57
MISSING = (34, 61, 82)
LOG_UNITS = (71, 86, 101, 116)  # mouse M09, von Frey in log units
LEFT_OUT = {DUPLICATE, MISSPELLED_GROUP, NOT_A_NUMBER, *MISSING}


@pytest.fixture(scope="module")
def messy():
    return read_lab_data(FIXTURE)


def _by_row(issues: list[Issue]) -> dict[int, list[Issue]]:
    out: dict[int, list[Issue]] = {}
    for issue in issues:
        out.setdefault(issue.row, []).append(issue)
    return out


def _line(issues, row):
    (issue,) = _by_row(issues)[row]
    return issue.line()


def test_every_problem_is_reported_once_with_file_row_and_column(messy):
    _, issues = messy
    rows = _by_row(issues)
    assert set(rows) == LEFT_OUT | {DECIMAL_COMMA, *LOG_UNITS}
    assert all(len(found) == 1 for found in rows.values())
    prefix = f"{FIXTURE}:"

    line = _line(issues, MISSPELLED_GROUP)
    assert line.startswith(f"{prefix}{MISSPELLED_GROUP}: column 'group': value 'HC-lgG'")
    assert "misspelling of group 'HC-IgG'" in line and line.endswith("(error)")

    line = _line(issues, DUPLICATE)
    assert line.startswith(f"{prefix}{DUPLICATE}: column 'value': value '113.0'")
    assert "excluded duplicate: identical to row 19" in line and "'M03'" in line
    assert line.endswith("(excluded)")

    line = _line(issues, DECIMAL_COMMA)
    assert line.startswith(f"{prefix}{DECIMAL_COMMA}: column 'value': value '154,9'")
    assert "154.9" in line and line.endswith("(converted)")

    line = _line(issues, NOT_A_NUMBER)
    assert line.startswith(f"{prefix}{NOT_A_NUMBER}: column 'value': value 'n/a'")
    assert "not a number" in line and line.endswith("(excluded)")

    for row in MISSING:
        line = _line(issues, row)
        assert line.startswith(f"{prefix}{row}: column 'value': value ''")
        assert "missing value" in line and line.endswith("(excluded)")

    for row in LOG_UNITS:
        line = _line(issues, row)
        assert line.startswith(f"{prefix}{row}: column 'value':")
        assert "log units" in line and line.endswith("(converted)")


def test_no_valid_row_is_lost(messy):
    clean, issues = messy
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    assert len(raw) == N_DATA_ROWS
    assert len(clean) == N_DATA_ROWS - len(LEFT_OUT) == 115
    assert set(clean["source_row"]) == set(range(2, N_DATA_ROWS + 2)) - LEFT_OUT
    # every row of the file is either clean or named in an issue
    named = {i.row for i in issues if i.action in ("excluded", "error")}
    assert named == LEFT_OUT
    assert len(clean) + len(named) == N_DATA_ROWS


def test_clean_values_units_and_types(messy):
    clean, _ = messy
    assert clean["value"].dtype == float and clean["day"].dtype == float
    assert set(clean["unit"]) == {"g"}
    assert set(clean["group"]) == {"FMS-IgG", "HC-IgG", "Saline"}
    assert clean.groupby("group")["mouse"].nunique().eq(5).all()
    assert not clean.duplicated(["mouse", "test", "day"]).any()
    row = clean.set_index("source_row")
    assert row.loc[DECIMAL_COMMA, "value"] == 154.9
    for r, log_unit in zip(LOG_UNITS, (3.34, 3.34, 4.08, 4.07), strict=True):
        assert row.loc[r, "value"] == pytest.approx(10**log_unit / 10_000)


def test_von_frey_thresholds_from_sequences_match_the_up_down_analysis(messy):
    clean, _ = messy
    sequences = clean[clean["value_source"] == "up-down sequence"]
    assert len(sequences) == 15 * 4 - 4 - 1  # M09 in log units, one missing
    assert (sequences["test"] == "von_frey_threshold").all()
    for r in sequences.itertuples():
        indices = [MOUSE_FILAMENTS.forces_g.index(float(f)) for f in r.filaments.split(";")]
        letters = r.responses.replace(";", "").replace("1", "X").replace("0", "O")
        expected = fifty_percent_threshold(indices, [c == "X" for c in letters])
        assert r.value == pytest.approx(expected.threshold_g, rel=1e-12)


def test_excel_round_trip_gives_identical_clean_data(messy, tmp_path):
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    xlsx = tmp_path / "messy_lab_data.xlsx"
    raw.to_excel(xlsx, index=False)
    clean, issues = read_lab_data(xlsx)
    pd.testing.assert_frame_equal(clean, messy[0])
    assert [(i.row, i.column, i.value, i.action) for i in issues] == [
        (i.row, i.column, i.value, i.action) for i in messy[1]
    ]
    assert all(i.file == str(xlsx) for i in issues)


def test_missing_required_column_is_fatal_and_lists_columns(tmp_path):
    path = tmp_path / "no_unit.csv"
    pd.read_csv(FIXTURE, dtype=str).drop(columns=["unit"]).to_csv(path, index=False)
    with pytest.raises(LabDataError) as info:
        read_lab_data(path)
    message = str(info.value)
    assert str(path) in message and "missing required column(s) ['unit']" in message
    assert "columns present: ['mouse', 'group', 'sex', 'day', 'test', 'value'" in message


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(LabDataError, match="file not found"):
        read_lab_data(tmp_path / "nope.csv")
    bad = tmp_path / "broken.xlsx"
    bad.write_text("not a zip file")
    with pytest.raises(LabDataError, match="could not read"):
        read_lab_data(bad)
    other = tmp_path / "data.json"
    other.write_text("{}")
    with pytest.raises(LabDataError, match="unsupported file type '.json'"):
        read_lab_data(other)


# --------------------------------------------------------------------------- small tables


def _table(rows, columns=("mouse", "group", "day", "test", "value", "unit")):
    return pd.DataFrame([[str(v) for v in r] for r in rows], columns=list(columns))


def _design(n_mice=3, groups=("A-ctrl", "B-treated"), test="grip_strength", unit="g"):
    rows = []
    for g in groups:
        for m in range(n_mice):
            for day in (0, 1):
                rows.append([f"{g}{m}", g, day, test, 100 + m + day, unit])
    return rows


def test_test_name_typo_suggests_the_known_test():
    rows = _design()
    rows[3][3] = "grip_strenght"
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    (issue,) = issues
    assert issue.line() == (
        "lab.csv:5: column 'test': value 'grip_strenght': unknown test; did you mean "
        "'grip_strength'? (error)"
    )
    assert len(clean) == len(rows) - 1


def test_test_names_are_normalised():
    rows = _design()
    rows[0][3] = "Grip Strength"
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    assert issues == [] and set(clean["test"]) == {"grip_strength"}


def test_other_unit_mismatch_is_an_error():
    rows = _design()
    rows[2][5] = "N"
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    (issue,) = issues
    assert (issue.row, issue.column, issue.value, issue.action) == (4, "unit", "N", "error")
    assert "differs from 'g'" in issue.message and "grip_strength" in issue.message
    assert len(clean) == len(rows) - 1


def test_conflicting_duplicates_are_all_excluded():
    rows = _design()
    rows.append(list(rows[0]))
    rows[-1][4] = 250
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    assert [(i.row, i.action) for i in issues] == [(2, "excluded"), (len(rows) + 1, "excluded")]
    assert all("conflicting duplicate" in i.message for i in issues)
    assert "row 2: 100" in issues[0].message and f"row {len(rows) + 1}: 250" in issues[0].message
    assert len(clean) == len(rows) - 2


def test_mouse_in_two_groups_is_an_error():
    rows = _design()
    rows[1][1] = "B-treated"  # mouse A-ctrl0, day 1: 1 row vs 1 row, no majority
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    assert [(i.row, i.action) for i in issues] == [(2, "error"), (3, "error")]
    assert len(clean) == len(rows) - 2

    rows.append(["A-ctrl0", "A-ctrl", 3, "grip_strength", 101, "g"])  # A-ctrl: now 2 of 3
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    (issue,) = issues
    assert (issue.row, issue.column, issue.value, issue.action) == (
        3,
        "group",
        "B-treated",
        "error",
    )
    assert "mouse 'A-ctrl0' is also in group 'A-ctrl'" in issue.message
    assert len(clean) == len(rows) - 1


def test_declared_groups_catch_unknown_groups():
    rows = _design()
    rows[0][1] = "a-ctrl "
    clean, issues = validate_lab_data(
        _table(rows), "lab.csv", expected_groups=["A-ctrl", "B-treated"]
    )
    (issue,) = issues
    assert issue.row == 2 and issue.action == "error"
    assert "did you mean 'A-ctrl'?" in issue.message


def test_case_only_group_variant_is_flagged_but_numbered_groups_are_not():
    rows = _design(groups=("Dose 1", "Dose 2", "Dose 3"))
    rows[0][1] = "dose 1"
    _, issues = validate_lab_data(_table(rows), "lab.csv")
    assert [(i.row, i.column) for i in issues] == [(2, "group")]
    assert "misspelling of group 'Dose 1'" in issues[0].message


def test_von_frey_sequences_in_several_notations_and_unknown_force():
    result = parse_up_down("0.4;0.16;0.4;0.6;0.4;0.6", "XOOXOX")
    assert result.filament_indices == (5, 4, 5, 6, 5, 6)
    assert parse_up_down("0.4, 0.16, 0.4, 0.6, 0.4, 0.6", "1;0;0;1;0;1") == result
    with pytest.raises(ValueError, match="0.5 g is not in"):
        parse_up_down("0.4;0.5", "XO")
    rows = [["m1", "A", 0, "von_frey_threshold", "", "g", "0.4;0.5", "OX"]]
    columns = ("mouse", "group", "day", "test", "value", "unit", "filaments", "responses")
    clean, issues = validate_lab_data(_table(rows, columns), "vf.csv")
    (issue,) = issues
    assert issue.line().startswith("vf.csv:2: column 'filaments': value '0.4;0.5 / OX'")
    assert "0.5 g is not in" in issue.message and issue.action == "error"
    assert clean.empty


def test_recorded_von_frey_value_wins_and_mixed_g_and_log_units():
    rows = [
        ["m1", "A", 0, "von_frey_threshold", "0.6", "g"],
        ["m2", "A", 0, "von_frey_threshold", "3.61", "log"],
        ["m3", "A", 0, "von_frey_threshold", "0.4", "grams"],
    ]
    clean, issues = validate_lab_data(_table(rows), "vf.csv")
    assert [i.action for i in issues] == ["converted"]
    np.testing.assert_allclose(clean["value"], [0.6, 10**3.61 / 10_000, 0.4])
    assert set(clean["unit"]) == {"g"}


def test_semicolon_csv_with_decimal_commas(tmp_path):
    path = tmp_path / "excel_export.csv"
    path.write_text("Mouse;Group;Day;Test;Value;Unit\nm1;A;0;heat_latency;10,5;s\n")
    clean, issues = read_lab_data(path)
    assert clean["value"].tolist() == [10.5]
    assert [i.line() for i in issues] == [
        f"{path}:2: column 'value': value '10,5': decimal comma read as 10.5 (converted)"
    ]


def test_format_issues_one_line_each():
    issues = [
        Issue("f.csv", 3, "value", "x", "not a number", "excluded"),
        Issue("f.csv", 7, "unit", "N", "unit differs", "error"),
    ]
    assert format_issues(issues) == (
        "f.csv:3: column 'value': value 'x': not a number (excluded)\n"
        "f.csv:7: column 'unit': value 'N': unit differs (error)"
    )


# --------------------------------------------------------------------------- odd files


def _csv_text(sep=",", groups=("HC", "FMS")):
    rows = _design(groups=groups)
    header = sep.join(("mouse", "group", "day", "test", "value", "unit"))
    return header + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows), len(rows)


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-16", "\t"), ("utf-8-sig", ";"), ("cp1252", ","), ("utf-8", "\t")],
    ids=["Excel unicode text (UTF-16, tabs)", "UTF-8 BOM", "Windows-1252", "UTF-8 tabs"],
)
def test_encodings_and_separators_are_read(tmp_path, encoding, sep):
    text, n = _csv_text(sep, groups=("HC-IgG", "FMS-IgG Müller"))
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    clean, issues = read_lab_data(path)
    assert issues == [] and len(clean) == n
    assert set(clean["group"]) == {"HC-IgG", "FMS-IgG Müller"}


def test_formula_strings_nan_inf_and_huge_numbers_are_named(tmp_path):
    rows = _design()
    rows[0][4], rows[1][4], rows[2][4] = '=HYPERLINK("x")', "-inf", "NaN"
    rows[3][4], rows[4][2], rows[5][1] = "1e300", "1e7", "=cmd|' /C calc'!A0"
    clean, issues = validate_lab_data(_table(rows), "lab.csv")
    found = {(i.row, i.column): (i.message, i.action) for i in issues}
    assert found[(2, "value")] == ("not a number; no measurement to use", "excluded")
    assert found[(3, "value")] == ("not a finite number; no measurement to use", "excluded")
    assert found[(4, "value")] == ("not a finite number; no measurement to use", "excluded")
    assert found[(5, "value")][1] == "error" and "beyond any measurement" in found[(5, "value")][0]
    assert found[(6, "day")][1] == "error" and "10 years" in found[(6, "day")][0]
    # a formula-like group name is text like any other (kept; CSV output is neutralised later)
    assert "=cmd|' /C calc'!A0" in set(clean["group"])
    assert len(clean) == len(rows) - 5


def test_very_long_cells_are_cut_in_messages():
    rows = _design()
    rows[0][4] = "x" * 100_000
    _, issues = validate_lab_data(_table(rows), "lab.csv")
    (issue,) = issues
    assert issue.value == "x" * 60 + "... (100000 characters)"
    assert len(issue.line()) < 200


def test_mixed_types_in_excel_cells(tmp_path):
    rows = [["m1", "A", 0, "grip_strength", 101.5, "g"], ["m2", "A", 1.0, "grip_strength", 99, "g"]]
    path = tmp_path / "mixed.xlsx"
    pd.DataFrame(rows, columns=["mouse", "group", "day", "test", "value", "unit"]).to_excel(
        path, index=False
    )
    clean, issues = read_lab_data(path)
    assert issues == []
    assert clean["value"].tolist() == [101.5, 99.0] and clean["day"].tolist() == [0.0, 1.0]


def test_the_data_sheet_of_a_workbook_is_found_and_named(tmp_path):
    text, n = _csv_text()
    lines = [line.split(",") for line in text.splitlines()]
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["notes about the study"]]).to_excel(writer, sheet_name="notes")
        pd.DataFrame(lines[1:], columns=lines[0]).to_excel(writer, sheet_name="data", index=False)
    clean, _ = read_lab_data(path)
    assert len(clean) == n
    rows = _design()
    rows[0][4] = "n/a"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(rows, columns=lines[0]).to_excel(writer, sheet_name="raw", index=False)
        pd.DataFrame(lines[1:], columns=lines[0]).to_excel(writer, sheet_name="data", index=False)
    clean, issues = read_lab_data(path, sheet="raw")
    (issue,) = issues
    assert issue.line().startswith(f"{path} (sheet 'raw'):2: column 'value': value 'n/a'")
    with pytest.raises(LabDataError, match="'raw', 'data' all have the required columns"):
        read_lab_data(path)


def test_repeated_column_names_are_reported_not_renamed(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("mouse,group,day,test,value,unit,Value\nm1,A,0,grip_strength,1,g,2\n")
    with pytest.raises(LabDataError, match=r"column\(s\) \['value'\] appear more than once"):
        read_lab_data(path)
