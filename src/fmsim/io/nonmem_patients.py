"""Per-patient therapy tables of the human model: the records of a NONMEM-style data set (as
``fmsim therapies --nonmem`` and ``fmsim trial --nonmem`` write it) for the virtual patients.

The virtual patients are sampled, so a table names them by number: ``ID`` n is the n-th
patient sampled for the run's seed (1-based; the ``patient`` column of the run's tables + 1).
Each row is a record of :mod:`fmsim.io.event_table`: a dose (EVID 1; ``DRUG`` names the library
entry of an FcRn inhibitor or anti-CD20 antibody, one of each per course), a plasma-exchange or
immunoadsorption session (EVID 2 into ``igg_plasma`` with FRAC, PV or VOL), or an observation
(EVID 0; it only names the patient). A ``THERAPY`` column splits the table into one course per
value (as ``fmsim therapies --nonmem`` writes every protocol into one data set); an ``ARM``
column states the arm each patient was randomised to, which ``fmsim trial`` checks.

:func:`read_patient_tables` returns :class:`PatientTable` objects; turning them into engine
events for a population is :mod:`fmsim.experiments.patient_courses`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fmsim.io.event_table import (
    COLUMNS,
    THERAPY_COLUMNS,
    THERAPY_STATES,
    EventTableError,
    SessionRecord,
    _failure,
    _Record,
    _records_frame,
    _text,
    session_record,
)
from fmsim.model.definition import ModelDefinition

#: Columns naming the course (``fmsim therapies``) and the arm (``fmsim trial``) of a record.
COURSE_COLUMNS = ("THERAPY", "ARM")


@dataclass(frozen=True)
class Dose:
    """A dose record of one patient: ``value`` mg (bolus) or mg/day (infusion lasting
    ``duration`` days), into ``state``; ``drug`` the library entry ('' if not given)."""

    row: int
    patient: int
    time: float
    state: int
    value: float
    duration: float
    drug: str


@dataclass(frozen=True)
class Session:
    """A plasma-exchange or immunoadsorption session of one patient."""

    row: int
    patient: int
    record: SessionRecord


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class PatientTable:
    """One course given per patient: ``patients`` (numbers, 1-based, in order of first
    appearance; observation records name patients too), ``rows`` (the row, header = 1, where
    each first appears), their ``doses`` and ``sessions``, ``arms`` (patient -> (ARM, row)
    where the table has an ARM column) and ``drugs`` (class -> (entry, row) of the FcRn
    inhibitor and the anti-CD20 antibody the doses name)."""

    source: str
    name: str
    patients: tuple[int, ...]
    rows: tuple[int, ...]
    doses: tuple[Dose, ...]
    sessions: tuple[Session, ...]
    arms: dict[int, tuple[str, int]]
    drugs: dict[str, tuple[str, int]]

    def check_patients(self, n: int, who: str) -> None:
        """EventTableError (file, row, ID) for a patient number above ``n``; ``who`` says
        which patients the numbers count (e.g. "virtual patient sampled with seed 2024")."""
        for patient, row in zip(self.patients, self.rows, strict=True):
            if patient > n:
                raise EventTableError(
                    f"{self.source}:{row}: column ID: value '{patient}': expected a patient "
                    f"number from 1 to {n} (the n-th {who})"
                )

    def first_row(self, patient: int) -> int:
        return self.rows[self.patients.index(patient)]


def is_per_patient(path: str | Path) -> bool:
    """Whether the table at ``path`` gives records per patient: several IDs, or a THERAPY or
    ARM column. EventTableError if it cannot be read."""
    frame = _records_frame(Path(path), (*COLUMNS, *THERAPY_COLUMNS, *COURSE_COLUMNS))
    if any(c in frame.columns for c in COURSE_COLUMNS):
        return True
    return "ID" in frame.columns and frame["ID"].dropna().astype(str).str.strip().nunique() > 1


def read_patient_tables(path: str | Path, model: ModelDefinition) -> list[PatientTable]:
    """The courses of a per-patient table (one per THERAPY value, in order of appearance;
    without that column one named after the file); EventTableError names the first problem
    (file, row with the header as row 1, column, value, expectation)."""
    path = Path(path)
    frame = _records_frame(path, (*COLUMNS, *THERAPY_COLUMNS, *COURSE_COLUMNS))
    if "ID" not in frame.columns:
        raise EventTableError(
            f"{path}: missing column ID: a per-patient table names each patient by number "
            "(ID n = the n-th virtual patient sampled)"
        )
    frame.index = frame.index + 2  # rows as in the file, header = row 1
    if "THERAPY" not in frame.columns:
        return [_patient_table(path, path.stem, frame, model)]
    names = frame["THERAPY"].fillna("").astype(str).str.strip()
    blank = names[names == ""]
    if len(blank):
        raise EventTableError(
            f"{path}:{blank.index[0]}: column THERAPY: value '': expected the course's name"
        )
    return [
        _patient_table(path, name, frame[names == name], model) for name in dict.fromkeys(names)
    ]


def _patient_table(
    path: Path, name: str, frame: pd.DataFrame, model: ModelDefinition
) -> PatientTable:
    evid = frame["EVID"].astype(str).str.strip() if "EVID" in frame.columns else None
    first: dict[int, int] = {}
    doses: list[Dose] = []
    sessions: list[Session] = []
    arms: dict[int, tuple[str, int]] = {}
    drugs: dict[str, tuple[str, int]] = {}
    for row, values in frame.iterrows():
        fail = _failure(path, row, values)
        patient = _patient(values, fail)
        first.setdefault(patient, row)
        if "ARM" in frame.columns:
            _arm(arms, patient, _text(values, "ARM"), row, fail)
        if evid is not None and evid[row] in ("0", "0.0"):
            continue  # an observation: only names the patient (checked cheaply)
        record = _Record.parse(path, row, values, model)
        session = session_record(path, row, values, record, model)
        if session is not None:
            sessions.append(Session(row, patient, session))
            continue
        if record.evid != 1:
            continue
        drug = _text(values, "DRUG")
        kind = THERAPY_STATES.get(model.states[record.state], ("", ""))[0]
        if kind in ("fcrn_inhibitor", "anti_cd20"):
            if not drug:
                fail("DRUG", f"expected the library entry of the {kind} dosed (fmsim drugs list)")
            named, where = drugs.setdefault(kind, (drug, row))
            if named != drug:
                fail("DRUG", f"expected one {kind} per course ({named!r} from row {where})")
        for time, state, value, duration in record.doses():
            doses.append(Dose(row, patient, time, state, value, duration, drug))
    if not doses and not sessions:
        raise EventTableError(
            f"{path}: course {name!r}: no dose records (EVID 1 with AMT > 0) or sessions "
            "(EVID 2 with FRAC, PV or VOL)"
        )
    return PatientTable(
        str(path), name, tuple(first), tuple(first.values()), tuple(doses), tuple(sessions),
        arms, drugs,
    )  # fmt: skip


def _patient(values: pd.Series, fail) -> int:
    text = _text(values, "ID")
    text = text[:-2] if text.endswith(".0") else text
    if not text.isdigit() or int(text) < 1:
        fail("ID", "expected a patient number 1, 2, ... (ID n = the n-th virtual patient sampled)")
    return int(text)


def _arm(arms: dict, patient: int, arm: str, row: int, fail) -> None:
    if not arm:
        fail("ARM", "expected the arm the patient is randomised to (or no ARM column)")
    named, where = arms.setdefault(patient, (arm, row))
    if named != arm:
        fail("ARM", f"patient {patient} is in arm {named!r} on row {where}")


def patient_numbers(n: int) -> np.ndarray:
    """The IDs of ``n`` sampled patients: 1..n."""
    return np.arange(1, n + 1)


def patient_positions(table: PatientTable, numbers: Sequence[int]) -> dict[int, int]:
    """Position in ``numbers`` (the IDs of a population's patients) of each patient of the
    table that is among them."""
    position = {int(number): k for k, number in enumerate(numbers)}
    return {p: position[p] for p in table.patients if p in position}


#: Largest NONMEM-style data set written (records; about 150 bytes each as CSV).
MAX_DATASET_ROWS = 2_000_000


def check_dataset_size(rows: float, what: str, split: str) -> None:
    """ValueError if a data set of ``rows`` records (``what``, e.g. "200 patients x 183 days x
    3 outputs") is larger than :data:`MAX_DATASET_ROWS`; ``split`` says how to make it
    smaller."""
    if rows > MAX_DATASET_ROWS:
        raise ValueError(
            f"{what} is about {rows:,.0f} records, more than the {MAX_DATASET_ROWS:,} a "
            f"NONMEM-style data set is limited to; {split}"
        )
