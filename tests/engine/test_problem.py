"""Tests for fmsim.engine.problem: bad input stops before any integration, with one clear line.

Every case runs through :func:`fmsim.engine.run` with both backends: non-finite or unsorted
output times, non-finite initial states, constants and event values or times must raise
ValueError naming what is wrong, never start a solver that fails slowly or never ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from fmsim.engine import BACKENDS, Bolus, Infusion, Removal, run
from fmsim.model.definition import ModelDefinition


@dataclass(frozen=True)
class Compartment:
    volume: np.ndarray  # mL
    clearance: np.ndarray  # mL/day


def one_compartment(t, y, s: Compartment, ops):
    (amount,) = y
    return [-s.clearance * amount / s.volume]


MODEL = ModelDefinition("test_problem", ("amount",), ("mg",), Compartment, one_compartment)
SUBJECTS = Compartment(np.array([2.0, 3.0]), np.array([0.5, 0.5]))
Y0 = np.array([[1.0, 2.0]])


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([0.0, 2.0, 1.0], "sorted"),
        ([-1.0, 1.0], "sorted"),
        ([0.0, np.nan], "finite days; got nan at position 1"),
        ([0.0, np.inf], "finite days; got inf at position 1"),
        ([], "non-empty"),
        ([[0.0, 1.0]], "1-D"),
    ],
)
def test_bad_output_times(times, message, backend):
    with pytest.raises(ValueError, match=f"output times.*{message}"):
        run(MODEL, SUBJECTS, Y0, times, backend=backend)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_initial_state_names_state_and_subject(value, backend):
    y0 = Y0.copy()
    y0[0, 1] = value
    with pytest.raises(ValueError, match=rf"initial state 'amount' of subject 1 is {value}"):
        run(MODEL, SUBJECTS, y0, [0.0, 1.0], backend=backend)


def test_initial_state_of_the_wrong_shape(backend):
    with pytest.raises(ValueError, match=r"y0 must have shape \(1, n_subjects\).*\(2, 2\)"):
        run(MODEL, SUBJECTS, np.ones((2, 2)), [0.0, 1.0], backend=backend)
    with pytest.raises(ValueError, match="2 subjects' constants for 3 initial states"):
        run(MODEL, SUBJECTS, np.ones((1, 3)), [0.0, 1.0], backend=backend)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_constant_names_constant_and_subject(value, backend):
    subjects = Compartment(np.array([2.0, 3.0]), np.array([0.5, value]))
    with pytest.raises(ValueError, match=rf"constant 'clearance' of subject 1 is {value}"):
        run(MODEL, subjects, Y0, [0.0, 1.0], backend=backend)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (Bolus(np.nan, 0, 1.0), "times must be finite days >= 0"),
        (Bolus(np.inf, 0, 1.0), "times must be finite days >= 0"),
        (Bolus(-0.5, 0, 1.0), "times must be finite days >= 0"),
        (Infusion(0.0, np.inf, 0, 1.0), "times must be finite days >= 0"),
        (Bolus(1.0, 0, np.array([1.0, np.nan])), r"amount is not finite for subject\(s\) \[1\]"),
        (Bolus(1.0, 0, np.inf), r"amount is not finite for subject\(s\) \[0, 1\]"),
        (Infusion(0.0, 1.0, 0, np.nan), "rate is not finite"),
        (Removal(1.0, (0,), np.nan), "fraction is not finite"),
        (Removal(1.0, (0,), 1.5), r"removal fraction must lie in \[0, 1\]"),
        (Bolus(1.0, 3, 1.0), "state index out of range"),
    ],
)
def test_bad_events(event, message, backend):
    with pytest.raises(ValueError, match=message):
        run(MODEL, SUBJECTS, Y0, [0.0, 2.0], [event], backend=backend)


def test_an_infusion_must_stop_after_it_starts():
    for stop in (0.5, np.nan):
        with pytest.raises(ValueError, match="infusion must stop after it starts"):
            Infusion(1.0, stop, 0, 1.0)


def test_initial_state_is_not_modified(backend):
    y0 = Y0.copy()
    run(MODEL, SUBJECTS, y0, [0.0, 2.0], [Bolus(0.0, 0, 1.0), Bolus(1.0, 0, 1.0)], backend=backend)
    np.testing.assert_array_equal(y0, Y0)
