"""Export one subject of a model, with its dosing and therapy events, as SBML Level 3 Version 2.

The equations are not written again: :func:`fmsim.model.symbolic.symbolic_model` evaluates the
model's one ``derivatives`` function with sympy symbols, and :mod:`fmsim.io.sbml_math`
translates the expressions into SBML math (libsbml syntax trees; no text formulas to re-parse).

What the document contains, for subject ``index``:

* **Units on every quantity.** Time is in days (the model's time units); every state, constant,
  event value and intermediate has a unit definition, and every number in the math a unit
  (:class:`fmsim.io.sbml_math.MathWriter`), so libsbml checks the units of every expression
  and reports no unit warnings. Units come from the model definition (``state_units``, the
  constants' :func:`fmsim.model.definition.constant` declarations).
* **States** governed by rate rules (no reactions). A state measured as an amount (a mass, an
  amount of substance) or dimensionless is a species with ``hasOnlySubstanceUnits="true"`` in
  the dimensionless compartment ``subject`` (size 1), so its value is the state in its unit; a
  state with another unit (e.g. a concentration in mg/mL, which SBML does not allow as a
  species' substance unit) is a non-constant parameter. The unit is also part of the name,
  e.g. ``drg_pathogenic (mg/mL)``.
* **Per-subject constants** are constant parameters with that subject's values. Each carries
  notes with the parameters of the model's parameter file it is computed from, with their
  values, units and sources (literature, or "assumed" / "calibrated"). Numbers are written
  with 15 significant digits (libsbml's writer), so they differ from fmsim's by up to 5e-16
  relative.
* **Free endosomal FcRn** at quasi-steady state (:mod:`fmsim.model.fcrn`) is the assignment
  rule ``fcrn_free``: the closed-form root of its cubic, safeguarded and polished by two
  Newton steps, as function definitions (:mod:`fmsim.io.sbml_fcrn`), for one or two kinds of
  ligand. The equation's terms are assignment rules with fixed names (``fcrn_pool``, total
  FcRn; ``fcrn_ligand_k``, endosomal IgG of kind k clipped at zero; ``fcrn_kd_k``), by which
  :mod:`fmsim.io.sbml_import` recognises the quasi-steady state. The engine caps free FcRn at
  the total; the polished root never exceeds it.
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

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version

import libsbml
import numpy as np
import sympy

from fmsim.engine.events import Bolus, Event, Infusion, Removal, check_events, event_times
from fmsim.engine.run import run
from fmsim.io.sbml_fcrn import (
    FRACTION,
    NEWTON_STEPS,
    fcrn_functions,
    fcrn_rules,
    quasi_steady_state_ids,
)
from fmsim.io.sbml_math import MathWriter, UnitMismatch, node
from fmsim.io.sbml_units import DIMENSIONLESS, Unit, UnitBook, parse_unit
from fmsim.model.definition import ModelDefinition
from fmsim.model.symbolic import FREE_FCRN, TIME, FcrnEquation, symbolic_model

COMPARTMENT = "subject"
DAY = parse_unit("day")
_SPECIES_KINDS = {"gram", "mole"}


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
    _check_export(model, y0, events, index, n)
    symbolic = symbolic_model(model)
    present = {k: ev for k, ev in _events_with_values(events, n, index).items() if ev[1] != 0.0}
    _check_ids(model, symbolic.fcrn, present)

    document = libsbml.SBMLDocument(3, 2)
    sbml = document.createModel()
    book = _header(sbml, model, index, model_id)
    units = {TIME.name: DAY}
    units |= {name: parse_unit(u) for name, u in zip(model.states, model.state_units, strict=True)}
    _constants(sbml, book, units, model, constants[index])
    initial = _initial_values(model, y0[:, index], present)
    inputs = _event_values(sbml, book, units, model, present, initial)
    writer = MathWriter(book, units, _fcrn_function_units())
    if symbolic.fcrn is not None:
        _fcrn_rules(sbml, writer, symbolic.fcrn)
    _rate_rules(sbml, writer, book, units, model, symbolic.rates, initial, inputs)
    later = [t for t in event_times(event for event, _ in present.values()) if t > 0]
    for j, time in enumerate(later, start=1):
        _event(sbml, writer, f"event_{j}", time, present, model.states)
    return libsbml.writeSBMLToString(document)


def _check_export(
    model: ModelDefinition, y0: np.ndarray, events: Sequence[Event], index: int, n: int
) -> None:
    """Raise for an initial state of the wrong shape, a subject out of range, or events that
    are malformed or before time 0."""
    if y0.shape != (model.n_states, n):
        raise ValueError(f"y0 must have shape ({model.n_states}, {n}), got {y0.shape}")
    if not 0 <= index < n:
        raise IndexError(f"subject index {index} out of range 0..{n - 1}")
    check_events(events, model.n_states, n)
    if any(t < 0 for t in event_times(events)):
        raise ValueError("events before time 0 cannot be exported (the model starts at 0)")


def _header(sbml, model: ModelDefinition, index: int, model_id: str | None) -> UnitBook:
    """Id, name, notes, time unit and the one compartment of the model; its unit book."""
    sbml.setId(_sid(model_id or f"{model.name}_subject_{index}"))
    sbml.setName(f"{model.name}, subject {index}")
    sbml.setNotes(_notes(model, index), True)
    book = UnitBook(sbml)
    sbml.setTimeUnits(book.id_for("day"))
    compartment = sbml.createCompartment()
    compartment.setId(COMPARTMENT)
    compartment.setName("one subject (amounts are per subject)")
    compartment.setSpatialDimensions(0)
    compartment.setSize(1.0)
    compartment.setConstant(True)
    compartment.setUnits("dimensionless")
    return book


def _constants(sbml, book: UnitBook, units: dict, model: ModelDefinition, values) -> None:
    """The subject's constants as constant parameters with units and source notes."""
    parameter_set = model.parameter_set() if model.parameter_set else None
    for name, value, unit in zip(model.constants, values, model.constant_units, strict=True):
        units[name] = parse_unit(unit)
        parameter = _parameter(sbml, name, float(value), True, book.id_for(unit))
        parameter.setNotes(_constant_notes(model, name, unit, parameter_set), True)


def _event_values(
    sbml, book: UnitBook, units: dict, model: ModelDefinition, present: dict, initial: dict
) -> dict[int, list[sympy.Symbol]]:
    """Parameters for the event values (dose amounts, infusion rates); returns the infusion
    inputs added to each state's rate (state index -> symbols)."""
    inputs: dict[int, list[sympy.Symbol]] = {state: [] for state in range(model.n_states)}
    for k, (event, value) in present.items():
        if _is_instant_at_zero(event):
            continue
        unit = _value_unit(event, model.state_units)
        units[_value_id(k, event)] = parse_unit(unit)
        _parameter(sbml, _value_id(k, event), value, True, book.id_for(unit))
        if isinstance(event, Infusion):
            units[f"infusion_{k}_input"] = parse_unit(unit)
            input_value = initial[f"infusion_{k}_input"]
            _parameter(sbml, f"infusion_{k}_input", input_value, False, book.id_for(unit))
            inputs[event.state].append(sympy.Symbol(f"infusion_{k}_input"))
    return inputs


def _rate_rules(
    sbml,
    writer: MathWriter,
    book: UnitBook,
    units: dict,
    model: ModelDefinition,
    rates,
    initial: dict,
    inputs: dict[int, list[sympy.Symbol]],
) -> None:
    """Each state as a species with its initial amount and a rate rule (rate plus inputs)."""
    for i, (name, unit, rate) in enumerate(
        zip(model.states, model.state_units, rates, strict=True)
    ):
        _state(sbml, name, initial[name], unit, book.id_for(unit))
        rule = sbml.createRateRule()
        rule.setVariable(name)
        try:
            rule.setMath(writer.write(sympy.Add(rate, *inputs[i]), units[name] / DAY))
        except UnitMismatch as error:
            raise UnitMismatch(f"{model.name}: the rate of {name} ({unit}/day): {error}") from None


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
    output interval; outputs are time (days) and every state (by id, in the model's order).

    The absolute tolerance is set state by state: from a single value libroadrunner derives a
    vector scaled by the current state, which at tight tolerances made CVODE fail at the start
    of some simulations (error test failures at t ~ 1e-31)."""
    import roadrunner

    runner = roadrunner.RoadRunner(sbml_text)
    runner.setIntegrator("cvode")
    runner.integrator.relative_tolerance = rtol
    runner.integrator.maximum_num_steps = max_steps
    states = list(runner.getRateRuleIds())  # every state, species or parameter, in order
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
    generated = {COMPARTMENT, TIME.name} | {f.name for f in fcrn_functions()}
    if fcrn is not None:
        pool, ligands, kds = quasi_steady_state_ids(len(fcrn.ligands))
        generated |= {FREE_FCRN.name, pool, *ligands, *kds}
        generated |= {f"{FRACTION}_{k}" for k in range(NEWTON_STEPS)}
    for k, (event, _) in present.items():
        generated |= {_value_id(k, event), f"infusion_{k}_input"}
    names = [*model.states, *model.constants]
    clashes = sorted({n for n in names if names.count(n) > 1} | (set(names) & generated))
    if clashes:
        raise ValueError(f"{model.name}: names clash in the SBML export: {clashes}")
    invalid = [n for n in names if _sid(n) != n]
    if invalid:
        raise ValueError(f"{model.name}: names are not valid SBML ids: {invalid}")


def _fcrn_function_units() -> dict[str, tuple[tuple[Unit, ...], Unit]]:
    """Every FcRn function takes and returns dimensionless (scaled) quantities."""
    return {f.name: ((DIMENSIONLESS,) * len(f.arguments), DIMENSIONLESS) for f in fcrn_functions()}


def _fcrn_rules(sbml, writer: MathWriter, fcrn: FcrnEquation) -> None:
    """The FcRn function definitions, the ligand rules and the rule for ``fcrn_free``."""
    for function in fcrn_functions():
        local = MathWriter(
            writer.units,
            {a.name: DIMENSIONLESS for a in function.arguments},
            writer.function_units,
        )
        definition = sbml.createFunctionDefinition()
        definition.setId(function.name)
        definition.setName(function.description)
        arguments = [local.write(a) for a in function.arguments]
        definition.setMath(node(libsbml.AST_LAMBDA, *arguments, local.write(function.body)))
    unit = writer.unit_of(fcrn.total)
    for name, expression, dimensionless in fcrn_rules(fcrn.total, fcrn.ligands, fcrn.kds):
        rule_unit = DIMENSIONLESS if dimensionless else unit
        writer.symbol_units[name] = rule_unit
        _assignment(sbml, writer, name, expression, rule_unit)
    pool, ligands, kds = quasi_steady_state_ids(len(fcrn.ligands))
    sbml.getParameter(pool).setName("total endosomal FcRn")
    for k, (ligand, kd) in enumerate(zip(ligands, kds, strict=True), start=1):
        sbml.getParameter(ligand).setName(f"endosomal IgG of FcRn ligand kind {k}")
        sbml.getParameter(kd).setName(f"FcRn KD of ligand kind {k}")
    sbml.getParameter(f"{FRACTION}_0").setName("free over total FcRn, closed form")
    sbml.getParameter(FREE_FCRN.name).setName(
        f"free endosomal FcRn at quasi-steady state (closed form, {NEWTON_STEPS} Newton steps)"
    )


def _event(
    sbml,
    writer: MathWriter,
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
    trigger.setMath(writer.write(sympy.Ge(TIME, sympy.Float(time), evaluate=False)))
    for variable, expression in assignments.items():
        assignment = event.createEventAssignment()
        assignment.setVariable(variable)
        assignment.setMath(writer.write(expression, writer.symbol_units[variable]))


def _xhtml(lines: Sequence[str]) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


def _notes(model: ModelDefinition, index: int) -> str:
    source = f"{model.derivatives.__module__}.{model.derivatives.__qualname__}"
    return _xhtml(
        [
            f"{model.name}, subject {index}: generated by fmsim {version('fmsim')} "
            f"(fmsim.io.sbml) from {source}; do not edit by hand.",
            "Time in days; every quantity carries its unit. Free endosomal FcRn (fcrn_free) "
            "is the quasi-steady state, in closed form with two Newton steps.",
            "fmsim reports states before the events of an output time, SBML simulators after.",
            "Each constant's notes name the parameters it is computed from and their sources.",
        ]
    )


def _constant_notes(model: ModelDefinition, name: str, unit: str, parameter_set) -> str:
    """Notes of constant ``name``: its unit and the parameters (value, unit, source) it comes
    from, or that the experiment sets it."""
    lines = [f"{name} ({unit}), a per-subject constant of {model.name}."]
    parameters = model.constant_parameters(name)
    if not parameters:
        lines.append("Set by the experiment (e.g. per donor), not by the parameter file.")
    for parameter_name in parameters:
        if parameter_set is None or parameter_name not in parameter_set.parameters:
            lines.append(f"From parameter {parameter_name}.")
            continue
        p = parameter_set[parameter_name]
        variability = f", between-subject CV {p.cv:.0%}" if p.cv else ""
        lines.append(f"From {p.name} = {p.value:g} {p.unit}{variability}; source: {p.source}")
    return _xhtml(lines)


def _parameter(sbml, name: str, value: float, constant: bool, unit: str):
    parameter = sbml.createParameter()
    parameter.setId(name)
    parameter.setValue(value)
    parameter.setConstant(constant)
    parameter.setUnits(unit)
    return parameter


def _assignment(sbml, writer: MathWriter, name: str, expression: sympy.Expr, unit: Unit) -> None:
    parameter = sbml.createParameter()
    parameter.setId(name)
    parameter.setConstant(False)
    parameter.setUnits(writer.units.id_for(unit))
    rule = sbml.createAssignmentRule()
    rule.setVariable(name)
    rule.setMath(writer.write(expression, unit))


def _state(sbml, name: str, value: float, unit: str, unit_id: str) -> None:
    """A state: a species if SBML allows its unit as a substance unit (a mass, an amount of
    substance, dimensionless), else a non-constant parameter; named with its unit."""
    kinds = {kind for kind, _ in parse_unit(unit).powers}
    if len(kinds) <= 1 and kinds <= _SPECIES_KINDS:
        species = sbml.createSpecies()
        species.setId(name)
        species.setCompartment(COMPARTMENT)
        species.setInitialAmount(value)
        species.setHasOnlySubstanceUnits(True)
        species.setBoundaryCondition(False)
        species.setConstant(False)
        species.setSubstanceUnits(unit_id)
    else:
        species = _parameter(sbml, name, value, False, unit_id)
    species.setName(f"{name} ({unit})")


def _sid(text: str) -> str:
    """``text`` made a valid SBML SId (letters, digits, underscores; no leading digit)."""
    sid = re.sub(r"\W", "_", text, flags=re.ASCII)
    return sid if re.match(r"[A-Za-z_]", sid) else f"_{sid}"
