"""Lab data in the layouts labs keep it in: column names of their own, GraphPad Prism's wide
tables, and tests fmsim does not know, turned into the tidy table of :mod:`fmsim.io.lab_data`
and validated there (the same row-by-row issues, the same statistics downstream).

Layouts (``layout``; ``auto`` detects them from the header):

``tidy``
    one row per mouse, test and day (:mod:`fmsim.io.lab_data`); ``columns`` renames the
    file's columns, e.g. ``{"Mouse ID": "mouse", "Timepoint": "day"}``.
``grouped``
    a Prism grouped table: one row per time point (first column: the day), one block of
    replicate columns per group. Header row 1 names the group over its first replicate
    column (blank cells continue the group to their left) or repeats it over every one;
    an optional header row 2 names the replicates (mouse IDs; Prism's ``Y1``, ``A:Y1`` or
    blank mean "replicate k", and the mouse is called ``GROUP#k``). The same replicate
    column is the same mouse on every day (Prism's repeated-measures convention).
``per_mouse``
    one column per mouse: header row 1 holds the mouse IDs, row 2 (first cell ``group``)
    each mouse's group; then one row per time point (first column: the day).

A wide table holds one test: ``test`` and ``unit`` name it. ``tests`` declares tests fmsim
does not know, with their unit (``{"burrowing": "g"}``); a row of such a test in another unit
is an error. Units must be one of :data:`KNOWN_UNITS`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fmsim.config import ConfigError
from fmsim.config.errors import read_yaml
from fmsim.io.lab_data import (
    KNOWN_TESTS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    Issue,
    LabDataError,
    _column_name,
    _normalise_test,
    _normalise_unit,
    read_table_cells,
    validate_lab_data,
)

LAYOUTS = ("auto", "tidy", "grouped", "per_mouse")
#: Columns a mapping may name (the tidy format's, and ``donor``).
TARGETS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "donor")
#: Units accepted for a test: those of fmsim's readouts and the common ones of behavioural
#: and histological measurements ("1" and "score" for dimensionless scores).
KNOWN_UNITS = (
    "g", "mg", "kg", "N", "mN", "s", "ms", "min", "h", "m", "cm", "mm", "m/s", "cm/s",
    "count", "%", "1", "score", "fibres/mm", "°C", "log units",
)  # fmt: skip
_PRISM_REPLICATE = re.compile(r"^(?:[A-Z]{1,2}:)?Y\d+$")
_UNNAMED = re.compile(r"^unnamed: \d+$")


@dataclass(frozen=True)
class LabFormat:
    """How a lab's file is laid out (see the module docstring); the default is fmsim's tidy
    format with automatic detection of Prism layouts."""

    columns: dict[str, str] = field(default_factory=dict)
    layout: str = "auto"
    test: str | None = None
    unit: str | None = None
    tests: dict[str, str] = field(default_factory=dict)

    def known_tests(self) -> tuple[str, ...]:
        return (*KNOWN_TESTS, *[t for t in self.test_units() if t not in KNOWN_TESTS])

    def test_units(self) -> dict[str, str]:
        """Declared tests (normalised names) and their units, the wide table's test included."""
        units = {_normalise_test(name): unit for name, unit in self.tests.items()}
        if self.test is not None and self.unit is not None:
            units[_normalise_test(self.test)] = self.unit
        return units


def lab_format(
    columns: str | Path | None = None,
    *,
    layout: str | None = None,
    test: str | None = None,
    unit: str | None = None,
    tests: str | None = None,
) -> LabFormat:
    """The format given on the command line: ``columns`` as ``"Mouse ID=mouse,Day=day"`` or a
    YAML file (keys ``columns``, ``layout``, ``test``, ``unit``, ``tests``); ``tests`` as
    ``"burrowing=g,nest=score"``. Options override the file. ConfigError in one line."""
    settings: dict = {}
    origin = "--columns"
    if columns is not None and str(columns).lower().endswith((".yaml", ".yml")):
        origin = str(columns)
        settings = read_yaml(Path(columns))
        unknown = sorted(set(settings) - {"columns", "layout", "test", "unit", "tests"})
        if unknown:
            raise ConfigError(
                f"{origin}: unknown key(s) {unknown}; expected columns, layout, test, unit, tests"
            )
        for key in ("columns", "tests"):
            if not isinstance(settings.get(key, {}), dict):
                raise ConfigError(f"{origin}: {key}: expected a mapping 'name: value'")
    elif columns is not None:
        settings["columns"] = _pairs(str(columns), "--columns")
    if tests is not None:
        settings["tests"] = _pairs(tests, "--tests")
    for key, value in (("layout", layout), ("test", test), ("unit", unit)):
        if value is not None:
            settings[key] = value
    where = {key: (origin if origin != "--columns" else f"--{key}") for key in settings}
    where["columns"] = origin
    if tests is not None:
        where["tests"] = "--tests"
    fmt = LabFormat(
        columns={str(k).strip(): str(v).strip() for k, v in settings.get("columns", {}).items()},
        layout=str(settings.get("layout", "auto")).strip().replace("-", "_"),
        test=None if settings.get("test") is None else str(settings["test"]).strip(),
        unit=None if settings.get("unit") is None else _normalise_unit(str(settings["unit"])),
        tests={
            str(k).strip(): _normalise_unit(str(v)) for k, v in settings.get("tests", {}).items()
        },
    )
    _check_format(fmt, where)
    return fmt


def _pairs(text: str, option: str) -> dict[str, str]:
    """``"a=b,c=d"`` as {a: b, c: d}; a repeated or malformed pair is a ConfigError."""
    pairs: dict[str, str] = {}
    for part in [p for p in text.split(",") if p.strip()]:
        name, separator, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not separator or not name or not value:
            raise ConfigError(f"{option}: got {part.strip()!r}: expected NAME=VALUE pairs")
        if name in pairs:
            raise ConfigError(f"{option}: got {name!r} twice: give each name once")
        pairs[name] = value
    if not pairs:
        raise ConfigError(f"{option}: got {text!r}: expected NAME=VALUE pairs")
    return pairs


def _check_format(fmt: LabFormat, where: dict[str, str]) -> None:
    if fmt.layout not in LAYOUTS:
        raise ConfigError(f"{where['layout']}: got {fmt.layout!r}: expected one of {LAYOUTS}")
    targets: dict[str, str] = {}
    for name, target in fmt.columns.items():
        column = _column_name(target)
        if column not in TARGETS:
            raise ConfigError(
                f"{where['columns']}: {name!r} -> {target!r}: expected one of the columns "
                f"{list(TARGETS)}"
            )
        if column in targets:
            raise ConfigError(
                f"{where['columns']}: {targets[column]!r} and {name!r} are both mapped to "
                f"{column!r}: map one column of the file to each"
            )
        targets[column] = name
    declared = dict(fmt.tests)
    if fmt.test is not None or fmt.unit is not None:
        if fmt.test is None or fmt.unit is None:
            option = where.get("test") or where.get("unit")
            raise ConfigError(f"{option}: give both the test and its unit (--test and --unit)")
        declared[fmt.test] = fmt.unit
    for test, unit in declared.items():
        if unit not in KNOWN_UNITS:
            option = where.get("tests", where.get("unit", "--unit"))
            raise ConfigError(
                f"{option}: test {test!r}: unknown unit {unit!r}; expected one of "
                f"{', '.join(KNOWN_UNITS)}"
            )
        if not _normalise_test(test):
            raise ConfigError(f"{where.get('tests', '--test')}: a test needs a name")


def read_lab_file(
    path: str | Path,
    fmt: LabFormat | None = None,
    expected_groups: list[str] | None = None,
    sheet: str | None = None,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Read a lab's file in any layout of ``fmt`` and validate it as
    :func:`fmsim.io.lab_data.read_lab_data` does; issues name the file's own rows and columns
    (for a wide table: the cell, e.g. ``C (FMS-IgG / M2)``). LabDataError (one line) for a
    file that cannot be used: unreadable, ambiguous layout, unknown mapped columns..."""
    fmt = fmt or LabFormat()
    cells, source = read_table_cells(Path(path), sheet)
    layout = detect_layout(cells, source, fmt)
    if layout == "tidy":
        raw, locate = _mapped(cells, source, fmt), None
    else:
        if fmt.columns:
            raise LabDataError(
                f"{source}: --columns renames the columns of a tidy file; this is a {layout} "
                "(Prism) table: its first column is the day, its header the groups or mice"
            )
        if fmt.test is None:
            raise LabDataError(
                f"{source}: a {layout} (Prism) table holds one test: name it and its unit "
                "(--test NAME --unit UNIT, e.g. --test paw_pressure_threshold --unit g)"
            )
        raw, locate = _wide_to_tidy(cells, source, layout, fmt)
    clean, issues = validate_lab_data(
        raw, source, expected_groups, fmt.known_tests(), fmt.test_units(), locate
    )
    if locate is not None:  # the clean rows point at the file's rows
        clean["source_row"] = [locate(row, "value")[0] for row in clean["source_row"]]
    return clean, issues


def detect_layout(cells: pd.DataFrame, source: str, fmt: LabFormat) -> str:
    """The layout of ``cells`` (header = first row): ``fmt.layout`` if given and consistent,
    else tidy when the header has at least two of the tidy columns (after the mapping), a
    ``group`` row under the header means one column per mouse, repeated or continued group
    names a grouped table; without a test named (``fmt.test``) anything else is read as tidy
    (its checks name the missing columns), with one a second header row means a grouped
    table; otherwise LabDataError (ambiguous)."""
    header = {_column_name(c) for c in cells.columns} | {
        _column_name(t) for n, t in fmt.columns.items()
    }
    if fmt.layout == "tidy" or (fmt.layout == "auto" and len(header & set(REQUIRED_COLUMNS)) >= 2):
        return "tidy"
    if cells.empty or len(cells.columns) < 2:
        raise LabDataError(
            f"{source}: cannot tell the layout: expected a tidy table (columns "
            f"{list(REQUIRED_COLUMNS)}) or a Prism table (days in the first column, a column "
            "per replicate)"
        )
    first = str(cells.iloc[0, 0]).strip()
    has_group_row = first.lower() == "group"
    if fmt.layout == "per_mouse" or (fmt.layout == "auto" and has_group_row):
        if not has_group_row:
            raise LabDataError(
                f"{source}:2: column A: value {first!r}: a per-mouse table needs the groups "
                "in row 2, its first cell 'group'"
            )
        return "per_mouse"
    names = [str(c) for c in cells.columns[1:]]
    continued = any(_UNNAMED.match(n) for n in names) or len(set(names)) < len(names)
    if fmt.layout == "grouped" or continued:
        return "grouped"
    if fmt.test is None:  # nothing says wide: the tidy checks name the missing columns
        return "tidy"
    if not _is_number(first):
        return "grouped"
    raise LabDataError(
        f"{source}: ambiguous layout: every column has its own name ({', '.join(names[:4])}"
        f"{', ...' if len(names) > 4 else ''}) and no row says the groups: for one column per "
        "mouse add a row 'group' under the header; for a grouped table give --layout grouped"
    )


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _mapped(cells: pd.DataFrame, source: str, fmt: LabFormat) -> pd.DataFrame:
    """A tidy table with the mapped columns renamed; LabDataError for a mapped column the file
    does not have, or a target the file already has."""
    present = {str(c).strip(): c for c in cells.columns}
    by_name = {_column_name(c): c for c in cells.columns}
    renames = {}
    for name, target in fmt.columns.items():
        column = present.get(name, by_name.get(_column_name(name)))
        if column is None:
            raise LabDataError(
                f"{source}: --columns: column {name!r} is not in the file; columns present: "
                f"{list(present)}"
            )
        renames[column] = _column_name(target)
    for column in cells.columns:
        target = _column_name(column)
        if column not in renames and target in renames.values():
            mapped = next(k for k, v in renames.items() if v == target)
            raise LabDataError(
                f"{source}: --columns: {mapped!r} is mapped to {target!r}, which the file "
                f"already has (column {column!r}); map one column to each name"
            )
    return cells.rename(columns=renames)


def _wide_to_tidy(cells: pd.DataFrame, source: str, layout: str, fmt: LabFormat):
    """The tidy rows of a wide table (one per data cell of a replicate column) and a function
    locating a tidy row's issue in the file (row, cell label)."""
    names = [str(c) for c in cells.columns]
    rows = cells.reset_index(drop=True)
    second = [str(v).strip() for v in rows.iloc[0]] if len(rows) else []
    has_titles = layout == "per_mouse" or (bool(second) and not _is_number(second[0]))
    data = rows.iloc[1:] if has_titles else rows
    offset = 3 if has_titles else 2  # file row of data row 0
    mice, groups = _subjects(source, layout, names, second if has_titles else None)
    records, where = [], []
    for k in range(1, len(names)):
        column = data.iloc[:, k].astype(str)
        if (column.str.strip() == "").all():
            continue  # an unused replicate column
        label = f"{_letter(k)} ({groups[k]} / {mice[k]})"
        for r, (day, value) in enumerate(zip(data.iloc[:, 0], column, strict=True)):
            records.append((mice[k], groups[k], day, fmt.test, value, fmt.unit))
            where.append((r + offset, label, f"{_letter(0)} ({names[0]})"))
    raw = pd.DataFrame(records, columns=["mouse", "group", "day", "test", "value", "unit"])

    def locate(row: int, column: str) -> tuple[int, str]:
        file_row, cell, day_cell = where[row - 2]
        return file_row, day_cell if column == "day" else cell

    return raw, locate


def _subjects(
    source: str, layout: str, names: list[str], titles: list[str] | None
) -> tuple[list[str], list[str]]:
    """Mouse and group of each column (index 0, the day column, is empty)."""
    mice, groups = [""], [""]
    if layout == "per_mouse":
        for k in range(1, len(names)):
            if _UNNAMED.match(names[k]) or not titles[k]:
                what = "mouse ID in row 1" if _UNNAMED.match(names[k]) else "group in row 2"
                raise LabDataError(f"{source}: column {_letter(k)}: no {what}")
            mice.append(names[k])
            groups.append(titles[k])
        _unique(source, mice)
        return mice, groups
    current, counts = None, {}
    for k in range(1, len(names)):
        if not _UNNAMED.match(names[k]):
            current = names[k]
        if current is None:
            raise LabDataError(
                f"{source}: column {_letter(k)}: no group name in row 1 over the first "
                "replicate column"
            )
        counts[current] = counts.get(current, 0) + 1
        title = titles[k] if titles else ""
        generic = not title or _PRISM_REPLICATE.match(title)
        mice.append(f"{current}#{counts[current]}" if generic else title)
        groups.append(current)
    _unique(source, mice)
    return mice, groups


def _unique(source: str, mice: list[str]) -> None:
    seen: dict[str, int] = {}
    for k, mouse in enumerate(mice[1:], start=1):
        if mouse in seen:
            raise LabDataError(
                f"{source}: columns {_letter(seen[mouse])} and {_letter(k)}: the same mouse "
                f"{mouse!r}; each replicate column is one mouse"
            )
        seen[mouse] = k


def _letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (A, B, ..., Z, AA, ...)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters
