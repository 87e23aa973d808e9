"""The passive-transfer study: simulate the experiment, analyse it as a lab would, and scan which
unmeasured parameter combinations reproduce the reported time course."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from fmsim.config import PassiveTransferConfig
from fmsim.experiments.analysis import PassiveTransferAnalysis, analyze_passive_transfer
from fmsim.experiments.passive_transfer import PassiveTransferResult, run_passive_transfer
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash, config_yaml
from fmsim.experiments.time_course_fit import scan_time_course
from fmsim.io.event_table import EventTable, event_table, nonmem_data
from fmsim.io.nonmem_cmt import dataset_note
from fmsim.model.equations import MODEL
from fmsim.model.readouts import IENFD

#: Units of the trajectory columns (model states in physical units).
TRAJECTORY_UNITS = {
    "day": "day",
    "human_igg_plasma": "mg/mL",
    "host_igg_plasma": "mg/mL",
    "drg_pathogenic_igg": "mg/mL",
    "sgc_occupancy": "1",
    "sensitisation": "1",
    "ienfd_relative": "1",
    "sensitisation_emax": "1",
}


@dataclass(frozen=True)
class PassiveTransferStudy(StudyResult):
    """One simulated passive-transfer experiment, its analysis and the time-course scan."""

    kind: ClassVar[str] = "passive_transfer"
    simulation: PassiveTransferResult
    analysis: PassiveTransferAnalysis
    scan: pd.DataFrame
    provenance: Provenance
    dosing: pd.DataFrame | None = None  # the event table the mice were dosed by, as run
    nonmem: pd.DataFrame | None = None  # the simulated data as a NONMEM-style data set

    @property
    def config(self) -> PassiveTransferConfig:
        return self.simulation.config

    def tables(self) -> dict[str, Table]:
        return {**self._study_tables(), **self._event_tables()}

    def _event_tables(self) -> dict[str, Table]:
        tables = {}
        if self.dosing is not None:
            tables["dosing"] = Table(
                self.dosing,
                "the doses each mouse received (from the event table; NONMEM convention, "
                "docs/event_tables.md)",
                DOSE_UNITS,
            )
        if self.nonmem is not None:
            tables["nonmem"] = Table(
                self.nonmem,
                "simulated data as a NONMEM-style data set: dose records (EVID 1) and "
                "observations (EVID 0; DVID names the quantity, UNIT its unit)"
                + dataset_note(self.nonmem),
                {**DOSE_UNITS, "DV": "see column 'UNIT'"},
            )
        return tables

    def _study_tables(self) -> dict[str, Table]:
        analysis = self.analysis
        return {
            "measurements": Table(
                self.simulation.measurements,
                "one row per mouse, test and day, as a lab records it (value in 'unit'; 'raw': "
                "von Frey up-down pattern, X = withdrawal)",
                {"day": "day", "value": "see column 'unit'"},
            ),
            "trajectories": Table(
                self.simulation.trajectories,
                "model states per mouse and time point (every 0.25 day and on test days)",
                TRAJECTORY_UNITS,
            ),
            "time_course_summary": Table(
                analysis.time_course,
                f"per test: first and last day {self.config.disease_group!r} differs from "
                f"{self.config.control_group!r} (Holm-adjusted post hoc), largest difference, "
                "group x day interaction p",
                {"first_significant_day": "day", "last_significant_day": "day",
                 "largest_difference": "unit of the test", "p_interaction": "1"},
            ),
            "donor_effects": Table(
                analysis.donors,
                "per donor of the disease group and test: mean % change from baseline over days "
                "1-10, Welch p versus control",
                {"change_percent": "%", "control_change_percent": "%", "p_value": "1"},
            ),
            "auc_versus_control": Table(
                analysis.auc,
                "per test and group: per-mouse area under the baseline-corrected time course "
                "versus control (Welch, Hedges' g)",
                {"auc_group": "unit of the test x day", "auc_control": "unit of the test x day",
                 "difference": "unit of the test x day", "p_value": "1", "hedges_g": "1"},
            ),
            "time_course_scan": Table(
                self.scan,
                "one typical mouse per combination of unmeasured parameters: does it reproduce "
                "onset within 48 h, maintenance and recovery 2-3 weeks after the last dose?",
                {"sensitisation_turnover": "1/day", "ada_clearance_rate": "1/day",
                 "peak_sensitisation": "1", "recovery_day_after_last_dose": "day"},
            ),
        }  # fmt: skip

    def extra_files(self) -> dict[str, str]:
        return {"config.yaml": config_yaml(self.config)}


#: Units of the event-table columns (mg dosed into the model's states, days).
DOSE_UNITS = {"TIME": "day", "AMT": "mg", "RATE": "mg/day", "DUR": "day"}


def passive_transfer_study(
    config: PassiveTransferConfig,
    *,
    dosing: EventTable | None = None,
    nonmem: bool = False,
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
) -> PassiveTransferStudy:
    """Simulate ``config`` (seeded; dosed by the event table ``dosing`` instead of the
    config's dose and injection days if given), analyse it (mixed models, post hoc tests,
    donors, AUC) and scan the time course; with ``nonmem``, add the simulated data as a
    NONMEM-style data set. ``inputs`` are the files the config and table came from
    (provenance); ``log`` receives one line per step."""
    log = log or (lambda _: None)
    log(f"simulating {config.name!r} (seed {config.seed}) ...")
    simulation = run_passive_transfer(config, dosing=dosing)
    log(f"  {len(simulation.cohort)} mice, {len(simulation.measurements)} measurements")
    log("analysing (mixed models, post-hoc tests, donors) ...")
    analysis = analyze_passive_transfer(
        simulation.measurements, control=config.control_group, disease_group=config.disease_group
    )
    log("scanning the time course over unmeasured parameters ...")
    scan = scan_time_course(parameters=simulation.parameters)
    mice = list(simulation.cohort["mouse"])
    return PassiveTransferStudy(
        simulation,
        analysis,
        scan,
        Provenance(config_hash(config), tuple(inputs)),
        event_table(simulation.doses, MODEL, mice) if dosing is not None else None,
        nonmem_passive_transfer(simulation) if nonmem else None,
    )


def nonmem_passive_transfer(simulation: PassiveTransferResult) -> pd.DataFrame:
    """The simulated experiment as a NONMEM-style data set: ID 1..n (MOUSE, GROUP and DONOR
    as covariate columns), every dose, and as observations each measurement (DVID = the test,
    CMT = the state it reads: ``sensitisation``, or ``ienfd_relative`` for IENFD) and the
    plasma human IgG concentration on the test days (DVID ``human_igg_plasma``, CMT
    ``human_plasma``, mg/mL)."""
    cohort = simulation.cohort
    ids = [str(k + 1) for k in range(len(cohort))]
    number = dict(zip(cohort["mouse"], ids, strict=True))
    measured = simulation.measurements
    readouts = pd.DataFrame(
        {
            "ID": measured["mouse"].map(number),
            "TIME": measured["day"].astype(float),
            "CMT": measured["test"].map(
                lambda t: "ienfd_relative" if t == IENFD else "sensitisation"
            ),
            "DV": measured["value"],
            "DVID": measured["test"],
            "UNIT": measured["unit"],
        }
    )
    trajectories = simulation.trajectories
    sampled = trajectories[trajectories["day"].isin(simulation.config.test_days)]
    plasma = pd.DataFrame(
        {
            "ID": sampled["mouse"].map(number),
            "TIME": sampled["day"],
            "CMT": "human_plasma",
            "DV": sampled["human_igg_plasma"],
            "DVID": "human_igg_plasma",
            "UNIT": "mg/mL",
        }
    )
    covariates = pd.DataFrame(
        {"ID": ids, "MOUSE": cohort["mouse"], "GROUP": cohort["group"], "DONOR": cohort["donor"]}
    )
    observations = pd.concat([plasma, readouts], ignore_index=True)
    return nonmem_data(MODEL, simulation.doses, ids, observations, covariates)
