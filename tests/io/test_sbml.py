"""SBML export (fmsim.io.sbml): validity and units, layout, notes, and agreement with fmsim's
scipy backend when libroadrunner simulates the document (the FcRn closed form itself is tested
in test_sbml_fcrn.py).

Agreement is measured by :func:`fmsim.io.sbml.compare_with_roadrunner`: max over states and
output times of |rr - fmsim| / max(|fmsim|, 1e-9), i.e. relative above an absolute floor of
1e-9 in each state's unit (mg, mg/mL or 1), both solvers at rtol 1e-12 and atol 1e-18. Output
times avoid event times (fmsim reports before an event, SBML simulators after it) except in the
test of that convention.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libsbml
import numpy as np
import pytest

from fmsim.config import default_config
from fmsim.engine import Bolus, Infusion, Removal, run
from fmsim.experiments.passive_transfer import build_virtual_cohort
from fmsim.io.sbml import (
    ValidationReport,
    compare_with_roadrunner,
    export_sbml,
    roadrunner_for,
    subject_values,
    use_subject,
    validate_sbml,
)
from fmsim.io.sbml_fcrn import NEWTON_STEPS, fcrn_functions
from fmsim.model.definition import ModelDefinition, constant
from fmsim.model.equations import MODEL, initial_state
from fmsim.model.fcrn import free_fcrn

TOLERANCE = 1e-6  # largest accepted relative difference above the floor
TIMES = np.arange(0.125, 28.0, 0.25)  # days, never an event time of the cases below
HP, MP, DEPOT = (
    MODEL.index("human_plasma"),
    MODEL.index("host_plasma"),
    MODEL.index("human_ip_depot"),
)


@pytest.fixture(scope="module")
def mice():
    """The default Goebel 2021 cohort (72 mice, sampled parameters, 4 x 8 mg i.p.)."""
    return build_virtual_cohort(default_config())


def mouse_index(mice, group: str, k: int = 0) -> int:
    return int(np.flatnonzero(mice.cohort["group"].to_numpy() == group)[k])


def exchange_course(n: int) -> list:
    """An i.v. human IgG load at day 0, then five plasma-exchange-like sessions removing 50-70%
    of plasma IgG (per subject), a top-up bolus right after the third session, and a removal of
    host IgG at day 0 (before the load, as fmsim orders them)."""
    fractions = np.linspace(0.5, 0.7, n)
    return [
        Bolus(0.0, HP, np.linspace(16.0, 24.0, n)),
        Removal(0.0, (MP,), 0.3),
        *(Removal(day, (HP, MP), fractions) for day in (2.0, 4.0, 6.0, 8.0, 10.0)),
        Bolus(6.0, HP, 5.0),
    ]


def infusion_course(n: int) -> list:
    """Two overlapping i.v. infusions (one from day 0, per-subject rates) and an i.p. dose."""
    return [
        Infusion(0.0, 2.0, HP, np.linspace(3.0, 5.0, n)),
        Infusion(1.0, 3.5, HP, 10.0),
        Bolus(5.0, DEPOT, 8.0),
    ]


# ------------------------------------------------------------------ document, no simulator


def test_documents_validate_without_errors_or_unit_warnings(mice):
    y0 = initial_state(mice.subjects)
    n = mice.subjects.n
    for events in (mice.doses, exchange_course(n), infusion_course(n)):
        report = validate_sbml(export_sbml(MODEL, mice.subjects, y0, events, 0))
        assert report.errors == ()
        assert report.warnings == ()  # units declared everywhere and consistent


def test_every_quantity_has_a_unit(mice):
    text = export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), mice.doses, 0)
    model = libsbml.readSBMLFromString(text).getModel()
    parameters = [model.getParameter(i) for i in range(model.getNumParameters())]
    assert all(p.isSetUnits() for p in parameters)
    species = [model.getSpecies(i) for i in range(model.getNumSpecies())]
    assert all(s.isSetSubstanceUnits() for s in species)
    assert model.getParameter("pinocytic_clearance").getUnits() == "mL_per_day"
    assert model.getParameter("endosomal_ratio").getUnits() == "uM_mL_per_mg"
    assert model.getParameter("fcrn_free").getUnits() == "uM"
    # the logistic onset's 0.25 day: its coefficient 1 / 0.25 carries the unit 1/day
    assert ("4", "per_day") in _numbers_with_units(model.getRateRule("human_plasma").getMath())


def _numbers_with_units(math) -> set[tuple[str, str]]:
    found = set()
    if math.isNumber():
        found.add((f"{math.getValue():g}", math.getUnits()))
    for i in range(math.getNumChildren()):
        found |= _numbers_with_units(math.getChild(i))
    return found


@dataclass(frozen=True)
class PerHour:
    """A decay constant declared per hour in a model whose time is days."""

    elimination_rate: np.ndarray = constant("1/h")


def test_export_refuses_inconsistent_units():
    # libsbml compares only the kinds of units (mass per time), fmsim their scale too
    model = ModelDefinition(
        "per_hour", ("drug",), ("mg",), PerHour, lambda t, y, s, ops: [-s.elimination_rate * y[0]]
    )
    with pytest.raises(ValueError, match=r"rate of drug \(mg/day\).*unit"):
        export_sbml(model, PerHour(np.array([0.2])), np.ones((1, 1)), (), 0)


def test_constants_carry_their_parameter_sources(mice):
    text = export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), mice.doses, 0)
    model = libsbml.readSBMLFromString(text).getModel()
    notes = model.getParameter("pinocytic_clearance").getNotesString()
    source = MODEL.parameter_set()["pinocytic_clearance_per_kg"].source
    assert "pinocytic_clearance_per_kg" in notes and "body_weight" in notes
    assert source.split(":")[0] in notes
    assert "Set by the experiment" in model.getParameter("pathogenic_fraction").getNotesString()


def test_round_trip_layout(mice):
    text = export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), mice.doses, 0)
    document = libsbml.readSBMLFromString(text)
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    model = document.getModel()
    species = [model.getSpecies(i) for i in range(model.getNumSpecies())]
    # a concentration cannot be a species' substance unit: drg_pathogenic is a parameter
    assert [s.getId() for s in species] == [s for s in MODEL.states if s != "drg_pathogenic"]
    assert all(s.getHasOnlySubstanceUnits() and s.getCompartment() == "subject" for s in species)
    assert model.getSpecies("human_plasma").getSubstanceUnits() == "mg"
    drg = model.getParameter("drg_pathogenic")
    assert drg.getName() == "drg_pathogenic (mg/mL)" and not drg.getConstant()
    assert drg.getUnits() == "mg_per_mL"
    assert model.getTimeUnits() == "day"
    # day 0 dose in the initial state, days 1-3 as one event each, with their amount parameters
    assert model.getSpecies("human_ip_depot").getInitialAmount() == 8.0
    assert model.getNumEvents() == 3
    parameters = {model.getParameter(i).getId() for i in range(model.getNumParameters())}
    assert set(MODEL.constants) | {"bolus_2_amount", "bolus_3_amount", "bolus_4_amount"} <= (
        parameters
    )
    assert "bolus_1_amount" not in parameters
    rules = 5 + NEWTON_STEPS + 1  # pool, 2 ligands, 2 KDs; closed form, Newton, fcrn_free
    assert model.getNumRules() == MODEL.n_states + rules
    assert model.getNumFunctionDefinitions() == len(fcrn_functions())
    constant = model.getParameter("fcrn_total")
    assert constant.getConstant()
    # libsbml writes numbers with 15 significant digits
    assert constant.getValue() == pytest.approx(mice.subjects.fcrn_total[0], rel=1e-15)
    notes = model.getNotesString()
    assert "do not edit by hand" in notes and "fmsim.model.equations.derivatives" in notes
    event = model.getEvent(0)
    trigger = event.getTrigger()
    assert event.getUseValuesFromTriggerTime() and trigger.getPersistent()
    assert not trigger.getInitialValue()
    assert libsbml.formulaToL3String(trigger.getMath()) == "time >= 1 day"
    assignment = libsbml.formulaToL3String(event.getEventAssignment(0).getMath())
    assert assignment == "human_ip_depot + bolus_2_amount"


def test_removal_then_bolus_compose_in_one_event(mice):
    text = export_sbml(
        MODEL, mice.subjects, initial_state(mice.subjects), exchange_course(mice.subjects.n), 0
    )
    model = libsbml.readSBMLFromString(text).getModel()
    assert model.getNumEvents() == 5  # days 2, 4, 6, 8, 10; day 0 is in the initial state
    day6 = model.getEvent(2)
    formulas = {
        day6.getEventAssignment(i).getVariable(): libsbml.formulaToL3String(
            day6.getEventAssignment(i).getMath()
        )
        for i in range(day6.getNumEventAssignments())
    }
    assert formulas["human_plasma"] == (
        "human_plasma * (1 dimensionless + -removal_5_fraction) + bolus_8_amount"
    )
    assert formulas["host_plasma"] == "host_plasma * (1 dimensionless + -removal_5_fraction)"
    host = initial_state(mice.subjects)[MP, 0]
    assert model.getSpecies("host_plasma").getInitialAmount() == pytest.approx(0.7 * host)


def test_events_without_value_for_the_subject_are_left_out(mice):
    saline = mouse_index(mice, "Saline")
    text = export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), mice.doses, saline)
    model = libsbml.readSBMLFromString(text).getModel()
    assert model.getNumEvents() == 0
    assert model.getSpecies("human_ip_depot").getInitialAmount() == 0.0
    assert model.getParameter("bolus_2_amount") is None


def test_export_refuses_bad_input(mice):
    y0 = initial_state(mice.subjects)
    with pytest.raises(IndexError, match="out of range"):
        export_sbml(MODEL, mice.subjects, y0, mice.doses, mice.subjects.n)
    with pytest.raises(ValueError, match="shape"):
        export_sbml(MODEL, mice.subjects, y0[:, :3], mice.doses, 0)
    with pytest.raises(ValueError, match="before time 0"):
        export_sbml(MODEL, mice.subjects, y0, [Bolus(-1.0, DEPOT, 1.0)], 0)
    clash = replace(MODEL, states=(*MODEL.states[:-1], "fcrn_free"))
    with pytest.raises(ValueError, match="clash.*fcrn_free"):
        export_sbml(clash, mice.subjects, y0, mice.doses, 0)


# ------------------------------------------------------------------ libroadrunner


@pytest.fixture(scope="module")
def roadrunner():
    return pytest.importorskip("roadrunner")


def test_roadrunner_fcrn_free_equals_free_fcrn_at_100x_dose(mice, roadrunner):
    index = mouse_index(mice, "FMS-IgG")
    doses = [replace(d, amount=100 * np.asarray(d.amount)) for d in mice.doses]
    runner = roadrunner_for(
        export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), doses, index)
    )
    runner.timeCourseSelections = [
        "time",
        "fcrn_free",
        "fcrn_ligand_1",
        "fcrn_ligand_2",
        "host_plasma",
        "human_plasma",
    ]
    out = runner.simulate(times=[0.0, *TIMES[:40]])
    s = mice.subjects
    ratio = s.endosomal_ratio[index] / s.plasma_volume[index]
    np.testing.assert_allclose(out[:, 2], ratio * out[:, 4], rtol=1e-14)
    np.testing.assert_allclose(out[:, 3], ratio * out[:, 5], rtol=1e-14)
    assert out[:, 3].max() > 1e3  # uM: far beyond the study dose
    expected = free_fcrn(
        np.full(out.shape[0], s.fcrn_total[index]),
        out[:, 2:4].T,
        np.array([s.fcrn_kd_host[index], s.fcrn_kd_human[index]]),
    )
    np.testing.assert_allclose(out[:, 1], expected, rtol=1e-13)


@pytest.mark.parametrize("group", ["FMS-IgG", "HC-IgG", "IgG-depleted FMS serum"])
def test_passive_transfer_matches_fmsim(mice, roadrunner, group):
    index = mouse_index(mice, group, 1)
    y0 = initial_state(mice.subjects)
    difference = compare_with_roadrunner(MODEL, mice.subjects, y0, TIMES, mice.doses, index)
    assert difference <= TOLERANCE


@pytest.mark.parametrize("course", [exchange_course, infusion_course])
def test_therapy_events_match_fmsim(mice, roadrunner, course):
    y0 = initial_state(mice.subjects)
    events = course(mice.subjects.n)
    for index in (0, 45):
        difference = compare_with_roadrunner(MODEL, mice.subjects, y0, TIMES, events, index)
        assert difference <= TOLERANCE


def test_outputs_at_an_event_time_are_post_event_in_roadrunner(mice, roadrunner):
    # A removal and a bolus at day 5, an output time too: fmsim reports the state before the
    # session, libroadrunner after it (removal first, then the bolus).
    events = [Removal(5.0, (HP, MP), 0.6), Bolus(5.0, HP, 5.0)]
    y0 = initial_state(mice.subjects)
    times = [4.5, 5.0, 5.5]
    runner = roadrunner_for(export_sbml(MODEL, mice.subjects, y0, [*mice.doses, *events], 0))
    simulated = runner.simulate(times=[0.0, *times])[1:, 1:]
    reference = run(
        MODEL,
        mice.subjects,
        y0,
        times,
        [*mice.doses, *events],
        rtol=1e-12,
        atol=1e-18,
        backend="scipy",
    ).states[:, :, 0]
    after = reference[1].copy()
    after[[HP, MP]] *= 0.4
    after[HP] += 5.0
    np.testing.assert_allclose(simulated[[0, 2]], reference[[0, 2]], rtol=TOLERANCE)
    np.testing.assert_allclose(simulated[1], after, rtol=TOLERANCE)
    assert simulated[1, HP] != pytest.approx(reference[1, HP], rel=1e-2)


def test_one_document_serves_other_subjects(mice, roadrunner):
    # mg/kg dosing: every mouse has its own amounts, set through subject_values
    config = default_config().model_copy(update={"dose": "400 mg/kg"})
    cohort = build_virtual_cohort(config)
    y0 = initial_state(cohort.subjects)
    runner = roadrunner_for(export_sbml(MODEL, cohort.subjects, y0, cohort.doses, 0))
    others = [5, 40, mouse_index(cohort, "Saline")]
    reference = run(
        MODEL, cohort.subjects, y0, TIMES, cohort.doses, rtol=1e-12, atol=1e-18, backend="scipy"
    ).states
    for index in [*others, 0]:
        use_subject(runner, subject_values(MODEL, cohort.subjects, y0, index, cohort.doses))
        simulated = runner.simulate(times=[0.0, *TIMES])[1:, 1:]
        expected = reference[:, :, index]
        difference = np.abs(simulated - expected) / np.maximum(np.abs(expected), 1e-9)
        assert difference.max() <= TOLERANCE, index


def test_a_document_without_an_event_refuses_a_subject_with_it(mice, roadrunner):
    y0 = initial_state(mice.subjects)
    saline = mouse_index(mice, "Saline")
    runner = roadrunner_for(export_sbml(MODEL, mice.subjects, y0, mice.doses, saline))
    with pytest.raises(ValueError, match="bolus_2_amount"):
        use_subject(runner, subject_values(MODEL, mice.subjects, y0, 0, mice.doses))


def test_compare_refuses_output_times_at_events(mice):
    y0 = initial_state(mice.subjects)
    with pytest.raises(ValueError, match="coincide"):
        compare_with_roadrunner(MODEL, mice.subjects, y0, [0.5, 1.0], mice.doses, 0)


# ------------------------------------------------------------------ any model


@dataclass(frozen=True)
class Decay:
    """A one-compartment drug without FcRn: elimination rate (1/day) per subject."""

    elimination_rate: np.ndarray = constant("1/day")


def decay(t, y, s, ops):
    return [-s.elimination_rate * y[0]]


DECAY = ModelDefinition("decay", ("drug",), ("mg",), Decay, decay)


def test_a_model_without_fcrn_exports_and_matches(roadrunner):
    subjects = Decay(np.array([0.2, 0.5]))
    y0 = np.array([[0.0, 1.0]])
    events = [
        Bolus(0.0, 0, 10.0),
        Infusion(1.0, 2.0, 0, np.array([3.0, 0.0])),
        Removal(3.0, (0,), 0.5),
    ]
    text = export_sbml(DECAY, subjects, y0, events, 0)
    assert validate_sbml(text) == ValidationReport((), ())
    assert libsbml.readSBMLFromString(text).getModel().getNumFunctionDefinitions() == 0
    times = np.arange(0.25, 6.0, 0.5)
    for index in (0, 1):
        assert compare_with_roadrunner(DECAY, subjects, y0, times, events, index) <= TOLERANCE
