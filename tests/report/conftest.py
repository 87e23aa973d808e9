"""Every kind of report, rendered once per test session from small studies: passive transfer,
lab data, therapies, trial, fit and sensitivity (the power study writes a figure, no page)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.calibration.conftest import simulated_problem

from fmsim.calibration.fit import run_fit
from fmsim.calibration.sensitivity_study import DEFAULT_TRIAL, sensitivity_study
from fmsim.config import load_config
from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.config.trial import parse_trial_config
from fmsim.experiments.studies import (
    lab_data_study,
    load_lab_data,
    passive_transfer_study,
    therapy_study,
    trial_study,
)
from fmsim.report import render

ROOT = Path(__file__).resolve().parents[2]
MESSY = ROOT / "tests" / "io" / "fixtures" / "messy_lab_data.csv"


def small_scenario():
    """examples/low_dose.yaml with 3 mice per group."""
    config = load_config(ROOT / "examples" / "low_dose.yaml")
    groups = [g.model_copy(update={"mice": 3}) for g in config.groups]
    return config.model_copy(update={"groups": groups})


def small_trial():
    """The registered rozanolixizumab trial's design, with 40 patients and a small power run."""
    raw = yaml.safe_load(
        (ROOT / "examples" / "trials" / "rozanolixizumab_nct05643794.yaml").read_text()
    )
    raw |= {"patients": 40, "power": {"sample_sizes": [20, 40], "replicates": 10}}
    return parse_trial_config(raw)


def _fit():
    """The calibration tests' simulated paw-pressure problem, fitted with profiles."""
    problem, _ = simulated_problem(["sensitisation_occupancy50"], 0)
    return run_fit(problem, n_starts=2, profile=True)


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> dict[str, Path]:
    """kind -> the rendered report (HTML) of a small study of that kind."""
    out = tmp_path_factory.mktemp("reports")
    library = drug_library()
    protocols = {
        name: regimen_protocol(library.get(name), library) for name in ("efgartigimod", "protein_a")
    }
    lab = load_lab_data(MESSY)
    studies = {
        "passive_transfer": lambda: passive_transfer_study(small_scenario()),
        "lab_data": lambda: lab_data_study(lab, "HC-IgG", "FMS-IgG"),
        "therapies": lambda: therapy_study(protocols, patients=6, days=91),
        "trial": lambda: trial_study(small_trial()),
        "fit": _fit,
        "sensitivity": lambda: sensitivity_study(
            4,
            0,
            analyses=["therapy", "trial"],
            trial_n_base=4,
            trial_replicates=2,
            trial_config=parse_trial_config(
                DEFAULT_TRIAL
                | {
                    "patients": 30,
                    "duration_weeks": 4,
                    "primary": {"outcome": "pain_nrs", "week": 4, "analysis": "ancova"},
                }
            ),
        ),
    }
    return _Rendered(studies, out)


class _Rendered(dict):
    """kind -> report path, each study computed and rendered on first use."""

    def __init__(self, studies, out: Path):
        super().__init__()
        self.studies, self.out = studies, out

    def __missing__(self, kind: str) -> Path:
        self[kind] = render(self.studies[kind](), self.out / kind)
        return self[kind]
