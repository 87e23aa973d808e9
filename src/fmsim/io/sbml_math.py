"""SBML math <-> sympy expressions.

:class:`MathWriter` turns a sympy expression into a libsbml syntax tree (no text formulas to
re-parse) and, on the way, gives every number a unit: a number in a sum takes the unit of the
sum, a coefficient in a product the unit that makes the product's unit the one expected (e.g.
the ``4`` in ``exp(-4 (time - onset))`` gets 1/day), any other number is dimensionless. With
every symbol's unit declared, libsbml can then check the units of every expression.

Written for libroadrunner's code generator: small whole powers become products (it calls the
library ``pow`` for every ``^``), ``Max``/``Min`` become SBML L3V2 ``max``/``min`` (a
``piecewise`` becomes a root-finding switch of the integrator there).

:func:`read_math` is the way back, for SBML import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libsbml
import sympy

from fmsim.io.sbml_units import DIMENSIONLESS, Unit, UnitBook

TIME = sympy.Symbol("time")

_RELATIONS = {
    sympy.StrictGreaterThan: libsbml.AST_RELATIONAL_GT,
    sympy.GreaterThan: libsbml.AST_RELATIONAL_GEQ,
    sympy.StrictLessThan: libsbml.AST_RELATIONAL_LT,
    sympy.LessThan: libsbml.AST_RELATIONAL_LEQ,
    sympy.Equality: libsbml.AST_RELATIONAL_EQ,
    sympy.Unequality: libsbml.AST_RELATIONAL_NEQ,
}
_FUNCTIONS = {
    sympy.exp: libsbml.AST_FUNCTION_EXP,
    sympy.log: libsbml.AST_FUNCTION_LN,
    sympy.cos: libsbml.AST_FUNCTION_COS,
    sympy.sin: libsbml.AST_FUNCTION_SIN,
    sympy.acos: libsbml.AST_FUNCTION_ARCCOS,
    sympy.Abs: libsbml.AST_FUNCTION_ABS,
}
_EXTREMA = {sympy.Max: libsbml.AST_FUNCTION_MAX, sympy.Min: libsbml.AST_FUNCTION_MIN}
_MAX_EXPANDED_POWER = 4


def node(kind: int, *children: libsbml.ASTNode) -> libsbml.ASTNode:
    """A libsbml syntax-tree node of ``kind`` with ``children``."""
    tree = libsbml.ASTNode(kind)
    for child in children:
        tree.addChild(child)
    return tree


def name_node(name: str) -> libsbml.ASTNode:
    tree = libsbml.ASTNode(libsbml.AST_NAME_TIME if name == TIME.name else libsbml.AST_NAME)
    tree.setName(name)
    return tree


class UnitMismatch(ValueError):
    """An expression whose unit differs from the one its place requires."""


class MathWriter:
    """Writes sympy expressions as SBML math with units on numbers.

    ``symbol_units`` gives the unit of every symbol that may appear, ``function_units`` the
    units (arguments, result) of every function that may be called; ``units`` declares the
    numbers' units in the document."""

    def __init__(
        self,
        units: UnitBook,
        symbol_units: Mapping[str, Unit],
        function_units: Mapping[str, tuple[tuple[Unit, ...], Unit]] = (),
    ) -> None:
        self.units = units
        self.symbol_units = dict(symbol_units)
        self.function_units = dict(function_units)

    def write(self, expr, expected: Unit | None = None) -> libsbml.ASTNode:
        """``expr`` as SBML math; ``expected`` is the unit it must have, if known (UnitMismatch
        if it has another, scale included, which libsbml's own check does not compare)."""
        tree, unit = self._translate(sympy.sympify(expr), expected)
        if expected is not None and not unit.same_as(expected):
            raise UnitMismatch(f"{expr} has unit {unit}, expected {expected}")
        return tree

    def unit_of(self, expr) -> Unit:
        return self._translate(sympy.sympify(expr), None)[1]

    # ------------------------------------------------------------------ translation

    def _translate(self, expr: sympy.Expr, expected: Unit | None) -> tuple[libsbml.ASTNode, Unit]:
        if isinstance(expr, sympy.Symbol):
            if expr.name not in self.symbol_units:
                raise KeyError(f"no unit known for symbol {expr.name!r}")
            return name_node(expr.name), self.symbol_units[expr.name]
        if expr.is_Number:
            return self._number(expr, expected or DIMENSIONLESS)
        if expr == sympy.pi:
            return node(libsbml.AST_CONSTANT_PI), DIMENSIONLESS
        if isinstance(expr, sympy.Add):
            return self._sum(expr, expected)
        if isinstance(expr, sympy.Mul):
            return self._product(expr, expected)
        if isinstance(expr, sympy.Pow):
            return self._power(expr, expected)
        if type(expr) in _EXTREMA:
            children, unit = self._alike(expr.args, expected)
            return node(_EXTREMA[type(expr)], *children), unit
        if isinstance(expr, sympy.Piecewise):
            return self._piecewise(expr, expected)
        if type(expr) in _RELATIONS:
            (lhs, rhs), _ = self._alike(expr.args, None)
            return node(_RELATIONS[type(expr)], lhs, rhs), DIMENSIONLESS
        if expr.func in _FUNCTIONS:
            argument = self._translate(expr.args[0], DIMENSIONLESS)[0]
            return node(_FUNCTIONS[expr.func], argument), DIMENSIONLESS
        if isinstance(expr, sympy.core.function.AppliedUndef):
            return self._call(expr)
        raise TypeError(f"no SBML translation for {type(expr).__name__}: {expr}")

    def _number(self, expr: sympy.Expr, unit: Unit) -> tuple[libsbml.ASTNode, Unit]:
        if isinstance(expr, sympy.Rational) and not isinstance(expr, sympy.Integer):
            numerator = self._number(sympy.Integer(expr.p), unit)[0]
            denominator = self._number(sympy.Integer(expr.q), DIMENSIONLESS)[0]
            return node(libsbml.AST_DIVIDE, numerator, denominator), unit  # exact, e.g. 1/3
        if isinstance(expr, sympy.Integer):
            tree = libsbml.ASTNode(libsbml.AST_INTEGER)
            tree.setValue(int(expr))
        else:
            tree = libsbml.ASTNode(libsbml.AST_REAL)
            tree.setValue(float(expr))
        tree.setUnits(self.units.id_for(unit))
        return tree, unit

    def _alike(self, terms, expected: Unit | None) -> tuple[list[libsbml.ASTNode], Unit]:
        """Terms that share one unit (a sum, max/min, both sides of a comparison): numbers
        take the expected unit, else the unit of the first other term."""
        translated: dict[int, libsbml.ASTNode] = {}
        unit = expected
        for j, term in enumerate(terms):
            if not term.is_Number:
                translated[j], term_unit = self._translate(term, unit)
                if unit is not None and not term_unit.same_as(unit):
                    raise UnitMismatch(f"{term} has unit {term_unit}, expected {unit}")
                unit = unit or term_unit
        unit = unit or DIMENSIONLESS
        for j, term in enumerate(terms):
            if term.is_Number:
                translated[j] = self._number(term, unit)[0]
        return [translated[j] for j in range(len(terms))], unit

    def _sum(self, expr: sympy.Add, expected: Unit | None) -> tuple[libsbml.ASTNode, Unit]:
        children, unit = self._alike(expr.args, expected)
        return node(libsbml.AST_PLUS, *children), unit

    def _product(self, expr: sympy.Mul, expected: Unit | None) -> tuple[libsbml.ASTNode, Unit]:
        """numerator / denominator; a leading -1 becomes a minus, another coefficient gets the
        unit that gives the product the expected unit."""
        coefficient = sympy.Mul(*(a for a in expr.args if a.is_Number))
        factors = [a for a in expr.args if not a.is_Number]
        numerator, denominator = [], []
        unit = DIMENSIONLESS
        for factor in factors:
            if factor.is_Pow and factor.exp.is_Number and factor.exp < 0:
                tree, factor_unit = self._translate(sympy.Pow(factor.base, -factor.exp), None)
                denominator.append(tree)
                unit = unit / factor_unit
            else:
                tree, factor_unit = self._translate(factor, None)
                numerator.append(tree)
                unit = unit * factor_unit
        negative = coefficient < 0
        magnitude = -coefficient if negative else coefficient
        if magnitude != 1:
            number_unit = expected / unit if expected is not None else DIMENSIONLESS
            numerator.insert(0, self._number(magnitude, number_unit)[0])
            unit = unit * number_unit
        tree = self._times(numerator)
        if denominator:
            tree = node(libsbml.AST_DIVIDE, tree, self._times(denominator))
        return (node(libsbml.AST_MINUS, tree) if negative else tree), unit

    def _times(self, factors: list[libsbml.ASTNode]) -> libsbml.ASTNode:
        if not factors:
            return self._number(sympy.Integer(1), DIMENSIONLESS)[0]
        return factors[0] if len(factors) == 1 else node(libsbml.AST_TIMES, *factors)

    def _power(self, expr: sympy.Pow, expected: Unit | None) -> tuple[libsbml.ASTNode, Unit]:
        base, exponent = expr.args
        if exponent.is_Number:
            value = float(exponent)
            base_expected = expected ** (1.0 / value) if expected is not None and value else None
            tree, unit = self._translate(base, base_expected)
            if value == 0.5:
                return node(libsbml.AST_FUNCTION_ROOT, tree), unit**0.5
            if value.is_integer() and 0 < abs(value) <= _MAX_EXPANDED_POWER:
                copies = [tree] + [tree.deepCopy() for _ in range(int(abs(value)) - 1)]
                product = self._times(copies)
                if value < 0:
                    product = node(
                        libsbml.AST_DIVIDE,
                        self._number(sympy.Integer(1), DIMENSIONLESS)[0],
                        product,
                    )
                return product, unit**value
            power = self._number(exponent, DIMENSIONLESS)[0]
            return node(libsbml.AST_POWER, tree, power), unit**value
        tree = self._translate(base, DIMENSIONLESS)[0]
        power = self._translate(exponent, DIMENSIONLESS)[0]
        return node(libsbml.AST_POWER, tree, power), DIMENSIONLESS

    def _piecewise(self, expr: sympy.Piecewise, expected) -> tuple[libsbml.ASTNode, Unit]:
        values, unit = self._alike([value for value, _ in expr.args], expected)
        pieces = []
        for value, (_, condition) in zip(values, expr.args, strict=True):
            pieces.append(value)
            if condition is not sympy.true:
                pieces.append(self._translate(condition, None)[0])
        return node(libsbml.AST_FUNCTION_PIECEWISE, *pieces), unit

    def _call(self, expr) -> tuple[libsbml.ASTNode, Unit]:
        name = expr.func.__name__
        if name not in self.function_units:
            raise KeyError(f"no units known for function {name!r}")
        argument_units, result = self.function_units[name]
        children = [
            self._translate(a, u)[0] for a, u in zip(expr.args, argument_units, strict=True)
        ]
        tree = node(libsbml.AST_FUNCTION, *children)
        tree.setName(name)
        return tree, result


# ---------------------------------------------------------------------- SBML -> sympy


class MathError(ValueError):
    """SBML math that fmsim cannot translate (e.g. a delay)."""


_READ_FUNCTIONS: dict[int, Callable] = {
    libsbml.AST_FUNCTION_EXP: sympy.exp,
    libsbml.AST_FUNCTION_LN: sympy.log,
    libsbml.AST_FUNCTION_ABS: sympy.Abs,
    libsbml.AST_FUNCTION_COS: sympy.cos,
    libsbml.AST_FUNCTION_SIN: sympy.sin,
    libsbml.AST_FUNCTION_TAN: sympy.tan,
    libsbml.AST_FUNCTION_ARCCOS: sympy.acos,
    libsbml.AST_FUNCTION_ARCSIN: sympy.asin,
    libsbml.AST_FUNCTION_ARCTAN: sympy.atan,
    libsbml.AST_FUNCTION_FLOOR: sympy.floor,
    libsbml.AST_FUNCTION_CEILING: sympy.ceiling,
    # unevaluated: sympy's Max/Min compare their arguments symbolically, slowly
    libsbml.AST_FUNCTION_MAX: lambda *a: sympy.Max(*a, evaluate=False),
    libsbml.AST_FUNCTION_MIN: lambda *a: sympy.Min(*a, evaluate=False),
    libsbml.AST_RELATIONAL_GT: sympy.Gt,
    libsbml.AST_RELATIONAL_GEQ: sympy.Ge,
    libsbml.AST_RELATIONAL_LT: sympy.Lt,
    libsbml.AST_RELATIONAL_LEQ: sympy.Le,
    libsbml.AST_RELATIONAL_EQ: sympy.Eq,
    libsbml.AST_RELATIONAL_NEQ: sympy.Ne,
    libsbml.AST_LOGICAL_AND: sympy.And,
    libsbml.AST_LOGICAL_OR: sympy.Or,
    libsbml.AST_LOGICAL_NOT: sympy.Not,
}


def read_math(tree: libsbml.ASTNode, functions: Mapping[str, Callable]) -> sympy.Expr:
    """SBML math as a sympy expression; ``functions`` maps function-definition ids to callables
    taking and returning sympy expressions (calls are expanded). Names become symbols, the
    time csymbol the symbol ``time``."""
    kind = tree.getType()
    children = [read_math(tree.getChild(i), functions) for i in range(tree.getNumChildren())]
    if kind == libsbml.AST_INTEGER:
        return sympy.Integer(tree.getInteger())
    if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
        return sympy.Float(tree.getValue())
    if kind == libsbml.AST_NAME:
        return sympy.Symbol(tree.getName())
    if kind == libsbml.AST_NAME_TIME:
        return TIME
    if kind == libsbml.AST_CONSTANT_PI:
        return sympy.pi
    if kind == libsbml.AST_CONSTANT_E:
        return sympy.E
    if kind == libsbml.AST_CONSTANT_TRUE:
        return sympy.true
    if kind == libsbml.AST_CONSTANT_FALSE:
        return sympy.false
    if kind == libsbml.AST_PLUS:
        return sympy.Add(*children)
    if kind == libsbml.AST_MINUS:
        return -children[0] if len(children) == 1 else children[0] - children[1]
    if kind == libsbml.AST_TIMES:
        return sympy.Mul(*children)
    if kind == libsbml.AST_DIVIDE:
        return children[0] / children[1]
    if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
        return children[0] ** children[1]
    if kind == libsbml.AST_FUNCTION_ROOT:
        return children[-1] ** (1 / children[0]) if len(children) == 2 else sympy.sqrt(children[0])
    if kind == libsbml.AST_FUNCTION_LOG:
        return sympy.log(children[-1], children[0] if len(children) == 2 else 10)
    if kind == libsbml.AST_FUNCTION_PIECEWISE:
        pairs = [(children[i], children[i + 1]) for i in range(0, len(children) - 1, 2)]
        if len(children) % 2:
            pairs.append((children[-1], sympy.true))
        return sympy.Piecewise(*pairs)
    if kind in _READ_FUNCTIONS:
        return _READ_FUNCTIONS[kind](*children)
    if kind == libsbml.AST_FUNCTION:
        name = tree.getName()
        if name not in functions:
            raise MathError(f"call of an unknown function {name!r}")
        return functions[name](*children)
    if kind == libsbml.AST_FUNCTION_DELAY:
        raise MathError(
            "delays are not supported (fmsim integrates ordinary differential equations)"
        )
    raise MathError(f"unsupported SBML math: {libsbml.formulaToL3String(tree)}")
