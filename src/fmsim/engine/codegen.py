"""Generate a model's right-hand side as numba source, from its symbolic form.

:func:`generate_source` turns :func:`fmsim.model.symbolic.symbolic_model` into a Python module
of compiled functions (all ``cache=True``, IEEE arithmetic, numpy error model):

``derive_constants(c)``
    Fills the tail of the subject's constants row ``c`` with the subexpressions of the rates
    that depend on constants only (e.g. ``pinocytic_clearance / plasma_volume``, a Hill term's
    ``EC50 ** n``), computed once per subject instead of once per evaluation. ``c[:n_constants]``
    holds the model constants in the order of ``definition.constants``.
``rhs(t, y, c, dy, fcrn_guess)``
    Writes d(state)/dt at time ``t`` (days) for the state ``y`` into ``dy`` (1-D arrays in
    ``definition.states`` order, the model's units per day) and returns the free endosomal FcRn
    (uM) it solved for, to be passed back as ``fcrn_guess`` in the next call.
``rhs_pointer`` / ``derive_pointer``
    The same two as C callbacks taking raw pointers, so one cached integrator
    (:mod:`fmsim.engine.compiled`) serves every model.
``power(base, exponent)``
    Powers with a symbolic exponent; whole exponents up to 4 (Hill coefficients) multiply.

Subexpressions are shared with sympy's ``cse``; the generated locals all start with ``_``. The
free FcRn R solves ``R_T = R + sum_k E_k R / (KD_k + R)`` by the Newton iteration of
:mod:`fmsim.model.fcrn` (same convergence test: a step of at most 1e-14 R, at most 60 steps),
written with one division per step (see :func:`_fcrn_lines`). The residual is increasing and
concave in R, so Newton's method is monotone from any point below the root, and one Newton step
from any point in the domain lands at or below the root (the tangent lies above a concave
function). The iteration therefore starts with one step from the previous root ``fcrn_guess``,
raised to the proven lower bound ``R_T / (1 + sum_k E_k / KD_k)`` (the first Newton step from
0) if it fell below it. Successive evaluations are close, so this takes 3.5 steps on average in
the passive-transfer experiment, against 7.3 from 0 (including the final, confirming step).

:func:`load_generated` writes the source to the cache directory (``$FMSIM_CACHE_DIR``, else
``$XDG_CACHE_HOME/fmsim`` or ``~/.cache/fmsim``) under a name keyed by the hash of the source
and imports it; numba keeps the machine code next to it, so a model compiles once per machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import sympy
from sympy.printing.pycode import PythonCodePrinter

from fmsim.model.definition import ModelDefinition
from fmsim.model.symbolic import FREE_FCRN, TIME, SymbolicModel, symbolic_model

FCRN_MAX_ITERATIONS = 60  # as fmsim.model.fcrn
FCRN_RELATIVE_TOLERANCE = 1e-14  # as fmsim.model.fcrn

# Names the generated code uses besides its locals, which all start with "_"; model states and
# constants must avoid both.
RESERVED_NAMES = frozenset(
    {
        *("t", "y", "c", "dy", "fcrn_guess", "fcrn_free", str(TIME)),
        *("math", "njit", "cfunc", "carray", "types", "power", "derive_constants", "rhs"),
        *("N_STATES", "N_CONSTANTS", "N_DERIVED"),
    }
)


class _Printer(PythonCodePrinter):
    """Python printer for numba: floats printed exactly, ``math`` functions."""

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return repr(float(expr))

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        if expr.exp.is_Number:  # x**2 multiplies, x**-1 divides, x**0.5 is sqrt
            return super()._print_Pow(expr, rational)
        base, exponent = (self.doprint(a) for a in expr.args)
        return f"power({base}, {exponent})"


_PRINTER = _Printer({"fully_qualified_modules": True, "standard": "python3"})


@dataclass(frozen=True)
class GeneratedSource:
    """Source of one model's compiled right-hand side and the layout it expects."""

    model_name: str
    source: str
    n_states: int
    n_constants: int
    n_derived: int  # constants-only subexpressions appended to each constants row
    module_name: str  # keyed by the hash of ``source``


class _Hoister:
    """Replaces every subexpression that depends on constants only by a new symbol."""

    def __init__(self, constants: tuple[sympy.Symbol, ...]) -> None:
        self.constants = frozenset(constants)
        self.derived: dict[sympy.Expr, sympy.Symbol] = {}

    def _is_constant(self, expr: sympy.Expr) -> bool:
        return expr.free_symbols <= self.constants

    def _symbol_for(self, expr: sympy.Expr) -> sympy.Expr:
        if expr.is_Symbol or expr.is_Number:
            return expr
        if expr not in self.derived:
            self.derived[expr] = sympy.Symbol(f"_k{len(self.derived)}")
        return self.derived[expr]

    def __call__(self, expr: sympy.Expr) -> sympy.Expr:
        if self._is_constant(expr):
            return self._symbol_for(expr)
        if expr.is_Add or expr.is_Mul:
            constant = [a for a in expr.args if self._is_constant(a)]
            varying = [self(a) for a in expr.args if not self._is_constant(a)]
            if constant:
                varying.append(self._symbol_for(expr.func(*constant)))
            return expr.func(*varying)
        if expr.args:
            return expr.func(*(self(a) for a in expr.args))
        return expr


def _assignments(pairs: list[tuple[sympy.Symbol, sympy.Expr]], indent: str) -> list[str]:
    return [f"{indent}{symbol} = {_PRINTER.doprint(expr)}" for symbol, expr in pairs]


def _depends_on(expr: sympy.Expr, symbols: set[sympy.Symbol]) -> bool:
    return bool(expr.free_symbols & symbols)


def _check_names(symbolic: SymbolicModel) -> None:
    names = [str(s) for s in (*symbolic.states, *symbolic.constants)]
    clashes = sorted(
        n for n in names if n in RESERVED_NAMES or n.startswith("_") or not n.isidentifier()
    )
    if clashes:
        raise ValueError(
            f"model {symbolic.definition.name!r}: names {clashes} clash with generated code "
            f"(reserved: {sorted(RESERVED_NAMES)} and names starting with '_')"
        )


def _fcrn_lines(symbolic: SymbolicModel, names: list[str], indent: str) -> list[str]:
    """Newton iteration for the free FcRn, writing ``fcrn_free`` from the names of R_T,
    E_k..., KD_k... (already assigned).

    With d_k = KD_k + R and P = prod_k d_k, the residual g and slope g' are
    g P = (R - R_T) P + sum_k E_k R P / d_k and g' P^2 = P^2 + sum_k E_k KD_k (P / d_k)^2, so a
    Newton step R - g / g' = R - (g P) P / (g' P^2) takes one division instead of one per kind
    plus one (the divisions are the iteration's critical path)."""
    n_kinds = len(symbolic.fcrn.ligands)
    total, ligands, kds = names[0], names[1 : 1 + n_kinds], names[1 + n_kinds :]

    def others(k: int) -> str:  # P / d_k
        return " * ".join(f"_d{j}" for j in range(n_kinds) if j != k) or "1.0"

    product = " * ".join(f"_d{k}" for k in range(n_kinds))
    residual = " + ".join(f"{e} * fcrn_free * {others(k)}" for k, e in enumerate(ligands))
    slope = " + ".join(
        f"{e} * {kd} * {others(k)} * {others(k)}"
        for k, (e, kd) in enumerate(zip(ligands, kds, strict=True))
    )
    bound = " + ".join(f"{e} / {kd}" for e, kd in zip(ligands, kds, strict=True))
    body = [
        "fcrn_free = fcrn_guess",
        f"for _iteration in range({FCRN_MAX_ITERATIONS}):",
        *(f"    _d{k} = {kd} + fcrn_free" for k, kd in enumerate(kds)),
        f"    _product = {product}",
        f"    _residual = (fcrn_free - {total}) * _product + {residual}",
        f"    _slope = _product * _product + {slope}",
        "    _newton = fcrn_free - _residual * _product / _slope",
        "    if _iteration == 0 and _newton < fcrn_free:",
        "        # the guess was above the root: the step landed below it, maybe below 0",
        f"        _newton = max(_newton, {total} / (1.0 + {bound}))",
        "    _step = _newton - fcrn_free",
        "    fcrn_free = _newton",
        f"    if abs(_step) <= {FCRN_RELATIVE_TOLERANCE!r} * max(fcrn_free, 1e-300):",
        "        break",
        f"fcrn_free = min(fcrn_free, {total})",
    ]
    return [indent + line for line in body]


@dataclass(frozen=True)
class _Reduced:
    """A model's rates after hoisting constants-only subexpressions and sharing the rest."""

    derived: list[tuple[sympy.Expr, sympy.Symbol]]  # constants-only, in order of creation
    before_fcrn: list[tuple[sympy.Symbol, sympy.Expr]]  # shared, not needing the free FcRn
    fcrn_args: list[sympy.Expr]  # R_T, E_k..., KD_k... (empty: no FcRn in the model)
    after_fcrn: list[tuple[sympy.Symbol, sympy.Expr]]  # shared, needing the free FcRn
    rates: list[sympy.Expr]  # d(state)/dt, in state order


def _reduce(symbolic: SymbolicModel) -> _Reduced:
    """Hoist the constants-only subexpressions (computed once per subject) and share common
    subexpressions (sympy's ``cse``), split at the free-FcRn solve."""
    hoist = _Hoister(symbolic.constants)
    fcrn_args: list[sympy.Expr] = []
    if symbolic.fcrn is not None:
        fcrn_args = [symbolic.fcrn.total, *symbolic.fcrn.ligands, *symbolic.fcrn.kds]
    hoisted = [hoist(e) for e in (*fcrn_args, *symbolic.rates)]
    shared, reduced = sympy.cse(hoisted, symbols=sympy.numbered_symbols("_w"), order="none")
    # Shared subexpressions that need the free FcRn come after its solve; cse lists them in
    # dependency order, so the two groups keep a valid order.
    needs_fcrn = {FREE_FCRN}
    before, after = [], []
    for symbol, expr in shared:
        if _depends_on(expr, needs_fcrn):
            needs_fcrn.add(symbol)
            after.append((symbol, expr))
        else:
            before.append((symbol, expr))
    n_fcrn = len(fcrn_args)
    derived = list(hoist.derived.items())
    return _Reduced(derived, before, reduced[:n_fcrn], after, reduced[n_fcrn:])


_INDENT = "    "


def _derive_body(symbolic: SymbolicModel, reduced: _Reduced) -> list[str]:
    """Body of ``derive_constants``: the derived constants into ``c[n_constants:]``."""
    n_constants = len(symbolic.constants)
    shared, expressions = sympy.cse(
        [expr for expr, _ in reduced.derived], symbols=sympy.numbered_symbols("_v"), order="none"
    )
    return [
        *(f"{_INDENT}{c} = c[{j}]" for j, c in enumerate(symbolic.constants)),
        *_assignments(shared, _INDENT),
        *(
            f"{_INDENT}c[{n_constants + j}] = {_PRINTER.doprint(expr)}"
            for j, expr in enumerate(expressions)
        ),
    ]


def _rhs_body(symbolic: SymbolicModel, reduced: _Reduced) -> list[str]:
    """Body of ``rhs``: unpack states and constants, solve the free FcRn, write ``dy``."""
    n_constants = len(symbolic.constants)
    fcrn_names = [f"_fcrn_arg{j}" for j in range(len(reduced.fcrn_args))]
    if reduced.fcrn_args:
        fcrn_solve = _fcrn_lines(symbolic, fcrn_names, _INDENT)
    else:
        fcrn_solve = [f"{_INDENT}fcrn_free = 0.0"]
    return [
        *(f"{_INDENT}{s} = y[{j}]" for j, s in enumerate(symbolic.states)),
        *(f"{_INDENT}{c} = c[{j}]" for j, c in enumerate(symbolic.constants)),
        *(f"{_INDENT}{sym} = c[{n_constants + j}]" for j, (_, sym) in enumerate(reduced.derived)),
        f"{_INDENT}{TIME} = t",
        *_assignments(reduced.before_fcrn, _INDENT),
        *(
            f"{_INDENT}{n} = {_PRINTER.doprint(e)}"
            for n, e in zip(fcrn_names, reduced.fcrn_args, strict=True)
        ),
        *fcrn_solve,
        *_assignments(reduced.after_fcrn, _INDENT),
        *(f"{_INDENT}dy[{j}] = {_PRINTER.doprint(e)}" for j, e in enumerate(reduced.rates)),
        f"{_INDENT}return fcrn_free",
    ]


def generate_source(definition: ModelDefinition) -> GeneratedSource:
    """Python source of ``derive_constants``, ``rhs`` and their C callbacks for ``definition``."""
    symbolic = symbolic_model(definition)
    _check_names(symbolic)
    reduced = _reduce(symbolic)
    n_states, n_constants = len(symbolic.states), len(symbolic.constants)
    source = _MODULE_TEMPLATE.format(
        name=definition.name,
        states=", ".join(definition.states),
        n_states=n_states,
        n_constants=n_constants,
        n_derived=len(reduced.derived),
        derive_body="\n".join(_derive_body(symbolic, reduced)) or f"{_INDENT}pass",
        rhs_body="\n".join(_rhs_body(symbolic, reduced)),
    )
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    safe_name = "".join(ch if ch.isalnum() else "_" for ch in definition.name)
    return GeneratedSource(
        model_name=definition.name,
        source=source,
        n_states=n_states,
        n_constants=n_constants,
        n_derived=len(reduced.derived),
        module_name=f"fmsim_generated_{safe_name}_{digest}",
    )


_MODULE_TEMPLATE = '''"""Right-hand side of model {name!r}, generated by fmsim.engine.codegen.

Do not edit: the file is rewritten from the model's equations.

States: {states}.
"""

import math

from numba import carray, cfunc, njit, types

N_STATES = {n_states}
N_CONSTANTS = {n_constants}
N_DERIVED = {n_derived}


@njit(cache=True, error_model="numpy")
def power(base, exponent):
    """base ** exponent; small whole exponents (Hill coefficients) by multiplication, which is
    several times faster than the library pow."""
    if exponent == 2.0:
        return base * base
    if exponent == 3.0:
        return base * base * base
    if exponent == 4.0:
        square = base * base
        return square * square
    if exponent == 1.0:
        return base
    return base**exponent


@njit(cache=True, error_model="numpy")
def derive_constants(c):
    """Fill c[N_CONSTANTS:] with the constants-only subexpressions of the rates."""
{derive_body}


@njit(cache=True, error_model="numpy")
def rhs(t, y, c, dy, fcrn_guess):
    """Write d(state)/dt into dy; return the free endosomal FcRn (uM) for the next call."""
{rhs_body}


_DOUBLE_POINTER = types.CPointer(types.float64)


@cfunc(types.void(_DOUBLE_POINTER), cache=True, error_model="numpy")
def derive_pointer(c):
    derive_constants(carray(c, N_CONSTANTS + N_DERIVED))


@cfunc(
    types.float64(types.float64, _DOUBLE_POINTER, _DOUBLE_POINTER, _DOUBLE_POINTER, types.float64),
    cache=True,
    error_model="numpy",
)
def rhs_pointer(t, y, c, dy, fcrn_guess):
    return rhs(
        t,
        carray(y, N_STATES),
        carray(c, N_CONSTANTS + N_DERIVED),
        carray(dy, N_STATES),
        fcrn_guess,
    )
'''


def cache_dir() -> Path:
    """Directory for generated modules and their numba caches (never the package tree)."""
    configured = os.environ.get("FMSIM_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "fmsim"


def load_generated(generated: GeneratedSource) -> ModuleType:
    """Write ``generated`` to the cache directory (once) and import it."""
    if generated.module_name in sys.modules:
        return sys.modules[generated.module_name]
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{generated.module_name}.py"
    if not path.exists() or path.read_text() != generated.source:
        # write-then-rename: concurrent processes never import a half-written file
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(generated.source)
        os.replace(partial, path)
    spec = importlib.util.spec_from_file_location(generated.module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[generated.module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[generated.module_name]
        raise
    return module
