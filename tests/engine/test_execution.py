"""The execution interface (fmsim.engine.execution): deterministic chunks, the in-process
backend, and a real Dask cluster started here (a scheduler and two workers, each its own
process on localhost, started with the ``dask scheduler`` / ``dask worker`` commands): a small
trial power curve gives exactly the in-process result, also when a worker is killed mid-run,
and a run killed with SIGKILL and resumed gives exactly the uninterrupted run's result."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from fmsim.config.trial import parse_trial_config
from fmsim.engine.execution import (
    Chunk,
    ChunkProgress,
    DaskExecutor,
    InProcess,
    ResultOf,
    chunk_seed,
    executor,
    progress_callback,
    run_job,
)
from fmsim.experiments import trial as tr
from fmsim.io.store import MANIFEST, ChunkStore

# A small trial whose power curve uses a patient pool (2 sizes x 60 replicates: 2,000 pool
# courses < 3,000 treated fresh patients), so chunks need other chunks' results.
TRIAL = {
    "name": "execution test",
    "seed": 5,
    "patients": 20,
    "duration_weeks": 3,
    "arms": [
        {"name": "placebo"},
        {
            "name": "efgartigimod",
            "therapies": [
                {"type": "fcrn_inhibitor", "drug": "efgartigimod", "route": "iv",
                 "dose": "10 mg/kg", "start": 0, "every": 7, "count": 3}
            ],
        },
    ],
    "control_arm": "placebo",
    "primary": {"outcome": "pain_nrs", "week": 3},
    "power": {"sample_sizes": [40, 60], "replicates": 60, "pool_patients": 2000},
}  # fmt: skip


def draws(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def total(parts: list) -> float:
    return float(sum(np.sum(p) for p in parts))


def test_chunk_seeds_come_from_the_run_seed_and_the_key():
    assert chunk_seed(1, "a") == chunk_seed(1, "a")
    seeds = {chunk_seed(1, "a"), chunk_seed(1, "b"), chunk_seed(2, "a")}
    assert len(seeds) == 3
    expected = np.random.SeedSequence([1, *b"a"]).generate_state(1)[0]
    assert chunk_seed(1, "a") == int(expected)


def test_results_depend_on_the_chunk_not_on_the_split_or_order():
    chunks = [Chunk(k, draws, (chunk_seed(9, k), 5)) for k in ("x", "y", "z")]
    whole = InProcess().run(chunks)
    apart = {**InProcess().run(chunks[2:]), **InProcess().run(chunks[:2])}
    backwards = InProcess().run(chunks[::-1])
    for key in whole:
        np.testing.assert_array_equal(whole[key], apart[key])
        np.testing.assert_array_equal(whole[key], backwards[key])


def test_a_chunk_gets_the_results_of_the_chunks_it_needs():
    chunks = [
        Chunk("a", draws, (1, 3)),
        Chunk("b", draws, (2, 4)),
        Chunk("sum", total, ([ResultOf("a"), ResultOf("b")],)),
    ]
    done = []
    results = InProcess().run(chunks, lambda chunk, _: done.append(chunk.key))
    assert done == ["a", "b", "sum"]
    assert results["sum"] == pytest.approx(draws(1, 3).sum() + draws(2, 4).sum(), rel=1e-12)
    with pytest.raises(ValueError, match="needs \\['b'\\], not listed before it"):
        InProcess().run([chunks[0], chunks[2], chunks[1]])
    with pytest.raises(ValueError, match="appears twice"):
        InProcess().run([chunks[0], chunks[0]])


def test_progress_callback_hears_every_chunk_within_its_block():
    chunks = [Chunk(k, draws, (chunk_seed(3, k), 2), subjects=2) for k in ("a", "b", "c")]
    heard = []
    with progress_callback(lambda *report: heard.append(report)):
        with ChunkProgress("job", chunks, enabled=False) as bar:
            InProcess().run(chunks, bar.after())
    assert heard == [("job", 0, 3), ("job", 1, 3), ("job", 2, 3), ("job", 3, 3)]
    with ChunkProgress("later", chunks, enabled=False) as bar:  # outside the block: silent
        InProcess().run(chunks, bar.after())
    assert len(heard) == 4


def frame_of_draws(seed: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({"draw": draws(seed, n)})


def test_run_job_reuses_stored_chunks_and_stores_the_others(tmp_path, caplog):
    chunks = [Chunk(k, frame_of_draws, (chunk_seed(4, k), 3)) for k in ("a", "b", "c")]
    expected = InProcess().run(chunks)
    run_job("job", chunks[:2], store=ChunkStore(tmp_path, "settings"))  # interrupted after b
    ran = []
    counted = [Chunk(c.key, lambda *a: ran.append(a) or frame_of_draws(*a), c.args) for c in chunks]
    with caplog.at_level("INFO", logger="fmsim"):
        resumed = run_job("job", counted, store=ChunkStore(tmp_path, "settings"))
    assert ran == [chunks[2].args]  # a and b read back, only c computed
    assert "job: 2 chunks reused after verification" in caplog.text
    assert list(resumed) == ["a", "b", "c"]
    for key, frame in expected.items():
        pd.testing.assert_frame_equal(resumed[key], frame)
    assert ChunkStore(tmp_path, "settings").read_verified_chunk("c") is not None
    assert run_job("job", chunks[:1], store=None)["a"].equals(expected["a"])  # no store


def test_bad_executor_settings_are_refused():
    with pytest.raises(ValueError, match="tcp://HOST:8786"):
        executor("localhost:8786")
    with pytest.raises(ValueError, match="at least 1"):
        executor("local", 0)
    with pytest.raises(ValueError, match="local Dask cluster"):
        executor(None, 2)
    assert isinstance(executor(), InProcess)


def test_an_unreachable_scheduler_is_a_connection_error():
    with pytest.raises(ConnectionError, match="tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9").__enter__()


# ------------------------------------------------------------------ a real Dask cluster
# (the fixture ``cluster`` of tests/conftest.py)


@pytest.fixture(scope="module")
def in_process_curve():
    config = parse_trial_config(TRIAL)
    assert tr.uses_pool(config, [(40, 60), (60, 60)])
    return tr.power_curve(config, {"as configured": {}}).table


def test_a_dask_cluster_gives_the_in_process_power_curve(cluster, in_process_curve):
    config = parse_trial_config(TRIAL)
    with DaskExecutor(cluster.address) as dask:
        table = tr.power_curve(config, {"as configured": {}}, executor=dask).table
    pd.testing.assert_frame_equal(table, in_process_curve, check_exact=True)


class KillsAWorker(DaskExecutor):
    """Kills ``victim`` (SIGKILL) when the first chunk has finished, the others still to do."""

    def __init__(self, address: str, victim: subprocess.Popen) -> None:
        super().__init__(address)
        self.victim, self.killed_after = victim, None

    def run(self, chunks, done=None):
        def kill_first(chunk, result):
            if self.killed_after is None:
                self.victim.send_signal(signal.SIGKILL)
                self.victim.wait()
                self.killed_after = chunk.key
            if done is not None:
                done(chunk, result)

        results = super().run(chunks, kill_first)
        self.chunks = len(chunks)
        return results


def test_a_worker_killed_mid_run_does_not_change_the_result(cluster, in_process_curve):
    config = parse_trial_config(TRIAL)
    with KillsAWorker(cluster.address, cluster.workers[0]) as dask:
        table = tr.power_curve(config, {"as configured": {}}, executor=dask).table
        assert cluster.workers[0].returncode == -signal.SIGKILL
        assert dask.killed_after is not None and dask.chunks == 3  # 1 pool block, 2 sizes
    pd.testing.assert_frame_equal(table, in_process_curve, check_exact=True)


# Runs power_curve on the cluster, storing chunks; the test kills it after the first chunk.
KILLED_RUN = """
import sys
from pathlib import Path
from fmsim.config.trial import parse_trial_config
from fmsim.engine.execution import DaskExecutor
from fmsim.experiments import trial as tr
import json
config = parse_trial_config(json.loads(sys.argv[1]))
store = tr.chunk_store(config, Path(sys.argv[2]))
write = store.write_chunk

def write_then_wait(key, frame):
    write(key, frame)
    Path(sys.argv[3]).write_text(key)
    import time
    while True:
        time.sleep(1)

store.write_chunk = write_then_wait
with DaskExecutor(sys.argv[4]) as dask:
    tr.power_curve(config, {"as configured": {}}, chunks=store, executor=dask)
"""


def test_a_killed_and_resumed_run_equals_the_uninterrupted_run(cluster, in_process_curve, tmp_path):
    config = parse_trial_config(TRIAL)
    folder, marker = tmp_path / "chunks", tmp_path / "first-chunk-written"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, json.dumps(TRIAL), folder, marker, cluster.address],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no chunk was written"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    recorded = json.loads((folder / MANIFEST).read_text())["chunks"]
    assert len(recorded) == 1  # one of the two sizes is stored, the other was not finished

    store = tr.chunk_store(config, folder)
    with DaskExecutor(cluster.address) as dask:
        table = tr.power_curve(config, {"as configured": {}}, chunks=store, executor=dask).table
    assert (store.reused, store.written, store.problems) == (1, 1, [])
    pd.testing.assert_frame_equal(table, in_process_curve, check_exact=True)
