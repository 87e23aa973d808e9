"""IgG-lowering therapy protocols compared in one virtual population, with the validation table
of the human model against published pharmacodynamics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import yaml

from fmsim.config.therapy import TherapyProtocol
from fmsim.experiments import validation
from fmsim.experiments.reference import standard_protocols
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash, config_yaml
from fmsim.experiments.therapy import sample_population
from fmsim.model.human import load_human_parameters
from fmsim.model.parameters import ParameterSet

STANDARD_SOURCE = "the standard protocols (= examples/therapies/*.yaml)"


@dataclass(frozen=True)
class TherapyStudy(StudyResult):
    """Protocols (keyed by therapy label) simulated in the same patients: per-patient results,
    summaries and median courses (``comparison``), the patients' covariates and the validation
    table. ``population`` describes the patients, ``source`` where the protocols came from."""

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

    def tables(self) -> dict[str, Table]:
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
) -> TherapyStudy:
    """Simulate ``protocols`` (default: the standard protocols) for ``days`` days in the same
    ``patients`` virtual patients (anti-SGC positive only, or 37 % positive as in human.yaml),
    seeded; with ``validate`` (about 10 s), compare the human model with every published
    target (else the validation table is empty, as for the web app's quick updates)."""
    log = log or (lambda _: None)
    if protocols is None:
        protocols = {p.name: p for p in standard_protocols().values()}
        source = source or STANDARD_SOURCE
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
    comparison = validation.compare_protocols(population, protocols, days)
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
    )
