"""Unit strings, their algebra and their SBML unit definitions (fmsim.io.sbml_units), checked
against libsbml's own conversion of each definition to SI units."""

import libsbml
import pytest

from fmsim.io.sbml_units import DIMENSIONLESS, UnitBook, UnitError, parse_unit, unit_id


@pytest.mark.parametrize(
    ("text", "si_factor", "si_powers"),
    [
        ("mg", 1e-6, {"kilogram": 1}),  # SI mass is the kilogram
        ("mg/mL", 1.0, {"kilogram": 1, "metre": -3}),
        ("1/day", 1 / 86400, {"second": -1}),
        ("mL/day/kg", 1e-6 / 86400, {"kilogram": -1, "metre": 3, "second": -1}),
        ("uM*mL/mg", 1e-3, {"kilogram": -1, "mole": 1}),
        ("uM per mg/mL", 1e-3, {"kilogram": -1, "mole": 1}),
        ("kDa", 1.0, {"kilogram": 1, "mole": -1}),
    ],
)
def test_unit_definitions_convert_to_si_as_libsbml_reads_them(text, si_factor, si_powers):
    document = libsbml.SBMLDocument(3, 2)  # owns the model: keep it alive
    model = document.createModel()
    identifier = UnitBook(model).id_for(text)
    si = libsbml.UnitDefinition.convertToSI(model.getUnitDefinition(identifier))
    factor, powers = 1.0, {}
    for i in range(si.getNumUnits()):
        term = si.getUnit(i)
        kind = libsbml.UnitKind_toString(term.getKind())
        factor *= (term.getMultiplier() * 10 ** term.getScale()) ** term.getExponent()
        powers[kind] = powers.get(kind, 0) + term.getExponent()
    assert factor == pytest.approx(si_factor, rel=1e-12)
    assert {k: e for k, e in powers.items() if e} == si_powers


def test_algebra():
    rate = parse_unit("mL/day") * parse_unit("mg/mL")
    assert rate.same_as(parse_unit("mg/day"))
    assert (parse_unit("uM") / parse_unit("uM")).same_as(DIMENSIONLESS)
    assert not parse_unit("1/h").same_as(parse_unit("1/day"))  # same kind, other scale
    assert (parse_unit("mg/mL") ** 0.5 * parse_unit("mg/mL") ** 0.5).same_as(parse_unit("mg/mL"))


def test_unit_ids():
    assert unit_id("mg/mL") == "mg_per_mL"
    assert unit_id("1/day") == "per_day"
    assert unit_id("1") == "dimensionless"


def test_a_unit_is_declared_once():
    document = libsbml.SBMLDocument(3, 2)  # owns the model: keep it alive
    model = document.createModel()
    book = UnitBook(model)
    assert book.id_for("mg/day") == book.id_for(parse_unit("mL/day") * parse_unit("mg/mL"))
    assert model.getNumUnitDefinitions() == 1
    assert book.id_for("1") == "dimensionless"
    assert model.getNumUnitDefinitions() == 1


def test_unknown_symbol_is_named():
    with pytest.raises(UnitError, match="unknown symbol 'furlong'"):
        parse_unit("furlong/day")
