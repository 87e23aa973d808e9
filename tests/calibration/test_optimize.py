"""Multi-start fits through the execution interface: every start a chunk, so the result does
not depend on where the starts ran (this process or a real Dask cluster) and an interrupted
fit resumed from its stored starts equals the uninterrupted fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import multistart, optimize_start, start_points
from fmsim.engine.execution import DaskExecutor
from fmsim.io.store import ChunkStore

from .conftest import simulated_problem

STARTS = 3


def starts_table(result) -> pd.DataFrame:
    """Each start's id, final point, value and evaluation counts, best first."""
    return pd.DataFrame(
        [
            {"id": r.id, "x": tuple(r.x), "fval": r.fval, "n_res": r.n_res, "n_fval": r.n_fval}
            for r in result.optimize_result.list
        ]
    )


@pytest.fixture(scope="module")
def problem():
    return simulated_problem(["sensitisation_turnover", "sensitisation_occupancy50"], 11)[0]


@pytest.fixture(scope="module")
def in_process(problem):
    return starts_table(multistart(Objective(problem), STARTS, seed=2))


def test_start_k_is_the_same_point_for_any_number_of_starts(problem):
    five = start_points(problem, 5, seed=2)
    np.testing.assert_array_equal(start_points(problem, 3, seed=2), five[:3])
    np.testing.assert_array_equal(five[0], problem.nominal_scaled)
    assert np.all((five >= problem.lower_scaled) & (five <= problem.upper_scaled))


def test_a_start_chunk_is_pypestos_optimisation_from_its_point(problem, in_process):
    """The chunk of start 1 reproduces the multi-start's start with id '1'."""
    row = optimize_start(problem, start_points(problem, STARTS, 2)[1], 1, "ls_trf").iloc[0]
    expected = in_process.set_index("id").loc["1"]
    np.testing.assert_array_equal(row[problem.names].to_numpy(float), expected["x"])
    assert row["fval"] == expected["fval"] and row["n_res"] == expected["n_res"]


class Interrupted(Exception):
    pass


def test_an_interrupted_fit_resumes_from_its_stored_starts(problem, in_process, tmp_path):
    store = ChunkStore(tmp_path, "fit settings")
    write = store.write_chunk

    def write_one_then_stop(key, frame):
        write(key, frame)
        raise Interrupted(key)

    store.write_chunk = write_one_then_stop
    with pytest.raises(Interrupted):
        multistart(Objective(problem), STARTS, seed=2, store=store)
    resumed = ChunkStore(tmp_path, "fit settings")
    result = multistart(Objective(problem), STARTS, seed=2, store=resumed)
    assert (resumed.reused, resumed.written, resumed.problems) == (1, STARTS - 1, [])
    pd.testing.assert_frame_equal(starts_table(result), in_process, check_exact=True)


def test_a_dask_cluster_gives_the_in_process_fit(problem, in_process, cluster):
    with DaskExecutor(cluster.address) as dask:
        result = multistart(Objective(problem), STARTS, seed=2, executor=dask)
    pd.testing.assert_frame_equal(starts_table(result), in_process, check_exact=True)
