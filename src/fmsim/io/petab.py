"""PEtab (v1) files: write a parameter-estimation problem and check it with PEtab's linter.

A PEtab problem is an SBML model and four tables (Schmiester et al., PLoS Comput Biol
2021;17:e1008646): conditions (per-condition values of model parameters and initial amounts),
observables (formula, noise formula and distribution), measurements, and parameters (scale,
bounds, nominal value, whether estimated, priors), tied together by a YAML file. This module
only writes and lints files; :mod:`fmsim.calibration.petab_export` builds the tables from a
calibration problem.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import petab.v1 as petab

YAML_NAME = "problem.yaml"
FILES = {
    "sbml": "model.xml",
    "conditions": "conditions.tsv",
    "observables": "observables.tsv",
    "measurements": "measurements.tsv",
    "parameters": "parameters.tsv",
}


class PetabExportError(ValueError):
    """A problem that cannot be written as PEtab; the message is one line."""


def write_petab(
    out_dir: Path,
    sbml_text: str,
    conditions: pd.DataFrame,
    observables: pd.DataFrame,
    measurements: pd.DataFrame,
    parameters: pd.DataFrame,
) -> Path:
    """Write the PEtab files into ``out_dir`` (created; existing PEtab files of the same names
    are replaced, other files are left alone) and return the problem YAML."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / FILES["sbml"]).write_text(sbml_text)
    petab.write_condition_df(conditions.set_index("conditionId"), out_dir / FILES["conditions"])
    petab.write_observable_df(observables.set_index("observableId"), out_dir / FILES["observables"])
    petab.write_measurement_df(measurements, out_dir / FILES["measurements"])
    petab.write_parameter_df(parameters.set_index("parameterId"), out_dir / FILES["parameters"])
    yaml_path = out_dir / YAML_NAME
    petab.write_yaml(
        {
            "format_version": 1,
            "parameter_file": FILES["parameters"],
            "problems": [
                {
                    "sbml_files": [FILES["sbml"]],
                    "condition_files": [FILES["conditions"]],
                    "observable_files": [FILES["observables"]],
                    "measurement_files": [FILES["measurements"]],
                }
            ],
        },
        yaml_path,
    )
    return yaml_path


def load_problem(yaml_path: Path) -> petab.Problem:
    return petab.Problem.from_yaml(str(yaml_path))


def lint(yaml_path: Path) -> bool:
    """True if PEtab's linter finds no error in the problem (it logs what it finds)."""
    return not petab.lint_problem(load_problem(yaml_path))
