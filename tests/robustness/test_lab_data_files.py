"""Odd and broken lab data files fed to ``fmsim analyze``: unreadable files and unusable
tables end in one line naming the file (and the row, column or sheet) before any analysis."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest
from tests.robustness.harness import FOLDER, Case, check_refused

from fmsim.io.lab_data import MAX_FILE_BYTES

HEADER = "mouse,group,day,test,value,unit\n"
ROWS = "".join(
    f"{g}{m},{g},{d},grip_strength,{100 + m + d},g\n"
    for g in ("HC", "FMS")
    for m in range(3)
    for d in (0, 1)
)
GOOD = HEADER + ROWS


def analyze(name: str = "data.csv", *options: str) -> list[str]:
    return ["analyze", f"{{in}}/{name}", "--out", "{out}", "--control", "HC", *options]


def _workbook(sheets: dict[str, str]):
    """A writer of an .xlsx file with one sheet per CSV text ("" = an empty sheet)."""

    def write(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, text in sheets.items():
                rows = [line.split(",") for line in text.splitlines()]
                frame = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
                frame.to_excel(writer, sheet_name=name, index=False, header=bool(rows))

    return write


def _sparse(size: int):
    def write(path: Path) -> None:
        with path.open("wb") as file:
            file.truncate(size)

    return write


#: (category, what, file name, content, extra options, fragments of the error)
BAD_FILES = [
    ("file", "empty file", "data.csv", "", [], ["the file is empty"]),
    ("file", "only blank lines", "data.csv", "\n\n\n", [], ["the file is empty"]),
    ("file", "a folder", "data.csv", FOLDER, [], ["is a folder"]),
    ("file", "missing file", "nope.csv", None, [], ["file not found"]),
    ("file", "JSON file", "data.json", "{}", [], ["unsupported file type '.json'"]),
    ("file", "old Excel", "data.xls", b"\xd0\xcf\x11\xe0", [], [".xls files are not supported"]),
    ("file", "larger than the limit", "data.csv", _sparse(MAX_FILE_BYTES + 1), [], ["MB"]),
    ("encoding", "binary data", "data.csv", b"\x89PNG\r\n\x1a\n\x00\x00", [], ["binary"]),
    ("encoding", "UTF-16 without BOM", "data.csv", GOOD.encode("utf-16-le"), [], ["UTF-16"]),
    ("encoding", "control characters", "data.csv", GOOD + "\x01\x02" * 30, [], ["control char"]),
    ("encoding", "not text at all", "data.csv", b"mouse\x81\x8d\n", [], ["save it as UTF-8"]),
    (
        "encoding",
        "truncated UTF-16",
        "data.csv",
        codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")[:-1],
        [],
        ["not valid UTF-16"],
    ),
    (
        "table",
        "ragged rows",
        "data.csv",
        GOOD + "HC9,HC,0,grip_strength,1,g,extra,more\n",
        [],
        ["row 14 has 8 cells", "the header has 6"],
    ),
    (
        "table",
        "missing required column",
        "data.csv",
        "".join(line.rsplit(",", 1)[0] + "\n" for line in GOOD.splitlines()),
        [],
        ["missing required column(s) ['unit']"],
    ),
    (
        "table",
        "duplicate column",
        "data.csv",
        GOOD.replace("unit\n", "value\n", 1),
        [],
        ["appear more than once"],
    ),
    ("table", "header only", "data.csv", HEADER, [], ["no usable"]),
    (
        "table",
        "every value not a number",
        "data.csv",
        HEADER + "HC0,HC,0,grip_strength,n/a,g\nHC0,HC,1,grip_strength,=SUM(A1),g\n",
        [],
        ["no usable"],
    ),
    (
        "table",
        "every value infinite or NaN",
        "data.csv",
        HEADER + "HC0,HC,0,grip_strength,inf,g\nHC0,HC,1,grip_strength,NaN,g\n",
        [],
        ["no usable"],
    ),
    (
        "table",
        "every value absurdly large",
        "data.csv",
        HEADER + "HC0,HC,0,grip_strength,1e300,g\nFMS0,FMS,0,grip_strength,1e12,g\n",
        [],
        ["no usable"],
    ),
    (
        "table",
        "every day absurd",
        "data.csv",
        HEADER + "HC0,HC,1e9,grip_strength,1,g\nFMS0,FMS,-99999,grip_strength,1,g\n",
        [],
        ["no usable"],
    ),
    ("options", "unknown control group", "data.csv", GOOD, [], ["--control"]),
    (
        "options",
        "disease group is the control",
        "data.csv",
        GOOD,
        ["--disease", "HC"],
        ["--disease"],
    ),
    (
        "options",
        "unknown disease group",
        "data.csv",
        GOOD,
        ["--disease", "PBS"],
        ["--disease: group 'PBS'"],
    ),
    (
        "options",
        "undeclared groups only",
        "data.csv",
        GOOD,
        ["--groups", "A,B"],
        ["no usable"],
    ),
    (
        "excel",
        "not a workbook",
        "data.xlsx",
        GOOD,
        [],
        ["could not read the file as an Excel workbook"],
    ),
    (
        "excel",
        "two sheets with data",
        "data.xlsx",
        _workbook({"day 1": GOOD, "day 2": GOOD}),
        [],
        ["'day 1', 'day 2' all have the required columns", "--sheet"],
    ),
    (
        "excel",
        "no sheet with the columns",
        "data.xlsx",
        _workbook({"notes": "a,b\n1,2", "plots": ""}),
        [],
        ["none of the sheets"],
    ),
    (
        "excel",
        "unknown sheet",
        "data.xlsx",
        _workbook({"data": GOOD}),
        ["--sheet", "Sheet9"],
        ["no sheet named 'Sheet9'"],
    ),
    ("excel", "one empty sheet", "data.xlsx", _workbook({"data": ""}), [], ["the sheet is empty"]),
    (
        "excel",
        "chosen sheet lacks columns",
        "data.xlsx",
        _workbook({"data": GOOD, "notes": "a,b\n1,2"}),
        ["--sheet", "notes"],
        ["(sheet 'notes')", "missing required column"],
    ),
]


def _case(category, what, name, content, options, expect) -> Case:
    files = {} if content is None else {name: content}
    names = [name, "--control", "--disease", "--sheet", "--groups"]
    if what == "unknown control group":
        options = []
        argv = ["analyze", f"{{in}}/{name}", "--out", "{out}", "--control", "PBS"]
        return Case(f"analyze:{category}:{what}", argv, files, expect, names=names)
    return Case(f"analyze:{category}:{what}", analyze(name, *options), files, expect, names=names)


CASES = [_case(*row) for row in BAD_FILES]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_lab_data_file_is_refused_in_one_line(case, tmp_path):
    outcome = check_refused(case, tmp_path)
    if "no usable" in case.expect:  # and every left-out row was named on stdout, one line each
        rows = len(next(iter(case.files.values())).splitlines()) - 1
        for row in range(2, rows + 2):
            assert f".csv:{row}: column" in outcome.stdout, f"row {row} not named"
