"""Per-subject constants declare their units and the parameters they come from
(fmsim.model.definition.constant); checked against the parameter files."""

from dataclasses import dataclass

import numpy as np
import pytest

from fmsim.io.sbml_units import parse_unit
from fmsim.model.definition import ModelDefinition
from fmsim.model.drugs import load_library
from fmsim.model.equations import MODEL, build_subjects
from fmsim.model.human import HUMAN_MODEL, build_patients, typical_values


def typical_subjects(model: ModelDefinition):
    if model is MODEL:
        values = {k: np.array([v]) for k, v in MODEL.parameter_set().typical().items()}
        return build_subjects(values, 0.005)
    return build_patients(typical_values(), 0.1)


@pytest.mark.parametrize("model", [MODEL, HUMAN_MODEL], ids=lambda m: m.name)
def test_constants_declare_units_and_existing_parameters(model):
    """A constant comes from parameters of the model's file or, as ``class.constant`` (or
    ``class.route.constant``), from the drug-library entries of that class."""
    parameters = model.parameter_set()
    library = load_library()
    for name, unit in zip(model.constants, model.constant_units, strict=True):
        parse_unit(unit)  # raises for an unknown symbol
        for parameter in model.constant_parameters(name):
            if parameter in parameters.parameters:
                continue
            kind, *route, constant = parameter.split(".")
            entries = [library.get(n) for n in library.names(kind)]
            assert entries, (name, parameter)
            assert any(
                constant in (e.routes.get(route[0], {}) if route else e.parameters) for e in entries
            ), (name, parameter)


@pytest.mark.parametrize("model", [MODEL, HUMAN_MODEL], ids=lambda m: m.name)
def test_a_constant_taken_from_one_parameter_is_that_parameter_in_its_unit(model):
    # e.g. the human rituximab EC50: 5.87 ug/mL in the file, 0.00587 mg/mL in the model
    parameters = model.parameter_set()
    subjects = typical_subjects(model)
    direct = [c for c in model.constants if model.constant_parameters(c) == (c,)]
    assert len(direct) > 10
    for name, unit in zip(model.constants, model.constant_units, strict=True):
        if name not in direct:
            continue
        source, target = parse_unit(parameters[name].unit), parse_unit(unit)
        assert source.powers == target.powers, name
        expected = parameters[name].value * source.factor / target.factor
        assert getattr(subjects, name)[0] == pytest.approx(expected, rel=1e-12), name


@dataclass(frozen=True)
class Undeclared:
    rate: np.ndarray


def test_an_undeclared_constant_is_named():
    model = ModelDefinition("bare", ("x",), ("mg",), Undeclared, lambda t, y, s, ops: [0 * y[0]])
    with pytest.raises(ValueError, match="constant 'rate' has no unit"):
        _ = model.constant_units
