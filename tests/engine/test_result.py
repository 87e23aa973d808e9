"""Tests for fmsim.engine.result: named states with units, tidy frames, statuses and errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fmsim.engine import (
    BACKENDS,
    Bolus,
    SimulationError,
    SimulationResult,
    SolverOptions,
    Status,
    run,
)
from fmsim.model.definition import ModelDefinition


def result_with(status, time_reached) -> SimulationResult:
    """A hand-made result: 2 output times, states 'depot' (mg) and 'effect' (1), and one
    subject per entry of ``status``; state values encode time, state and subject."""
    n = len(status)
    times = np.array([0.0, 1.5])
    states = np.array(
        [[[100 * k + 10 * j + i for i in range(n)] for j in range(2)] for k in range(2)],
        dtype=float,
    )
    return SimulationResult(
        model_name="toy",
        state_names=("depot", "effect"),
        state_units=("mg", "1"),
        times=times,
        states=states,
        status=np.asarray(status),
        time_reached=np.asarray(time_reached, dtype=float),
        n_steps=np.full(n, 7),
        n_rhs_evaluations=91 * n,
        options=SolverOptions(max_steps=500, max_wall_time=3.0),
    )


def test_states_by_name_with_units():
    result = result_with([0, 0, 0], [1.5] * 3)
    np.testing.assert_array_equal(result.state("effect"), [[10, 11, 12], [110, 111, 112]])
    assert result.state("depot").shape == (2, 3)  # (n_times, n_subjects)
    assert (result.unit("depot"), result.unit("effect")) == ("mg", "1")
    assert result.index("effect") == 1
    with pytest.raises(KeyError, match="toy has no state 'plasma'.*'depot', 'effect'"):
        result.state("plasma")


def test_tidy_frame_has_one_row_per_time_subject_and_state():
    frame = result_with([0, 0, 0], [1.5] * 3).to_frame()
    assert list(frame.columns) == ["time", "subject", "state", "value", "unit"]
    assert len(frame) == 2 * 2 * 3
    row = frame[(frame.time == 1.5) & (frame.subject == 2) & (frame.state == "effect")]
    assert row[["value", "unit"]].values.tolist() == [[112.0, "1"]]
    # the frame holds the same numbers as the array, and pivots back to it
    back = frame.pivot_table(
        index=["time", "state"], columns="subject", values="value", observed=True
    )
    np.testing.assert_array_equal(back.loc[1.5].loc["depot"], [100, 101, 102])
    assert (frame.groupby("state", observed=True)["unit"].unique().map(list)).to_dict() == {
        "depot": ["mg"],
        "effect": ["1"],
    }


def test_success_and_failed_subjects():
    ok = result_with([0, 0], [1.5, 1.5])
    assert ok.success and ok.failed.size == 0 and ok.messages == {}
    assert ok.raise_on_failure() is ok
    mixed = result_with([0, Status.NOT_FINITE, 0, Status.TOO_MANY_STEPS], [1.5, 0.25, 1.5, 1.0])
    assert not mixed.success
    np.testing.assert_array_equal(mixed.failed, [1, 3])
    assert set(mixed.messages) == {1, 3}
    assert mixed.messages[1].startswith("non-finite state or derivative at t = 0.25 days")
    assert "step budget of 500 steps" in mixed.messages[3] and "t = 1 days" in mixed.messages[3]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_message_with_the_time(status):
    text = status.describe(2.5, SolverOptions(max_wall_time=3.0), n_subjects=4)
    assert "t = 2.5 days" in text
    if status == Status.BUDGET_EXHAUSTED:
        assert "wall-time budget of 3 s" in text


def test_simulation_error_names_failed_subjects_time_and_reason_in_one_line():
    failed = [Status.STEP_TOO_SMALL, 0, Status.BUDGET_EXHAUSTED, 4, 4, 4]
    result = result_with(failed, [0.5, 1.5, 0.0, 0.0, 0.0, 0.0])
    with pytest.raises(SimulationError) as caught:
        result.raise_on_failure()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("simulation of toy failed for 5 of 6 subjects: subject 0: step")
    assert "t = 0.5 days" in message
    assert "subject 2: wall-time budget of 3 s" in message
    assert message.endswith("; and 2 more")
    assert caught.value.result is result


@dataclass(frozen=True)
class Elimination:
    rate: np.ndarray  # 1/day


def one_compartment(t, y, s: Elimination, ops):
    (amount,) = y
    return [-s.rate * amount]


ONE = ModelDefinition("test_result_one", ("amount",), ("mg",), Elimination, one_compartment)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_fills_the_result_the_same_way(backend):
    rates = Elimination(np.array([0.5, 1.0]))
    options = SolverOptions(rtol=1e-9)
    result = run(
        ONE,
        rates,
        np.zeros((1, 2)),
        [0.0, 1.0, 2.0],
        [Bolus(0.0, 0, 2.0)],
        options=options,
        backend=backend,
    )
    assert (result.model_name, result.state_names, result.state_units) == (
        "test_result_one",
        ("amount",),
        ("mg",),
    )
    assert result.options is options
    assert result.status.dtype.kind == "i" and result.status.shape == (2,)
    np.testing.assert_array_equal(result.time_reached, [2.0, 2.0])
    assert result.n_steps.shape == (2,) and np.all(result.n_steps > 0)
    expected = 2.0 * np.exp(-np.outer([0.0, 1.0, 2.0], [0.5, 1.0]))
    expected[0] = 0.0  # pre-dose at t = 0
    np.testing.assert_allclose(result.state("amount"), expected, rtol=1e-8)
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and set(frame.unit) == {"mg"}
