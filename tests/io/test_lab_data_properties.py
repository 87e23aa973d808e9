"""Property-based tests of the lab-data reader (hypothesis).

Tables are generated with the required columns in any order (sometimes one missing, sometimes
extra ones), cells drawn from valid values and awkward ones (NaN and infinity written as text,
huge numbers, decimal commas, formula strings, unicode, very long text, blanks), and written
as CSV with any separator in UTF-8, UTF-8 with BOM, UTF-16 or Windows-1252. Reading must
either raise :class:`LabDataError` in one line naming the file, or account for every data row:
kept in the clean table (with finite values) or named in an issue that leaves it out; and every
issue is one line. Never another exception, never a hang.
"""

from __future__ import annotations

import csv
import io
import math
import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fmsim.io.lab_data import REQUIRED_COLUMNS, LabDataError, read_lab_data

PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("FMSIM_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize="FMSIM_PROPERTY_EXAMPLES" not in os.environ,  # the suite stays deterministic
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))  # control characters: below
AWKWARD = st.one_of(
    st.sampled_from(["", " ", "NaN", "nan", "inf", "-Infinity", "1e999", "1e300", "-0", "n/a"]),
    st.sampled_from(["=SUM(A1:A9)", '=HYPERLINK("http://x")', "+1", "@SUM(1)", "12,5", "1.2.3"]),
    st.text(PRINTABLE, max_size=20),
    st.text(PRINTABLE, min_size=300, max_size=600),
    st.sampled_from(["\x07", "a\x0bb", "\x00", "line\nbreak", "\u2028"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)
VALID = {
    "mouse": st.sampled_from(["M1", "M2", "M3", "M4"]),
    "group": st.sampled_from(["HC-IgG", "FMS-IgG"]),
    "day": st.sampled_from(["0", "1", "3", "7"]),
    "test": st.sampled_from(["grip_strength", "paw_pressure_threshold", "von_frey_threshold"]),
    "value": st.floats(0.01, 500).map(lambda x: f"{x:.4g}"),
    "unit": st.sampled_from(["g", "log units"]),
    "filaments": st.just("0.4;0.16;0.4;0.6;0.4;0.6"),
    "responses": st.sampled_from(["XOOXOX", "1;0;0;1;0;1", "XX"]),
    "donor": st.text(max_size=5),
}


@st.composite
def lab_tables(draw) -> tuple[list[str], list[list[str]]]:
    columns = list(REQUIRED_COLUMNS)
    if draw(st.integers(0, 9)) == 0:
        columns.remove(draw(st.sampled_from(columns)))
    columns += draw(st.lists(st.sampled_from(["filaments", "responses", "donor"]), unique=True))
    columns = draw(st.permutations(columns))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        rows.append([draw(AWKWARD if draw(st.integers(0, 4)) == 0 else VALID[c]) for c in columns])
    return columns, rows


def _csv(columns: list[str], rows: list[list[str]], sep: str) -> str:
    buffer = io.StringIO()
    # CRLF, as Excel writes: a cell holding a line break is then quoted
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


@PROPERTY_SETTINGS
@given(
    table=lab_tables(),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_every_row_is_kept_or_named_or_the_file_is_refused(tmp_path, table, sep, encoding):
    columns, rows = table
    text = _csv(columns, rows, sep)
    path = tmp_path / "lab.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(text.encode("utf-8"))
    try:
        clean, issues = read_lab_data(path)
    except LabDataError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(str(path)), message
        event(f"refused: {message.split(': ', 1)[1][:40]}")
        return
    event("read" if len(clean) else "read, no usable row")
    assert all(len(i.line().splitlines()) == 1 for i in issues)
    kept = set(clean["source_row"])
    left_out = {i.row for i in issues if i.action in ("excluded", "error")}
    assert not kept & left_out
    assert kept | left_out == set(range(2, len(rows) + 2))
    assert all(math.isfinite(v) for v in clean["value"]) and all(
        math.isfinite(d) for d in clean["day"]
    )
