"""A model's equations as sympy expressions, for code generation and SBML export.

:func:`symbolic_model` evaluates the model's one ``derivatives`` function with sympy symbols in
place of numbers. The quasi-steady-state free FcRn is not expanded: it stays a symbol
(``fcrn_free``) together with the arguments of its defining equation

    R_T = R + sum_k E_k R / (KD_k + R)        (see :mod:`fmsim.model.fcrn`)

so each consumer solves it its own way (the compiled engine by Newton iteration in the
right-hand side, the SBML export by a chain of Newton-step function calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sympy

from fmsim.model.definition import ModelDefinition

TIME = sympy.Symbol("time")
FREE_FCRN = sympy.Symbol("fcrn_free")


@dataclass(frozen=True)
class FcrnEquation:
    """Arguments of the free-FcRn equation: total R_T, endosomal ligands E_k and KD_k (uM)."""

    total: sympy.Expr
    ligands: tuple[sympy.Expr, ...]
    kds: tuple[sympy.Expr, ...]


@dataclass(frozen=True)
class SymbolicModel:
    """The right-hand side of ``definition`` in symbols: d(states)/d(time) = rates."""

    definition: ModelDefinition
    states: tuple[sympy.Symbol, ...]
    constants: tuple[sympy.Symbol, ...]
    rates: tuple[sympy.Expr, ...]
    fcrn: FcrnEquation | None


class SympyOps:
    """The ``ops`` namespace producing sympy expressions; records the FcRn equation."""

    exp = staticmethod(sympy.exp)

    def __init__(self) -> None:
        self.fcrn: FcrnEquation | None = None

    @staticmethod
    def nonnegative(x):
        return sympy.Max(x, 0)

    def free_fcrn(self, total, ligands, kds):
        equation = FcrnEquation(
            sympy.sympify(total),
            tuple(sympy.Max(sympy.sympify(x), 0) for x in ligands),
            tuple(sympy.sympify(k) for k in kds),
        )
        if self.fcrn is not None and self.fcrn != equation:
            raise ValueError("a model may have only one FcRn pool (one free_fcrn equation)")
        self.fcrn = equation
        return FREE_FCRN


def symbolic_model(definition: ModelDefinition) -> SymbolicModel:
    """Evaluate ``definition.derivatives`` with symbols named after states and constants."""
    states = tuple(sympy.Symbol(name) for name in definition.states)
    constants = tuple(sympy.Symbol(name) for name in definition.constants)
    subject = SimpleNamespace(**{c.name: c for c in constants})
    ops = SympyOps()
    rates = tuple(sympy.sympify(r) for r in definition.derivatives(TIME, states, subject, ops))
    return SymbolicModel(definition, states, constants, rates, ops.fcrn)
