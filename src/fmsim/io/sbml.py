"""Export one subject of a model, with its dosing and therapy events, as SBML Level 3 Version 2.

The equations are not written again: :func:`fmsim.model.symbolic.symbolic_model` evaluates the
model's one ``derivatives`` function with sympy symbols, and this module translates the
expressions into SBML math (libsbml syntax trees; no text formulas to re-parse).

What the document contains, for subject ``index``:

* **States** are species with ``hasOnlySubstanceUnits="true"`` in the dimensionless compartment
  ``subject`` (size 1), each governed by a rate rule (no reactions); the species value is the
  state in the model's ``state_units``, so tools that plot species show fmsim's states. The
  unit is the species' substance unit where SBML allows one (mass, amount, dimensionless) and
  is always part of its name, e.g. ``drg_pathogenic (mg/mL)``.
* **Per-subject constants** are constant parameters with that subject's values. The model
  definition does not record their units, so they carry none; libsbml then reports warnings
  (no errors) that units cannot be fully checked.
* **Time** is the ``time`` csymbol, in days. Numbers are written with 15 significant digits
  (libsbml's writer), so constants differ from fmsim's by up to 5e-16 relative.
* **Free endosomal FcRn** at quasi-steady state (:mod:`fmsim.model.fcrn`) is :data:`NEWTON_STEPS`
  Newton steps from zero: assignment rules ``fcrn_free_2 = fcrn_newton_steps(0, ...)``,
  ``fcrn_free_4 = fcrn_newton_steps(fcrn_free_2, ...)``, ..., ``fcrn_free``, each applying the
  function definition ``fcrn_newton_step`` (built from :func:`fmsim.model.fcrn.newton_step`
  itself) :data:`STEPS_PER_RULE` times. Newton from zero is monotone for this equation, so the chain
  converges for any non-negative input; to the iteration's rounding floor (the larger of
  1e-15 and twice the scatter of further iterates) it needs at most 14 steps for total FcRn
  1e-1 to 1e3 uM, endosomal IgG 0 to 1e6 uM and KD 1e-3 to 1e2 uM, and 24 steps for 1e-3 to
  1e4, 0 to 1e9 and 1e-3 to 1e4 uM. ``fcrn_ligand_k`` (endosomal IgG of kind k, clipped at zero)
  are assignment rules too. (The engine caps the free FcRn at the total; the chain never
  exceeds it, so the cap is left out.)
  Why this shape: libroadrunner inlines assignment rules, so a chain of steps written out in
  the rules grows exponentially (each step refers to the previous iterate several times), and a
  chain of single-step rules compiles in time quadratic in its length; deeper nesting of
  function calls, on the other hand, makes libsbml's unit check (which expands function
  definitions) exponential. Two steps per rule cut the load time about threefold.
* **Events.** Every event value after time 0 is a constant parameter named after the event's
  position k (1-based) in the ``events`` sequence: ``bolus_k_amount`` (state unit),
  ``removal_k_fraction`` (0-1), ``infusion_k_rate`` (state unit per day). Events whose value is
  zero for the subject are left out. There is one SBML event per distinct time (``time >= t``,
  persistent, initial value false, values from the trigger time) whose assignments compose, per
  state, that time's removals and then its boluses, ``x = x * (1 - f_1) * ... + a_1 + ...``:
  fmsim's order without relying on event priorities (libroadrunner honours priorities, but with
  values from the trigger time, simultaneous events would each assign a value computed from the
  state before either). An infusion adds a parameter ``infusion_k_input`` (0 when off) to its
  state's rate rule; the events at its start and stop switch it to ``infusion_k_rate`` and back.
* **Time 0.** Removals and boluses at time 0 are applied to the initial amounts (removals first)
  and an infusion starting at 0 starts switched on, rather than by events at time 0:
  libroadrunner applies such events within ``reset()``, so the per-subject initial values that
  :func:`use_subject` sets after a reset must contain them anyway; folded in, the document and
  :func:`subject_values` agree.

Output convention: fmsim reports states **before** the events of an output time (pre-dose);
SBML simulators, libroadrunner included, report them after, and the document's initial state
already contains the doses of time 0. Compare the two at times without events.

Simulating with libroadrunner (a development dependency, imported lazily here)::

    r = roadrunner_for(export_sbml(model, subjects, y0, events, index=0))
    r.simulate(times=[0.0, 0.5, 1.5])         # columns: time, then the states
    use_subject(r, subject_values(model, subjects, y0, 7, events))
    r.simulate(times=[0.0, 0.5, 1.5])         # subject 7 from time 0, its events re-armed

A document exported for one subject serves another this way unless the other has an event that
the first was exported without (:func:`use_subject` then raises).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version

import libsbml
import numpy as np
import sympy

from fmsim.engine.events import Bolus, Event, Infusion, Removal, check_events, event_times
from fmsim.engine.run import run
from fmsim.model.definition import ModelDefinition
from fmsim.model.fcrn import newton_step
from fmsim.model.symbolic import FREE_FCRN, TIME, FcrnEquation, symbolic_model

NEWTON_STEPS = 40
STEPS_PER_RULE = 2
NEWTON_FUNCTION = "fcrn_newton_step"
NEWTON_STEPS_FUNCTION = "fcrn_newton_steps"
COMPARTMENT = "subject"

# Unit symbols of fmsim models -> SBML unit (kind, scale, multiplier).
_UNIT_TERMS = {
    "g": (libsbml.UNIT_KIND_GRAM, 0, 1.0),
    "kg": (libsbml.UNIT_KIND_GRAM, 3, 1.0),
    "mg": (libsbml.UNIT_KIND_GRAM, -3, 1.0),
    "ug": (libsbml.UNIT_KIND_GRAM, -6, 1.0),
    "mol": (libsbml.UNIT_KIND_MOLE, 0, 1.0),
    "mmol": (libsbml.UNIT_KIND_MOLE, -3, 1.0),
    "umol": (libsbml.UNIT_KIND_MOLE, -6, 1.0),
    "nmol": (libsbml.UNIT_KIND_MOLE, -9, 1.0),
    "L": (libsbml.UNIT_KIND_LITRE, 0, 1.0),
    "dL": (libsbml.UNIT_KIND_LITRE, -1, 1.0),
    "mL": (libsbml.UNIT_KIND_LITRE, -3, 1.0),
    "uL": (libsbml.UNIT_KIND_LITRE, -6, 1.0),
    "s": (libsbml.UNIT_KIND_SECOND, 0, 1.0),
    "min": (libsbml.UNIT_KIND_SECOND, 0, 60.0),
    "h": (libsbml.UNIT_KIND_SECOND, 0, 3600.0),
    "day": (libsbml.UNIT_KIND_SECOND, 0, 86400.0),
}
_MOLAR = {"M": 0, "mM": -3, "uM": -6, "nM": -9}  # mol/L, with the scale of the mole
_SUBSTANCE_KINDS = {libsbml.UNIT_KIND_GRAM, libsbml.UNIT_KIND_MOLE}
_RELATIONS = {
    sympy.StrictGreaterThan: libsbml.AST_RELATIONAL_GT,
    sympy.GreaterThan: libsbml.AST_RELATIONAL_GEQ,
    sympy.StrictLessThan: libsbml.AST_RELATIONAL_LT,
    sympy.LessThan: libsbml.AST_RELATIONAL_LEQ,
    sympy.Equality: libsbml.AST_RELATIONAL_EQ,
    sympy.Unequality: libsbml.AST_RELATIONAL_NEQ,
}
_FUNCTIONS = {sympy.exp: libsbml.AST_FUNCTION_EXP, sympy.log: libsbml.AST_FUNCTION_LN}


def export_sbml(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    events: Sequence[Event],
    index: int = 0,
    model_id: str | None = None,
) -> str:
    """SBML L3V2 text of subject ``index`` of ``subjects`` (the model's subjects dataclass),
    starting from the undosed state ``y0[:, index]`` (shape (n_states, n), state units) with
    ``events`` (times in days, none before 0). ``model_id`` defaults to
    ``<model name>_subject_<index>``. See the module docstring for the document's layout."""
    y0 = np.asarray(y0, dtype=float)
    constants = model.constant_matrix(subjects)
    n = constants.shape[0]
    if y0.shape != (model.n_states, n):
        raise ValueError(f"y0 must have shape ({model.n_states}, {n}), got {y0.shape}")
    if not 0 <= index < n:
        raise IndexError(f"subject index {index} out of range 0..{n - 1}")
    check_events(events, model.n_states, n)
    if any(t < 0 for t in event_times(events)):
        raise ValueError("events before time 0 cannot be exported (the model starts at 0)")
    symbolic = symbolic_model(model)
    present = {k: ev for k, ev in _events_with_values(events, n, index).items() if ev[1] != 0.0}
    _check_ids(model, symbolic.fcrn, present)

    document = libsbml.SBMLDocument(3, 2)
    sbml = document.createModel()
    sbml.setId(_sid(model_id or f"{model.name}_subject_{index}"))
    sbml.setName(f"{model.name}, subject {index}")
    sbml.setNotes(_notes(model, index), True)
    sbml.setTimeUnits(_add_unit(sbml, "day"))
    compartment = sbml.createCompartment()
    compartment.setId(COMPARTMENT)
    compartment.setSize(1.0)
    compartment.setConstant(True)
    compartment.setUnits("dimensionless")

    for name, value in zip(model.constants, constants[index], strict=True):
        _parameter(sbml, name, float(value), constant=True)
    initial = _initial_values(model, y0[:, index], present)
    inputs: dict[int, list[sympy.Symbol]] = {state: [] for state in range(model.n_states)}
    for k, (event, value) in present.items():
        if _is_instant_at_zero(event):
            continue
        unit = _add_unit(sbml, _value_unit(event, model.state_units))
        _parameter(sbml, _value_id(k, event), value, constant=True, unit=unit)
        if isinstance(event, Infusion):
            input_value = initial[f"infusion_{k}_input"]
            _parameter(sbml, f"infusion_{k}_input", input_value, constant=False, unit=unit)
            inputs[event.state].append(sympy.Symbol(f"infusion_{k}_input"))

    for i, (name, unit, rate) in enumerate(
        zip(model.states, model.state_units, symbolic.rates, strict=True)
    ):
        _species(sbml, name, initial[name], unit)
        rule = sbml.createRateRule()
        rule.setVariable(name)
        rule.setMath(_ast(sympy.Add(rate, *inputs[i])))
    if symbolic.fcrn is not None:
        _fcrn_rules(sbml, symbolic.fcrn)
    later = [t for t in event_times(event for event, _ in present.values()) if t > 0]
    for j, time in enumerate(later, start=1):
        _event(sbml, f"event_{j}", time, present, model.states)
    return libsbml.writeSBMLToString(document)


def subject_values(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    index: int,
    events: Sequence[Event] = (),
) -> dict[str, float]:
    """SBML ids -> values of subject ``index`` for a document from :func:`export_sbml`: every
    constant, every initial state (state units; after the removals and boluses of time 0 among
    ``events``), the initial infusion inputs and the value parameter of every event after
    time 0, zero values included (they switch the event off). Give them to a libroadrunner
    instance with :func:`use_subject`."""
    y0 = np.asarray(y0, dtype=float)
    constants = model.constant_matrix(subjects)[index]
    valued = _events_with_values(events, y0.shape[1], index)
    values = {name: float(v) for name, v in zip(model.constants, constants, strict=True)}
    values |= _initial_values(model, y0[:, index], valued)
    values |= {
        _value_id(k, event): value
        for k, (event, value) in valued.items()
        if not _is_instant_at_zero(event)
    }
    return values


def use_subject(runner, values: Mapping[str, float]) -> None:
    """Reset libroadrunner instance ``runner`` to time 0 with a subject's ``values`` (from
    :func:`subject_values`), ready to simulate.

    Values are set after ``reset()`` as current values: ``reset()`` keeps constants set this way
    and restores the document's initial states, and setting ``init(id)`` instead costs about a
    second per value in libroadrunner 2.9. Raises ValueError for a non-zero value whose id the
    document lacks (an event that was left out because the exported subject's value is zero);
    such a subject needs its own export."""
    runner.reset()
    model = runner.model
    known = {*model.getFloatingSpeciesIds(), *model.getGlobalParameterIds()}
    missing = sorted(key for key, value in values.items() if key not in known and value != 0.0)
    if missing:
        raise ValueError(f"the document has no {missing}; export this subject itself")
    keys = [key for key in values if key in known]
    runner.setValues(keys, [values[key] for key in keys])


@dataclass(frozen=True)
class ValidationReport:
    """libsbml's findings on a document (all consistency checks, units included)."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def validate_sbml(sbml_text: str) -> ValidationReport:
    """Read ``sbml_text`` and run every libsbml consistency check; findings of severity error or
    fatal go to ``errors``, the rest (e.g. units that cannot be fully checked) to ``warnings``,
    each as ``line N: [libsbml id] message``."""
    document = libsbml.readSBMLFromString(sbml_text)
    document.checkConsistency()
    log = document.getErrorLog()
    findings = [log.getError(i) for i in range(log.getNumErrors())]

    def describe(finding) -> str:
        message = " ".join(finding.getMessage().split())
        return f"line {finding.getLine()}: [{finding.getErrorId()}] {message}"

    severe = [f.getSeverity() >= libsbml.LIBSBML_SEV_ERROR for f in findings]
    return ValidationReport(
        errors=tuple(describe(f) for f, s in zip(findings, severe, strict=True) if s),
        warnings=tuple(describe(f) for f, s in zip(findings, severe, strict=True) if not s),
    )


def roadrunner_for(
    sbml_text: str, rtol: float = 1e-12, atol: float = 1e-18, max_steps: int = 1_000_000
):
    """A libroadrunner instance for ``sbml_text``: CVODE at relative tolerance ``rtol`` and
    absolute tolerance ``atol`` (every state, in its unit), at most ``max_steps`` steps per
    output interval; outputs are time (days) and every state (species amounts, by id).

    The absolute tolerance is set state by state: from a single value libroadrunner derives a
    vector scaled by the current state, which at tight tolerances made CVODE fail at the start
    of some simulations (error test failures at t ~ 1e-31)."""
    import roadrunner

    runner = roadrunner.RoadRunner(sbml_text)
    runner.setIntegrator("cvode")
    runner.integrator.relative_tolerance = rtol
    runner.integrator.maximum_num_steps = max_steps
    states = list(runner.model.getFloatingSpeciesIds())
    for state in states:
        runner.integrator.setIndividualTolerance(state, atol)
    runner.timeCourseSelections = ["time", *states]
    return runner


def compare_with_roadrunner(
    model: ModelDefinition,
    subjects,
    y0: np.ndarray,
    times: Sequence[float],
    events: Sequence[Event],
    index: int = 0,
    floor: float = 1e-9,
    rtol: float = 1e-12,
    atol: float = 1e-18,
    backend: str = "scipy",
) -> float:
    """Largest relative difference between libroadrunner on the exported SBML and fmsim's engine
    (``backend``, see :data:`fmsim.engine.BACKENDS`) for subject ``index``, over every state and
    output time (``times``, days, sorted): |rr - fmsim| / max(|fmsim|, floor), so a state below
    ``floor`` (its unit) counts by its absolute difference. Both solvers run at ``rtol`` and
    ``atol``.

    Output times must differ from event times (the two report opposite sides of an event, see
    the module docstring)."""
    times = np.asarray(times, dtype=float)
    clash = sorted(set(times.tolist()) & set(event_times(events)))
    if clash:
        raise ValueError(f"output times coincide with event times {clash}; compare elsewhere")
    runner = roadrunner_for(export_sbml(model, subjects, y0, events, index), rtol, atol)
    grid = times if times[0] == 0.0 else np.concatenate([[0.0], times])
    simulated = runner.simulate(times=grid.tolist())[-times.size :, 1:]
    one, one_events = _one_subject(model, subjects, events, index)
    reference = run(
        model,
        one,
        y0[:, index : index + 1],
        times,
        one_events,
        rtol=rtol,
        atol=atol,
        backend=backend,
    )
    expected = reference.states[:, :, 0]
    return float(np.max(np.abs(simulated - expected) / np.maximum(np.abs(expected), floor)))


def _one_subject(model: ModelDefinition, subjects, events: Sequence[Event], index: int):
    """Subject ``index`` alone: its subjects dataclass (arrays of shape (1,)) and events."""
    constants = model.constant_matrix(subjects)
    n = constants.shape[0]
    one = model.subjects_type(
        **{name: constants[index : index + 1, j] for j, name in enumerate(model.constants)}
    )
    field = {Bolus: "amount", Infusion: "rate", Removal: "fraction"}
    one_events = [
        replace(e, **{field[type(e)]: np.broadcast_to(_value(e), (n,))[index : index + 1]})
        for e in events
    ]
    return one, one_events


def _events_with_values(
    events: Sequence[Event], n: int, index: int
) -> dict[int, tuple[Event, float]]:
    """Every event by 1-based position, with its value for subject ``index``."""
    return {
        k: (event, float(np.broadcast_to(np.asarray(_value(event), dtype=float), (n,))[index]))
        for k, event in enumerate(events, start=1)
    }


def _is_instant_at_zero(event: Event) -> bool:
    return not isinstance(event, Infusion) and event.time == 0.0


def _initial_values(
    model: ModelDefinition, y0: np.ndarray, valued: Mapping[int, tuple[Event, float]]
) -> dict[str, float]:
    """Initial amounts after the removals, then the boluses, of time 0; infusion inputs."""
    amounts = y0.astype(float).copy()
    for event, value in valued.values():
        if isinstance(event, Removal) and event.time == 0.0:
            amounts[list(event.states)] *= 1.0 - value
    for event, value in valued.values():
        if isinstance(event, Bolus) and event.time == 0.0:
            amounts[event.state] += value
    values = {name: float(a) for name, a in zip(model.states, amounts, strict=True)}
    for k, (event, value) in valued.items():
        if isinstance(event, Infusion):
            values[f"infusion_{k}_input"] = value if event.start == 0.0 else 0.0
    return values


def _value(event: Event):
    if isinstance(event, Bolus):
        return event.amount
    if isinstance(event, Infusion):
        return event.rate
    return event.fraction


def _value_id(k: int, event: Event) -> str:
    if isinstance(event, Bolus):
        return f"bolus_{k}_amount"
    if isinstance(event, Infusion):
        return f"infusion_{k}_rate"
    return f"removal_{k}_fraction"


def _value_unit(event: Event, state_units: Sequence[str]) -> str:
    """Unit of an event's value: the state's unit, per day for an infusion, 1 for a removal."""
    if isinstance(event, Bolus):
        return state_units[event.state]
    if isinstance(event, Infusion):
        return f"{state_units[event.state]}/day"
    return "1"


def _check_ids(model: ModelDefinition, fcrn: FcrnEquation | None, present: Mapping) -> None:
    """Refuse names that are not SBML ids or clash with each other or with generated ids."""
    generated = {COMPARTMENT, NEWTON_FUNCTION, NEWTON_STEPS_FUNCTION, TIME.name}
    if fcrn is not None:
        generated |= {FREE_FCRN.name} | {f"fcrn_ligand_{k + 1}" for k in range(len(fcrn.ligands))}
        generated |= {f"{FREE_FCRN.name}_{k}" for k in range(1, NEWTON_STEPS + 1)}
    for k, (event, _) in present.items():
        generated |= {_value_id(k, event), f"infusion_{k}_input"}
    names = [*model.states, *model.constants]
    clashes = sorted({n for n in names if names.count(n) > 1} | (set(names) & generated))
    if clashes:
        raise ValueError(f"{model.name}: names clash in the SBML export: {clashes}")
    invalid = [n for n in names if _sid(n) != n]
    if invalid:
        raise ValueError(f"{model.name}: names are not valid SBML ids: {invalid}")


def _fcrn_rules(sbml, fcrn: FcrnEquation) -> None:
    """The Newton step functions, the ligand rules and the chain ending in ``fcrn_free``."""
    kinds = range(1, len(fcrn.ligands) + 1)
    free, total = sympy.symbols("free total")
    ligand_args = [sympy.Symbol(f"ligand_{k}") for k in kinds]
    kd_args = [sympy.Symbol(f"kd_{k}") for k in kinds]
    rest = [total, *(x for pair in zip(ligand_args, kd_args, strict=True) for x in pair)]
    step = sympy.Function(NEWTON_FUNCTION)
    steps = free
    for _ in range(STEPS_PER_RULE):
        steps = step(steps, *rest)
    for name, body, description in [
        (NEWTON_FUNCTION, newton_step(free, total, ligand_args, kd_args), "one Newton step"),
        (NEWTON_STEPS_FUNCTION, steps, f"{STEPS_PER_RULE} Newton steps"),
    ]:
        definition = sbml.createFunctionDefinition()
        definition.setId(name)
        definition.setName(f"{description} for free FcRn (fmsim.model.fcrn.newton_step)")
        arguments = (_ast(a) for a in (free, *rest))
        definition.setMath(_node(libsbml.AST_LAMBDA, *arguments, _ast(body)))

    ligands = []
    for k, expression in zip(kinds, fcrn.ligands, strict=True):
        ligands.append(sympy.Symbol(f"fcrn_ligand_{k}"))
        _assignment(sbml, ligands[-1].name, expression, _add_unit(sbml, "uM"))
    pairs = [x for pair in zip(ligands, fcrn.kds, strict=True) for x in pair]
    previous = sympy.Integer(0)
    rules = NEWTON_STEPS // STEPS_PER_RULE
    for k in range(1, rules + 1):
        current = (
            FREE_FCRN if k == rules else sympy.Symbol(f"{FREE_FCRN.name}_{k * STEPS_PER_RULE}")
        )
        chain = sympy.Function(NEWTON_STEPS_FUNCTION)(previous, fcrn.total, *pairs)
        _assignment(sbml, current.name, chain, _add_unit(sbml, "uM"))
        previous = current


def _event(
    sbml,
    event_id: str,
    time: float,
    present: Mapping[int, tuple[Event, float]],
    states: Sequence[str],
) -> None:
    """One SBML event at ``time``: removals, then boluses, and the infusion switches."""
    factors: dict[int, list] = {}
    additions: dict[int, list] = {}
    switches: dict[str, sympy.Expr] = {}
    for k, (event, _) in present.items():
        value = sympy.Symbol(_value_id(k, event))
        if isinstance(event, Removal) and event.time == time:
            for state in event.states:
                factors.setdefault(state, []).append(1 - value)
        elif isinstance(event, Bolus) and event.time == time:
            additions.setdefault(event.state, []).append(value)
        elif isinstance(event, Infusion) and time in (event.start, event.stop):
            switches[f"infusion_{k}_input"] = value if time == event.start else sympy.Integer(0)
    assignments = dict(switches)
    for state in sorted(set(factors) | set(additions)):
        name = states[state]
        x = sympy.Mul(sympy.Symbol(name), *factors.get(state, []), evaluate=False)
        assignments[name] = sympy.Add(x, *additions.get(state, []), evaluate=False)

    event = sbml.createEvent()
    event.setId(event_id)
    event.setName(f"day {time:g}")
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    trigger.setMath(_ast(sympy.Ge(TIME, sympy.Float(time), evaluate=False)))
    for variable, expression in assignments.items():
        assignment = event.createEventAssignment()
        assignment.setVariable(variable)
        assignment.setMath(_ast(expression))


def _notes(model: ModelDefinition, index: int) -> str:
    source = f"{model.derivatives.__module__}.{model.derivatives.__qualname__}"
    lines = [
        f"{model.name}, subject {index}: generated by fmsim {version('fmsim')} "
        f"(fmsim.io.sbml) from {source}; do not edit by hand.",
        "Time in days; each state in the unit of its species. Free endosomal FcRn "
        f"(fcrn_free) is the quasi-steady state, {NEWTON_STEPS} Newton steps from zero.",
        "fmsim reports states before the events of an output time, SBML simulators after.",
    ]
    body = "".join(f"<p>{line}</p>" for line in lines)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


def _parameter(sbml, name: str, value: float, constant: bool, unit: str | None = None) -> None:
    parameter = sbml.createParameter()
    parameter.setId(name)
    parameter.setValue(value)
    parameter.setConstant(constant)
    if unit is not None:
        parameter.setUnits(unit)


def _assignment(sbml, name: str, expression: sympy.Expr, unit: str | None) -> None:
    _parameter(sbml, name, 0.0, constant=False, unit=unit)
    rule = sbml.createAssignmentRule()
    rule.setVariable(name)
    rule.setMath(_ast(expression))


def _species(sbml, name: str, amount: float, unit: str) -> None:
    """A state: species ``name`` named with its unit, which is also its substance unit when
    SBML allows (a mass, an amount of substance or dimensionless)."""
    species = sbml.createSpecies()
    species.setId(name)
    species.setName(f"{name} ({unit})")
    species.setCompartment(COMPARTMENT)
    species.setInitialAmount(amount)
    species.setHasOnlySubstanceUnits(True)
    species.setBoundaryCondition(False)
    species.setConstant(False)
    if unit == "1" or unit in _UNIT_TERMS and _UNIT_TERMS[unit][0] in _SUBSTANCE_KINDS:
        species.setSubstanceUnits(_add_unit(sbml, unit))


def _add_unit(sbml, unit: str) -> str | None:
    """Define ``unit`` (e.g. 'mg/mL', 'uM', '1/day') in the model if needed and return its SBML
    id; None for a unit string this module cannot translate (the quantity then has no unit)."""
    if unit == "1":
        return "dimensionless"
    numerator, *denominators = unit.split("/")
    terms = [(symbol, 1) for symbol in numerator.split("*") if symbol != "1"]
    terms += [(symbol, -1) for part in denominators for symbol in part.split("*")]
    expanded = []
    for symbol, exponent in terms:
        if symbol in _MOLAR:
            expanded += [
                (libsbml.UNIT_KIND_MOLE, exponent, _MOLAR[symbol], 1.0),
                (libsbml.UNIT_KIND_LITRE, -exponent, 0, 1.0),
            ]
        elif symbol in _UNIT_TERMS:
            kind, scale, multiplier = _UNIT_TERMS[symbol]
            expanded.append((kind, exponent, scale, multiplier))
        else:
            return None
    unit_id = _sid(unit.replace("/", "_per_").replace("*", "_"))
    if sbml.getUnitDefinition(unit_id) is None:
        definition = sbml.createUnitDefinition()
        definition.setId(unit_id)
        definition.setName(unit)
        for kind, exponent, scale, multiplier in expanded:
            term = definition.createUnit()
            term.setKind(kind)
            term.setExponent(exponent)
            term.setScale(scale)
            term.setMultiplier(multiplier)
    return unit_id


def _sid(text: str) -> str:
    """``text`` made a valid SBML SId (letters, digits, underscores; no leading digit)."""
    sid = re.sub(r"\W", "_", text, flags=re.ASCII)
    return sid if re.match(r"[A-Za-z_]", sid) else f"_{sid}"


def _node(kind: int, *children: libsbml.ASTNode) -> libsbml.ASTNode:
    node = libsbml.ASTNode(kind)
    for child in children:
        node.addChild(child)
    return node


def _ast(expr) -> libsbml.ASTNode:
    """sympy expression -> libsbml math. Max/Min become piecewise (portable to tools without
    the L3V2 max/min); a product with negative powers becomes a quotient."""
    expr = sympy.sympify(expr)
    if expr == TIME:
        node = libsbml.ASTNode(libsbml.AST_NAME_TIME)
        node.setName(TIME.name)
        return node
    if isinstance(expr, sympy.Symbol):
        node = libsbml.ASTNode(libsbml.AST_NAME)
        node.setName(expr.name)
        return node
    if isinstance(expr, sympy.Integer):
        node = libsbml.ASTNode(libsbml.AST_INTEGER)
        node.setValue(int(expr))
        return node
    if expr.is_Number:
        node = libsbml.ASTNode(libsbml.AST_REAL)
        node.setValue(float(expr))
        return node
    if isinstance(expr, sympy.Add):
        return _node(libsbml.AST_PLUS, *(_ast(a) for a in expr.args))
    if isinstance(expr, sympy.Mul):
        return _product(expr)
    if isinstance(expr, sympy.Pow):
        if expr.exp == -1:
            return _node(libsbml.AST_DIVIDE, _ast(1), _ast(expr.base))
        return _node(libsbml.AST_POWER, _ast(expr.base), _ast(expr.exp))
    if isinstance(expr, sympy.Max | sympy.Min):
        first, *rest = sorted(expr.args, key=lambda a: a.is_Number)
        other = type(expr)(*rest) if len(rest) > 1 else rest[0]
        relation = sympy.Gt if isinstance(expr, sympy.Max) else sympy.Lt
        return _ast(sympy.Piecewise((first, relation(first, other)), (other, True)))
    if isinstance(expr, sympy.Piecewise):
        pieces = []
        for value, condition in expr.args:
            pieces.append(_ast(value))
            if condition is not sympy.true:
                pieces.append(_ast(condition))
        return _node(libsbml.AST_FUNCTION_PIECEWISE, *pieces)
    if type(expr) in _RELATIONS:
        return _node(_RELATIONS[type(expr)], _ast(expr.lhs), _ast(expr.rhs))
    if expr.func in _FUNCTIONS:
        return _node(_FUNCTIONS[expr.func], _ast(expr.args[0]))
    if isinstance(expr, sympy.core.function.AppliedUndef):
        node = _node(libsbml.AST_FUNCTION, *(_ast(a) for a in expr.args))
        node.setName(expr.func.__name__)
        return node
    raise TypeError(f"no SBML translation for {type(expr).__name__}: {expr}")


def _product(expr: sympy.Mul) -> libsbml.ASTNode:
    """A product as numerator / denominator, with a leading minus for a coefficient of -1."""
    numerator, denominator = [], []
    for factor in expr.args:
        if factor.is_Pow and factor.exp.is_Number and factor.exp < 0:
            denominator.append(sympy.Pow(factor.base, -factor.exp))
        else:
            numerator.append(factor)
    negative = bool(numerator) and numerator[0].is_Number and float(numerator[0]) == -1.0
    if negative:
        numerator = numerator[1:]

    def product(factors: list) -> libsbml.ASTNode:
        if not factors:
            return _ast(1)
        if len(factors) == 1:
            return _ast(factors[0])
        return _node(libsbml.AST_TIMES, *(_ast(f) for f in factors))

    node = product(numerator)
    if denominator:
        node = _node(libsbml.AST_DIVIDE, node, product(denominator))
    return _node(libsbml.AST_MINUS, node) if negative else node
