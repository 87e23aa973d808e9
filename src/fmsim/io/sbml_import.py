"""Import an SBML model into fmsim: a :class:`~fmsim.model.definition.ModelDefinition` that
``fmsim.engine.run`` integrates at compiled speed, with the document's values and events.

What is read (SBML Level 2 and 3, through libsbml):

* **States**: every species that is not a constant boundary species, every parameter or
  species with a rate rule, and every non-constant parameter without a rule that events set
  (e.g. an infusion switch). A species' state is its value as the math reads it: its amount
  with ``hasOnlySubstanceUnits``, else its concentration (amount over its compartment's size).
* **Derivatives**: rate rules, and the reactions' kinetic laws times their stoichiometries
  (divided by the compartment size for a concentration). Assignment rules and function
  definitions are expanded into them; local parameters of kinetic laws are substituted.
* **Constants** (the subjects dataclass, one field per constant parameter and compartment
  size, with its unit): the document's values make one subject; build more with
  ``model.subjects_type(**arrays)``. Initial assignments are evaluated once.
* **Free FcRn** of an fmsim export: assignment rules ``fcrn_pool``, ``fcrn_ligand_k`` and
  ``fcrn_kd_k`` (k = 1, 2, ...) next to ``fcrn_free`` state the quasi-steady state of
  :mod:`fmsim.model.fcrn`; it is then solved by the engine's own Newton iteration instead of
  the document's closed form, after checking that the two agree at the initial state (they
  differ only by rounding; a document whose ``fcrn_free`` was edited to something else keeps
  its own formula).
* **Events** triggered when time reaches a constant (``time >= t`` or ``time > t``, t >= 0),
  whose assignments are ``x = x * (1 - f) + a`` with constant f and a (or parts of it, or
  ``x = a``), become fmsim events: a Removal of fraction f, then a Bolus of a (fmsim applies
  removals before boluses at one time). An infusion exported by fmsim (a switch parameter set
  to its rate and back) comes back as such a pair of assignments on the switch state.

SBML ids that fmsim's generated code uses itself (``t``, ``y``, ``c``, ...) get a trailing
underscore. Times are in the document's time unit (:attr:`ImportedModel.time_unit`; fmsim's
own models use days).

Anything else is refused with one line naming the element (:class:`SbmlImportError`):
algebraic rules, delays, fast reactions, non-constant compartments, events with other
triggers or assignments, conversion factors, variable stoichiometry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, make_dataclass
from pathlib import Path

import libsbml
import numpy as np
import sympy

from fmsim.engine.codegen import RESERVED_NAMES
from fmsim.engine.events import Bolus, Event, Removal
from fmsim.io.sbml_math import TIME, MathError, read_math
from fmsim.io.sbml_units import UnitError, parse_unit
from fmsim.model.definition import ModelDefinition, NumpyOps, constant


class SbmlImportError(ValueError):
    """An SBML document fmsim cannot import; the message is one line."""


@dataclass(frozen=True)
class ImportedModel:
    """An imported model with the document's own subject, initial state and events."""

    model: ModelDefinition
    subjects: object  # model.subjects_type, arrays of shape (1,)
    y0: np.ndarray  # (n_states, 1), state units
    events: tuple[Event, ...]
    time_unit: str  # of the document's time (fmsim models use days)


def import_sbml(source: str | Path) -> ImportedModel:
    """Read an SBML file (a path) or text (a string starting with '<') into an
    :class:`ImportedModel`; :class:`SbmlImportError` (one line) if it cannot be imported."""
    if isinstance(source, str) and source.lstrip().startswith("<"):
        origin, document = "SBML text", libsbml.readSBMLFromString(source)
    else:
        origin = str(source)
        if not Path(source).is_file():
            raise SbmlImportError(f"{origin}: no such file")
        document = libsbml.readSBMLFromFile(origin)
    for i in range(document.getNumErrors()):
        error = document.getError(i)
        if error.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            message = " ".join(error.getMessage().split())
            raise SbmlImportError(f"{origin}: line {error.getLine()}: {message}")
    if document.getModel() is None:
        raise SbmlImportError(f"{origin}: the document has no model")
    return _Importer(document.getModel(), origin).build()


class _Importer:
    """Builds an :class:`ImportedModel` from one libsbml model."""

    def __init__(self, model, origin: str) -> None:
        self.sbml = model
        self.origin = origin
        self.functions: dict[str, Callable] = {}
        self._function_bodies = {
            model.getFunctionDefinition(i).getId(): model.getFunctionDefinition(i)
            for i in range(model.getNumFunctionDefinitions())
        }
        self.rules = {
            rule.getVariable(): rule
            for rule in (model.getRule(i) for i in range(model.getNumRules()))
            if rule.isAssignment()
        }
        self._expanded: dict[str, sympy.Expr] = {}

    def fail(self, element, message: str):
        line = f"line {element.getLine()}: " if element is not None and element.getLine() else ""
        raise SbmlImportError(f"{self.origin}: {line}{message}")

    # ------------------------------------------------------------------ math

    def math(self, element, tree) -> sympy.Expr:
        """``tree`` (the math of ``element``) with functions and assignment rules expanded."""
        return self.expand(self._read(element, tree))

    def function(self, name: str, element) -> Callable:
        if name not in self.functions:
            definition = self._function_bodies.get(name)
            if definition is None:
                self.fail(element, f"call of an undefined function {name!r}")
            lam = definition.getMath()
            arguments = [
                sympy.Symbol(lam.getChild(i).getName()) for i in range(lam.getNumChildren() - 1)
            ]
            body = read_math(lam.getChild(lam.getNumChildren() - 1), _Lookup(self, definition))

            def call(*values, arguments=arguments, body=body):
                return body.xreplace(dict(zip(arguments, values, strict=True)))

            self.functions[name] = call
        return self.functions[name]

    def expand(self, expression: sympy.Expr) -> sympy.Expr:
        """Replace assignment-rule variables by their (expanded) expressions."""
        mapping = {
            symbol: self.rule(symbol.name)
            for symbol in expression.free_symbols
            if symbol.name in self.rules
        }
        return expression.xreplace(mapping) if mapping else expression

    def rule(self, name: str) -> sympy.Expr:
        """The expanded expression of assignment rule ``name`` (read on first use)."""
        if name not in self._expanded:
            rule = self.rules[name]
            self._expanded[name] = self.expand(self._read(rule, rule.getMath()))
        return self._expanded[name]

    # ------------------------------------------------------------------ building

    def build(self) -> ImportedModel:
        sbml = self.sbml
        self._refuse_unsupported()
        values = self._values()
        self._recognise_free_fcrn(values)
        rates = {
            rule.getVariable(): self.math(rule, rule.getMath())
            for rule in (sbml.getRule(i) for i in range(sbml.getNumRules()))
            if rule.isRate()
        }
        assigned = self._event_targets()
        states, constants = self._classify(rates, assigned)
        for reaction in (sbml.getReaction(i) for i in range(sbml.getNumReactions())):
            self._add_reaction(reaction, rates)
        state_rates = [rates.get(name, sympy.Integer(0)) for name in states]
        events = tuple(self._events(states, values))
        return self._assemble(states, constants, state_rates, values, events)

    def _recognise_free_fcrn(self, values: dict[str, float]) -> None:
        """Replace the rule of ``fcrn_free`` by the quasi-steady state it solves (see the
        module docstring) if its terms are named and it agrees with it at the start."""
        pool = "fcrn_pool"
        kinds = 0
        while f"fcrn_ligand_{kinds + 1}" in self.rules and f"fcrn_kd_{kinds + 1}" in self.rules:
            kinds += 1
        if not kinds or not {"fcrn_free", pool} <= set(self.rules):
            return
        terms = [sympy.Symbol(pool)]
        for k in range(1, kinds + 1):
            terms += [sympy.Symbol(f"fcrn_ligand_{k}"), sympy.Symbol(f"fcrn_kd_{k}")]
        solved = self.expand(FREE_FCRN_QSS(*terms))
        document = _Evaluator(self.sbml, values).rule("fcrn_free")
        numbers = {sympy.Symbol(k): v for k, v in values.items()} | {TIME: 0}
        engine = float(_free_fcrn_numpy(*(float(t.xreplace(numbers)) for t in solved.args)))
        if math.isclose(document, engine, rel_tol=1e-9, abs_tol=1e-300):
            self._expanded["fcrn_free"] = solved

    def _read(self, element, tree) -> sympy.Expr:
        try:
            return read_math(tree, _Lookup(self, element))
        except MathError as error:
            self.fail(element, f"{_describe(element)}: {error}")

    def _refuse_unsupported(self) -> None:
        sbml = self.sbml
        for rule in (sbml.getRule(i) for i in range(sbml.getNumRules())):
            if rule.isAlgebraic():
                self.fail(
                    rule,
                    "algebraic rules are not supported (fmsim integrates explicit "
                    "ordinary differential equations)",
                )
        for reaction in (sbml.getReaction(i) for i in range(sbml.getNumReactions())):
            if reaction.isSetFast() and reaction.getFast():
                self.fail(
                    reaction,
                    f"reaction {reaction.getId()!r} is fast; fast reactions are not supported",
                )
            if not reaction.isSetKineticLaw():
                self.fail(reaction, f"reaction {reaction.getId()!r} has no kinetic law")
            for reference in _references(reaction):
                if sbml.getLevel() < 3:
                    variable = reference.isSetStoichiometryMath()
                else:
                    variable = not reference.getConstant()
                if variable:
                    self.fail(
                        reference,
                        f"reaction {reaction.getId()!r}: variable stoichiometry is not supported",
                    )
        for compartment in (sbml.getCompartment(i) for i in range(sbml.getNumCompartments())):
            if not compartment.getConstant():
                self.fail(
                    compartment,
                    f"compartment {compartment.getId()!r} is not constant; "
                    "compartments of changing size are not supported",
                )
        if sbml.getLevel() >= 3 and sbml.isSetConversionFactor():
            self.fail(sbml, "conversion factors are not supported")
        for species in (sbml.getSpecies(i) for i in range(sbml.getNumSpecies())):
            if sbml.getLevel() >= 3 and species.isSetConversionFactor():
                self.fail(
                    species, f"species {species.getId()!r}: conversion factors are not supported"
                )
        for event in (sbml.getEvent(i) for i in range(sbml.getNumEvents())):
            if event.isSetDelay():
                self.fail(event, f"event {event.getId()!r} has a delay; delays are not supported")

    def _event_targets(self) -> set[str]:
        return {
            event.getEventAssignment(j).getVariable()
            for event in (self.sbml.getEvent(i) for i in range(self.sbml.getNumEvents()))
            for j in range(event.getNumEventAssignments())
        }

    def _classify(self, rates: dict, assigned: set[str]) -> tuple[list[str], list[str]]:
        """States: rate-rule variables in the rules' order (fmsim's exports: the model's
        state order), then species changed by reactions or events, then other variables set
        by events; every other species, parameter and compartment is a constant."""
        sbml = self.sbml
        reacting = {
            reference.getSpecies()
            for reaction in (sbml.getReaction(i) for i in range(sbml.getNumReactions()))
            for reference in _references(reaction)
            if not sbml.getSpecies(reference.getSpecies()).getBoundaryCondition()
        }
        species = [sbml.getSpecies(i).getId() for i in range(sbml.getNumSpecies())]
        others = [
            element.getId()
            for element in (
                *(sbml.getParameter(i) for i in range(sbml.getNumParameters())),
                *(sbml.getCompartment(i) for i in range(sbml.getNumCompartments())),
            )
        ]
        states = list(rates)
        states += [s for s in species if s not in states and (s in reacting or s in assigned)]
        states += [o for o in others if o not in states and o in assigned]
        constants = [n for n in (*species, *others) if n not in states and n not in self.rules]
        return states, constants

    def _values(self) -> dict[str, float]:
        """Every constant's value and every state's initial value (initial assignments and
        assignment rules evaluated at time 0)."""
        sbml = self.sbml
        values: dict[str, float] = {}
        for compartment in (sbml.getCompartment(i) for i in range(sbml.getNumCompartments())):
            values[compartment.getId()] = compartment.getSize() if compartment.isSetSize() else 1.0
        for parameter in (sbml.getParameter(i) for i in range(sbml.getNumParameters())):
            values[parameter.getId()] = parameter.getValue() if parameter.isSetValue() else math.nan
        for species in (sbml.getSpecies(i) for i in range(sbml.getNumSpecies())):
            size = values.get(species.getCompartment(), 1.0)
            if species.isSetInitialAmount():
                amount = species.getInitialAmount()
            elif species.isSetInitialConcentration():
                amount = species.getInitialConcentration() * size
            else:
                amount = math.nan
            values[species.getId()] = (
                amount if species.getHasOnlySubstanceUnits() else amount / size
            )
        pending = {
            a.getSymbol(): a
            for a in (sbml.getInitialAssignment(i) for i in range(sbml.getNumInitialAssignments()))
        }
        for _ in range(len(pending) + 1):
            for name, assignment in list(pending.items()):
                expression = self.math(assignment, assignment.getMath())
                value = expression.xreplace({sympy.Symbol(k): v for k, v in values.items()})
                value = value.xreplace({TIME: 0})
                if value.is_Number:
                    values[name] = float(value)
                    del pending[name]
        if pending:
            name = next(iter(pending))
            self.fail(pending[name], f"initial assignment of {name!r} cannot be evaluated")
        missing = sorted(k for k, v in values.items() if math.isnan(v) and k not in self.rules)
        if missing:
            self.fail(None, f"no value for {missing}")
        return values

    def _add_reaction(self, reaction, rates: dict) -> None:
        law = reaction.getKineticLaw()
        local = {}
        for j in range(law.getNumParameters()):
            parameter = law.getParameter(j)
            local[sympy.Symbol(parameter.getId())] = parameter.getValue()
        if self.sbml.getLevel() >= 3:
            for j in range(law.getNumLocalParameters()):
                parameter = law.getLocalParameter(j)
                local[sympy.Symbol(parameter.getId())] = parameter.getValue()
        flux = self.math(law, law.getMath()).xreplace(local)
        for sign, references in (
            (-1, _list(reaction.getListOfReactants())),
            (1, _list(reaction.getListOfProducts())),
        ):
            for reference in references:
                species = self.sbml.getSpecies(reference.getSpecies())
                if species.getBoundaryCondition():
                    continue
                stoichiometry = (
                    reference.getStoichiometry() if reference.isSetStoichiometry() else 1.0
                )
                change = sign * stoichiometry * flux
                if not species.getHasOnlySubstanceUnits():
                    change = change / sympy.Symbol(species.getCompartment())
                name = species.getId()
                rates[name] = rates.get(name, sympy.Integer(0)) + change

    def _events(self, states: list[str], values: dict[str, float]):
        index = {name: i for i, name in enumerate(states)}
        numbers = {sympy.Symbol(k): sympy.Float(v) for k, v in values.items() if k not in index}
        for event in (self.sbml.getEvent(i) for i in range(self.sbml.getNumEvents())):
            time = self._trigger_time(event, numbers)
            trigger = event.getTrigger()
            if trigger.isSetInitialValue() and trigger.getInitialValue() and time <= 0:
                continue  # true before the start: never fires
            for j in range(event.getNumEventAssignments()):
                assignment = event.getEventAssignment(j)
                name = assignment.getVariable()
                if name not in index:
                    self.fail(
                        assignment,
                        f"event {event.getId()!r} assigns {name!r}, which is not a state",
                    )
                yield from self._assignment_events(
                    event, assignment, name, index[name], time, numbers, states
                )

    def _trigger_time(self, event, numbers) -> float:
        trigger = self.math(event.getTrigger(), event.getTrigger().getMath()).xreplace(numbers)
        if isinstance(trigger, sympy.Ge | sympy.Gt) and trigger.lhs == TIME:
            time = trigger.rhs
        elif isinstance(trigger, sympy.Le | sympy.Lt) and trigger.rhs == TIME:
            time = trigger.lhs
        else:
            time = None
        if time is None or not time.is_Number:
            self.fail(
                event,
                f"event {event.getId()!r}: trigger {trigger} is not 'time >= t' "
                "with a constant t; only scheduled events are supported",
            )
        return float(time)

    def _assignment_events(self, event, assignment, name, state, time, numbers, states):
        expression = self.math(assignment, assignment.getMath()).xreplace(numbers)
        x = sympy.Symbol(name)
        keep = sympy.diff(expression, x)
        add = expression.xreplace({x: 0})
        others = {sympy.Symbol(s) for s in states} | {TIME}
        linear = not (keep.free_symbols | add.free_symbols) & others
        if not linear or not keep.is_Number or not add.is_Number:
            self.fail(
                assignment,
                f"event {event.getId()!r}: {name} = {expression} is not "
                f"'{name} * (1 - f) + a' with constants f and a",
            )
        fraction = 1.0 - float(keep)
        if not 0.0 <= fraction <= 1.0:
            self.fail(
                assignment,
                f"event {event.getId()!r}: {name} = {expression} removes a "
                f"fraction {fraction:g} outside [0, 1]",
            )
        if fraction:
            yield Removal(time, (state,), fraction)
        if float(add):
            yield Bolus(time, state, float(add))

    def _assemble(self, states, constants, rates, values, events) -> ImportedModel:
        sbml = self.sbml
        unit_of = _UnitNames(sbml)
        state_units = tuple(unit_of.element(sbml.getElementBySId(name)) for name in states)
        units = [unit_of.element(sbml.getElementBySId(name)) for name in constants]
        # ids that fmsim's generated code uses itself (t, y, c, ...) get a trailing underscore
        renamed = {n: _safe_name(n, {*states, *constants}) for n in (*states, *constants)}
        mapping = {sympy.Symbol(a): sympy.Symbol(b) for a, b in renamed.items() if a != b}
        rates = [rate.xreplace(mapping) for rate in rates] if mapping else rates
        values = {renamed.get(k, k): v for k, v in values.items()}
        states, constants = [renamed[n] for n in states], [renamed[n] for n in constants]
        fields = [
            (name, np.ndarray, constant(unit)) for name, unit in zip(constants, units, strict=True)
        ]
        subjects_type = make_dataclass("Subjects", fields, frozen=True)
        name = sbml.getId() or Path(self.origin).stem or "sbml_model"
        model = ModelDefinition(
            name=name,
            states=tuple(states),
            state_units=state_units,
            subjects_type=subjects_type,
            derivatives=_Derivatives(states, constants, rates),
        )
        subjects = subjects_type(**{c: np.array([values[c]]) for c in constants})
        y0 = np.array([[values[s]] for s in states], dtype=float).reshape(len(states), 1)
        time_unit = unit_of.identifier(sbml.getTimeUnits()) if sbml.isSetTimeUnits() else "1"
        return ImportedModel(model, subjects, y0, events, time_unit)


class _Derivatives:
    """The imported model's ``derivatives(t, y, s, ops)``: sympy expressions substituted with
    symbols (the compiled engine's code generation), or evaluated with numpy."""

    def __init__(self, states, constants, rates) -> None:
        self.states = [sympy.Symbol(s) for s in states]
        self.constants = [sympy.Symbol(c) for c in constants]
        self.rates = rates
        self._numeric = None
        self.__module__ = __name__
        self.__qualname__ = "imported derivatives"

    def __call__(self, t, y, s, ops):
        arguments = [getattr(s, c.name) for c in self.constants]
        if isinstance(ops, NumpyOps):
            if self._numeric is None:
                self._numeric = sympy.lambdify(
                    [TIME, *self.states, *self.constants], self.rates, modules=_NUMPY
                )
            n = np.broadcast_shapes(*(np.shape(a) for a in (*y, *arguments)))
            return [np.broadcast_to(r, n) for r in self._numeric(t, *y, *arguments)]
        mapping = {TIME: t, **dict(zip(self.states, y, strict=True))}
        mapping |= dict(zip(self.constants, arguments, strict=True))
        mapping = {k: v for k, v in mapping.items() if k != v}  # fmsim passes these symbols
        rates = [rate.xreplace(mapping) if mapping else rate for rate in self.rates]
        return [rate.replace(FREE_FCRN_QSS, _solver(ops)) for rate in rates]


FREE_FCRN_QSS = sympy.Function("free_fcrn_qss")  # (R_T, E_1, KD_1, E_2, KD_2, ...) -> R


def _free_fcrn_numpy(pool, *terms):
    return NumpyOps.free_fcrn(pool, terms[0::2], terms[1::2])


def _solver(ops):
    """free_fcrn_qss(R_T, E_1, KD_1, ...) -> ops.free_fcrn(R_T, (E_1, ...), (KD_1, ...))."""
    return lambda pool, *terms: ops.free_fcrn(pool, terms[0::2], terms[1::2])


_NUMPY = [
    {
        "Max": lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)),
        "Min": lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)),
        "free_fcrn_qss": _free_fcrn_numpy,
    },
    "numpy",
]


class _Evaluator:
    """Numbers from SBML math at time 0 without sympy (fast on large nested expressions):
    ``values`` of constants and states, assignment rules and function definitions."""

    _OPERATIONS = {
        libsbml.AST_PLUS: lambda *a: math.fsum(a),
        libsbml.AST_TIMES: lambda *a: math.prod(a),
        libsbml.AST_DIVIDE: lambda a, b: a / b,
        libsbml.AST_POWER: lambda a, b: a**b,
        libsbml.AST_FUNCTION_POWER: lambda a, b: a**b,
        libsbml.AST_MINUS: lambda a, b=None: -a if b is None else a - b,
        libsbml.AST_FUNCTION_ROOT: lambda *a: a[-1] ** (1 / a[0]) if len(a) == 2 else a[0] ** 0.5,
        libsbml.AST_FUNCTION_EXP: math.exp,
        libsbml.AST_FUNCTION_LN: math.log,
        libsbml.AST_FUNCTION_ABS: abs,
        libsbml.AST_FUNCTION_COS: math.cos,
        libsbml.AST_FUNCTION_SIN: math.sin,
        libsbml.AST_FUNCTION_ARCCOS: math.acos,
        libsbml.AST_FUNCTION_MAX: max,
        libsbml.AST_FUNCTION_MIN: min,
    }

    def __init__(self, sbml, values: dict[str, float]) -> None:
        self.sbml = sbml
        self.values = dict(values)

    def rule(self, name: str) -> float:
        if name not in self.values or math.isnan(self.values[name]):
            self.values[name] = self.evaluate(self.sbml.getAssignmentRule(name).getMath(), {})
        return self.values[name]

    def evaluate(self, tree, local: dict[str, float]) -> float:
        kind = tree.getType()
        if tree.isNumber():
            return tree.getValue()
        if kind == libsbml.AST_NAME:
            name = tree.getName()
            if name in local:
                return local[name]
            return self.rule(name) if self.sbml.getAssignmentRule(name) else self.values[name]
        if kind == libsbml.AST_NAME_TIME:
            return 0.0
        if kind == libsbml.AST_CONSTANT_PI:
            return math.pi
        arguments = [self.evaluate(tree.getChild(i), local) for i in range(tree.getNumChildren())]
        if kind == libsbml.AST_FUNCTION:
            lam = self.sbml.getFunctionDefinition(tree.getName()).getMath()
            names = [lam.getChild(i).getName() for i in range(lam.getNumChildren() - 1)]
            return self.evaluate(lam.getChild(len(names)), dict(zip(names, arguments, strict=True)))
        if kind not in self._OPERATIONS:
            raise MathError(f"cannot evaluate {libsbml.formulaToL3String(tree)}")
        return float(self._OPERATIONS[kind](*arguments))


class _Lookup(dict):
    """Function definitions for :func:`read_math`, resolved on first call."""

    def __init__(self, importer: _Importer, element) -> None:
        super().__init__()
        self.importer, self.element = importer, element

    def __contains__(self, name) -> bool:
        return True

    def __getitem__(self, name):
        return self.importer.function(name, self.element)


class _UnitNames:
    """fmsim unit strings for SBML unit ids: a unit definition's name when fmsim can read it
    (fmsim's exports name them so), else its id."""

    def __init__(self, sbml) -> None:
        self.sbml = sbml

    def identifier(self, unit_id: str) -> str:
        if not unit_id:
            return "1"
        definition = self.sbml.getUnitDefinition(unit_id)
        for candidate in ((definition.getName(),) if definition else ()) + (unit_id,):
            try:
                parse_unit(candidate)
                return candidate
            except UnitError:
                continue
        return "1" if unit_id == "dimensionless" else unit_id

    def element(self, element) -> str:
        if isinstance(element, libsbml.Species):
            substance = self.identifier(
                element.getSubstanceUnits() or self.sbml.getSubstanceUnits()
            )
            if element.getHasOnlySubstanceUnits():
                return substance
            compartment = self.sbml.getCompartment(element.getCompartment())
            volume = self.identifier(compartment.getUnits())
            return substance if volume == "1" else f"{substance}/{volume}"
        return self.identifier(element.getUnits())


def _safe_name(name: str, taken: set[str]) -> str:
    safe = name
    while safe in RESERVED_NAMES or safe.startswith("_") or (safe != name and safe in taken):
        safe = f"{safe.lstrip('_') or 'x'}_"
    return safe


def _references(reaction):
    return [*_list(reaction.getListOfReactants()), *_list(reaction.getListOfProducts())]


def _list(listing):
    return [listing.get(i) for i in range(listing.size())]


def _describe(element) -> str:
    identifier = element.getId() if element.isSetId() else ""
    variable = element.getVariable() if hasattr(element, "getVariable") else ""
    return f"{element.getElementName()} {identifier or variable}".strip()
