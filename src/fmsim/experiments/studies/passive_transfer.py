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

    @property
    def config(self) -> PassiveTransferConfig:
        return self.simulation.config

    def tables(self) -> dict[str, Table]:
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


def passive_transfer_study(
    config: PassiveTransferConfig,
    *,
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
) -> PassiveTransferStudy:
    """Simulate ``config`` (seeded), analyse it (mixed models, post hoc tests, donors, AUC) and
    scan the time course; ``inputs`` are the files the config came from (provenance); ``log``
    receives one line per step."""
    log = log or (lambda _: None)
    log(f"simulating {config.name!r} (seed {config.seed}) ...")
    simulation = run_passive_transfer(config)
    log(f"  {len(simulation.cohort)} mice, {len(simulation.measurements)} measurements")
    log("analysing (mixed models, post-hoc tests, donors) ...")
    analysis = analyze_passive_transfer(
        simulation.measurements, control=config.control_group, disease_group=config.disease_group
    )
    log("scanning the time course over unmeasured parameters ...")
    scan = scan_time_course(parameters=simulation.parameters)
    return PassiveTransferStudy(
        simulation, analysis, scan, Provenance(config_hash(config), tuple(inputs))
    )
