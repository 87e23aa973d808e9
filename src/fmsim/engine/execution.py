"""Running a large job as deterministic chunks: one interface, an in-process and a Dask backend.

A job (the replicate trials of a power curve, the designs of a mouse-study power analysis, a
virtual population) is a list of :class:`Chunk` objects: a module-level function, its
arguments, and a ``key`` naming the unit of work. A chunk's randomness comes only from
:func:`chunk_seed` (the run's seed and the chunk's key, through numpy's ``SeedSequence``), so a
chunk's result depends on its key and arguments alone: not on the backend, on the number of
workers, on which worker ran it, nor on the other chunks. An argument may be the result of an
earlier chunk of the same job (:class:`ResultOf`); the backends run chunks after the chunks
they need.

Backends (:func:`executor`):

* :class:`InProcess` runs the chunks one after the other in this process (the compiled engine
  is itself parallel over subjects, so this uses every core).
* :class:`DaskExecutor` submits them to a Dask cluster (``dask.distributed``): a
  ``LocalCluster`` of one single-threaded worker process per core by default, or an existing
  cluster by its scheduler address (``tcp://HOST:PORT``). A worker that dies is replaced and its
  chunks are run again (by Dask), with the same result, since chunks are deterministic.

``run(chunks, done)`` returns every chunk's result by key and calls ``done(chunk, result)`` in
the calling process as each chunk finishes (in completion order), e.g. to store the chunk and
report progress. :class:`ChunkProgress` reports a job's progress on the terminal and, within
:func:`progress_callback`, to a function (e.g. the web app's progress display).
:func:`run_job` is what a study calls: chunks kept in a store are reused, the others run with
progress and are stored as each finishes (resume after an interruption).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

#: Dask settings of the local clusters fmsim starts (for a cluster of your own, set them in its
#: Dask configuration, e.g. DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False for every
#: process). The workers' statistical profiler (a stack sample every 10 ms) made chunks 10-30 %
#: slower; the event-loop watchdog (every 20 ms), system monitor (500 ms) and nanny memory
#: monitor (100 ms) cost an idle 2-worker cluster 0.13 CPU-s per second, 0.02 at these
#: intervals (benchmarks/virtual_population.py, docs/benchmarks.md).
WORKER_SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}
#: Accepted form of a scheduler address (as in the trial config's ``power.scheduler``).
SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


def chunk_seed(seed: int, key: str) -> int:
    """The seed of the chunk ``key`` of a run with ``seed``: numpy's ``SeedSequence`` of the
    run seed and the key's UTF-8 bytes (one 32-bit word)."""
    return int(np.random.SeedSequence([seed, *key.encode()]).generate_state(1)[0])


@dataclass(frozen=True)
class ResultOf:
    """Stands for the result of the chunk ``key`` (of the same job) in a chunk's arguments."""

    key: str


@dataclass(frozen=True)
class Chunk:
    """One deterministic unit of a job: ``function(*args, **kwargs)`` (a module-level function,
    so that it can be sent to another process). ``subjects``: how many subjects (patients,
    mice) it simulates, for progress reports."""

    key: str
    function: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    subjects: int = 0

    def needs(self) -> list[str]:
        """Keys of the chunks whose results this chunk's arguments use."""
        return [a.key for a in _walk((self.args, tuple(self.kwargs.values())))]


def _walk(value) -> Iterable[ResultOf]:
    if isinstance(value, ResultOf):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def _substitute(value, results: Mapping[str, Any]):
    """``value`` with every :class:`ResultOf` replaced by ``results[key]``."""
    if isinstance(value, ResultOf):
        return results[value.key]
    if isinstance(value, list | tuple):
        return type(value)(_substitute(item, results) for item in value)
    return value


Done = Callable[[Chunk, Any], None]


class Executor(Protocol):
    """Runs a job's chunks; see the module docstring."""

    name: str

    def run(self, chunks: Sequence[Chunk], done: Done | None = None) -> dict[str, Any]: ...


def _check_order(chunks: Sequence[Chunk]) -> None:
    """Chunk keys are unique and every chunk needs only chunks listed before it."""
    seen: set[str] = set()
    for chunk in chunks:
        if chunk.key in seen:
            raise ValueError(f"chunk key {chunk.key!r} appears twice")
        missing = [k for k in chunk.needs() if k not in seen]
        if missing:
            raise ValueError(f"chunk {chunk.key!r} needs {missing}, not listed before it")
        seen.add(chunk.key)


class InProcess:
    """Runs chunks one after the other in this process."""

    name = "in-process"

    def run(self, chunks: Sequence[Chunk], done: Done | None = None) -> dict[str, Any]:
        _check_order(chunks)
        results: dict[str, Any] = {}
        for chunk in chunks:
            args = _substitute(chunk.args, results)
            kwargs = {k: _substitute(v, results) for k, v in chunk.kwargs.items()}
            results[chunk.key] = chunk.function(*args, **kwargs)
            if done is not None:
                done(chunk, results[chunk.key])
        return results

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        return None


def _on_worker(function: Callable, *args, **kwargs):
    """Run a chunk on a Dask worker with one thread per worker thread: the compiled engine and
    BLAS would otherwise each start one thread per core in every worker process."""
    import numba
    from distributed import get_worker
    from threadpoolctl import threadpool_limits

    threads = max(1, min(get_worker().state.nthreads, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        return function(*args, **kwargs)


class DaskExecutor:
    """Runs chunks on a Dask cluster: the one at ``scheduler`` (``tcp://HOST:PORT``), or a
    ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per core)
    started here and closed on exit. Use it as a context manager."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        if scheduler is not None and not SCHEDULER_ADDRESS.match(scheduler):
            raise ValueError(
                f"scheduler {scheduler!r}: expected an address such as tcp://HOST:8786"
            )
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.scheduler, self.workers = scheduler, workers
        self.client = None
        self._cluster = None

    def __enter__(self) -> DaskExecutor:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            with dask.config.set(WORKER_SETTINGS):  # the workers inherit these settings
                self._cluster = LocalCluster(
                    n_workers=self.workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout="10s")
            except OSError as error:
                raise ConnectionError(
                    f"scheduler {self.scheduler}: cannot connect ({error})"
                ) from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    def run(self, chunks: Sequence[Chunk], done: Done | None = None) -> dict[str, Any]:
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("the Dask executor is not open (use it in a `with` block)")
        _check_order(chunks)
        futures: dict[str, Any] = {}
        by_future = {}
        run = uuid.uuid4().hex[:12]  # task keys of this call only: never an earlier run's result
        for chunk in chunks:
            args = _substitute(chunk.args, futures)
            kwargs = {k: _substitute(v, futures) for k, v in chunk.kwargs.items()}
            key = _task_key(chunk.key, run)
            future = self.client.submit(_on_worker, chunk.function, *args, key=key, **kwargs)
            futures[chunk.key] = future
            by_future[future.key] = chunk
        results: dict[str, Any] = {}
        for future in as_completed(list(futures.values())):
            chunk = by_future[future.key]
            results[chunk.key] = future.result()
            if done is not None:
                done(chunk, results[chunk.key])
        return results


def _task_key(key: str, run: str) -> str:
    """The Dask task key of the chunk ``key`` in the run ``run`` (readable prefix, unique by
    the key's digest and the run)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", key)[:40]
    return f"fmsim-{readable}-{digest}-{run}"


def executor(scheduler: str | None = None, workers: int | None = None) -> Executor:
    """The backend for ``scheduler``: None = :class:`InProcess`; ``"local"`` = a Dask
    ``LocalCluster`` on this machine (``workers`` processes, default one per core); an address
    ``tcp://HOST:PORT`` = that Dask cluster. Open it with ``with``."""
    if scheduler is None:
        if workers is not None:
            raise ValueError("workers applies to a local Dask cluster (scheduler 'local')")
        return InProcess()
    if scheduler == "local":
        return DaskExecutor(None, workers)
    return DaskExecutor(scheduler, workers)


#: ``listener(label, chunks_done, total_chunks)``: see :func:`progress_callback`.
Listener = Callable[[str, int, int], None]
_LISTENER: ContextVar[Listener | None] = ContextVar("fmsim_chunk_listener", default=None)


@contextmanager
def progress_callback(listener: Listener) -> Iterator[None]:
    """Within the block (this thread or task), every :class:`ChunkProgress` also calls
    ``listener(label, chunks_done, total_chunks)``: once as its job starts (0 done) and after
    each chunk, in the process that runs the job."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


class ChunkProgress:
    """Progress of a job on the terminal (rich, on stderr): chunks done, subjects per second
    and the estimated time left; at the end one summary line (chunks, subjects, wall and CPU
    seconds, subjects per second) to the ``fmsim`` logger. Use it as a context manager and
    pass :meth:`after` (a ``done`` callback) to :meth:`Executor.run`. Within
    :func:`progress_callback`, its listener hears of every chunk too."""

    def __init__(self, label: str, chunks: Sequence[Chunk], enabled: bool = True) -> None:
        self.label, self.enabled = label, enabled
        self.total_chunks = len(chunks)
        self.total_subjects = sum(c.subjects for c in chunks)
        self.chunks_done = self.subjects_done = 0
        self._bar = self._task = None
        self._listener = _LISTENER.get()

    def __enter__(self) -> ChunkProgress:
        self._started, self._cpu = time.perf_counter(), time.process_time()
        logging.getLogger("fmsim").info(
            "%s: %d chunks to run (%s subjects)", self.label, self.total_chunks,
            f"{self.total_subjects:,}",
        )  # fmt: skip
        if self._listener is not None:
            self._listener(self.label, 0, self.total_chunks)
        if self.enabled and self.total_chunks:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[chunks]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task(
                self.label, total=max(self.total_subjects, 1), chunks=self._chunks(), rate=""
            )
        return self

    def _chunks(self) -> str:
        return f"{self.chunks_done}/{self.total_chunks} chunks"

    def after(self, done: Done | None = None) -> Done:
        """A ``done`` callback that calls ``done`` and then advances the progress."""

        def callback(chunk: Chunk, result) -> None:
            if done is not None:
                done(chunk, result)
            self.chunks_done += 1
            self.subjects_done += chunk.subjects
            if self._listener is not None:
                self._listener(self.label, self.chunks_done, self.total_chunks)
            if self._bar is not None:
                rate = self.subjects_done / max(time.perf_counter() - self._started, 1e-9)
                self._bar.update(
                    self._task,
                    completed=self.subjects_done,
                    chunks=self._chunks(),
                    rate=f"{rate:,.0f} subjects/s",
                )

        return callback

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
        if not self.total_chunks:
            return
        wall = time.perf_counter() - self._started
        cpu = time.process_time() - self._cpu
        logging.getLogger("fmsim").info(
            "%s: %d of %d chunks, %s subjects in %.1f s (this process: %.1f CPU-s), %s subjects/s",
            self.label,
            self.chunks_done,
            self.total_chunks,
            f"{self.subjects_done:,}",
            wall,
            cpu,
            f"{self.subjects_done / max(wall, 1e-9):,.0f}",
        )


class ChunkKeeper(Protocol):
    """Where a job keeps its finished chunks for a rerun (:class:`fmsim.io.store.ChunkStore`)."""

    def read_verified_chunk(self, key: str) -> Any | None: ...

    def write_chunk(self, key: str, result: Any) -> Any: ...


def run_job(
    label: str,
    chunks: Sequence[Chunk],
    executor: Executor | None = None,
    store: ChunkKeeper | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Every chunk's result by key (chunks without :class:`ResultOf` arguments). A chunk that
    ``store`` holds (verified) is reused; the others
    run on ``executor`` (default: :class:`InProcess`) under a :class:`ChunkProgress` named
    ``label`` (shown with ``progress``) and are written to ``store`` as each finishes, so that
    an interrupted job resumes. The number of reused chunks goes to the ``fmsim`` logger."""
    results: dict[str, Any] = {}
    missing = []
    for chunk in chunks:
        stored = store.read_verified_chunk(chunk.key) if store is not None else None
        if stored is not None:
            results[chunk.key] = stored
        else:
            missing.append(chunk)

    def keep(chunk: Chunk, result: Any) -> None:
        if store is not None:
            store.write_chunk(chunk.key, result)

    if results:
        logging.getLogger("fmsim").info(
            "%s: %d chunks reused after verification", label, len(results)
        )
    with ChunkProgress(label, missing, enabled=progress) as bar:
        results.update((executor or InProcess()).run(missing, bar.after(keep)))
    return results
