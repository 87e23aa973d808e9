"""A calibration problem as a PEtab problem, and its check with pyPESTO's libroadrunner objective.

The SBML model is the one model definition exported by :mod:`fmsim.io.sbml` for a typical mouse
(parameter-file medians) with the problem's injection schedule; conditions set the donor's
anti-SGC fraction (``pathogenic_fraction``), the dose (the day-0 dose is the initial amount of
``human_ip_depot``; later doses are ``bolus_<k>_amount``); observables, noise and parameters are
those of the calibration problem (:mod:`fmsim.calibration.problem`), so the PEtab
log-likelihood and fmsim's are the same function.

Parameters that fmsim derives other constants from when it builds a mouse (body weight and
per-kg volumes, the host IgG level, FcRn capacity and the host IgG affinity, which set host IgG
production) cannot be estimated in the exported problem: the SBML holds the derived constants.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from fmsim.calibration.observables import OBSERVABLES, symbols
from fmsim.calibration.problem import CalibrationProblem
from fmsim.calibration.quiet import quiet
from fmsim.engine import Bolus
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash
from fmsim.io.petab import PetabExportError, lint, write_petab
from fmsim.io.sbml import export_sbml
from fmsim.model.equations import MODEL, build_subjects, initial_state

#: Model parameters that set derived constants (host IgG production, volumes, flows).
DERIVED_FROM = (
    "body_weight",
    "plasma_volume_per_kg",
    "interstitial_volume_per_kg",
    "lymph_flow_per_kg",
    "vascular_reflection",
    "lymph_reflection",
    "pinocytic_clearance_per_kg",
    "host_igg_plasma",
    "fcrn_total",
    "endosomal_ratio",
    "fcrn_kd_host",
)
DEPOT = "human_ip_depot"


def exportable(problem: CalibrationProblem) -> None:
    """Raise :class:`PetabExportError` (one line) if the problem cannot be exported."""
    for p in problem.parameters:
        if p.name in DERIVED_FROM:
            raise PetabExportError(
                f"parameters: {p.name!r} sets derived constants of the mouse model and cannot "
                f"be estimated in the PEtab export; estimable there: {sorted(petab_estimable())}"
            )
    schedules = {c.injection_days for c in problem.conditions if c.dose_mg > 0}
    if len(schedules) > 1:
        raise PetabExportError(
            f"conditions: injection days differ between conditions {sorted(schedules)}; the "
            "PEtab export needs one schedule"
        )
    for name, table in problem.measurements.groupby("observable"):
        if table["noise_distribution"].nunique() > 1:
            raise PetabExportError(f"observable {name}: mixes normal and log-normal noise")


def petab_estimable() -> set[str]:
    """Parameters the exported problem can estimate: model constants that are parameters of
    the parameter file and derive nothing, and the readout parameters."""
    readouts = {s for o in OBSERVABLES for s in symbols(o) if s.startswith(("baseline_", "max_"))}
    return (set(MODEL.constants) - set(DERIVED_FROM)) | readouts


def petab_tables(problem: CalibrationProblem):
    """(sbml text, conditions, observables, measurements, parameters) of ``problem``."""
    exportable(problem)
    values = {k: np.array([v]) for k, v in problem.model_parameters.typical().items()}
    dosed = [c for c in problem.conditions if c.dose_mg > 0]
    days = dosed[0].injection_days if dosed else ()
    template = dosed[0] if dosed else problem.conditions[0]
    subjects = build_subjects(values, np.array([template.anti_sgc_fraction]))
    events = [Bolus(d, MODEL.index(DEPOT), max(template.dose_mg, 1.0)) for d in days]
    sbml = export_sbml(MODEL, subjects, initial_state(subjects), events, 0, "fmsim_mouse")
    later = [k for k, d in enumerate(days, start=1) if d > 0]
    at_zero = 0.0 in days
    conditions = pd.DataFrame(
        [
            {
                "conditionId": c.id,
                "pathogenic_fraction": c.anti_sgc_fraction,
                DEPOT: c.dose_mg if at_zero else 0.0,
                **{f"bolus_{k}_amount": c.dose_mg for k in later},
            }
            for c in problem.conditions
        ]
    ).sort_values("conditionId")
    data = problem.measurements
    used = list(dict.fromkeys(data["observable"]))
    log = data.groupby("observable")["noise_distribution"].first() == "lognormal"
    observables = pd.DataFrame(
        {
            "observableId": used,
            "observableFormula": [OBSERVABLES[o] for o in used],
            "observableTransformation": ["log" if log[o] else "lin" for o in used],
            "noiseFormula": [f"noiseParameter1_{o}" for o in used],
            "noiseDistribution": "normal",
        }
    )
    # Rows sorted by condition: pyPESTO 0.7.0's libroadrunner objective pairs its per-condition
    # parameter mapping (sorted conditions) with the conditions in order of appearance.
    measurements = pd.DataFrame(
        {
            "observableId": data["observable"],
            "simulationConditionId": data["condition"],
            "time": data["time"],
            "measurement": data["value"],
            "noiseParameters": data["noise"],
        }
    ).sort_values(["simulationConditionId", "observableId", "time"], kind="stable")
    return sbml, conditions, observables, measurements, _parameter_table(problem, used)


def _parameter_table(problem: CalibrationProblem, observables: list[str]) -> pd.DataFrame:
    rows = []
    for p in problem.parameters:
        row = {
            "parameterId": p.name,
            "parameterScale": p.scale,
            "lowerBound": p.lower,
            "upperBound": p.upper,
            "nominalValue": p.nominal,
            "estimate": 1,
        }
        if problem.method == "map" and p.prior_sd is not None:
            row["objectivePriorType"] = "parameterScaleNormal"
            row["objectivePriorParameters"] = f"{p.to_scaled(p.nominal)!r};{p.prior_sd!r}"
        rows.append(row)
    estimated = set(problem.names)
    fixed = sorted(
        {s for o in observables for s in symbols(o) if s in problem.readout_values} - estimated
    )
    for name in fixed:
        value = problem.readout_values[name]
        rows.append(
            {
                "parameterId": name,
                "parameterScale": "lin",
                "lowerBound": value - 1.0,
                "upperBound": value + 1.0,
                "nominalValue": value,
                "estimate": 0,
            }
        )
    return pd.DataFrame(rows)


def export_petab(problem: CalibrationProblem, out_dir: Path) -> Path:
    """Write ``problem`` as PEtab files into ``out_dir``; return the problem YAML."""
    return write_petab(out_dir, *petab_tables(problem))


@dataclass(frozen=True)
class PetabExport(StudyResult):
    """A calibration problem as PEtab files. Saved as a run folder like every result, but its
    files are PEtab's (SBML, TSV tables, ``problem.yaml``), checked with PEtab's linter before
    the folder is completed; it has no tables of fmsim's own."""

    kind: ClassVar[str] = "petab"
    problem: CalibrationProblem
    provenance: Provenance

    def tables(self) -> dict[str, Table]:
        return {}

    def write(self, folder: Path) -> list[Path]:
        """Write the PEtab files into ``folder`` and lint them (RuntimeError if the linter
        finds errors: a bug of the export, not of the user's input)."""
        yaml_path = export_petab(self.problem, folder)
        with quiet("petab", level=logging.ERROR):
            valid = lint(yaml_path)
        if not valid:
            raise RuntimeError("PEtab's linter found errors in the exported problem")
        return sorted(folder.iterdir())


def petab_export(problem: CalibrationProblem, inputs: Sequence[Path] = ()) -> PetabExport:
    """The PEtab export of ``problem``; raises :class:`PetabExportError` (one line) if the
    problem cannot be exported."""
    exportable(problem)
    described = {
        "measurements": problem.measurements.to_dict("list"),
        "conditions": [vars(c) for c in problem.conditions],
        "parameters": [vars(p) for p in problem.parameters],
        "method": problem.method,
    }
    return PetabExport(problem, Provenance(config_hash(described), tuple(inputs)))


def roadrunner_objective(yaml_path: Path, rtol: float = 1e-12, atol: float = 1e-14):
    """pyPESTO's problem with its libroadrunner objective for the PEtab problem at
    ``yaml_path`` (CVODE at the given tolerances)."""
    from pypesto.objective.roadrunner import SolverOptions
    from pypesto.petab import PetabImporter

    from fmsim.io.petab import load_problem

    importer = PetabImporter(load_problem(yaml_path), simulator_type="roadrunner")
    problem = importer.create_problem()
    problem.objective.solver_options = SolverOptions(
        relative_tolerance=rtol, absolute_tolerance=atol, maximum_num_steps=100_000
    )
    return problem
