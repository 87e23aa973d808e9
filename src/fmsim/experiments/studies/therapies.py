"""IgG-lowering therapy protocols compared in one virtual population, with the validation table
of the human model against published pharmacodynamics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import yaml

from fmsim.config.therapy import TherapyProtocol
from fmsim.experiments import validation
from fmsim.experiments.patient_courses import PatientCourse, course_records, protocol_records
from fmsim.experiments.reference import standard_protocols
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash, config_yaml
from fmsim.experiments.therapy import CourseResult, Population, sample_population
from fmsim.experiments.typical_patient import course_pain, pain_traits, typical_courses
from fmsim.io.event_table import nonmem_records
from fmsim.io.nonmem_cmt import dataset_note
from fmsim.io.nonmem_patients import patient_numbers
from fmsim.model.human import load_human_parameters
from fmsim.model.parameters import ParameterSet

STANDARD_SOURCE = "the standard protocols (= examples/therapies/*.yaml)"
#: Units of the NONMEM-style data sets of the human model.
NONMEM_UNITS = {"TIME": "day", "AMT": "mg", "RATE": "mg/day", "DUR": "day", "FRAC": "1",
                "DV": "see column 'UNIT'", "WT": "kg", "IGGBL": "mg/mL", "ASGCF": "1"}  # fmt: skip
#: Observations of the data sets: DVID -> (course output, CMT it reads, unit).
OBSERVED = {
    "total_igg": ("total_igg", "igg_plasma", "mg/mL"),
    "anti_sgc_igg": ("anti_sgc", "anti_sgc_plasma", "mg/mL"),
    "sensitisation": ("sensitisation", "sensitisation", "1"),
}


@dataclass(frozen=True)
class TherapyStudy(StudyResult):
    """Protocols (keyed by therapy label) simulated in the same patients: per-patient results,
    summaries and median courses (``comparison``), the patients' covariates and the validation
    table. ``population`` describes the patients, ``source`` where the protocols came from.
    ``sampled`` (the sampled patients) and ``courses`` (the protocols given per patient, by
    label; their summary is in ``protocols``) tell what each patient received
    (:meth:`records`); ``nonmem`` is the NONMEM-style data set, if it was asked for. ``typical``
    holds the courses of a typical patient under each protocol (given to every patient;
    :func:`~fmsim.experiments.typical_patient.typical_courses`), ``pain`` the patients' pain
    over time (:func:`~fmsim.experiments.typical_patient.course_pain`)."""

    kind: ClassVar[str] = "therapies"
    comparison: validation.ProtocolComparison
    validation: pd.DataFrame
    covariates: pd.DataFrame
    protocols: dict[str, TherapyProtocol]
    parameters: ParameterSet
    population: str
    n_patients: int
    days: float
    seed: int
    source: str
    provenance: Provenance
    typical: pd.DataFrame
    pain: pd.DataFrame
    sampled: Population | None = None
    courses: dict[str, PatientCourse] = field(default_factory=dict)
    nonmem: pd.DataFrame | None = None

    def records(self, label: str) -> pd.DataFrame:
        """The dose and session records (NONMEM convention, ID = patient number 1..n) each
        patient received under the therapy ``label``, recomputed from the protocol and the
        sampled patients (nothing per patient is kept in memory)."""
        numbers = patient_numbers(self.sampled.n)
        if label in self.courses:
            return course_records(self.courses[label], self.sampled, numbers)
        return protocol_records(self.protocols[label], self.sampled, numbers)

    def tables(self) -> dict[str, Table]:
        subjects = "patients, per therapy (THERAPY) and patient (ID n = the n-th sampled)"
        return {**self._therapy_tables(), **nonmem_tables(self.nonmem, subjects)}

    def _therapy_tables(self) -> dict[str, Table]:
        return {
            "therapy_patients": Table(
                self.comparison.patients,
                "one row per therapy and patient: nadirs, recovery, sensitisation",
            ),
            "therapy_comparison": Table(
                self.comparison.summary,
                "per therapy and quantity: median, 5th and 95th percentile over patients",
            ),
            "therapy_courses": Table(
                self.comparison.courses,
                "per therapy, day and quantity: percentiles over patients",
                {"day": "day"},
            ),
            **_pain_tables(self.typical, self.pain),
            "patients": Table(
                self.covariates,
                "the virtual patients",
                {"body_weight": "kg", "igg_baseline": "mg/mL", "anti_sgc_fraction": "1",
                 "anti_sgc_baseline": "mg/mL"},
            ),
            "validation": Table(
                self.validation,
                "each published pharmacodynamic target: simulated value, acceptance, verdict",
            ),
        }  # fmt: skip

    def extra_files(self) -> dict[str, str]:
        """The protocols as run, and the library entries they use (with the file each came
        from), so that a run can be repeated from its folder."""
        used = {e.name: e for p in self.protocols.values() for e in p.entries()}
        entries = [{"file": e.origin, **e.model_dump(by_alias=True)} for e in used.values()]
        return {
            "protocols.yaml": config_yaml(list(self.protocols.values())),
            "drugs.yaml": yaml.safe_dump(entries, sort_keys=False),
        }


def _pain_tables(typical: pd.DataFrame, pain: pd.DataFrame) -> dict[str, Table]:
    """The typical patient's courses and the patients' pain."""
    return {
        "typical_patient_courses": Table(
            typical,
            "per therapy, day and quantity: a typical patient (every parameter at its population "
            "median, anti-SGC positive; median baseline pain and gain); every percentile column "
            "holds the one patient's value",
            {"day": "day"},
        ),
        "therapy_pain": Table(
            pain,
            "per therapy and day: percentiles over patients of pain (0-10 NRS; without placebo "
            "response or daily fluctuation)",
            {"day": "day", **{f"q{q:02d}": "NRS 0-10" for q in (5, 25, 50, 75, 95)}},
        ),
    }


def therapy_study(
    protocols: dict[str, TherapyProtocol] | None = None,
    *,
    patients: int = 200,
    days: float = 182.0,
    positive_only: bool = True,
    seed: int = 2024,
    validate: bool = True,
    source: str = "",
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
    courses: dict[str, PatientCourse] | None = None,
    nonmem: bool = False,
) -> TherapyStudy:
    """Simulate ``protocols`` (default: the standard protocols) for ``days`` days in the same
    ``patients`` virtual patients (anti-SGC positive only, or 37 % positive as in human.yaml),
    seeded; with ``validate`` (about 10 s), compare the human model with every published
    target (else the validation table is empty, as for the web app's quick updates).
    ``courses`` are given per patient (patient n = the n-th sampled; simulated after the
    protocols); with ``nonmem``, the simulated patients are kept as a NONMEM-style data set.
    Every protocol is also simulated in a typical patient (not the per-patient ``courses``)."""
    log = log or (lambda _: None)
    courses = dict(courses or {})
    if protocols is None and not courses:
        protocols = {p.name: p for p in standard_protocols().values()}
        source = source or STANDARD_SOURCE
    protocols = dict(protocols or {})
    for name, course in courses.items():
        if name in protocols:
            raise ValueError(f"two therapies named {name!r}")
        protocols[name] = course.protocol
    parameters = load_human_parameters()
    share = 1.0 if positive_only else parameters["anti_sgc_positive_fraction"].value
    population = sample_population(patients, np.random.default_rng(seed), share, parameters)
    described = (
        "anti-SGC positive only"
        if positive_only
        else f"{int(population.anti_sgc_positive.sum())} anti-SGC positive"
    )
    log(
        f"simulating {len(protocols)} protocols in {patients} patients ({described}), "
        f"{days:g} days, seed {seed} ..."
    )
    for course in courses.values():
        course.table.check_patients(patients, f"virtual patient sampled with seed {seed}")
    data: list[pd.DataFrame] = []
    traits, pain = pain_traits(patients, seed), []

    def keep(label: str, result: CourseResult) -> None:
        pain.append(course_pain(label, result, traits))
        if not nonmem:
            return
        records = (
            course_records(courses[label], population, patient_numbers(population.n))
            if label in courses
            else protocol_records(protocols[label], population, patient_numbers(population.n))
        )
        data.append(records.assign(THERAPY=label))
        data.append(_observations(result).assign(THERAPY=label))

    simulated = {**{k: v for k, v in protocols.items() if k not in courses}, **courses}
    comparison = validation.compare_protocols(population, simulated, days, on_course=keep)
    table = pd.DataFrame()
    if validate:
        targets = validation.published_targets()
        log(f"validation: {len(targets)} published targets ...")
        table = validation.validation_table(population, targets)
    settings = {
        "protocols": list(protocols.values()), "patients": patients, "days": days,
        "positive_only": positive_only, "seed": seed,
    }  # fmt: skip
    return TherapyStudy(
        comparison,
        table,
        population.covariates(),
        dict(protocols),
        parameters,
        described,
        patients,
        days,
        seed,
        source,
        Provenance(config_hash(settings), tuple(inputs)),
        typical_courses({k: v for k, v in protocols.items() if k not in courses}, days),
        pd.concat(pain, ignore_index=True),
        population,
        courses,
        _nonmem(data, population) if nonmem else None,
    )


def nonmem_tables(
    data: pd.DataFrame | None, subjects: str, units: dict[str, str] = NONMEM_UNITS
) -> dict[str, Table]:
    """The ``nonmem`` table of a study (none without a data set); ``subjects`` says who the
    records are of and what ID numbers."""
    if data is None:
        return {}
    description = (
        f"simulated {subjects} as a NONMEM-style data set: dose (EVID 1) and session (EVID 2) "
        "records and observations (EVID 0; DVID names the quantity, UNIT its unit); "
        "docs/event_tables.md" + dataset_note(data)
    )
    return {"nonmem": Table(data, description, units)}


def _observations(result: CourseResult) -> pd.DataFrame:
    """Observation records of a simulated course: per patient (ID n), output day and
    :data:`OBSERVED` quantity, its value (DV) and unit."""
    n, times = result.n, result.days
    frames = [
        pd.DataFrame(
            {
                "ID": np.tile(patient_numbers(n), times.size),
                "TIME": np.repeat(times, n),
                "CMT": cmt,
                "DV": getattr(result, output).reshape(-1),
                "DVID": dvid,
                "UNIT": unit,
            }
        )
        for dvid, (output, cmt, unit) in OBSERVED.items()
    ]
    return pd.concat(frames, ignore_index=True)


def patient_covariates(population: Population) -> pd.DataFrame:
    """One row per patient (ID n): body weight WT (kg), baseline IgG IGGBL (mg/mL), anti-SGC
    fraction of IgG ASGCF and status ASGCPOS (1 positive)."""
    return pd.DataFrame(
        {
            "ID": patient_numbers(population.n),
            "WT": population.values["body_weight"],
            "IGGBL": population.values["igg_baseline"],
            "ASGCF": population.anti_sgc_fraction,
            "ASGCPOS": population.anti_sgc_positive.astype(int),
        }
    )


def _nonmem(parts: list[pd.DataFrame], population: Population) -> pd.DataFrame:
    records = pd.concat(parts[0::2], ignore_index=True)
    observations = pd.concat(parts[1::2], ignore_index=True)
    return nonmem_records(records, observations, patient_covariates(population), by=["THERAPY"])
