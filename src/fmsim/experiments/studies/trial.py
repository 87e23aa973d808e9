"""A virtual clinical trial: one trial in detail, then power curves from replicate trials kept as
verified, resumable chunks (:class:`fmsim.io.store.ChunkStore`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from fmsim.config.trial import TrialConfig
from fmsim.engine.execution import Executor
from fmsim.experiments import patient_courses
from fmsim.experiments import trial as experiment
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash, config_yaml
from fmsim.experiments.studies.therapies import NONMEM_UNITS, nonmem_tables, patient_covariates
from fmsim.io.adam import adeff, adsl
from fmsim.io.event_table import nonmem_records

#: The run folder's sub-folder holding the replicate-trial chunks (kept across runs).
CHUNKS = "chunks"


@dataclass(frozen=True)
class ChunkReport:
    """How the replicate-trial chunks of a run were obtained."""

    total: int
    reused: int
    problems: tuple[str, ...]  # chunks found but not trusted (and recomputed), one line each


@dataclass(frozen=True)
class TrialStudy(StudyResult):
    """One simulated trial (``simulation``) and its analysis, the power curve per population and
    sample size, and power at other anti-SGC-positive shares (empty tables without power)."""

    kind: ClassVar[str] = "trial"
    stores: ClassVar[tuple[str, ...]] = (CHUNKS,)
    simulation: experiment.TrialSimulation
    analysis: experiment.TrialAnalysis
    curve: experiment.PowerCurve
    shares: pd.DataFrame
    chunks: ChunkReport | None
    source: str
    provenance: Provenance
    nonmem: pd.DataFrame | None = None  # the detailed trial as a NONMEM-style data set

    @property
    def config(self) -> TrialConfig:
        return self.simulation.config

    def tables(self) -> dict[str, Table]:
        power_units = {"power": "1", "ci_low": "1", "ci_high": "1",
                       "mean_effect": "unit of the primary outcome"}  # fmt: skip
        return {
            "patients": Table(
                self.simulation.patients,
                "one row per randomised patient: group, anti-SGC status, covariates, dropout",
                {"dropout_day": "day"},
            ),
            "visits": Table(
                self.simulation.visits,
                "one row per patient and visit week: outcomes (pain NRS 0-10, BPI-SF, FIQR...)",
                {"week": "week"},
            ),
            "courses": Table(
                self.simulation.courses,
                "per patient and day: total and anti-SGC IgG, sensitisation S (1 = none)",
                {"day": "day", "total_igg": "mg/mL", "anti_sgc": "mg/mL", "sensitisation": "1"},
            ),
            "adsl": Table(
                adsl(self.simulation),
                "ADaM-like subject-level data set (docs/adam.md)",
                {"DCSDY": "day"},
            ),
            "adeff": Table(
                adeff(self.simulation),
                "ADaM-like BDS of every visit outcome (docs/adam.md)",
                {"AVISITN": "week", "ADY": "day"},
            ),
            "effects": Table(
                self.analysis.effects,
                "per endpoint: treatment minus control, 95% CI, p",
                {"estimate": "unit of the outcome", "p_value": "1"},
            ),
            "responders": Table(
                self.analysis.responders,
                "responder rates (>= 30 % / >= 50 % pain reduction) and their difference",
                {"threshold": "1", "treatment": "1", "control": "1", "difference": "1"},
            ),
            "power": Table(
                self.curve.table,
                "per population and sample size: power from replicate trials",
                power_units,
            ),
            "required_sample_size": Table(
                self.curve.required,
                f"per population: patients needed for {self.config.power.target:.0%} power",
            ),
            "power_by_positive_share": Table(
                self.shares,
                "power of the configured trial at other anti-SGC-positive shares",
                {**power_units, "positive_fraction": "1"},
            ),
            **nonmem_tables(
                self.nonmem,
                "patients of the trial, per patient (ID n = the n-th randomised, ARM its group)",
                {**NONMEM_UNITS, "DROPDAY": "day"},
            ),
        }

    def extra_files(self) -> dict[str, str]:
        return {"config.yaml": config_yaml(self.config)}


def trial_study(
    config: TrialConfig,
    *,
    power: bool = True,
    chunk_folder: Path | None = None,
    source: str = "",
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    executor: Executor | None = None,
    given: Sequence[tuple[patient_courses.PatientCourse, str | None]] = (),
    nonmem: bool = False,
) -> TrialStudy:
    """Simulate and analyse ``config``; with ``power``, run the replicate trials of the power
    curves, keeping each chunk in ``chunk_folder`` (verified before reuse). Raises ValueError
    (e.g. inclusion criteria no screened patient meets) with a one-line message. The replicate
    trials run on ``executor`` (default: in this process); ``log`` lines also go to the
    ``fmsim`` logger (e.g. the run folder's log, :func:`fmsim.io.store.run_log`).
    ``given``: per-patient courses of the detailed trial (with the arm each is restricted to,
    or None; :func:`fmsim.experiments.trial.simulate_trial`); the replicate trials of the
    power curves are other patients and take the arms' protocols. With ``nonmem``, the
    detailed trial is kept as a NONMEM-style data set."""
    shown = log or (lambda _: None)

    def log(line: str) -> None:
        shown(line)
        logging.getLogger("fmsim").info(line)

    log(f"simulating {config.name!r}: {config.patients} patients, seed {config.seed} ...")
    simulation = experiment.simulate_trial(config, given=given)
    analysis = experiment.analyse_trial(simulation)
    chunks = None
    if power:
        n_chunks = 2 * len(config.power.sample_sizes) + len(config.power.positive_fractions)
        where = f" (chunks kept in {chunk_folder})" if chunk_folder is not None else ""
        log(f"power: {n_chunks} chunks of {config.power.replicates} replicate trials{where} ...")
        store = experiment.chunk_store(config, chunk_folder) if chunk_folder else None
        options = {"chunks": store, "progress": progress, "executor": executor}
        log(f"replicate trials run on: {executor.name if executor else 'in-process'}")
        curve = experiment.power_curve(config, **options)
        shares = experiment.power_by_positive_fraction(config, **options)
        if store is not None:
            chunks = ChunkReport(n_chunks, store.reused, tuple(store.problems))
    else:
        curve = experiment.PowerCurve(*experiment.empty_power_tables())
        shares = experiment.empty_power_tables()[0].assign(positive_fraction=[])
    return TrialStudy(
        simulation,
        analysis,
        curve,
        shares,
        chunks,
        source,
        Provenance(config_hash(config), tuple(inputs)),
        trial_nonmem(simulation) if nonmem else None,
    )


#: Visit outcomes in the trial's data set: DVID -> unit.
VISIT_OUTCOMES = {"pain_nrs": "NRS 0-10", "bpi_interference": "0-10", "fiqr": "0-100"}


def trial_nonmem(simulation: experiment.TrialSimulation) -> pd.DataFrame:
    """The detailed trial as a NONMEM-style data set: per patient (ID n = the n-th randomised
    patient; ARM its arm or sequence, DROPDAY the dropout day) the dose and session records
    (:func:`trial_records`) and as observations the daily total IgG, anti-SGC IgG (CMT
    ``igg_plasma`` / ``anti_sgc_plasma``, mg/mL) and sensitisation (CMT ``sensitisation``)
    and the weekly visit outcomes (TIME = 7 x week, CMT ``sensitisation``, which they read)."""
    courses = simulation.courses
    frames = [
        pd.DataFrame({"ID": courses["patient"] + 1, "TIME": courses["day"].astype(float),
                      "CMT": cmt, "DV": courses[column], "DVID": dvid, "UNIT": unit})
        for dvid, (column, cmt, unit) in {
            "total_igg": ("total_igg", "igg_plasma", "mg/mL"),
            "anti_sgc_igg": ("anti_sgc_igg", "anti_sgc_plasma", "mg/mL"),
            "sensitisation": ("sensitisation", "sensitisation", "1"),
        }.items()
    ]  # fmt: skip
    visits = simulation.visits[simulation.visits["replicate"] == 0]
    for outcome, unit in VISIT_OUTCOMES.items():
        taken = visits[visits[outcome].notna()]
        frames.append(
            pd.DataFrame({"ID": taken["patient"] + 1, "TIME": 7.0 * taken["week"],
                          "CMT": "sensitisation", "DV": taken[outcome].astype(float),
                          "DVID": outcome, "UNIT": unit})
        )  # fmt: skip
    patients = simulation.patients[simulation.patients["replicate"] == 0]
    covariates = patient_covariates(simulation.population.select(patients["patient"].to_numpy()))
    covariates.insert(1, "ARM", patients["group"].to_numpy())
    dropout = patients["dropout_day"].to_numpy(dtype=float)
    covariates["DROPDAY"] = np.where(np.isfinite(dropout), dropout, np.nan)  # empty: completed
    observations = pd.concat(frames, ignore_index=True)
    return nonmem_records(trial_records(simulation), observations, covariates)


def trial_records(simulation) -> pd.DataFrame:
    """The dose and session records each patient of a simulated trial (the first replicate,
    with kept courses) received: its group's protocol, or its per-patient course."""
    groups = simulation.patients["group"].to_numpy()
    replicate = simulation.patients["replicate"].to_numpy()
    n = int((replicate == 0).sum())
    course_of = patient_courses.assign_courses(simulation.given, groups, n)
    frames = []
    for group in dict.fromkeys(groups[:n]):
        members = np.flatnonzero(groups[:n] == group)
        named = np.array([int(m) in course_of for m in members], dtype=bool)
        plain = members[~named]
        if plain.size:
            protocol = experiment.group_protocol(simulation.config, group)
            frames.append(
                patient_courses.protocol_records(
                    protocol, simulation.population.select(plain), plain + 1
                )
            )
        for course in dict.fromkeys(course_of[int(m)] for m in members[named]):
            subset = np.array([m for m in members if course_of.get(int(m)) is course])
            records = patient_courses.course_records
            frames.append(records(course, simulation.population.select(subset), subset + 1))
    return pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
