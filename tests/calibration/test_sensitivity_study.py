"""The sensitivity study: every analysis reported with inputs and sources; parameter sets run
as chunks whose results do not depend on the chunk size or the backend, and a resumed run
reuses the verified chunks of an interrupted one."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from fmsim.calibration.sensitivity import Evaluation, run_analyses
from fmsim.calibration.sensitivity_study import sensitivity_study
from fmsim.calibration.sensitivity_therapy import therapy_analysis
from fmsim.calibration.sensitivity_trial import SHARE
from fmsim.engine.execution import DaskExecutor
from fmsim.experiments.result import Provenance
from fmsim.io.store import ChunkStore


def test_study_reports_every_analysis_with_inputs_and_sources(small_trial):
    result = sensitivity_study(
        4, 0, analyses=["therapy", "trial"], trial_n_base=4, trial_replicates=2,
        trial_config=small_trial,
    )  # fmt: skip
    assert set(result.sobol["analysis"]) == {"therapy", "trial"}
    assert set(result.sobol["output"]) == {
        "igg_nadir_reduction_percent", "anti_sgc_mean_reduction_percent",
        "trial_effect", "trial_power",
    }  # fmt: skip
    assert (result.inputs["source"] != "").all()
    share = result.inputs.set_index("parameter").loc[SHARE]
    assert share["a"] == pytest.approx(68 / 184)
    assert result.n_evaluations == result.runs["parameter_sets"].sum() > 0
    assert set(result.tables()) == {"sobol", "local", "inputs", "outputs", "runs"}


# ------------------------------------------------------------------ chunks, backends, resume


def therapy_in_chunks(sets: int):
    """The therapy analysis with ``sets`` parameter sets per chunk."""
    return replace(therapy_analysis(), chunk_sets=sets)


def sensitivities(analysis, where=None):
    return run_analyses([analysis], 4, 0, Provenance("test", ()), where=where)


@pytest.fixture(scope="module")
def whole():
    """4 x (k + 2) Sobol sets and 1 + 4k local sets of the therapy analysis, one chunk each."""
    return sensitivities(therapy_in_chunks(4096))


@pytest.fixture(scope="module")
def in_chunks():
    """The same in chunks of 16 sets, in this process."""
    return sensitivities(therapy_in_chunks(16))


def assert_same(result, expected, rtol=None):
    for name in ("sobol", "local"):
        pd.testing.assert_frame_equal(
            getattr(result, name),
            getattr(expected, name),
            check_exact=rtol is None,
            rtol=rtol or 0.0,
        )


def test_results_do_not_depend_on_the_chunk_size(whole, in_chunks):
    """Up to rounding: numpy's vectorised exp/log may differ in the last bit between the
    elements of a batch, so a set's outputs can move by an ulp with its place in a chunk."""
    assert_same(in_chunks, whole, rtol=1e-12)
    assert_same(sensitivities(therapy_in_chunks(7)), whole, rtol=1e-12)


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_from_its_verified_chunks(in_chunks, tmp_path):
    analysis = therapy_in_chunks(16)
    store = ChunkStore(tmp_path, "settings")
    write = store.write_chunk

    def write_two_then_stop(key, frame):
        write(key, frame)
        if store.written == 2:
            raise Interrupted(key)

    store.write_chunk = write_two_then_stop
    with pytest.raises(Interrupted):
        sensitivities(analysis, Evaluation(store=store))
    resumed = ChunkStore(tmp_path, "settings")
    result = sensitivities(analysis, Evaluation(store=resumed))
    assert resumed.reused == 2 and resumed.problems == []
    assert resumed.written > 0
    assert_same(result, in_chunks)
    # chunks of other settings are not reused
    other = ChunkStore(tmp_path, "other settings")
    sensitivities(analysis, Evaluation(store=other))
    assert other.reused == 0


def test_a_dask_cluster_gives_the_in_process_result(cluster, in_chunks):
    with DaskExecutor(cluster.address) as dask:
        result = sensitivities(therapy_in_chunks(16), Evaluation(executor=dask))
    assert_same(result, in_chunks)
