"""Read a lab's behavioural data (CSV or Excel) and validate it at the boundary.

File format (tidy: one row per mouse, test and day; column names are case-insensitive):

============  ========  ==================================================================
column        required  content
============  ========  ==================================================================
mouse         yes       mouse identifier (text), unique across groups
group         yes       treatment group, e.g. ``HC-IgG``; each mouse belongs to one group
sex           no        e.g. ``F`` / ``M`` (kept, not used by the analysis)
day           yes       day of the test after the first injection (days; number)
test          yes       one of :data:`KNOWN_TESTS`, e.g. ``paw_pressure_threshold``
value         yes       the measurement in ``unit`` (may be blank on von Frey rows that give
                        a ``filaments`` + ``responses`` sequence)
unit          yes       unit of ``value``, the same for all rows of a test (e.g. ``g``);
                        von Frey values may be in ``log units`` (converted to g)
filaments     no        von Frey up-down sequence: forces in grams presented, in order,
                        separated by ``;`` e.g. ``0.4;0.16;0.4;0.6;0.4;0.6``
responses     no        the responses to those filaments: ``XOOXOX`` (X = withdrawal,
                        O = none) or ``1;0;0;1;0;1``
============  ========  ==================================================================

Any other column (e.g. ``donor``, ``raw``) is kept unchanged in the clean data.

:func:`read_lab_data` returns the clean data and a list of :class:`Issue` records. Every
input row ends up either in the clean data or named in at least one issue; nothing is
dropped silently. Row numbers are as a spreadsheet shows them: the header is row 1, the
first data row is row 2 (for Excel: the sheet's row numbers, assuming the header is in the
first row). Issue actions:

``excluded``
    the row is left out for a data-quality reason (missing or non-numeric value,
    duplicate);
``error``
    the row is left out because something in it is wrong and should be fixed in the file
    (unknown group or test, unit mismatch, invalid up-down sequence, mouse in two groups);
``converted``
    the row is kept with a converted value (decimal comma, von Frey log units to grams).

A missing required column is fatal: :class:`LabDataError`.
"""

from __future__ import annotations

import difflib
import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.assays.von_frey import (
    MOUSE_FILAMENTS,
    FilamentSet,
    UpDownResult,
    fifty_percent_threshold,
)
from fmsim.config.passive_transfer import READOUTS
from fmsim.config.text import TextFileError, read_text_file
from fmsim.io.errors import LabDataError
from fmsim.model.readouts import IENFD

__all__ = [
    "ACTIONS",
    "KNOWN_TESTS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Issue",
    "LabDataError",
    "format_issues",
    "issues_frame",
    "parse_up_down",
    "read_lab_data",
    "validate_lab_data",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("mouse", "group", "day", "test", "value", "unit")
OPTIONAL_COLUMNS: tuple[str, ...] = ("sex", "filaments", "responses")
#: Test names fmsim knows (the readouts of the passive-transfer model).
KNOWN_TESTS: tuple[str, ...] = (*READOUTS, IENFD)
VON_FREY = "von_frey_threshold"
ACTIONS: tuple[str, ...] = ("excluded", "error", "converted")

_GRAM_UNITS = {"g", "gram", "grams"}
_LOG_UNITS = {"log", "log unit", "log units", "logunit", "logunits", "log10 units"}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_SUPPORTED = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
#: Largest data file read (bytes); a year of daily tests on 1,000 mice is ~30 MB of CSV.
MAX_FILE_BYTES = 200_000_000
#: Cells longer than this are cut in issue messages.
MAX_SHOWN = 60
#: Days further than this from the first injection are an error (10 years).
MAX_ABS_DAY = 3650
#: Values beyond this magnitude are an error: no behavioural or histological measurement in
#: any unit reaches a billion (a sign of a pasted ID, a date serial or an overflow).
MAX_ABS_VALUE = 1e9
#: Largest von Frey force in log units (10**log / 10000 g): 10 log units are 1000 g, far above
#: the stiffest filament (300 g, 6.65 log units).
MAX_LOG_UNIT = 10.0
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class Issue:
    """One problem found in one row of a data file.

    ``row`` is the 1-based row number as shown by a spreadsheet (header = row 1);
    ``action`` is ``"excluded"``, ``"error"`` (both: row left out) or ``"converted"``
    (row kept with a converted value).
    """

    file: str
    row: int
    column: str
    value: str
    message: str
    action: str

    def line(self) -> str:
        """``file:row: column 'x': value 'v': message (action)``, on one line (control
        characters in the cells are shown escaped)."""
        text = (
            f"{self.file}:{self.row}: column '{self.column}': value '{self.value}': "
            f"{self.message} ({self.action})"
        )
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def format_issues(issues: list[Issue]) -> str:
    """One line per issue: ``file:row: column 'x': value 'v': message (action)``."""
    return "\n".join(issue.line() for issue in issues)


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """The issues as a table with columns file, row, column, value, message, action."""
    columns = ["file", "row", "column", "value", "message", "action"]
    return pd.DataFrame([asdict(i) for i in issues], columns=columns)


# --------------------------------------------------------------------------- reading


def read_lab_data(
    path: str | Path,
    expected_groups: list[str] | None = None,
    known_tests: tuple[str, ...] = KNOWN_TESTS,
    sheet: str | None = None,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Read and validate a lab data file (``.csv`` or ``.xlsx``; format in the module doc).

    Parameters
    ----------
    path
        The file. CSV may be comma-, semicolon- or tab-separated, in UTF-8 (with or without a
        byte-order mark), UTF-16 with a byte-order mark (Excel's "Unicode text") or Latin-1.
    expected_groups
        The group names of the experiment. If given, any other group is an error (with the
        closest declared name suggested); if not, a group whose name is a near-duplicate
        of a larger group's name (same up to case/whitespace, or 1-2 edits) is reported as
        a likely misspelling.
    known_tests
        Accepted test names; others are errors with the closest known name suggested.
    sheet
        Excel sheet name. Default: the only sheet, or the only sheet whose header has the
        required columns (several such sheets are an error naming them).

    Returns
    -------
    (clean, issues)
        ``clean`` has columns mouse, group, [sex], day (days, float), test, value (float,
        in ``unit``; von Frey in g), unit, any extra columns of the file, [filaments,
        responses], ``value_source`` (``"recorded"`` or ``"up-down sequence"``) and
        ``source_row`` (row number in the file), in file order. ``issues`` lists every
        excluded, erroneous or converted row (see :class:`Issue`).

    Raises
    ------
    LabDataError
        File missing or unreadable (folder, binary, unknown encoding, larger than
        :data:`MAX_FILE_BYTES`, empty), unsupported type, unusable sheet, or required columns
        missing; one line naming the file.
    """
    path = Path(path)
    raw, source = read_table_cells(path, sheet)
    return validate_lab_data(raw, source, expected_groups, known_tests)


def read_table_cells(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """All cells of the file as text with the first row as header (names as written, a blank
    one as ``unnamed: k``), and the name issues give it (file, and sheet if the workbook has
    several); LabDataError if the file cannot be read."""
    if not path.exists():
        raise LabDataError(f"{path}: file not found")
    if path.is_dir():
        raise LabDataError(f"{path}: is a folder; expected a .csv or .xlsx file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise LabDataError(f"{path}: old Excel .xls files are not supported; save as .xlsx or .csv")
    if suffix not in _SUPPORTED:
        raise LabDataError(f"{path}: unsupported file type '{suffix}'; expected .csv or .xlsx")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LabDataError(
            f"{path}: file is {path.stat().st_size / 1e6:.0f} MB, more than the "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB a lab data file may have; split it by experiment"
        )
    if suffix in (".xlsx", ".xlsm"):
        frame, source = _read_excel(path, sheet)
    else:
        frame, source = _read_csv(path), str(path)
    return frame.fillna("").astype(str), source


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        text = read_text_file(path, "CSV file", MAX_FILE_BYTES)
    except TextFileError as error:
        raise LabDataError(str(error)) from None
    if not text.strip():
        raise LabDataError(
            f"{path}: the file is empty; expected a header row with the columns "
            f"{', '.join(REQUIRED_COLUMNS)}"
        )
    header = text.lstrip("\r\n").split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=header.count)
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (ValueError, pd.errors.ParserError) as error:
        ragged = _RAGGED.search(str(error))
        if ragged:
            header, row, cells = ragged.groups()
            raise LabDataError(
                f"{path}:{row}: row {row} has {cells} cells, the header has {header} (a "
                f"separator '{sep}' inside a value? put the value in double quotes)"
            ) from None
        raise LabDataError(f"{path}: could not read the file: {_first_line(error)}") from None
    return _header_first_row(cells)


def _header_first_row(cells: pd.DataFrame) -> pd.DataFrame:
    """The table whose header is the first row of ``cells``, names exactly as written (pandas
    would rename a repeated name "value" to "value.1"; fmsim reports it instead)."""
    names = [
        str(name).strip() if str(name).strip() else f"unnamed: {k}"
        for k, name in enumerate(cells.iloc[0].fillna(""))
    ]
    table = cells.iloc[1:].reset_index(drop=True)
    table.columns = names
    return table


def _read_excel(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    try:
        workbook = pd.ExcelFile(path, engine="openpyxl")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise LabDataError(
            f"{path}: could not read the file as an Excel workbook ({_first_line(error)}); "
            "save it as .xlsx or .csv"
        ) from None
    with workbook:
        names = [str(name) for name in workbook.sheet_names]
        chosen = sheet if sheet is not None else _data_sheet(path, workbook, names)
        if chosen not in names:
            raise LabDataError(
                f"{path}: no sheet named {chosen!r}; sheets: {', '.join(map(repr, names))}"
            )
        try:
            cells = workbook.parse(chosen, header=None, dtype=str, keep_default_na=False)
        except (ValueError, KeyError) as error:
            message = f"{path}: could not read sheet {chosen!r}: {_first_line(error)}"
            raise LabDataError(message) from None
    source = str(path) if len(names) == 1 else f"{path} (sheet {chosen!r})"
    if cells.empty:
        raise LabDataError(f"{source}: the sheet is empty; expected a header row in row 1")
    return _header_first_row(cells), source


def _data_sheet(path: Path, workbook: pd.ExcelFile, names: list[str]) -> str:
    """The sheet to read when none is named: the only one, or the only one whose first row
    holds the required columns."""
    if len(names) == 1:
        return names[0]
    complete = [name for name in names if set(REQUIRED_COLUMNS) <= _header(workbook, name)]
    listed = ", ".join(map(repr, names))
    if len(complete) == 1:
        return complete[0]
    if not complete:
        raise LabDataError(
            f"{path}: none of the sheets ({listed}) has the required columns "
            f"{list(REQUIRED_COLUMNS)} in its first row"
        )
    raise LabDataError(
        f"{path}: sheets {', '.join(map(repr, complete))} all have the required columns; "
        "name the one to analyse (--sheet)"
    )


def _header(workbook: pd.ExcelFile, sheet: str) -> set[str]:
    """The column names in the first row of ``sheet`` (normalised as the table's)."""
    first = workbook.parse(sheet, header=None, nrows=1, dtype=str, keep_default_na=False)
    return {_column_name(c) for c in first.iloc[0]} if not first.empty else set()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --------------------------------------------------------------------------- helpers


def _normalise_columns(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = raw.copy()
    frame.columns = [_column_name(c) for c in frame.columns]
    # Excel/CSV exports often carry empty unnamed columns: drop them when empty.
    for name in list(frame.columns):
        if name.startswith("unnamed:") and (frame[name].astype(str).str.strip() == "").all():
            frame = frame.drop(columns=name)
    counts = Counter(frame.columns)
    doubled = [c for c, n in counts.items() if n > 1]
    if doubled:
        raise LabDataError(f"{source}: column(s) {doubled} appear more than once in the header")
    present = list(frame.columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, present, n=1, cutoff=0.6)
            if close:
                hints.append(f"'{close[0]}' might be '{c}'")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise LabDataError(
            f"{source}: missing required column(s) {missing}; columns present: {present}; "
            f"expected {list(REQUIRED_COLUMNS)} plus optional {list(OPTIONAL_COLUMNS)}{hint}; "
            "name your columns with --columns 'Mouse ID=mouse,...', or give a Prism table's "
            "test with --test and --unit (docs/lab_data.md)"
        )
    return frame


def _column_name(header: object) -> str:
    return re.sub(r"\s+", "_", str(header).strip().lower())


def _parse_number(text: str) -> tuple[float | None, str]:
    """``(number, note)``: the number and "decimal comma" if it was written with one; or
    ``(None, why not)`` for text that is not a finite number."""
    stripped = text.strip()
    if _DECIMAL_COMMA.match(stripped):
        return float(stripped.replace(",", ".")), "decimal comma"
    try:
        number = float(stripped)
    except ValueError:
        return None, "not a number"
    if not math.isfinite(number):
        return None, "not a finite number"
    return number, ""


def _canonical(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _near_duplicate(a: str, b: str) -> str:
    """``"case"`` if a and b differ only in case/whitespace, ``"edit"`` if by 1-2 edits
    (not only in digits, so numbered groups like 'dose 1'/'dose 2' are not flagged), else
    ``""``."""
    ka, kb = _canonical(a), _canonical(b)
    if ka == kb:
        return "case"
    if re.sub(r"\d", "#", ka) == re.sub(r"\d", "#", kb):
        return ""
    distance = _edit_distance(ka, kb)
    if distance <= 2 and distance <= min(len(ka), len(kb)) / 3:
        return "edit"
    return ""


def _group_problems(
    groups: pd.Series, mice: pd.Series, expected_groups: list[str] | None
) -> dict[str, str]:
    """Map each bad group name to the message explaining it."""
    present = groups[groups.str.strip() != ""]
    rows = present.value_counts()
    order = list(pd.unique(present))
    problems: dict[str, str] = {}
    if expected_groups is not None:
        for name in order:
            if name in expected_groups:
                continue
            close = [g for g in expected_groups if _near_duplicate(name, g)]
            close = close or difflib.get_close_matches(name, expected_groups, n=1, cutoff=0.6)
            declared = ", ".join(repr(g) for g in expected_groups)
            if close:
                problems[name] = (
                    f"unknown group; did you mean '{close[0]}'? (declared groups: {declared})"
                )
            else:
                problems[name] = f"unknown group; declared groups: {declared}"
        return problems
    n_mice = mice[groups.str.strip() != ""].groupby(present).nunique()
    for name in order:
        candidates = []
        for other in order:
            if other == name:
                continue
            kind = _near_duplicate(name, other)
            if not kind:
                continue
            rarer = rows[name] < rows[other] or (
                rows[name] == rows[other] and order.index(name) > order.index(other)
            )
            if (kind == "case" and rarer) or (kind == "edit" and 2 * rows[name] <= rows[other]):
                candidates.append(other)
        if candidates:
            intended = max(candidates, key=lambda g: rows[g])
            problems[name] = (
                f"group '{name}' ({_count(rows[name], 'row')}, "
                f"{_count(n_mice[name], 'mouse', 'mice')}) looks like a "
                f"misspelling of group '{intended}' ({rows[intended]} rows); fix it in the "
                f"file, or declare the groups (--groups) if '{name}' is a real group"
            )
    return problems


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _normalise_test(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _normalise_unit(unit: str) -> str:
    text = re.sub(r"[\s_]+", " ", unit.strip())
    lowered = text.lower()
    if lowered in _GRAM_UNITS:
        return "g"
    if lowered in _LOG_UNITS:
        return "log units"
    return text


def _split(text: str) -> list[str]:
    return [t for t in re.split(r"[;,\s|/]+", text.strip()) if t]


def parse_up_down(
    filaments: str, responses: str, filament_set: FilamentSet = MOUSE_FILAMENTS
) -> UpDownResult:
    """Analyse a recorded up-down sequence given as text into a 50% threshold (grams).

    ``filaments``: forces in grams in the order presented, separated by ``;`` (or ``,``,
    spaces), each one of ``filament_set.forces_g`` (matched within 2 %). ``responses``:
    ``"XOOXOX"`` (X = withdrawal, O = no response, case-insensitive, separators allowed) or
    ``"1;0;0;1;0;1"``. Returns :func:`fifty_percent_threshold`'s result.

    Raises
    ------
    ValueError
        Unknown force, unreadable responses, or an invalid sequence.
    """
    forces = np.asarray(filament_set.forces_g, dtype=float)
    indices = []
    for token in _split(filaments):
        try:
            force = float(token)
        except ValueError:
            raise ValueError(f"filament '{token}' is not a number (expected grams)") from None
        match = np.flatnonzero(np.isclose(forces, force, rtol=0.02, atol=0.0))
        if match.size != 1:
            known = ", ".join(f"{f:g}" for f in forces)
            raise ValueError(
                f"filament force {token} g is not in the {filament_set.name} set ({known} g)"
            )
        indices.append(int(match[0]))
    compact = re.sub(r"[;,\s|/]+", "", responses.strip()).upper()
    if compact and set(compact) <= {"X", "O"}:
        answers = [c == "X" for c in compact]
    elif compact and set(compact) <= {"0", "1"}:
        answers = [c == "1" for c in compact]
    else:
        raise ValueError(
            f"responses '{responses}' not understood; expected X/O letters like 'XOOXOX' "
            "or 1/0 like '1;0;0;1;0;1'"
        )
    return fifty_percent_threshold(indices, answers, filament_set)


# --------------------------------------------------------------------------- validation


def validate_lab_data(
    raw: pd.DataFrame,
    source: str = "<data>",
    expected_groups: list[str] | None = None,
    known_tests: tuple[str, ...] = KNOWN_TESTS,
    test_units: dict[str, str] | None = None,
    locate: Callable[[int, str], tuple[int, str]] | None = None,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Validate a raw table (all cells as text, header already parsed) from ``source``.

    Row ``i`` of ``raw`` (0-based) is reported as row ``i + 2`` of the file, or where
    ``locate(i + 2, column)`` says (file row, column label: a wide layout's cell).
    ``test_units`` fixes the unit of a test (user-named tests): other units are errors. The
    steps: the
    columns (:func:`_normalise_columns`), each row on its own (:func:`_check_row`), then
    across rows: one unit per test, one group per mouse, one value per mouse, test and day.
    See :func:`read_lab_data` for the returned clean data and the issues.
    """
    frame = _normalise_columns(raw.fillna("").astype(str), source)
    log = _IssueLog(source, locate)
    rows = _RowChecks(
        known_tests,
        _group_problems(frame["group"], frame["mouse"].str.strip(), expected_groups),
        extra=[c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS],
        kept=[c for c in ("sex", "filaments", "responses") if c in frame.columns],
    )
    good = [
        record
        for i, cells in enumerate(frame.to_dict("records"))
        if (record := _check_row(cells, i + 2, rows, log)) is not None
    ]
    good = _check_units(good, log.issue, test_units or {})
    good = _check_mouse_groups(good, log.issue)
    good = _check_duplicates(good, log.issue)
    return _clean_table(frame, good, rows.extra), log.issues_of({r["source_row"] for r in good})


class _IssueLog:
    """The issues found so far; 'converted' notes are kept only for rows that survive."""

    def __init__(
        self, source: str, locate: Callable[[int, str], tuple[int, str]] | None = None
    ) -> None:
        self.source = source
        self.locate = locate
        self._issues: list[Issue] = []
        self._notes: dict[int, list[Issue]] = {}

    def issue(self, row: int, column: str, value: object, message: str, action: str) -> None:
        where, label = self.locate(row, column) if self.locate else (row, column)
        record = Issue(self.source, where, label, _shown(str(value)), message, action)
        if action == "converted":
            self._notes.setdefault(row, []).append(record)
        else:
            self._issues.append(record)

    def issues_of(self, kept_rows: set[int]) -> list[Issue]:
        """All issues, with the notes of the kept rows, in row order."""
        issues = self._issues + [
            note for row, notes in self._notes.items() if row in kept_rows for note in notes
        ]
        order = {action: k for k, action in enumerate(ACTIONS)}
        return sorted(issues, key=lambda x: (x.row, order.get(x.action, len(order))))


def _shown(value: str) -> str:
    """A cell as shown in an issue: long cells are cut to :data:`MAX_SHOWN` characters."""
    if len(value) <= MAX_SHOWN:
        return value
    return f"{value[:MAX_SHOWN]}... ({len(value)} characters)"


@dataclass(frozen=True)
class _RowChecks:
    """What the per-row checks need to know about the whole file."""

    known_tests: tuple[str, ...]
    group_problems: dict[str, str]
    extra: list[str]  # columns kept unchanged
    kept: list[str]  # optional columns present (sex, filaments, responses)


def _check_row(cells: dict[str, str], row: int, checks: _RowChecks, log: _IssueLog) -> dict | None:
    """The clean record of one row, or None (with its issues logged) if it is left out."""
    if all(str(v).strip() == "" for v in cells.values()):
        log.issue(row, "(all)", "", "empty row", "excluded")
        return None
    mouse = _check_mouse(cells, row, log)
    group = _check_group(cells, row, checks, log)
    test = _check_test(cells, row, checks, log)
    day = _check_day(cells, row, log)
    measured = _check_value(cells, row, test, log)
    if None in (mouse, group, test, day, measured):
        return None
    value, unit, value_source = measured
    record = {
        "mouse": mouse,
        "group": group,
        "day": day,
        "test": test,
        "value": value,
        "unit": unit,
        "unit_text": cells["unit"],
        "value_text": cells["value"].strip(),
        "value_source": value_source,
        "source_row": row,
    }
    record.update({column: cells[column] for column in (*checks.extra, *checks.kept)})
    return record


def _check_mouse(cells: dict[str, str], row: int, log: _IssueLog) -> str | None:
    mouse = cells["mouse"].strip()
    if not mouse:
        log.issue(row, "mouse", "", "mouse missing; every row needs a mouse identifier", "error")
        return None
    return mouse


def _check_group(cells: dict[str, str], row: int, checks: _RowChecks, log: _IssueLog) -> str | None:
    group = cells["group"]
    if not group.strip():
        log.issue(row, "group", "", "group missing; every row needs a group", "error")
        return None
    if group in checks.group_problems:
        log.issue(row, "group", group, checks.group_problems[group], "error")
        return None
    return group


def _check_test(cells: dict[str, str], row: int, checks: _RowChecks, log: _IssueLog) -> str | None:
    known = checks.known_tests
    test = _normalise_test(cells["test"])
    if not test:
        log.issue(row, "test", "", f"test missing; expected one of {', '.join(known)}", "error")
        return None
    if test not in known:
        close = difflib.get_close_matches(test, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"known tests: {', '.join(known)}"
        log.issue(row, "test", cells["test"], f"unknown test; {hint}", "error")
        return None
    return test


def _check_day(cells: dict[str, str], row: int, log: _IssueLog) -> float | None:
    text = cells["day"]
    if not text.strip():
        log.issue(row, "day", "", "day missing; expected the day of the test (number)", "error")
        return None
    return _number_in_cell(
        text,
        row,
        "day",
        log,
        MAX_ABS_DAY,
        unreadable=("error", "day is {} (expected days, e.g. 3)"),
        beyond=f"day {{:g}} is more than {MAX_ABS_DAY} days (10 years) from the first injection",
    )


def _check_value(
    cells: dict[str, str], row: int, test: str | None, log: _IssueLog
) -> tuple[float, str, str] | None:
    """``(value, unit, where the value came from)`` of a row, or None."""
    text = cells["value"].strip()
    if text == "":
        return _value_from_sequence(cells, row, test, log)
    value = _number_in_cell(
        text,
        row,
        "value",
        log,
        MAX_ABS_VALUE,
        unreadable=("excluded", "{}; no measurement to use"),
        beyond=f"{{:g}} is beyond any measurement (|value| > {MAX_ABS_VALUE:g}); check the cell",
    )
    if value is None:
        return None
    return value, _normalise_unit(cells["unit"]), "recorded"


def _number_in_cell(
    text: str,
    row: int,
    column: str,
    log: _IssueLog,
    limit: float,
    unreadable: tuple[str, str],
    beyond: str,
) -> float | None:
    """The finite number in a cell, at most ``limit`` in magnitude, or None with an issue:
    ``unreadable`` = (action, message with {} for why) if it is no finite number, an error
    ``beyond`` (message with {} for the number) if it is too large."""
    number, note = _parse_number(text)
    if number is None:
        action, message = unreadable
        log.issue(row, column, text, message.format(note), action)
        return None
    if abs(number) > limit:
        log.issue(row, column, text, beyond.format(number), "error")
        return None
    if note:
        log.issue(row, column, text, f"decimal comma read as {number:g}", "converted")
    return number


def _value_from_sequence(
    cells: dict[str, str], row: int, test: str | None, log: _IssueLog
) -> tuple[float, str, str] | None:
    """The 50% threshold of a von Frey up-down sequence given instead of a value."""
    filaments = cells.get("filaments", "").strip()
    responses = cells.get("responses", "").strip()
    if test != VON_FREY or not (filaments or responses):
        extra_hint = " and no up-down sequence (filaments + responses)" * (test == VON_FREY)
        log.issue(row, "value", "", f"missing value{extra_hint}; no measurement to use", "excluded")
        return None
    if not (filaments and responses):
        column = "responses" if filaments else "filaments"
        message = "up-down sequence incomplete: give both filaments and responses"
        log.issue(row, column, "", message, "error")
        return None
    try:
        threshold = parse_up_down(filaments, responses).threshold_g
    except ValueError as exc:
        value = f"{filaments} / {responses}"
        log.issue(row, "filaments", value, f"invalid up-down sequence: {exc}", "error")
        return None
    return threshold, "g", "up-down sequence"


def _clean_table(frame: pd.DataFrame, good: list[dict], extra: list[str]) -> pd.DataFrame:
    """The kept records as the clean table (columns as in :func:`read_lab_data`)."""
    has_sequences = "filaments" in frame.columns or "responses" in frame.columns
    columns = ["mouse", "group"]
    columns += ["sex"] if "sex" in frame.columns else []
    columns += ["day", "test", "value", "unit", *extra]
    columns += [c for c in ("filaments", "responses") if c in frame.columns]
    columns += ["value_source", "source_row"]
    clean = pd.DataFrame(good, columns=columns)  # drops the helper keys unit_text, value_text
    clean = clean.sort_values("source_row", kind="stable").reset_index(drop=True)
    clean = clean.astype({"day": float, "value": float, "source_row": int})
    if not has_sequences:
        clean = clean.drop(columns=[c for c in ("filaments", "responses") if c in clean])
    return clean


def _check_units(good: list[dict], issue, declared: dict[str, str]) -> list[dict]:
    """One unit per test (the ``declared`` one if given); von Frey log units are converted to
    grams."""
    kept = []
    by_test: dict[str, list[dict]] = {}
    for r in good:
        by_test.setdefault(r["test"], []).append(r)
    for test, rows in by_test.items():
        units = Counter(r["unit"] for r in rows if r["unit"])
        if test in declared:
            reference = declared[test]
        elif test == VON_FREY and ("g" in units or "log units" in units):
            reference = "g"
        else:
            reference = units.most_common(1)[0][0] if units else ""
        n_reference = sum(1 for r in rows if r["unit"] == reference)
        for r in rows:
            if test == VON_FREY and r["unit"] == "log units":
                log_unit = r["value"]
                if log_unit > MAX_LOG_UNIT:
                    issue(
                        r["source_row"],
                        "value",
                        r["value_text"],
                        f"von Frey log units {log_unit:g} give a force beyond any filament "
                        f"(at most {MAX_LOG_UNIT:g} log units); check the cell",
                        "error",
                    )
                    continue
                r["value"] = 10.0**log_unit / 10_000.0
                r["unit"] = "g"
                issue(
                    r["source_row"],
                    "value",
                    r["value_text"],
                    f"von Frey value in log units ('{r['unit_text']}') converted to "
                    f"{r['value']:.4g} g (force_g = 10**log_unit / 10000)",
                    "converted",
                )
            elif not r["unit"]:
                issue(
                    r["source_row"],
                    "unit",
                    "",
                    f"unit missing; expected '{reference}' as in the other rows of test '{test}'",
                    "error",
                )
                continue
            elif r["unit"] != reference:
                issue(
                    r["source_row"],
                    "unit",
                    r["unit_text"],
                    f"unit differs from '{reference}' used in {n_reference} other row(s) of "
                    f"test '{test}'; convert the value to '{reference}'",
                    "error",
                )
                continue
            kept.append(r)
    return sorted(kept, key=lambda r: r["source_row"])


def _check_mouse_groups(good: list[dict], issue) -> list[dict]:
    """Each mouse in one group: rows outside a mouse's majority group are errors (all of the
    mouse's rows if no group has a strict majority)."""
    by_mouse: dict[str, list[dict]] = {}
    for r in good:
        by_mouse.setdefault(r["mouse"], []).append(r)
    bad: set[int] = set()
    for mouse, rows in by_mouse.items():
        counts = Counter(r["group"] for r in rows)
        if len(counts) < 2:
            continue
        (top, n_top), (_, n_second) = counts.most_common(2)
        majority = top if n_top > n_second else None
        for r in rows:
            if majority is not None and r["group"] == majority:
                continue
            others = [f"'{g}' ({n} row(s))" for g, n in counts.items() if g != r["group"]]
            issue(
                r["source_row"],
                "group",
                r["group"],
                f"mouse '{mouse}' is also in group {', '.join(others)}; a mouse belongs to "
                "one group",
                "error",
            )
            bad.add(r["source_row"])
    return [r for r in good if r["source_row"] not in bad]


def _check_duplicates(good: list[dict], issue) -> list[dict]:
    """One value per mouse, test and day: identical duplicates keep the first row;
    conflicting ones are all excluded."""
    by_key: dict[tuple, list[dict]] = {}
    for r in good:
        by_key.setdefault((r["mouse"], r["test"], r["day"]), []).append(r)
    bad: set[int] = set()
    for (mouse, test, day), rows in by_key.items():
        if len(rows) < 2:
            continue
        first = rows[0]
        identical = all(
            r["value"] == first["value"] and r["group"] == first["group"] for r in rows[1:]
        )
        what = f"mouse '{mouse}', test '{test}', day {day:g}"
        if identical:
            for r in rows[1:]:
                issue(
                    r["source_row"],
                    "value",
                    r["value_text"] or f"{r['value']:g}",
                    f"excluded duplicate: identical to row {first['source_row']} ({what})",
                    "excluded",
                )
                bad.add(r["source_row"])
        else:
            listing = ", ".join(f"row {r['source_row']}: {r['value']:g}" for r in rows)
            for r in rows:
                issue(
                    r["source_row"],
                    "value",
                    r["value_text"] or f"{r['value']:g}",
                    f"conflicting duplicate: {what} has different values ({listing}); all "
                    "excluded - keep the correct one in the file",
                    "excluded",
                )
                bad.add(r["source_row"])
    return [r for r in good if r["source_row"] not in bad]
