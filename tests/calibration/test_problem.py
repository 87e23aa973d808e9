"""Bad problems and data give one clear line (CalibrationError)."""

from __future__ import annotations

import math

import pytest

from fmsim.calibration.problem import (
    CalibrationError,
    EstimatedParameter,
    default_parameter,
    make_problem,
)
from fmsim.model.parameters import load_parameter_set

from .conftest import CONDITION, paw_measurements


def _error(measurements=None, estimate=("sensitisation_turnover",)) -> str:
    with pytest.raises(CalibrationError) as caught:
        make_problem([CONDITION], paw_measurements() if measurements is None else measurements,
                     list(estimate))  # fmt: skip
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_observable_is_named():
    data = paw_measurements()
    data.loc[2, "observable"] = "tail_flick"
    message = _error(data)
    assert "row 3" in message and "'tail_flick'" in message and "paw_pressure_threshold" in message


def test_negative_noise_is_refused():
    data = paw_measurements()
    data.loc[0, "noise"] = -1.0
    assert "noise -1.0" in _error(data) and "> 0" in _error(data)


def test_inverted_bounds_are_refused():
    inverted = EstimatedParameter("sensitisation_turnover", 1.0, 2.0, 0.5)
    assert "inverted" in _error(estimate=[inverted])


def test_parameter_not_in_the_model():
    message = _error(estimate=["tail_length"])
    assert "'tail_length' is not a parameter of the model" in message


def test_too_few_data_points():
    data = paw_measurements().head(2)
    message = _error(data, ["sensitisation_turnover", "sensitisation_occupancy50"])
    assert "2 data point(s) for 2 parameter(s)" in message


def test_unknown_condition_and_lognormal_zero():
    data = paw_measurements()
    data.loc[0, "condition"] = "c_nobody"
    assert "condition 'c_nobody' is unknown" in _error(data)
    data = paw_measurements().assign(noise_distribution="lognormal", noise=0.1)
    data.loc[1, "value"] = 0.0
    assert "log-normal" in _error(data)


def test_default_bounds_follow_the_cv():
    parameters = load_parameter_set()
    p = default_parameter("sensitisation_occupancy50", parameters)  # value 0.35, cv 0.3
    sigma = math.sqrt(math.log(1.09))
    assert p.lower == pytest.approx(0.35 * math.exp(-4 * sigma))
    assert p.upper == pytest.approx(0.35 * math.exp(4 * sigma))
    assert p.prior_sd == pytest.approx(sigma / math.log(10))
    assert default_parameter("max_change_paw_pressure_threshold", parameters).scale == "lin"
