"""Dosing event tables in the NONMEM / mrgsolve convention, to and from fmsim's engine events.

A table has one row per record (CSV or Excel; column names case-insensitive):

=======  ========  =====================================================================
column   required  meaning
=======  ========  =====================================================================
ID       no        subject identifier; without it (or with one ID) the rows apply to all
                   subjects
TIME     yes       time of the record (days)
AMT      yes       amount dosed (in the unit of the dosed state, e.g. mg)
CMT      yes       dosed compartment: a state of the model by name (e.g.
                   ``human_ip_depot``) or by number (1-based, in the model's state order)
EVID     no        1 dose (default when AMT > 0), 0 observation (its TIME becomes an
                   output time), 2 other (ignored); 3 and 4 (resets) are refused
RATE     no        0 or empty: bolus; > 0: zero-order infusion at RATE (unit per day),
                   lasting AMT / RATE; -2: infusion lasting DUR
DUR      no        infusion duration (days) for RATE = -2, or when there is no RATE column
ADDL     no        number of additional doses after this one
II       no        interval between the additional doses (days); required with ADDL > 0
=======  ========  =====================================================================

Other columns (DV, MDV, covariates) are ignored. Times are in days and amounts in the state's
unit, as everywhere in fmsim (a NONMEM data set in hours must be converted first).

Therapy tables (human model) also take plasma-exchange and immunoadsorption sessions, which the
convention has no dose form for: an EVID 2 ("other-type event") record into CMT ``igg_plasma``
(the plasma the session draws from; every plasma state is exchanged) with AMT 0, ``DRUG`` the
procedure (``plasma_exchange``, the default) or the immunoadsorption column (``protein_a``,
``tryptophan`` ...), and one of ``PV`` (plasma volumes exchanged or processed), ``VOL`` (mL) or
``FRAC`` (the fraction of every plasma state removed, 0-1: what fmsim writes per patient);
``FLUID`` a plasma exchange's replacement fluid, ``DUR`` the session length (days). An EVID 2
record without PV, VOL or FRAC stays an ignored "other" record.

:func:`read_event_table` returns engine events (:mod:`fmsim.engine.events`) with one value per
subject; :func:`event_table` writes events back; :func:`nonmem_dataset` writes simulated
states as a NONMEM-style data set (dose records and observation records with DV).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.config import ConfigError
from fmsim.config.text import TextFileError, read_text_file
from fmsim.engine.events import Bolus, Event, Infusion, Removal
from fmsim.model.definition import ModelDefinition

COLUMNS = ("ID", "TIME", "AMT", "CMT", "EVID", "RATE", "DUR", "ADDL", "II")
#: Columns of a session record (EVID 2; therapy tables of the human model).
SESSION_COLUMNS = ("FRAC", "PV", "VOL", "FLUID")
#: Columns a therapy table may have beyond :data:`COLUMNS`.
THERAPY_COLUMNS = ("DRUG", *SESSION_COLUMNS)
#: The compartment a session record names: the plasma it exchanges (every plasma state).
SESSION_STATE = "igg_plasma"
#: The procedure entry of a plasma exchange (any other session DRUG is an adsorption column).
PLASMA_EXCHANGE = "plasma_exchange"
#: Largest plasma volumes and volume (mL) per session, as in therapy protocols.
MAX_PLASMA_VOLUMES, MAX_VOLUME_ML = 5.0, 15000.0
REQUIRED = ("TIME", "AMT", "CMT")
#: Latest day of a record or additional dose (ten years, as for therapy protocols).
MAX_DAY = 3650.0
#: Largest event table read (bytes): a daily dose for 10,000 subjects over a year is ~150 MB.
MAX_FILE_BYTES = 200_000_000


class EventTableError(ConfigError):
    """A table fmsim cannot read; the message is one line naming file, row, column, value."""


@dataclass(frozen=True)
class EventTable:
    """Events read from a table: ``ids`` (subject identifiers in order of first appearance;
    empty when the rows apply to all subjects), ``events`` (values per subject, in that order,
    or scalars for all), ``observation_times`` (days of EVID = 0 records, sorted)."""

    ids: tuple[str, ...]
    events: tuple[Event, ...]
    observation_times: tuple[float, ...]
    source: str = ""  # the file, for messages
    first_rows: tuple[int, ...] = ()  # the row (header = 1) where each of ``ids`` first appears


def read_event_table(path: str | Path, model: ModelDefinition) -> EventTable:
    """Read a NONMEM/mrgsolve-style event table for ``model``; EventTableError names the first
    problem (file, row as in the file with the header as row 1, column, value, expectation)."""
    path = Path(path)
    frame = records_frame(path, COLUMNS)
    records = [Record.parse(path, row + 2, values, model) for row, values in frame.iterrows()]
    first_rows: dict[str, int] = {}
    for row, record in enumerate(records, start=2):
        first_rows.setdefault(record.id, row)
    ids = list(first_rows)
    per_subject = len(ids) > 1
    doses = [r for r in records if r.evid == 1]
    observations = sorted({r.time for r in records if r.evid == 0})
    events = _events(doses, ids if per_subject else [ids[0]] if ids else [], per_subject)
    if not per_subject:
        return EventTable((), tuple(events), tuple(observations), str(path))
    rows = tuple(first_rows.values())
    return EventTable(tuple(ids), tuple(events), tuple(observations), str(path), rows)


def subject_events(
    table: EventTable,
    subjects: Sequence[str],
    recipients: np.ndarray | None = None,
    kind: str = "subject",
) -> list[Event]:
    """The events of ``table`` for the named ``subjects`` (in their order), one value each.

    A table without IDs doses every subject (only the ``recipients``, a boolean mask, when
    given: e.g. the mice of IgG groups). A per-subject table names subjects by name, or by
    number 1..n in the order of ``subjects`` (as :func:`nonmem_data` numbers them); subjects
    it does not name get no dose. An ID that is neither raises EventTableError (file, row)."""
    n = len(subjects)
    if not table.ids:
        mask = np.ones(n) if recipients is None else np.asarray(recipients, dtype=float)
        return [_with_value(event, _value(event) * mask) for event in table.events]
    index = _subject_index(table, list(subjects), kind)
    events = []
    for event in table.events:
        values = np.zeros(n)
        values[index] = _value(event)
        events.append(_with_value(event, values))
    return events


def _subject_index(table: EventTable, subjects: list[str], kind: str) -> np.ndarray:
    position = {name: k for k, name in enumerate(subjects)}
    numbered = not any(i in position for i in table.ids)
    index = []
    for identifier, row in zip(table.ids, table.first_rows, strict=True):
        if identifier in position:
            index.append(position[identifier])
            continue
        if numbered and identifier.isdigit() and 1 <= int(identifier) <= len(subjects):
            index.append(int(identifier) - 1)
            continue
        raise EventTableError(
            f"{table.source}:{row}: column ID: value {identifier!r}: expected a {kind} of the "
            f"scenario by name (e.g. {subjects[0]!r}) or by number 1-{len(subjects)}"
        )
    return np.asarray(index, dtype=int)


def _value(event: Event) -> np.ndarray:
    return np.asarray(event.amount if isinstance(event, Bolus) else event.rate, dtype=float)


def _with_value(event: Event, values: np.ndarray) -> Event:
    if isinstance(event, Bolus):
        return Bolus(event.time, event.state, values)
    return Infusion(event.start, event.stop, event.state, values)


@dataclass(frozen=True)
class Record:
    """One row: a dose (expanded by ADDL/II) or an observation."""

    id: str
    time: float
    amount: float
    state: int
    evid: int
    rate: float  # 0 for a bolus
    duration: float  # 0 for a bolus
    additional: int
    interval: float

    @classmethod
    def parse(cls, path: Path, row: int, values: pd.Series, model: ModelDefinition) -> Record:
        fail = row_failure(path, row, values)

        def number(column: str, default: float | None = None) -> float:
            return _number(values, column, fail, default)

        time = number("TIME")
        if not 0 <= time <= MAX_DAY:
            fail("TIME", f"expected a time from 0 to {MAX_DAY:g} (days from the start)")
        amount = number("AMT", 0.0)
        if amount < 0:
            fail("AMT", "expected an amount >= 0 (> 0 for a dose)")
        evid = number("EVID", 1.0 if amount > 0 else 0.0)
        if evid not in (0, 1, 2):
            fail(
                "EVID",
                "expected 0 (observation), 1 (dose) or 2 (other); resets (3, 4) are not supported",
            )
        if evid != 1:
            return cls(_identifier(values), time, 0.0, 0, int(evid), 0.0, 0.0, 0, 0.0)
        if amount <= 0:
            fail("AMT", "expected an amount > 0 for a dose (EVID 1)")
        state = _state(values.get("CMT"), model, fail)
        rate = number("RATE", 0.0)
        duration = number("DUR", 0.0)
        if rate == -2 or (rate == 0 and duration > 0):
            if duration <= 0:
                fail("DUR", "expected a duration > 0 (days) for RATE = -2")
            rate = amount / duration
        elif rate > 0 and duration > 0:  # both given (as fmsim writes them): kept exactly
            if not np.isclose(rate * duration, amount, rtol=1e-9, atol=0.0):
                fail("DUR", f"expected AMT / RATE = {amount / rate:g} days (or DUR empty)")
        elif rate > 0:
            duration = amount / rate
        elif rate != 0:
            fail(
                "RATE",
                "expected 0 (bolus), a rate > 0 or -2 (duration from DUR); modelled "
                "rates (-1) are not supported",
            )
        additional = number("ADDL", 0.0)
        if additional < 0 or additional != int(additional):
            fail("ADDL", "expected a whole number >= 0")
        interval = number("II", 0.0)
        if additional > 0 and interval <= 0:
            fail("II", "expected an interval > 0 (days) with ADDL > 0")
        if time + additional * interval > MAX_DAY:
            fail("ADDL", f"expected the last additional dose by day {MAX_DAY:g} (TIME + ADDL x II)")
        return cls(
            _identifier(values), time, amount, state, 1, rate, duration, int(additional), interval
        )

    def doses(self) -> list[tuple[float, int, float, float]]:
        """(time, state, amount or rate, duration) of this dose and its additional doses."""
        value = self.rate if self.duration else self.amount
        return [
            (self.time + k * self.interval, self.state, value, self.duration)
            for k in range(self.additional + 1)
        ]


#: The human model's dosing states and the therapy block a dose into each one is: (type, route).
THERAPY_STATES = {
    "inhibitor_depot": ("fcrn_inhibitor", "sc"),
    "inhibitor_central": ("fcrn_inhibitor", "iv"),
    "anti_cd20_central": ("anti_cd20", "iv"),
    "ivig_plasma": ("ivig", "iv"),
}


def therapy_protocol_data(
    path: str | Path, model: ModelDefinition, per_patient: str = "`fmsim therapies --events`"
) -> dict:
    """A therapy course given as an event table for every patient (no ID column, or one ID),
    as the mapping of a therapy protocol (:mod:`fmsim.config.therapy`) named after the file.

    Each dose record becomes an administration of a therapy block: CMT ``inhibitor_depot``
    an s.c. FcRn inhibitor, ``inhibitor_central`` an i.v. FcRn inhibitor, ``anti_cd20_central``
    an anti-CD20 antibody, ``ivig_plasma`` IVIG (i.v. doses are infusions: RATE > 0 or DUR).
    A ``DRUG`` column names the library entry (``fmsim drugs list``; IVIG defaults to
    ``ivig``). Records with the same drug, amount and infusion length form one block with
    their days; AMT is mg per patient. Session records (EVID 2 into ``igg_plasma`` with PV or
    VOL) become plasma-exchange or immunoadsorption blocks. EventTableError names file, row,
    column and value; ``per_patient`` says where per-patient tables are accepted instead."""
    path = Path(path)
    frame = records_frame(path, (*COLUMNS, *THERAPY_COLUMNS))
    blocks: dict[tuple, list[float]] = {}
    first_id: str | None = None
    for row, values in frame.iterrows():
        line = row + 2
        record = Record.parse(path, line, values, model)
        if first_id is None:
            first_id = record.id
        elif record.id != first_id:
            raise EventTableError(
                f"{path}:{line}: column ID: value {record.id!r}: expected one course for every "
                f"patient (the ID of row 2, {first_id!r}, or no ID column); per-patient "
                f"tables (ID = patient number): {per_patient}"
            )
        session = session_record(path, line, values, record, model)
        if session is not None:
            if session.fraction is not None:
                row_failure(path, line, values)(
                    "FRAC",
                    "a fraction removed is a per-patient result; for every patient give PV "
                    "(plasma volumes) or VOL (mL) per session",
                )
            key = ("session", *sorted(session.block().items()))
            _add_day(blocks.setdefault(key, []), session.time, path, line, "session")
            continue
        if record.evid != 1:
            continue
        blocks_key = _therapy_key(path, line, values, record, model)
        for time, *_ in record.doses():
            _add_day(blocks.setdefault(blocks_key, []), time, path, line, "dose of the same drug")
    if not blocks:
        raise EventTableError(
            f"{path}: no dose records (EVID 1 with AMT > 0) or sessions (EVID 2 with PV or VOL)"
        )
    therapies = []
    for key, days in blocks.items():
        if key[0] == "session":
            therapies.append({**dict(key[1:]), "days": sorted(days)})
            continue
        kind, drug, route, amount, hours = key
        block = {"type": kind, "drug": drug, "route": route, "dose": f"{amount!r} mg"}
        if hours is not None:
            block["infusion_hours"] = hours
        therapies.append({**block, "days": sorted(days)})
    return {"name": path.stem, "therapies": therapies}


def _add_day(days: list[float], time: float, path: Path, line: int, what: str) -> None:
    if time in days:
        raise EventTableError(
            f"{path}:{line}: column TIME: value {time:g}: a second {what} on the same day; "
            "give one record (with the total AMT)"
        )
    days.append(time)


def events_field(data: dict, origin: str | Path, where: str = "events") -> Path | None:
    """Remove the ``events`` entry (a file name, relative to the configuration file
    ``origin``) from a configuration mapping ``data`` and return the file (None without one);
    ConfigError naming ``origin`` and ``where`` if it is not a file name."""
    if "events" not in data:
        return None
    value = data.pop("events")
    if not isinstance(value, str) or not value.strip():
        raise EventTableError(
            f"{origin}: {where}: got {value!r}: expected the file name of an event table "
            "(CSV or .xlsx, relative to this file)"
        )
    path = Path(value.strip())
    return path if path.is_absolute() else Path(origin).parent / path


def _therapy_key(
    path: Path, line: int, values: pd.Series, record: Record, model: ModelDefinition
) -> tuple:
    """(type, drug, route, amount, infusion hours) of a dose record; EventTableError if the
    record is not a therapy a protocol block can give."""

    def fail(column: str, expected: str):
        raise EventTableError(
            f"{path}:{line}: column {column}: value {values.get(column)!r}: {expected}"
        )

    state = model.states[record.state]
    if state not in THERAPY_STATES:
        fail("CMT", f"expected a therapy's dosing state: {', '.join(THERAPY_STATES)}")
    kind, route = THERAPY_STATES[state]
    if route == "iv" and not record.duration:
        fail("RATE", f"expected an infusion into {state} (RATE > 0, or DUR > 0 with RATE -2)")
    if route == "sc" and record.duration:
        fail("RATE", f"expected a bolus (RATE 0) into {state} (s.c. dose)")
    drug = values.get("DRUG")
    drug = "" if drug is None or (isinstance(drug, float) and np.isnan(drug)) else str(drug)
    drug = drug.strip() or ("ivig" if kind == "ivig" else "")
    if not drug:
        fail("DRUG", f"expected the library entry of the {kind} dosed (fmsim drugs list)")
    hours = record.duration * 24.0 if record.duration else None
    return kind, drug, route, record.amount, hours


def row_failure(path: Path, row: int, values: pd.Series):
    """``fail(column, expected)``: raise EventTableError naming file, row, column and value."""

    def fail(column: str, expected: str):
        raise EventTableError(
            f"{path}:{row}: column {column}: value {values.get(column)!r}: {expected}"
        )

    return fail


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""


def _number(values: pd.Series, column: str, fail, default: float | None = None) -> float:
    """The number in ``column`` (``default`` when empty; ``fail`` when required or invalid)."""
    value = values.get(column)
    if _blank(value):
        if default is None:
            fail(column, "expected a number")
        return default
    try:
        result = float(str(value).strip())
    except ValueError:
        fail(column, "expected a number")
    if not np.isfinite(result):
        fail(column, "expected a finite number")
    return result


def cell_text(values: pd.Series, column: str) -> str:
    """The text of a cell ('' when empty)."""
    value = values.get(column)
    return "" if _blank(value) else str(value).strip()


@dataclass(frozen=True)
class SessionRecord:
    """A plasma-exchange or immunoadsorption session (an EVID 2 record of a therapy table):
    ``entry`` the procedure or column, ``fluid`` a replacement fluid ('' = the procedure's),
    and one of ``fraction`` removed, ``plasma_volumes`` or ``volume_ml``; ``hours`` the session
    length (None = the entry's)."""

    time: float
    entry: str
    fluid: str
    fraction: float | None
    plasma_volumes: float | None
    volume_ml: float | None
    hours: float | None

    @property
    def kind(self) -> str:
        return "plasma_exchange" if self.entry == PLASMA_EXCHANGE else "immunoadsorption"

    def block(self) -> dict:
        """The session as a therapy-protocol block (without its days); ValueError for a
        session given as a fraction removed (a per-patient result, no protocol field)."""
        if self.fraction is not None:
            raise ValueError("FRAC")
        block: dict = {"type": self.kind}
        if self.kind == "immunoadsorption":
            block["column"] = self.entry
        elif self.fluid:
            block["fluid"] = self.fluid
        if self.plasma_volumes is not None:
            block["plasma_volumes"] = self.plasma_volumes
        else:
            block["volume"] = f"{self.volume_ml!r} mL"
        if self.hours is not None:
            block["session_hours"] = self.hours
        return block


def session_record(
    path: Path, row: int, values: pd.Series, record: Record, model: ModelDefinition
) -> SessionRecord | None:
    """The session an EVID 2 row of a therapy table gives (None: not a session, i.e. none of
    FRAC, PV, VOL); EventTableError naming file, row, column and value if it is malformed."""
    given = [c for c in ("FRAC", "PV", "VOL") if not _blank(values.get(c))]
    if record.evid != 2 or not given:
        return None
    fail = row_failure(path, row, values)
    if len(given) > 1:
        fail(given[1], f"expected one of FRAC, PV or VOL per session, got {' and '.join(given)}")
    if SESSION_STATE not in model.states:
        fail("EVID", f"sessions (EVID 2 with {given[0]}) apply to the human model only")
    if _state(values.get("CMT"), model, fail) != model.index(SESSION_STATE):
        fail("CMT", f"expected {SESSION_STATE} (compartment {model.index(SESSION_STATE) + 1}) "
             "for a plasma-exchange or immunoadsorption session")  # fmt: skip
    value = _number(values, given[0], fail)
    if given[0] == "FRAC" and not 0 < value < 1:
        fail("FRAC", "expected the fraction of plasma removed, between 0 and 1 (exclusive)")
    if given[0] == "PV" and not 0 < value <= MAX_PLASMA_VOLUMES:
        fail("PV", f"expected plasma volumes per session > 0 and <= {MAX_PLASMA_VOLUMES:g}")
    if given[0] == "VOL" and not 0 < value <= MAX_VOLUME_ML:
        fail("VOL", f"expected a volume per session > 0 and <= {MAX_VOLUME_ML:g} mL")
    fraction, plasma_volumes, volume = (
        value if given[0] == c else None for c in ("FRAC", "PV", "VOL")
    )
    if _number(values, "ADDL", fail, 0.0) != 0:
        fail("ADDL", "expected one record per session (ADDL and II repeat doses only)")
    duration = _number(values, "DUR", fail, 0.0)
    if not 0 <= duration <= 1:
        fail("DUR", "expected a session length > 0 and <= 1 day (or empty: the entry's)")
    entry = cell_text(values, "DRUG") or PLASMA_EXCHANGE
    fluid = cell_text(values, "FLUID")
    if fluid and entry != PLASMA_EXCHANGE:
        fail("FLUID", f"a replacement fluid applies to plasma exchange, not column {entry!r}")
    hours = duration * 24.0 if duration else None
    return SessionRecord(record.time, entry, fluid, fraction, plasma_volumes, volume, hours)


def _identifier(values: pd.Series) -> str:
    value = values.get("ID")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def _state(value, model: ModelDefinition, fail) -> int:
    text = "" if value is None else str(value).strip()
    if text in model.states:
        return model.states.index(text)
    try:
        number = float(text)
    except ValueError:
        fail(
            "CMT",
            f"expected a state of {model.name} by name or number (1-{model.n_states}): "
            f"{', '.join(model.states)}",
        )
    if number != int(number) or not 1 <= number <= model.n_states:
        numbered = ", ".join(f"{k} {state}" for k, state in enumerate(model.states, start=1))
        fail("CMT", f"expected a compartment number 1-{model.n_states} of {model.name}: {numbered}")
    return int(number) - 1


def _events(doses: list[Record], ids: list[str], per_subject: bool) -> list[Event]:
    """Engine events: one per (time, state) for boluses and per (start, stop, state) for
    infusions, with one value per subject (zero for subjects without it)."""
    n = len(ids)
    boluses: dict[tuple[float, int], np.ndarray] = {}
    infusions: dict[tuple[float, float, int], np.ndarray] = {}
    for record in doses:
        subject = ids.index(record.id) if per_subject else 0
        for time, state, value, duration in record.doses():
            if duration:
                key = (time, time + duration, state)
                infusions.setdefault(key, np.zeros(n))[subject] += value
            else:
                boluses.setdefault((time, state), np.zeros(n))[subject] += value
    events: list[Event] = []
    for (time, state), amounts in sorted(boluses.items()):
        events.append(Bolus(time, state, amounts if per_subject else float(amounts[0])))
    for (start, stop, state), rates in sorted(infusions.items()):
        events.append(Infusion(start, stop, state, rates if per_subject else float(rates[0])))
    return events


def records_frame(path: Path, known: Sequence[str]) -> pd.DataFrame:
    """The table with the ``known`` columns named in upper case; EventTableError if a
    required column is missing."""
    frame = _read_frame(path)
    columns = {str(c).strip().upper(): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        optional = [c for c in known if c not in REQUIRED]
        raise EventTableError(
            f"{path}: missing column(s) {missing}; an event table needs {list(REQUIRED)} "
            f"(optional: {', '.join(optional)})"
        )
    return frame.rename(columns={v: k for k, v in columns.items() if k in known})


def _read_frame(path: Path) -> pd.DataFrame:
    """The table as text cells: Excel, or CSV in any encoding fmsim reads (UTF-8/16, Latin-1)
    separated by commas, semicolons or tabs (the most frequent in the header)."""
    if not path.is_file():
        raise EventTableError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str)
        text = read_text_file(path, "CSV event table", MAX_FILE_BYTES)
        header = text.lstrip("\r\n").split("\n", 1)[0]
        separator = max((",", ";", "\t"), key=header.count)
        return pd.read_csv(io.StringIO(text), sep=separator, dtype=str, skipinitialspace=True)
    except TextFileError as error:
        raise EventTableError(str(error)) from None
    except (ValueError, OSError, pd.errors.ParserError, zipfile.BadZipFile) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EventTableError(f"{path}: cannot read as a table: {first}") from None


def event_table(
    events: Sequence[Event], model: ModelDefinition, ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Events as a NONMEM-style table (ID, TIME, AMT, RATE, DUR, CMT, EVID): boluses with
    RATE 0, infusions with their rate and duration; one row per subject with a non-zero value
    (``ids`` name the subjects; None: one subject ``1`` for events with scalar values).
    Removals (plasma exchange, immunoadsorption) have no form in this convention: ValueError."""
    rows = []
    for event in events:
        if isinstance(event, Removal):
            raise ValueError(
                f"a removal at day {event.time:g} (plasma exchange or immunoadsorption) has no "
                "NONMEM event-table form; keep such therapies in a protocol file"
            )
        value = event.amount if isinstance(event, Bolus) else event.rate
        values = np.atleast_1d(np.asarray(value, dtype=float))
        names = list(ids) if ids is not None else [str(k + 1) for k in range(values.size)]
        values = np.broadcast_to(values, (len(names),))
        for name, v in zip(names, values, strict=True):
            if v == 0:
                continue
            if isinstance(event, Bolus):
                rows.append((name, event.time, v, 0.0, 0.0, model.states[event.state]))
            else:
                duration = event.stop - event.start
                rows.append(
                    (name, event.start, v * duration, v, duration, model.states[event.state])
                )
    frame = pd.DataFrame(rows, columns=["ID", "TIME", "AMT", "RATE", "DUR", "CMT"])
    frame["EVID"] = 1
    return frame.sort_values(["ID", "TIME"], kind="stable", key=_natural).reset_index(drop=True)


def _natural(column: pd.Series) -> pd.Series:
    """Sort IDs numerically when they are numbers."""
    numeric = pd.to_numeric(column, errors="coerce")
    return numeric if numeric.notna().all() else column


def nonmem_dataset(
    model: ModelDefinition,
    times: Sequence[float],
    states: np.ndarray,
    events: Sequence[Event],
    observed: Sequence[str],
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Simulated states as a NONMEM-style data set: the dose records of ``events`` (EVID 1,
    MDV 1) and one observation record (EVID 0, MDV 0, DV = the state's value, CMT = its name)
    per subject, output time and ``observed`` state; ``states`` is the engine's
    (n_times, n_states, n_subjects) array, outputs before the events of their time."""
    n = states.shape[2]
    names = list(ids) if ids is not None else [str(k + 1) for k in range(n)]
    observations = [
        pd.DataFrame(
            {
                "ID": np.tile(names, len(times)),
                "TIME": np.repeat(np.asarray(times, dtype=float), n),
                "CMT": state,
                "DV": states[:, model.index(state), :].reshape(-1),
            }
        )
        for state in observed
    ]
    return nonmem_data(model, events, names, pd.concat(observations, ignore_index=True))


def nonmem_data(
    model: ModelDefinition,
    events: Sequence[Event],
    ids: Sequence[str],
    observations: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A NONMEM-style data set: the dose records of ``events`` (EVID 1, MDV 1; values per
    subject in the order of ``ids``) and the ``observations`` (columns ID, TIME, CMT, DV and
    any others, e.g. DVID naming the quantity; EVID 0, MDV 0), sorted by ID and TIME with an
    observation before a dose at the same time (fmsim reports states before the events of an
    output time). ``covariates`` (one row per ID) add their columns to every record."""
    return nonmem_records(event_table(events, model, list(ids)), observations, covariates)


#: Order of the records of one subject at one time: observations (pre-event, as fmsim reports
#: them), sessions (EVID 2; removals come before doses in fmsim's engine), then doses.
_RECORD_ORDER = {0: 0, 2: 1, 1: 2}


def nonmem_records(
    records: pd.DataFrame,
    observations: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """A NONMEM-style data set of dose and session ``records`` (columns ID, TIME, AMT, RATE,
    DUR, CMT, EVID and any others; MDV 1) and ``observations`` (ID, TIME, CMT, DV ...; EVID 0,
    MDV 0), with the ``covariates`` (one row per ID) on every record; sorted by the ``by``
    columns (in their order of appearance), ID and TIME, at one time observations first."""
    doses = records.assign(DV=np.nan, MDV=1)
    observed = observations.assign(AMT=0.0, RATE=0.0, DUR=0.0, EVID=0, MDV=0)
    frame = pd.concat([doses, observed], ignore_index=True)
    columns = ["ID", "TIME", "AMT", "RATE", "DUR", "CMT", "EVID", "DV", "MDV"]
    frame = frame[[*columns, *[c for c in frame.columns if c not in columns]]]
    if covariates is not None:
        frame = frame.merge(covariates, on="ID", how="left", validate="many_to_one")
    order = {c: {v: k for k, v in enumerate(dict.fromkeys(frame[c]))} for c in by}

    def key(column: pd.Series) -> pd.Series:
        if column.name in order:
            return column.map(order[column.name])
        return column.map(_RECORD_ORDER) if column.name == "EVID" else _natural(column)

    return frame.sort_values([*by, "ID", "TIME", "EVID"], kind="stable", key=key).reset_index(
        drop=True
    )


def protocol_event_table(protocol) -> pd.DataFrame:
    """A therapy protocol (:class:`fmsim.config.therapy.TherapyProtocol`) as an event table
    for every patient, which :func:`therapy_protocol_data` reads back to the same blocks:
    doses (mg per patient; i.v. infusions with RATE mg/day and DUR days, s.c. boluses) with
    their DRUG, and sessions as EVID 2 records into ``igg_plasma`` with PV or VOL, DRUG (the
    procedure or column) and FLUID. ValueError for a dose per weight or body surface area
    (per-patient amounts: write the run's NONMEM data set instead)."""
    rows = []
    for block in protocol.therapies:
        for day in block.schedule():
            row = {"TIME": day, "AMT": 0.0, "RATE": 0.0, "DUR": 0.0}
            if block.type in ("plasma_exchange", "immunoadsorption"):
                volumes, volume = block.plasma_volumes, block.volume_ml()
                fluid = (block.fluid if block.type == "plasma_exchange" else None) or ""
                row |= {"CMT": SESSION_STATE, "EVID": 2, "DRUG": block.entry.name,
                        "PV": np.nan if volumes is None else volumes,
                        "VOL": np.nan if volume is None else volume, "FLUID": fluid}  # fmt: skip
                if block.session_hours is not None:
                    row["DUR"] = block.session_hours / 24.0
            elif block.type != "placebo":
                value, unit = block.dose_quantity()
                if unit != "mg":
                    raise ValueError(
                        f"{block.type} {block.entry.name}: a dose of {block.dose} differs per "
                        "patient; an event table for every patient needs mg"
                    )
                state = next(s for s, (k, r) in THERAPY_STATES.items()
                             if k == block.type and r == block.route_of())  # fmt: skip
                row |= {"AMT": value, "CMT": state, "EVID": 1, "DRUG": block.entry.name}
                if block.route_of() == "iv":
                    row["DUR"] = block.hours() / 24.0
                    row["RATE"] = value / row["DUR"]
            else:
                continue
            rows.append(row)
    columns = ["TIME", "AMT", "RATE", "DUR", "CMT", "EVID", "DRUG", "PV", "VOL", "FLUID"]
    return pd.DataFrame(rows).reindex(columns=columns).sort_values("TIME", kind="stable")
