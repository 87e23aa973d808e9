"""Free endosomal FcRn in closed form, as SBML function definitions.

The quasi-steady state of :mod:`fmsim.model.fcrn`, ``R_T = R + sum_k E_k R / (KD_k + R)``, is
for one or two IgG kinds the positive root of a quadratic or cubic. In scaled variables
``x = R / R_T``, ``e_k = E_k / R_T``, ``k_k = KD_k / R_T`` (all dimensionless) and with two
kinds (one kind: ``e_2 = 0``) it reads

    x - 1 + e_1 x / (k_1 + x) + e_2 x / (k_2 + x) = 0,

whose cubic has three real roots: the wanted one in (0, 1] and two negative ones. The closed
form of the three-real-root cubic (the trigonometric form used for two competing ligands by
Wang, FEBS Lett 1995;360:111-114) loses accuracy when the wanted root is small beside the
others: with E >> R_T (saturated FcRn) written directly in ``x`` it is off by up to 3e4
relative at physiological extremes. Written for ``y = 1 / x`` instead, where the wanted root is
the largest of the three, it is within 1.4e-7 of the root for R_T 1-100 uM, E 0-1e6 uM and
KD 1e-3-1e3 uM, and within 4e-4 for R_T 1e-3-1e4 uM, E up to 1e9 uM and KD 1e-3-1e4 uM.

The closed form is safeguarded and polished:

* the arc-cosine argument is clipped to [-1, 1] and the square root's argument at 0 against
  rounding;
* the root is clipped to the bracket ``L <= x <= U`` with ``L = 1 / (1 + sum_k e_k / k_k)``
  (one Newton step from 0, below the root) and ``U = 1 / (1 + sum_k e_k / (k_k + 1))`` (the root
  is at most 1);
* two Newton steps (:func:`fmsim.model.fcrn.newton_step` itself) follow, which bring it to
  the rounding level of the engine's solver (measured: within 3e-14 of
  :func:`fmsim.model.fcrn.free_fcrn` on both ranges above; see tests/io/test_sbml_fcrn.py).

The pieces are function definitions, nested so that each intermediate value is a function
argument: libroadrunner 2.9 evaluates an argument once per call but re-evaluates an assignment
rule at every reference, so rules for the intermediates would repeat the trigonometric part at
each use. The closed form and each Newton step are assignment rules referenced exactly once, as
the argument of the next step (free for libroadrunner), which keeps libsbml's unit check, which
expands nested function calls, fast. ``max``/``min`` (SBML L3V2) are used instead of
``piecewise``, which libroadrunner turns into root-finding switches that slow the integrator.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from fmsim.model.fcrn import newton_step

NEWTON_STEPS = 2
FRACTION = "fcrn_fraction"  # rules fcrn_fraction_0 (closed form) ... _{NEWTON_STEPS - 1}, R / R_T


@dataclass(frozen=True)
class FunctionDefinition:
    """One SBML function definition: ``name(arguments) = body``."""

    name: str
    arguments: tuple[sympy.Symbol, ...]
    body: sympy.Expr
    description: str


def _call(name: str, *arguments) -> sympy.Expr:
    return sympy.Function(name)(*arguments)


def fcrn_functions() -> tuple[FunctionDefinition, ...]:
    """The function definitions, each using only earlier ones."""
    a, b, c, s, r = sympy.symbols("a b c s r")
    x, e1, k1, e2, k2 = sympy.symbols("x e1 k1 e2 k2")
    kinds = (e1, k1, e2, k2)
    cosine = sympy.Max(-1, sympy.Min(1, r / (s * s * s)))
    trig = 2 * s * sympy.cos((sympy.acos(cosine) - sympy.pi) / 3) - a / 3
    q = sympy.Max(0, (a * a - 3 * b) / 9)
    cubic = _call("fcrn_trig_root", a, sympy.sqrt(q), (2 * a * a * a - 9 * a * b + 27 * c) / 54)
    # y = 1/x solves y^3 + a_y y^2 + b_y y + c_y = 0 (the cubic in x, reversed and made monic)
    a_y = 1 / k1 + 1 / k2 - 1 - e1 / k1 - e2 / k2
    b_y = -(k1 + k2 + e1 + e2 - 1) / (k1 * k2)
    c_y = -1 / (k1 * k2)
    lower = 1 / (1 + e1 / k1 + e2 / k2)
    upper = 1 / (1 + e1 / (k1 + 1) + e2 / (k2 + 1))
    start = sympy.Min(upper, sympy.Max(lower, 1 / _call("fcrn_cubic_root", a_y, b_y, c_y)))
    return (
        FunctionDefinition(
            "fcrn_trig_root",
            (a, s, r),
            trig,
            "largest root of a cubic with three real roots from its depressed form "
            "(s = sqrt(Q), r = R; trigonometric method)",
        ),
        FunctionDefinition(
            "fcrn_cubic_root",
            (a, b, c),
            cubic,
            "largest root of y^3 + a y^2 + b y + c = 0 (three real roots)",
        ),
        FunctionDefinition(
            "fcrn_start",
            kinds,
            start,
            "free FcRn over total FcRn, closed form: reciprocal of the largest root of the "
            "cubic in R_T / R, clipped to its bracket",
        ),
        FunctionDefinition(
            "fcrn_newton_step",
            (x, *kinds),
            newton_step(x, 1, (e1, e2), (k1, k2)),
            "one Newton step for free over total FcRn (fmsim.model.fcrn.newton_step)",
        ),
    )


POOL = "fcrn_pool"  # R_T, the rule every export names so


def quasi_steady_state_ids(n_kinds: int) -> tuple[str, list[str], list[str]]:
    """Ids of the rules that state the equation: total FcRn, ligands, KDs (one per kind)."""
    kinds = range(1, n_kinds + 1)
    return POOL, [f"fcrn_ligand_{k}" for k in kinds], [f"fcrn_kd_{k}" for k in kinds]


def fcrn_rules(total, ligands, kds) -> list[tuple[str, sympy.Expr, bool]]:
    """Assignment rules ``(id, expression, dimensionless)`` for free FcRn, for one or two kinds
    of ligand (``ligands`` and ``kds`` in the unit of ``total``).

    First the equation's terms under fixed names (:func:`quasi_steady_state_ids`: ``fcrn_pool``
    = R_T, ``fcrn_ligand_k`` = E_k, ``fcrn_kd_k`` = KD_k), by which an import recognises the
    quasi-steady state (:mod:`fmsim.io.sbml_import`); then the closed form ``fcrn_fraction_0``
    = R / R_T, the Newton steps ``fcrn_fraction_1``, ..., and ``fcrn_free``, the last step
    times the total."""
    if len(ligands) not in (1, 2):
        raise ValueError(
            f"the SBML export solves free FcRn in closed form for one or two ligand kinds, "
            f"not {len(ligands)}"
        )
    pool, ligand_ids, kd_ids = quasi_steady_state_ids(len(ligands))
    rules = [(pool, total, False)]
    rules += [(name, e, False) for name, e in zip(ligand_ids, ligands, strict=True)]
    rules += [(name, kd, False) for name, kd in zip(kd_ids, kds, strict=True)]
    total = sympy.Symbol(pool)
    pairs = [
        (sympy.Symbol(e) / total, sympy.Symbol(kd) / total)
        for e, kd in zip(ligand_ids, kd_ids, strict=True)
    ]
    if len(pairs) == 1:  # a second kind without ligand: the same root
        pairs.append((sympy.Integer(0), pairs[0][1]))
    kinds = [v for pair in pairs for v in pair]
    rules.append((f"{FRACTION}_0", _call("fcrn_start", *kinds), True))
    for step in range(1, NEWTON_STEPS + 1):
        previous = sympy.Symbol(rules[-1][0])
        rule = _call("fcrn_newton_step", previous, *kinds)
        if step < NEWTON_STEPS:
            rules.append((f"{FRACTION}_{step}", rule, True))
        else:
            rules.append(("fcrn_free", total * rule, False))
    return rules
