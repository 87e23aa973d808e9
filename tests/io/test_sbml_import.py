"""SBML import (fmsim.io.sbml_import): fmsim's exports come back as models the engine runs with
the same trajectories and events; a model edited in Antimony (tellurium's model language) runs
and agrees with libroadrunner; unsupported constructs are refused in one line."""

from __future__ import annotations

import libsbml
import numpy as np
import pytest

from fmsim.config import default_config
from fmsim.config.therapy import parse_protocol
from fmsim.engine import Bolus, Removal, run
from fmsim.experiments.passive_transfer import build_virtual_cohort
from fmsim.experiments.therapy import protocol_events, sample_population
from fmsim.io.sbml import export_sbml
from fmsim.io.sbml_import import SbmlImportError, import_sbml
from fmsim.model.equations import MODEL, initial_state
from fmsim.model.human import HUMAN_MODEL
from fmsim.model.human import initial_state as human_initial_state

TIMES = np.arange(0.125, 28.0, 0.25)  # days, between the event times


def one_subject(model, subjects, events, index):
    """Subject ``index`` alone and its events with scalar values."""
    one = model.subjects_type(
        **{c: np.asarray(getattr(subjects, c))[index : index + 1] for c in model.constants}
    )
    field = {"Bolus": "amount", "Infusion": "rate", "Removal": "fraction"}
    scalar = []
    for event in events:
        name = field[type(event).__name__]
        value = np.asarray(getattr(event, name), dtype=float)
        scalar.append(
            type(event)(**{**event.__dict__, name: float(value.reshape(-1)[index % value.size])})
        )
    return one, scalar


def tight(model, subjects, y0, events):
    """States simulated with tight tolerances (rtol 1e-10, atol 1e-14) at ``TIMES``."""
    return run(model, subjects, y0, TIMES, events, rtol=1e-10, atol=1e-14).states


def simulate_imported(imported):
    """The imported model's own subjects, initial state and events, tightly simulated."""
    return tight(imported.model, imported.subjects, imported.y0, imported.events)


def relative(a, b, floor=1e-9):
    """Max |a - b| / max(|b|, floor): relative above ``floor`` (state units), else absolute."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


@pytest.fixture(scope="module")
def mice():
    return build_virtual_cohort(default_config())


def test_mouse_export_imports_with_the_same_trajectories(mice):
    y0 = initial_state(mice.subjects)
    imported = import_sbml(export_sbml(MODEL, mice.subjects, y0, mice.doses, 0))
    assert imported.model.states == MODEL.states
    assert imported.model.state_units == MODEL.state_units
    assert imported.time_unit == "day"
    assert set(MODEL.constants) <= set(imported.model.constants)  # and dose amounts
    assert [c for c in imported.model.constant_units if c == "mL/day"]
    # the day-0 dose is in the initial state, the others are events
    assert imported.events == tuple(Bolus(day, 0, 8.0) for day in (1.0, 2.0, 3.0))
    one, events = one_subject(MODEL, mice.subjects, mice.doses, 0)
    expected = tight(MODEL, one, y0[:, :1], events)
    got = simulate_imported(imported)
    assert relative(got, expected) <= 1e-9  # measured 9e-13: only rounding differs


@pytest.mark.parametrize(
    "therapy",
    [
        {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 3},
        {"type": "tpe", "plasma_volumes": 1.0, "days": [0.5, 2.5, 4.5]},
    ],
    ids=["infusions", "plasma-exchange"],
)
def test_human_export_imports_with_infusions_and_removals(therapy):
    population = sample_population(2, np.random.default_rng(3), anti_sgc_positive_fraction=1.0)
    protocol = parse_protocol({"name": "course", "therapies": [therapy]})
    patients = population.patients(protocol)
    events = protocol_events(protocol, population)
    y0 = human_initial_state(patients)
    imported = import_sbml(export_sbml(HUMAN_MODEL, patients, y0, events, 1))
    assert imported.model.states[: HUMAN_MODEL.n_states] == HUMAN_MODEL.states
    if therapy["type"] == "tpe":
        assert any(isinstance(e, Removal) for e in imported.events)
    else:  # each infusion's switch is a state the events set to its rate and back to 0
        assert imported.model.n_states == HUMAN_MODEL.n_states + 3
    one, scalar = one_subject(HUMAN_MODEL, patients, events, 1)
    expected = tight(HUMAN_MODEL, one, y0[:, 1:2], scalar)
    got = simulate_imported(imported)[:, : HUMAN_MODEL.n_states]
    assert relative(got, expected) <= 1e-8


SKIN = {  # an extra compartment: skin interstitium taking up human IgG from plasma
    "compartment": ("skin", 2.5),
    "species": ("skin_igg", 0.0),
    "permeability": ("skin_permeability", 0.4),
}


def _add_skin_with_libsbml(text: str) -> str:
    """The same edit as the Antimony one below, made with libsbml (for libroadrunner, which
    compiles the document with its FcRn function definitions quickly)."""
    document = libsbml.readSBMLFromString(text)
    model = document.getModel()
    compartment = model.createCompartment()
    compartment.setId("skin")
    compartment.setSize(2.5)
    compartment.setConstant(True)
    species = model.createSpecies()
    species.setId("skin_igg")
    species.setCompartment("skin")
    species.setInitialConcentration(0.0)
    species.setHasOnlySubstanceUnits(False)
    species.setBoundaryCondition(False)
    species.setConstant(False)
    parameter = model.createParameter()
    parameter.setId("skin_permeability")
    parameter.setValue(0.4)
    parameter.setConstant(True)
    reaction = model.createReaction()
    reaction.setId("skin_exchange")
    reaction.setReversible(False)
    product = reaction.createProduct()
    product.setSpecies("skin_igg")
    product.setStoichiometry(1.0)
    product.setConstant(True)
    law = reaction.createKineticLaw()
    law.setMath(
        libsbml.parseL3Formula("skin_permeability * (human_plasma / plasma_volume - skin_igg)")
    )
    return libsbml.writeSBMLToString(document)


def test_a_model_edited_in_antimony_runs_and_agrees_with_roadrunner(mice):
    antimony = pytest.importorskip("antimony")
    roadrunner_for = pytest.importorskip("fmsim.io.sbml").roadrunner_for
    pytest.importorskip("roadrunner")
    y0 = initial_state(mice.subjects)
    exported = export_sbml(MODEL, mice.subjects, y0, mice.doses, 0)
    antimony.clearPreviousLoads()
    assert antimony.loadSBMLString(exported) >= 0
    text = antimony.getAntimonyString(antimony.getMainModuleName()).replace(
        "\nend",
        """
  compartment skin = 2.5;
  species skin_igg in skin = 0;
  skin_exchange: -> skin_igg; skin_permeability * (human_plasma / plasma_volume - skin_igg);
  skin_permeability = 0.4;
end""",
    )
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()
    edited = import_sbml(antimony.getSBMLString(antimony.getMainModuleName()))
    assert "skin_igg" in edited.model.states and "skin" in edited.model.constants
    got = run(
        edited.model, edited.subjects, edited.y0, TIMES, edited.events, rtol=1e-12, atol=1e-18
    ).states[:, :, 0]
    runner = roadrunner_for(_add_skin_with_libsbml(exported))
    # libroadrunner selects a species' amount by its id, its concentration as [id]
    runner.timeCourseSelections = ["time", *edited.model.states[:-1], "[skin_igg]"]
    expected = runner.simulate(times=[0.0, *TIMES])[1:, 1:]
    # floor 1e-4 (as in docs/benchmarks.md): the i.p. depot decays to 1e-6 mg and below,
    # where the two solvers differ by ~1e-12 mg (1e-6 of the value)
    assert relative(got, expected, floor=1e-4) <= 1e-6
    assert got[-1, edited.model.index("skin_igg")] > 0  # the new compartment filled up


# ------------------------------------------------------------------ refused constructs


def _document(edit) -> str:
    """A one-state model (x' = -k x, x(0) = 1, k = 0.5) changed by ``edit(model)``."""
    document = libsbml.SBMLDocument(3, 1)
    model = document.createModel()
    model.setId("tiny")
    compartment = model.createCompartment()
    compartment.setId("c")
    compartment.setSize(1.0)
    compartment.setConstant(True)
    for name, value in (("x", 1.0), ("k", 0.5)):
        parameter = model.createParameter()
        parameter.setId(name)
        parameter.setValue(value)
        parameter.setConstant(name == "k")
    rule = model.createRateRule()
    rule.setVariable("x")
    rule.setMath(libsbml.parseL3Formula("-k * x"))
    edit(model)
    return libsbml.writeSBMLToString(document)


def _event(model, trigger: str, assignment: str, delay: str | None = None) -> None:
    event = model.createEvent()
    event.setId("e")
    event.setUseValuesFromTriggerTime(True)
    t = event.createTrigger()
    t.setMath(libsbml.parseL3Formula(trigger))
    t.setPersistent(True)
    t.setInitialValue(False)
    if delay:
        event.createDelay().setMath(libsbml.parseL3Formula(delay))
    a = event.createEventAssignment()
    a.setVariable("x")
    a.setMath(libsbml.parseL3Formula(assignment))


def _algebraic(model):
    y = model.createParameter()
    y.setId("y")
    y.setConstant(False)
    y.setValue(0.0)
    model.createAlgebraicRule().setMath(libsbml.parseL3Formula("x + y - 1"))


def _fast(model):
    species = model.createSpecies()
    for attribute, value in (("Id", "s"), ("Compartment", "c"), ("InitialAmount", 1.0)):
        getattr(species, f"set{attribute}")(value)
    species.setHasOnlySubstanceUnits(True)
    species.setBoundaryCondition(False)
    species.setConstant(False)
    reaction = model.createReaction()
    reaction.setId("r")
    reaction.setReversible(False)
    reaction.setFast(True)
    reference = reaction.createReactant()
    reference.setSpecies("s")
    reference.setConstant(True)
    reference.setStoichiometry(1)
    reaction.createKineticLaw().setMath(libsbml.parseL3Formula("k * s"))


def _growing_compartment(model):
    model.getCompartment("c").setConstant(False)
    rule = model.createRateRule()
    rule.setVariable("c")
    rule.setMath(libsbml.parseL3Formula("0.1"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_algebraic, "algebraic rules are not supported"),
        (lambda m: _event(m, "time >= 1", "x + 1", delay="2"), "has a delay"),
        (_fast, "reaction 'r' is fast"),
        (_growing_compartment, "compartment 'c' is not constant"),
        (lambda m: _event(m, "x < 0.5", "x + 1"), "only scheduled events are supported"),
        (lambda m: _event(m, "time >= 1", "x * k * x"), "is not 'x \\* \\(1 - f\\) \\+ a'"),
        (lambda m: _event(m, "time >= 1", "x * 3"), "removes a fraction -2"),
    ],
    ids=["algebraic", "delay", "fast", "compartment", "trigger", "nonlinear", "fraction"],
)
def test_unsupported_constructs_are_refused_in_one_line(edit, message):
    with pytest.raises(SbmlImportError, match=message) as error:
        import_sbml(_document(edit))
    assert "\n" not in str(error.value)


def test_a_supported_tiny_model_runs():
    imported = import_sbml(_document(lambda m: _event(m, "time >= 1", "x * 0.5 + 2")))
    assert imported.events == (Removal(1.0, (0,), 0.5), Bolus(1.0, 0, 2.0))
    times = np.array([0.5, 1.5])
    x = run(imported.model, imported.subjects, imported.y0, times, imported.events).states
    expected_1 = np.exp(-0.5) * 0.5 + 2  # day 1: halved, then 2 added
    np.testing.assert_allclose(x[:, 0, 0], [np.exp(-0.25), expected_1 * np.exp(-0.25)], rtol=1e-7)


def test_files_that_cannot_be_read_are_named(tmp_path):
    with pytest.raises(SbmlImportError, match="no such file"):
        import_sbml(tmp_path / "missing.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<sbml><model></sbml>")
    with pytest.raises(SbmlImportError, match="broken.xml: line"):
        import_sbml(broken)
