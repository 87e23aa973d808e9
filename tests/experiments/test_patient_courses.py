"""Per-patient courses (fmsim.experiments.patient_courses): the records a protocol gives each
patient read back as a per-patient table give identical simulations; sessions remove the
analytic fraction; a patient's arm and number are checked against the trial."""

from __future__ import annotations

import numpy as np
import pytest

from fmsim.config.therapy import parse_protocol
from fmsim.engine import Removal
from fmsim.experiments.patient_courses import (
    assign_courses,
    course_events,
    patient_course,
    protocol_records,
)
from fmsim.experiments.therapy import sample_population, simulate_course
from fmsim.io.event_table import EventTableError
from fmsim.io.nonmem_patients import read_patient_tables
from fmsim.model.drugs import load_library
from fmsim.model.human import HUMAN_MODEL

MIXED = {
    "name": "mixed",
    "therapies": [
        {"type": "plasma_exchange", "fluid": "fresh_frozen_plasma", "plasma_volumes": 1.0,
         "days": [0, 2]},
        {"type": "immunoadsorption", "column": "protein_a", "volume": "2500 mL", "days": [4]},
        {"type": "fcrn_inhibitor", "drug": "efgartigimod", "dose": "10 mg/kg", "route": "iv",
         "start": 7, "every": 7, "count": 2},
        {"type": "anti_cd20", "drug": "rituximab", "dose": "375 mg/m2", "days": [9]},
        {"type": "ivig", "dose": "0.4 g/kg", "days": [20]},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def population():
    return sample_population(4, np.random.default_rng(11), anti_sgc_positive_fraction=1.0)


def test_protocol_records_read_back_give_the_identical_course(tmp_path, population):
    protocol = parse_protocol(MIXED)
    numbers = np.arange(1, population.n + 1)
    path = tmp_path / "records.csv"
    protocol_records(protocol, population, numbers).to_csv(path, index=False)
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    course = patient_course(table)
    times = np.array([0.0, 1e-6, 1.0, 2.0, 2.0 + 1e-6, 4.0 + 1e-6, 8.0, 10.0, 21.0, 30.0])
    given = simulate_course(population, protocol, 30.0, times=times)
    read = simulate_course(
        population, course.protocol, 30.0, times=times,
        events=course_events(course, population, numbers),
    )  # fmt: skip
    for output in ("total_igg", "anti_sgc", "ivig", "inhibitor", "anti_cd20", "sensitisation"):
        np.testing.assert_array_equal(getattr(read, output), getattr(given, output))
    # the summary protocol keeps the drug slots and the therapy class
    assert course.protocol.fcrn_inhibitor().name == "efgartigimod"
    assert course.protocol.anti_cd20().name == "rituximab"
    assert course.protocol.group() == "combination"


def test_session_records_remove_the_analytic_fraction(population):
    protocol = parse_protocol(MIXED)
    records = protocol_records(protocol, population, np.arange(1, population.n + 1))
    exchange = records[(records["EVID"] == 2) & (records["DRUG"] == "plasma_exchange")]
    assert len(exchange) == 2 * population.n and set(exchange["CMT"]) == {"igg_plasma"}
    np.testing.assert_allclose(exchange["FRAC"], 1.0 - np.exp(-1.0), rtol=1e-15)  # 1 - e^-V
    # fresh frozen plasma returns C x Vp x f of donor IgG into ivig_plasma
    plasma_ml = population.values["plasma_volume_per_kg"] * population.values["body_weight"]
    fluid = load_library().get("fresh_frozen_plasma")
    concentration = fluid.per_patient(population.n, population.random_effects)
    returned = records[(records["CMT"] == "ivig_plasma") & (records["RATE"] == 0)]
    assert set(returned["DRUG"]) == {"fresh_frozen_plasma"} and set(returned["TIME"]) == {0, 2}
    np.testing.assert_allclose(
        returned["AMT"].to_numpy()[: population.n],
        concentration["igg_concentration"] * plasma_ml * (1 - np.exp(-1.0)),
        rtol=1e-12,
    )
    adsorption = records[records["DRUG"] == "protein_a"]
    column = load_library().get("protein_a").per_patient(population.n, population.random_effects)
    expected = 1 - np.exp(-column["igg_extraction"] * 2500.0 / plasma_ml)  # 1 - e^(-E V)
    assert (adsorption["TIME"] == 4).all() and (adsorption["FLUID"] == "").all()
    np.testing.assert_allclose(adsorption["FRAC"], expected, rtol=1e-12)


def test_sessions_given_in_plasma_volumes_per_patient_match_the_protocol(tmp_path, population):
    path = tmp_path / "pv.csv"
    path.write_text("ID,TIME,AMT,CMT,EVID,PV,FLUID\n2,3,0,igg_plasma,2,1.5,albumin\n")
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    events = course_events(patient_course(table), population, np.arange(1, population.n + 1))
    (removal,) = events
    assert isinstance(removal, Removal) and removal.time == 3.0
    np.testing.assert_allclose(removal.fraction, [0.0, 1 - np.exp(-1.5), 0.0, 0.0], rtol=1e-15)


def test_courses_are_checked_against_the_randomised_arms(tmp_path):
    path = tmp_path / "doses.csv"
    path.write_text(
        "ID,TIME,AMT,CMT,DRUG,ARM\n1,0,680,inhibitor_depot,batoclimab,active\n"
        "3,0,680,inhibitor_depot,batoclimab,active\n"
    )
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    course = patient_course(table)
    groups = np.array(["active", "placebo", "active", "placebo"], dtype=object)
    assert assign_courses([(course, None)], groups, 4) == {0: course, 2: course}
    with pytest.raises(EventTableError, match=r"doses.csv:2: column ID: patient 1 is randomised"
                       r" to 'active', not 'placebo'"):  # fmt: skip
        assign_courses([(course, "placebo")], groups, 4)
    with pytest.raises(EventTableError, match=r":3: column ARM: patient 3 is randomised to "
                       r"'placebo', not 'active'"):  # fmt: skip
        assign_courses([(course, None)], np.array(["active", "x", "placebo", "x"]), 4)
    with pytest.raises(EventTableError, match=r":3: column ID: value '3': expected a patient "
                       r"number from 1 to 2"):  # fmt: skip
        assign_courses([(course, None)], groups, 2)
    with pytest.raises(EventTableError, match=r"doses.csv:2: column ID: value '1': the "
                       r"patient's records are also given in .*doses.csv:2"):  # fmt: skip
        assign_courses([(course, None), (course, None)], groups, 4)


def test_a_dose_above_the_plausible_maximum_names_the_table(tmp_path):
    path = tmp_path / "high.csv"
    path.write_text("ID,TIME,AMT,CMT,DRUG\n1,0,68000,inhibitor_depot,batoclimab\n")
    (table,) = read_patient_tables(path, HUMAN_MODEL)
    with pytest.raises(EventTableError, match=r"high.csv \(course 'high'\): .*plausible maximum"):
        patient_course(table)
