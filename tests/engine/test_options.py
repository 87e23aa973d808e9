"""Tests for fmsim.engine.options: the one options object every backend reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmsim.engine import SolverOptions
from fmsim.engine.options import BASE_WALL_TIME, WALL_TIME_PER_SUBJECT

STATES = ("depot", "plasma", "effect")


def test_defaults_are_fmsims_tolerances_and_generous_budgets():
    options = SolverOptions()
    assert (options.rtol, options.atol, options.nonnegative) == (1e-8, 1e-10, True)
    assert options.max_steps == 100_000 and options.max_wall_time is None
    # the default wall-time budget grows with the batch: 60 s plus 10 ms per subject
    assert options.wall_time_budget(0) == BASE_WALL_TIME == 60.0
    assert options.wall_time_budget(10**6) == 60.0 + 10**6 * WALL_TIME_PER_SUBJECT == 10_060.0
    assert SolverOptions(max_wall_time=2.5).wall_time_budget(10**6) == 2.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rtol", 0.0),
        ("rtol", -1e-8),
        ("rtol", math.nan),
        ("rtol", math.inf),
        ("rtol", "1e-8"),
        ("atol", 0.0),
        ("atol", math.nan),
        ("max_steps", 0),
        ("max_steps", 2.5),
        ("max_steps", True),
        ("chunk_size", 0),
        ("max_wall_time", 0.0),
        ("max_wall_time", -1.0),
        ("max_wall_time", math.nan),
        ("max_wall_time", "1 h"),
        ("nonnegative", "plasma"),
        ("nonnegative", 3),
    ],
)
def test_bad_options_name_the_field_and_the_value(field, value):
    with pytest.raises(ValueError, match=rf"SolverOptions\.{field}: got {value!r}"):
        SolverOptions(**{field: value})


def test_an_infinite_wall_time_budget_is_allowed():
    assert SolverOptions(max_wall_time=math.inf).wall_time_budget(5) == math.inf


def test_nonnegative_states_by_flag_name_or_index():
    np.testing.assert_array_equal(SolverOptions().nonnegative_mask(STATES), [True] * 3)
    np.testing.assert_array_equal(
        SolverOptions(nonnegative=False).nonnegative_mask(STATES), [False] * 3
    )
    by_name = SolverOptions(nonnegative=["plasma"])
    assert by_name.nonnegative == ("plasma",)  # stored as a tuple: the options stay frozen
    np.testing.assert_array_equal(by_name.nonnegative_mask(STATES), [False, True, False])
    np.testing.assert_array_equal(
        SolverOptions(nonnegative=(0, "effect")).nonnegative_mask(STATES), [True, False, True]
    )


@pytest.mark.parametrize(
    ("states", "message"),
    [(["plasm"], "unknown state 'plasm'"), ([3], "got 3: expected a state name or an index")],
)
def test_unknown_nonnegative_states_are_refused(states, message):
    with pytest.raises(ValueError, match=message):
        SolverOptions(nonnegative=states).nonnegative_mask(STATES)
