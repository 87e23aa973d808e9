"""The parameter registry: units, ranges and descriptions of every shipped constant."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmsim.model.parameters import SHIPPED_FILES, Range, shipped_parameters


@pytest.mark.parametrize("kind", sorted(SHIPPED_FILES))
def test_every_shipped_parameter_has_unit_range_description_and_a_value_inside(kind):
    for p in shipped_parameters(kind).parameters.values():
        assert p.unit and p.description and p.source, p.name
        assert p.range != Range(), f"{kind}.{p.name} has no range"
        assert p.value in p.range, f"{kind}.{p.name} = {p.value} outside {p.range}"


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("[0, 1]", [0.0, 0.5, 1.0], [-1e-12, 1.0000001, math.nan]),
        ("(0, 1000]", [1e-300, 1000.0], [0.0, 1000.1, -5.0]),
        ("[0, 1)", [0.0, 0.999], [1.0]),
        ("(-inf, inf)", [-1e308, 0.0, 1e308], [math.inf, -math.inf, math.nan]),
    ],
)
def test_range_membership_respects_open_and_closed_ends(text, inside, outside):
    interval = Range.parse(text)
    assert str(interval) == text
    assert all(x in interval for x in inside)
    assert not any(x in interval for x in outside)


@pytest.mark.parametrize("text", ["0 to 1", "[1, 0]", "[a, 1]", "(0, 1", "[nan, 1]", "[1, 1]"])
def test_malformed_ranges_are_refused(text):
    with pytest.raises(ValueError, match="range"):
        Range.parse(text)


def test_problem_names_unknown_names_non_finite_and_out_of_range_values():
    mouse = shipped_parameters("mouse")
    assert mouse.problem("sgc_kd", 0.1) is None
    assert mouse.problem("sgc_kdd", 0.1) == "unknown parameter; did you mean 'sgc_kd'?"
    assert "`fmsim params`" in mouse.problem("qqqq", 1.0)
    assert mouse.problem("sgc_kd", math.nan) == "must be a finite number (mg/mL)"
    assert mouse.problem("ip_bioavailability", 5.0).startswith("must lie in (0, 1] 1 (")
    assert mouse.problem("body_weight", -20.0).startswith("must lie in [5, 100] g")


def test_sampled_subjects_stay_inside_the_closed_ends_of_each_range():
    mouse = shipped_parameters("mouse").with_values(ip_bioavailability=0.99)
    draws = mouse.sample(20_000, np.random.default_rng(1))
    assert draws["ip_bioavailability"].max() == 1.0  # clipped at the closed end
    assert (draws["ip_bioavailability"] < 1.0).mean() > 0.3  # the rest untouched
    for name, values in draws.items():
        interval = mouse[name].range
        assert all(v in interval for v in values[:100]), name


def test_the_registry_is_read_once_and_unknown_sets_are_refused():
    assert shipped_parameters("human") is shipped_parameters("human")
    assert shipped_parameters("human")["igg_baseline"].unit == "mg/mL"
    with pytest.raises(KeyError, match="no shipped parameter set 'rat'"):
        shipped_parameters("rat")
