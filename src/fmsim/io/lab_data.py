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
_SUPPORTED = (".csv", ".txt", ".xlsx", ".xlsm")


class LabDataError(ValueError):
    """The data file cannot be used at all. ``str(error)`` is meant to be shown as is."""


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
        """``file:row: column 'x': value 'v': message (action)``."""
        return (
            f"{self.file}:{self.row}: column '{self.column}': value '{self.value}': "
            f"{self.message} ({self.action})"
        )


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
    sheet: str | int = 0,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Read and validate a lab data file (``.csv`` or ``.xlsx``; format in the module doc).

    Parameters
    ----------
    path
        The file. CSV may be comma- or semicolon-separated (UTF-8 or Latin-1).
    expected_groups
        The group names of the experiment. If given, any other group is an error (with the
        closest declared name suggested); if not, a group whose name is a near-duplicate
        of a larger group's name (same up to case/whitespace, or 1-2 edits) is reported as
        a likely misspelling.
    known_tests
        Accepted test names; others are errors with the closest known name suggested.
    sheet
        Excel sheet name or 0-based index (default: the first sheet).

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
        File missing or unreadable, unsupported type, or required columns missing.
    """
    path = Path(path)
    raw = _read_raw(path, sheet)
    return validate_lab_data(raw, str(path), expected_groups, known_tests)


def _read_raw(path: Path, sheet: str | int) -> pd.DataFrame:
    if not path.exists():
        raise LabDataError(f"{path}: file not found")
    if path.is_dir():
        raise LabDataError(f"{path}: is a folder; expected a .csv or .xlsx file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise LabDataError(f"{path}: old Excel .xls files are not supported; save as .xlsx or .csv")
    if suffix not in _SUPPORTED:
        raise LabDataError(f"{path}: unsupported file type '{suffix}'; expected .csv or .xlsx")
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                path, sheet_name=sheet, dtype=str, keep_default_na=False, engine="openpyxl"
            )
        else:
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                text = path.read_text(encoding="latin-1")
            header = text.split("\n", 1)[0]
            sep = ";" if header.count(";") > header.count(",") else ","
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LabDataError(f"{path}: could not read the file: {message}") from None
    return frame.fillna("").astype(str)


# --------------------------------------------------------------------------- helpers


def _normalise_columns(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = raw.copy()
    names = [re.sub(r"\s+", "_", str(c).strip().lower()) for c in frame.columns]
    frame.columns = names
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
            f"expected {list(REQUIRED_COLUMNS)} plus optional {list(OPTIONAL_COLUMNS)}{hint}"
        )
    return frame


def _parse_number(text: str) -> tuple[float | None, str]:
    """Return (number, note); number None if not numeric. Note set for a decimal comma."""
    stripped = text.strip()
    if _DECIMAL_COMMA.match(stripped):
        return float(stripped.replace(",", ".")), "decimal comma"
    try:
        number = float(stripped)
    except ValueError:
        return None, ""
    if not math.isfinite(number):
        return None, ""
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
) -> tuple[pd.DataFrame, list[Issue]]:
    """Validate a raw table (all cells as text, header already parsed) from ``source``.

    Row ``i`` of ``raw`` (0-based) is reported as row ``i + 2`` of the file. See
    :func:`read_lab_data` for the checks, the returned clean data and the issues.
    """
    frame = _normalise_columns(raw.fillna("").astype(str), source)
    has_sequences = "filaments" in frame.columns or "responses" in frame.columns
    extra = [c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    group_problems = _group_problems(frame["group"], frame["mouse"].str.strip(), expected_groups)

    issues: list[Issue] = []
    notes: dict[int, list[Issue]] = {}  # 'converted' notes, kept only if the row survives
    good: list[dict] = []

    def issue(row, column, value, message, action):
        record = Issue(source, row, column, str(value), message, action)
        if action == "converted":
            notes.setdefault(row, []).append(record)
        else:
            issues.append(record)
        return record

    for i, rec in enumerate(frame.to_dict("records")):
        row = i + 2
        if all(str(v).strip() == "" for v in rec.values()):
            issue(row, "(all)", "", "empty row", "excluded")
            continue
        failed = False
        mouse = rec["mouse"].strip()
        if not mouse:
            issue(row, "mouse", "", "mouse missing; every row needs a mouse identifier", "error")
            failed = True
        group = rec["group"]
        if not group.strip():
            issue(row, "group", "", "group missing; every row needs a group", "error")
            failed = True
        elif group in group_problems:
            issue(row, "group", group, group_problems[group], "error")
            failed = True

        test = _normalise_test(rec["test"])
        if not test:
            issue(
                row, "test", "", f"test missing; expected one of {', '.join(known_tests)}", "error"
            )
            failed = True
        elif test not in known_tests:
            close = difflib.get_close_matches(test, known_tests, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"known tests: {', '.join(known_tests)}"
            )
            issue(row, "test", rec["test"], f"unknown test; {hint}", "error")
            failed = True

        day, day_note = _parse_number(rec["day"])
        if not rec["day"].strip():
            issue(row, "day", "", "day missing; expected the day of the test (number)", "error")
            failed = True
        elif day is None:
            issue(row, "day", rec["day"], "day is not a number (expected days, e.g. 3)", "error")
            failed = True
        elif day_note:
            issue(row, "day", rec["day"], f"decimal comma read as {day:g}", "converted")

        unit = _normalise_unit(rec["unit"])
        value_text = rec["value"].strip()
        source_of_value = "recorded"
        filaments = rec.get("filaments", "").strip()
        responses = rec.get("responses", "").strip()
        value: float | None = None
        if value_text == "":
            if test == VON_FREY and (filaments or responses):
                if not (filaments and responses):
                    column = "responses" if filaments else "filaments"
                    issue(
                        row,
                        column,
                        "",
                        "up-down sequence incomplete: give both filaments and responses",
                        "error",
                    )
                    failed = True
                else:
                    try:
                        value = parse_up_down(filaments, responses).threshold_g
                        unit, source_of_value = "g", "up-down sequence"
                    except ValueError as exc:
                        issue(
                            row,
                            "filaments",
                            f"{filaments} / {responses}",
                            f"invalid up-down sequence: {exc}",
                            "error",
                        )
                        failed = True
            else:
                extra_hint = " and no up-down sequence (filaments + responses)" * (test == VON_FREY)
                issue(
                    row,
                    "value",
                    "",
                    f"missing value{extra_hint}; no measurement to use",
                    "excluded",
                )
                failed = True
        else:
            value, note = _parse_number(value_text)
            if value is None:
                issue(row, "value", value_text, "not a number; no measurement to use", "excluded")
                failed = True
            elif note:
                issue(row, "value", value_text, f"decimal comma read as {value:g}", "converted")
        if failed:
            notes.pop(row, None)
            continue
        record = {
            "mouse": mouse,
            "group": group,
            "day": float(day),
            "test": test,
            "value": float(value),
            "unit": unit,
            "unit_text": rec["unit"],
            "value_text": value_text,
            "value_source": source_of_value,
            "source_row": row,
        }
        for column in ("sex", *extra, "filaments", "responses"):
            if column in frame.columns:
                record[column] = rec[column]
        good.append(record)

    good = _check_units(good, source, issue)
    good = _check_mouse_groups(good, source, issue)
    good = _check_duplicates(good, source, issue)

    kept_rows = {r["source_row"] for r in good}
    for row, row_notes in notes.items():
        if row in kept_rows:
            issues.extend(row_notes)
    issues.sort(key=lambda x: (x.row, ACTIONS.index(x.action) if x.action in ACTIONS else 9))

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
    return clean, issues


def _check_units(good: list[dict], source: str, issue) -> list[dict]:
    """One unit per test; von Frey log units are converted to grams."""
    kept = []
    by_test: dict[str, list[dict]] = {}
    for r in good:
        by_test.setdefault(r["test"], []).append(r)
    for test, rows in by_test.items():
        units = Counter(r["unit"] for r in rows if r["unit"])
        if test == VON_FREY and ("g" in units or "log units" in units):
            reference = "g"
        else:
            reference = units.most_common(1)[0][0] if units else ""
        n_reference = sum(1 for r in rows if r["unit"] == reference)
        for r in rows:
            if test == VON_FREY and r["unit"] == "log units":
                log_unit = r["value"]
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


def _check_mouse_groups(good: list[dict], source: str, issue) -> list[dict]:
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


def _check_duplicates(good: list[dict], source: str, issue) -> list[dict]:
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
