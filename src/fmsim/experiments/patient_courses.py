"""What each virtual patient received, per patient: therapy courses read from per-patient
NONMEM-style tables (:mod:`fmsim.io.nonmem_patients`) turned into engine events, and the dose
and session records of any course written back as NONMEM-style records.

Patients are numbered as the tables number them: ID n is the n-th patient of the population
(1-based, in the order of sampling). A per-patient course gives each patient it names exactly
its records (mg per patient as given; sessions by the fraction removed, or by plasma volumes /
volume through the same formulas as a protocol block, :func:`fmsim.experiments.therapy.
session_fraction`); patients it does not name receive nothing from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fmsim.config import ConfigError
from fmsim.config.therapy import EXTRACORPOREAL, TherapyBlock, TherapyProtocol, parse_protocol
from fmsim.engine import Bolus, Event, Infusion, Removal
from fmsim.experiments import therapy as th
from fmsim.io.event_table import SESSION_STATE, THERAPY_STATES, EventTableError
from fmsim.io.nonmem_patients import PatientTable, patient_positions
from fmsim.model.drugs import DrugLibrary
from fmsim.model.human import HUMAN_MODEL, PLASMA_STATES

#: Record columns of the NONMEM-style data sets fmsim writes for the human model.
RECORD_COLUMNS = ["ID", "TIME", "AMT", "RATE", "DUR", "CMT", "EVID", "DRUG", "FRAC", "FLUID"]
_IVIG = HUMAN_MODEL.index("ivig_plasma")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class PatientCourse:
    """A course given per patient (``table``), with ``protocol``: a summary protocol (one
    block per drug with its largest dose and every day any patient was dosed; one per session
    kind) that gives the drug slots, the therapy class and the report's description, and
    validates doses against the library's plausible maximum. ``session_blocks`` are the
    library-resolved blocks of sessions given by plasma volumes or volume."""

    table: PatientTable
    protocol: TherapyProtocol
    session_blocks: dict[tuple, TherapyBlock] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name


def patient_course(table: PatientTable, library: DrugLibrary | None = None) -> PatientCourse:
    """The course of ``table``, checked against the drug ``library`` (ConfigError naming the
    file: an unknown or misplaced drug, a dose above the plausible maximum ...)."""
    summary: dict[tuple, dict] = {}
    for dose in table.doses:
        state = HUMAN_MODEL.states[dose.state]
        if state == "ivig_plasma" and not dose.duration:
            continue  # IgG returned by a replacement fluid (with its session)
        if state not in THERAPY_STATES:
            raise EventTableError(
                f"{table.source}:{dose.row}: column CMT: value {state!r}: expected a therapy's "
                f"dosing state: {', '.join(THERAPY_STATES)}"
            )
        kind, route = THERAPY_STATES[state]
        drug = dose.drug or ("ivig" if kind == "ivig" else "")
        block = summary.setdefault(
            (kind, drug, route), {"type": kind, "drug": drug, "route": route, "days": set()}
        )
        amount = dose.value * dose.duration if dose.duration else dose.value
        block["amount"] = max(block.get("amount", 0.0), amount)
        if dose.duration:
            block["infusion_hours"] = max(block.get("infusion_hours", 0.0), 24.0 * dose.duration)
        block["days"].add(dose.time)
    specs = {}
    for session in table.sessions:
        record = session.record
        block = summary.setdefault(
            ("session", record.entry, record.fluid), {**_session_summary(record), "days": set()}
        )
        block["days"].add(record.time)
        if record.fraction is None:
            specs.setdefault(_spec(record), {**record.block(), "days": [0.0]})
    blocks = [_summary_block(block) for block in summary.values()]
    origin = f"{table.source} (course {table.name!r})"
    session_blocks = {}
    try:
        protocol = parse_protocol({"name": table.name, "therapies": blocks}, origin, library)
        if specs:
            parsed = parse_protocol(
                {"name": table.name, "therapies": list(specs.values())}, origin, library
            )
            session_blocks = dict(zip(specs, parsed.therapies, strict=True))
    except ConfigError as error:
        raise EventTableError(str(error).splitlines()[0]) from None
    return PatientCourse(table, protocol, session_blocks)


def _spec(record) -> tuple:
    return tuple(sorted(record.block().items()))


def _session_summary(record) -> dict:
    block: dict = {"type": record.kind}
    if record.kind == "immunoadsorption":
        block["column"] = record.entry
    elif record.fluid:
        block["fluid"] = record.fluid
    if record.fraction is not None:  # the plasma volumes that remove this fraction
        block["plasma_volumes"] = min(5.0, -math.log1p(-record.fraction))
        if record.kind == "immunoadsorption":
            block["column_efficiency"] = 1.0
    elif record.plasma_volumes is not None:
        block["plasma_volumes"] = record.plasma_volumes
    else:
        block["volume"] = f"{record.volume_ml!r} mL"
    return block


def _summary_block(block: dict) -> dict:
    days = sorted(block.pop("days"))
    block["days"] = days
    if block["type"] in EXTRACORPOREAL:
        gaps = np.diff(days)
        if gaps.size and gaps.min() < 1.0:  # sessions of different patients: no overlap
            block["session_hours"] = 24.0 * float(gaps.min())
        return block
    amount = block.pop("amount")
    block["dose"] = f"{amount!r} mg"
    return block


def course_events(
    course: PatientCourse, population: th.Population, numbers: Sequence[int]
) -> list[Event]:
    """Engine events of ``course`` for ``population`` whose patients have the IDs ``numbers``
    (one value per patient; zero for patients the table does not name)."""
    table, n = course.table, population.n
    position = patient_positions(table, numbers)
    boluses: dict[tuple, np.ndarray] = {}
    infusions: dict[tuple, np.ndarray] = {}
    removals: dict[float, np.ndarray] = {}
    for dose in table.doses:
        if dose.patient not in position:
            continue
        if dose.duration:
            key = (dose.time, dose.time + dose.duration, dose.state)
            infusions.setdefault(key, np.zeros(n))[position[dose.patient]] += dose.value
        else:
            boluses.setdefault((dose.time, dose.state), np.zeros(n))[position[dose.patient]] += (
                dose.value
            )
    computed = {
        spec: _session_values(block, population) for spec, block in course.session_blocks.items()
    }
    for session in table.sessions:
        if session.patient not in position:
            continue
        k, record = position[session.patient], session.record
        fractions = removals.setdefault(record.time, np.zeros(n))
        if fractions[k]:
            raise EventTableError(
                f"{table.source}:{session.row}: column TIME: value {record.time:g}: patient "
                f"{session.patient} has a second session at this time"
            )
        if record.fraction is not None:
            fractions[k] = record.fraction
            continue
        fraction, returned = computed[_spec(record)]
        fractions[k] = fraction[k]
        if returned is not None and returned[k]:
            boluses.setdefault((record.time, _IVIG), np.zeros(n))[k] += returned[k]
    events: list[Event] = [Removal(t, PLASMA_STATES, f) for t, f in sorted(removals.items())]
    events += [Bolus(t, s, a) for (t, s), a in sorted(boluses.items())]
    events += [Infusion(a, b, s, r) for (a, b, s), r in sorted(infusions.items())]
    return events


def _session_values(block: TherapyBlock, population: th.Population):
    """Per patient: the fraction one session of ``block`` removes, and the donor IgG (mg) its
    replacement fluid returns (None without)."""
    events = th.protocol_events(TherapyProtocol(name="session", therapies=[block]), population)
    returned = next((e.amount for e in events if isinstance(e, Bolus)), None)
    return np.broadcast_to(events[0].fraction, (population.n,)), returned


def protocol_records(
    protocol: TherapyProtocol, population: th.Population, numbers: Sequence[int]
) -> pd.DataFrame:
    """The dose and session records (:data:`RECORD_COLUMNS`) each patient of ``population``
    (IDs ``numbers``) receives under ``protocol``: doses in mg per patient (i.v. infusions
    with RATE mg/day and DUR days), sessions as EVID 2 records into ``igg_plasma`` with the
    fraction removed (FRAC), the entry (DRUG) and a plasma exchange's FLUID; IgG returned by a
    replacement fluid as a bolus into ``ivig_plasma``."""
    frames = []
    for block in protocol.therapies:
        if block.type == "placebo":
            continue
        single = TherapyProtocol(name=protocol.name, therapies=[block])
        events = th.protocol_events(single, population)
        if block.type in EXTRACORPOREAL:
            fluid = block.replacement_fluid.name if block.replacement_fluid else ""
            extra = {"DRUG": block.entry.name, "FLUID": fluid}
            hours = block.hours()
            frames.append(_event_records(events, numbers, extra, hours / 24.0 if hours else 0.0))
        else:
            frames.append(_event_records(events, numbers, {"DRUG": block.entry.name}))
    return _records(frames)


def course_records(
    course: PatientCourse, population: th.Population, numbers: Sequence[int]
) -> pd.DataFrame:
    """The records each patient of ``population`` (IDs ``numbers``) receives from a
    per-patient course (its doses as given; sessions by the fraction they remove)."""
    drugs = {kind: name for kind, (name, _) in course.table.drugs.items()}
    frames = []
    for event in course_events(course, population, numbers):
        if isinstance(event, Removal):
            extra = {"DRUG": "", "FLUID": ""}
        else:
            state = HUMAN_MODEL.states[event.state]
            kind = THERAPY_STATES.get(state, ("",))[0]
            extra = {"DRUG": drugs.get(kind, "ivig" if kind == "ivig" else "")}
        frames.append(_event_records([event], numbers, extra))
    frame = _records(frames)
    sessions = {
        (s.patient, s.record.time): s.record for s in course.table.sessions
    }  # entries and fluids of the sessions, as the table gives them
    removal = frame["EVID"] == 2
    for index in frame.index[removal]:
        record = sessions[(int(frame.at[index, "ID"]), frame.at[index, "TIME"])]
        frame.loc[index, ["DRUG", "FLUID"]] = [record.entry, record.fluid]
        frame.at[index, "DUR"] = record.hours / 24.0 if record.hours else 0.0
    return frame


def _event_records(
    events: Sequence[Event], numbers: Sequence[int], extra: dict, session_days: float = 0.0
) -> pd.DataFrame:
    """One record per event and patient with a non-zero value."""
    numbers = np.asarray(numbers)
    frames = []
    for event in events:
        if isinstance(event, Removal):
            values = np.broadcast_to(np.asarray(event.fraction, float), numbers.shape)
            given = values > 0
            columns = {"TIME": event.time, "AMT": 0.0, "RATE": 0.0, "DUR": session_days,
                       "CMT": SESSION_STATE, "EVID": 2, "FRAC": values[given]}  # fmt: skip
            frames.append(pd.DataFrame({"ID": numbers[given], **columns, **extra}))
            continue
        if isinstance(event, Bolus):
            values = np.broadcast_to(np.asarray(event.amount, float), numbers.shape)
            given = values > 0
            columns = {"TIME": event.time, "AMT": values[given], "RATE": 0.0, "DUR": 0.0}
            if event.state == _IVIG and "FLUID" in extra:  # donor IgG of a replacement fluid
                columns |= {"DRUG": extra["FLUID"], "FLUID": ""}
        else:
            values = np.broadcast_to(np.asarray(event.rate, float), numbers.shape)
            given = values > 0
            length = event.stop - event.start
            columns = {"TIME": event.start, "AMT": values[given] * length,
                       "RATE": values[given], "DUR": length}  # fmt: skip
        columns |= {"CMT": HUMAN_MODEL.states[event.state], "EVID": 1, "FRAC": np.nan}
        frames.append(pd.DataFrame({"ID": numbers[given], **extra, **columns}))
    return _records(frames)


def _records(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
    frame = pd.concat(frames, ignore_index=True).reindex(columns=RECORD_COLUMNS)
    frame[["DRUG", "FLUID"]] = frame[["DRUG", "FLUID"]].fillna("")
    return frame


def assign_courses(
    given: Sequence[tuple[PatientCourse, str | None]], groups: np.ndarray, n: int
) -> dict[int, PatientCourse]:
    """The per-patient course of each patient (0-based) the courses name, checked against the
    randomised ``groups`` of the first ``n`` patients (the detailed trial): a patient beyond
    ``n``, in another arm than the course's (or than its ARM column says), or named by two
    courses raises EventTableError naming the file, the row and the ID."""
    course_of: dict[int, PatientCourse] = {}
    where: dict[int, str] = {}
    for course, arm in given:
        table = course.table
        table.check_patients(n, "randomised patient of the trial")
        for patient, row in zip(table.patients, table.rows, strict=True):
            group = str(groups[patient - 1])
            stated, arm_row = table.arms.get(patient, (arm, row))
            for expected, line, column in ((arm, row, "ID"), (stated, arm_row, "ARM")):
                if expected is not None and expected != group:
                    raise EventTableError(
                        f"{table.source}:{line}: column {column}: patient {patient} is "
                        f"randomised to {group!r}, not {expected!r} (seed and allocation of "
                        "the trial file decide the arms; see the run's patients.csv)"
                    )
            if patient - 1 in course_of:
                raise EventTableError(
                    f"{table.source}:{row}: column ID: value '{patient}': the patient's records "
                    f"are also given in {where[patient - 1]}; give each patient's records once"
                )
            course_of[patient - 1] = course
            where[patient - 1] = f"{table.source}:{row}"
    return course_of
