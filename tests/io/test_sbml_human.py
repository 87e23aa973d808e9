"""The human model's SBML export agrees with the compiled engine under therapy courses.

Issue 6 asks for the exported SBML, simulated with libroadrunner, to agree with fmsim's engine
within 1e-6 relative on every state above a floor, for a human FcRn-inhibitor course and a
plasma-exchange course (the mouse scenarios are in test_sbml.py), and, issue 13, for drugs and
devices defined only by library files: batoclimab (a built-in entry), a user's own FcRn
inhibitor (examples/drugs/example_anti_fcrn.yaml), a fixed-volume tryptophan-column course and
a plasma exchange with plasma (donor IgG returned) as replacement fluid."""

from pathlib import Path

import numpy as np
import pytest

from fmsim.config.therapy import parse_protocol
from fmsim.experiments.therapy import protocol_events, sample_population
from fmsim.io.sbml import compare_with_roadrunner, export_sbml, validate_sbml
from fmsim.model.human import HUMAN_MODEL, initial_state

pytest.importorskip("roadrunner")

FLOOR = 1e-9  # in each state's unit (mg, mg/mL or relative)
COURSES = {
    "efgartigimod i.v. weekly x4 (1 h infusions)": [
        {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 4}
    ],
    "rozanolixizumab s.c. weekly x3": [
        {"type": "rozanolixizumab", "dose": "7 mg/kg", "start": 0, "every": 7, "count": 3}
    ],
    "plasma exchange 5 x 1 plasma volume, every other day": [
        {"type": "tpe", "plasma_volumes": 1.0, "days": [0.5, 2.5, 4.5, 6.5, 8.5]}
    ],
    "batoclimab 680 mg s.c. weekly x3 (library entry)": [
        {"type": "fcrn_inhibitor", "drug": "batoclimab", "dose": "680 mg", "days": [0, 7, 14]}
    ],
    "a user's FcRn inhibitor 600 mg s.c. weekly x3 (user file)": [
        {
            "type": "fcrn_inhibitor",
            "drug": "example_anti_fcrn",
            "dose": "600 mg",
            "days": [0, 7, 14],
        }
    ],
    "tryptophan column 2500 mL and exchange with plasma": [
        {
            "type": "immunoadsorption",
            "column": "tryptophan",
            "volume": "2500 mL",
            "days": [0.5, 2.5],
        },
        {"type": "plasma_exchange", "fluid": "fresh_frozen_plasma", "volume": "3 L", "days": [4.5]},
    ],
}
USER_DRUGS = str(Path(__file__).resolve().parents[2] / "examples" / "drugs")


@pytest.mark.parametrize("name", COURSES)
def test_human_course_agrees_with_roadrunner(name):
    population = sample_population(2, np.random.default_rng(11), anti_sgc_positive_fraction=1.0)
    protocol = parse_protocol({"name": name, "drugs": [USER_DRUGS], "therapies": COURSES[name]})
    patients = population.patients(protocol)
    events = protocol_events(protocol, population)
    y0 = initial_state(patients)
    times = np.arange(0.25, 42.0, 1.0)  # between the event times
    for index in range(patients.n):
        report = validate_sbml(export_sbml(HUMAN_MODEL, patients, y0, events, index))
        assert not report.errors
        difference = compare_with_roadrunner(
            HUMAN_MODEL,
            patients,
            y0,
            times,
            events,
            index,
            floor=FLOOR,
            rtol=1e-12,
            atol=1e-18,
            backend="compiled",
        )
        assert difference <= 1e-6, f"{name}, patient {index}: max rel diff {difference:.2e}"
