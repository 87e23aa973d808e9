"""Free FcRn in the SBML export (fmsim.io.sbml_fcrn): the exported closed form and its Newton
polish, read back from the document and evaluated with numpy, against the engine's solver
(fmsim.model.fcrn.free_fcrn, Newton iteration to rounding) over physiological and extreme
inputs. Ranges (uM): physiological R_T 1-100, endosomal IgG 0-1e6, KD 1e-3-1e3; extreme R_T
1e-3-1e4, endosomal IgG 0-1e9, KD 1e-3-1e4 (log-uniform, 10% of ligands exactly zero)."""

from __future__ import annotations

import re

import libsbml
import numpy as np
import pytest
import sympy

from fmsim.config import default_config
from fmsim.experiments.passive_transfer import build_virtual_cohort
from fmsim.io.sbml import export_sbml
from fmsim.io.sbml_fcrn import FRACTION, NEWTON_STEPS, fcrn_rules
from fmsim.model.equations import MODEL, initial_state
from fmsim.model.fcrn import free_fcrn, free_fcrn_single_kind

RANGES = {
    "physiological": {"total": (1.0, 100.0), "ligand": (1e-3, 1e6), "kd": (1e-3, 1e3)},
    "extreme": {"total": (1e-3, 1e4), "ligand": (1e-3, 1e9), "kd": (1e-3, 1e4)},
}
_NUMPY = {"acos": "np.arccos", "cos": "np.cos", "sin": "np.sin", "sqrt": "np.sqrt"}
_NUMPY |= {"max": "np.maximum", "min": "np.minimum", "pi": "np.pi"}


@pytest.fixture(scope="module")
def document():
    mice = build_virtual_cohort(default_config())
    text = export_sbml(MODEL, mice.subjects, initial_state(mice.subjects), mice.doses, 0)
    return libsbml.readSBMLFromString(text).getModel()


def numpy_text(math) -> str:
    """libsbml's infix text of ``math`` without units, as numpy Python."""
    settings = libsbml.L3ParserSettings()
    settings.setParseUnits(False)
    text = libsbml.formulaToL3StringWithSettings(math, settings).replace("^", "**")
    return re.sub(r"\b(acos|cos|sin|sqrt|max|min|pi)\b", lambda m: _NUMPY[m.group(1)], text)


def exported_free_fcrn(model, total, ligands, kds, steps: int = NEWTON_STEPS):
    """Free FcRn by the document's own function definitions and rules, for arrays of inputs;
    ``steps`` < NEWTON_STEPS stops at the rule fcrn_fraction_<steps> (times the total)."""
    namespace = {"np": np}
    for i in range(model.getNumFunctionDefinitions()):
        definition = model.getFunctionDefinition(i)
        arguments = [
            definition.getArgument(j).getName() for j in range(definition.getNumArguments())
        ]
        body = numpy_text(definition.getBody())
        namespace[definition.getId()] = eval(  # noqa: S307 - the exported math itself
            f"lambda {', '.join(arguments)}: {body}", namespace
        )
    namespace |= {"fcrn_pool": total, "fcrn_kd_1": kds[0], "fcrn_kd_2": kds[1]}
    namespace |= {"fcrn_ligand_1": ligands[0], "fcrn_ligand_2": ligands[1]}
    rules = [f"{FRACTION}_{k}" for k in range(NEWTON_STEPS)] + ["fcrn_free"]
    for name in rules:
        with np.errstate(all="ignore"):
            namespace[name] = eval(numpy_text(model.getAssignmentRule(name).getMath()), namespace)  # noqa: S307
        if name == f"{FRACTION}_{steps}":
            return total * namespace[name]
    return namespace["fcrn_free"]


def inputs(limits: dict, n: int = 100_000, seed: int = 0):
    rng = np.random.default_rng(seed)

    def draw(low, high):
        return 10 ** rng.uniform(np.log10(low), np.log10(high), n)

    ligands = np.stack([draw(*limits["ligand"]) * (rng.random(n) > 0.1) for _ in range(2)])
    return draw(*limits["total"]), ligands, np.stack([draw(*limits["kd"]) for _ in range(2)])


@pytest.mark.parametrize("name", RANGES)
def test_exported_free_fcrn_equals_the_engine_solver(document, name):
    total, ligands, kds = inputs(RANGES[name])
    exported = exported_free_fcrn(document, total, ligands, kds)
    reference = free_fcrn(total, ligands, kds)
    relative = np.abs(exported - reference) / reference
    assert relative.max() <= 1e-13  # measured 1.5e-14 (physiological), 2.7e-14 (extreme)
    assert np.all(exported <= total * (1 + 1e-15))  # never above the total, as the engine caps


@pytest.mark.parametrize(("name", "bound"), [("physiological", 1e-6), ("extreme", 1e-3)])
def test_closed_form_alone_is_close_and_newton_polishes_it(document, name, bound):
    total, ligands, kds = inputs(RANGES[name], seed=1)
    reference = free_fcrn(total, ligands, kds)
    start = exported_free_fcrn(document, total, ligands, kds, steps=0)
    error = np.abs(start - reference) / reference
    assert error.max() <= bound  # measured 2.4e-7 and 3.6e-4
    assert error.max() > 1e-12  # so the Newton steps are needed (they square the error)


def test_one_kind_of_ligand_matches_the_quadratic_root(document):
    # one kind is exported as two with the second's ligand zero (fcrn_rules)
    t, e, k = sympy.symbols("T E K")
    rules = dict((name, expression) for name, expression, _ in fcrn_rules(t, [e], [k]))
    pool, ligand, kd = sympy.symbols("fcrn_pool fcrn_ligand_1 fcrn_kd_1")
    assert rules[f"{FRACTION}_0"].args == (ligand / pool, kd / pool, 0, kd / pool)
    total, ligands, kds = inputs(RANGES["extreme"], n=5_000, seed=2)
    ligands[1], kds[1] = 0.0, kds[0]
    exported = exported_free_fcrn(document, total, ligands, kds)
    quadratic = np.array(
        [free_fcrn_single_kind(*x) for x in zip(total, ligands[0], kds[0], strict=True)]
    )
    np.testing.assert_allclose(exported, quadratic, rtol=1e-13)


def test_more_than_two_kinds_are_refused():
    t, e, k = sympy.symbols("T E K")
    with pytest.raises(ValueError, match="one or two ligand kinds, not 3"):
        fcrn_rules(t, [e, e, e], [k, k, k])
