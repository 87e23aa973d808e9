"""A fit in the background for the Fit page: ``fmsim fit DATA CONFIG``'s computation in a
worker process, so that the app stays responsive, reports each optimiser start as it finishes
(the starts are chunks of the execution interface, :mod:`fmsim.engine.execution`, run in the
worker or on the Dask scheduler the fit YAML names, as the command runs them) and can be
cancelled (the process is ended). The worker reads the same two files the command
reads (the page writes them, and they are what the page downloads), so the command reproduces
the page's estimates."""

from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class FitTables:
    """What the page shows of a finished fit: the tables of
    :class:`fmsim.calibration.fit.FitResult` (estimates, fitted, curves, starts) and the
    profiles' long table (empty without profiles); ``seconds`` of fit and profiles."""

    estimates: pd.DataFrame
    fitted: pd.DataFrame
    curves: pd.DataFrame
    starts: pd.DataFrame
    profiles: pd.DataFrame
    fit_seconds: float
    profile_seconds: float


def fit_worker(data: str, config: str, messages) -> None:
    """Run ``fmsim fit data config``'s fit (one process, no report) and put its progress and
    then ("done", :class:`FitTables`) or ("error", one-line message) on ``messages``."""
    from fmsim.calibration.fit import profile_table, run_fit_settings
    from fmsim.calibration.measurements import load_fit_problem
    from fmsim.engine.execution import executor, progress_callback

    def heard(label: str, done: int, total: int) -> None:
        if label == "starts":
            messages.put(("start", done))

    try:
        settings, problem = load_fit_problem(Path(data), Path(config))
        messages.put(("problem", len(problem.measurements)))
        with progress_callback(heard), executor(settings.scheduler) as chunks:
            # no posterior sampling: the page shows none
            result = run_fit_settings(problem, settings, sampling=False, executor=chunks)
        profiles = profile_table(result.profiles) if result.profiles else pd.DataFrame()
        messages.put(
            (
                "done",
                FitTables(
                    result.estimates,
                    result.fitted,
                    result.curves,
                    result.starts,
                    profiles,
                    result.fit_seconds,
                    result.profile_seconds,
                ),
            )
        )
    except Exception as error:  # shown on the page as one line, never a traceback
        messages.put(("error", str(error) or type(error).__name__))


@dataclass
class FitJob:
    """A fit of the files ``data`` and ``config`` running in a worker process (spawned: the
    engine's OpenMP threads do not survive a fork), its starts on ``scheduler`` (the fit YAML's:
    None in the worker, 'local' a Dask cluster the worker starts, or tcp://HOST:PORT).
    :meth:`poll` collects its messages; :meth:`cancel` ends it."""

    data: Path
    config: Path
    starts: int
    profile: bool
    scheduler: str | None
    process: multiprocessing.process.BaseProcess
    messages: object
    started: float = field(default_factory=time.perf_counter)
    prepared: bool = False  # the data and the model are ready; the starts run
    starts_done: int = 0
    outcome: FitTables | None = None
    error: str | None = None
    cancelled: bool = False

    @classmethod
    def launch(
        cls, data: Path, config: Path, starts: int, profile: bool, scheduler: str | None = None
    ) -> FitJob:
        context = multiprocessing.get_context("spawn")
        messages = context.Queue()
        # a daemon process may not start the worker processes of a local Dask cluster (ended
        # with the fit: Dask's workers stop when their parent does)
        process = context.Process(
            target=fit_worker,
            args=(str(data), str(config), messages),
            daemon=scheduler != "local",
        )
        process.start()
        return cls(data, config, starts, profile, scheduler, process, messages)

    @property
    def where(self) -> str:
        """Where the starts run, as words ('' in the worker itself)."""
        if self.scheduler is None:
            return ""
        if self.scheduler == "local":
            return " on a local Dask cluster"
        return f" on the Dask cluster {self.scheduler}"

    @property
    def finished(self) -> bool:
        return self.outcome is not None or self.error is not None or self.cancelled

    def poll(self) -> None:
        """Take the worker's messages; a worker that died without a word is an error."""
        while True:
            try:
                kind, value = self.messages.get_nowait()
            except queue.Empty:
                break
            if kind == "problem":
                self.prepared = True
            elif kind == "start":
                self.starts_done = value
            elif kind == "done":
                self.outcome = value
            elif kind == "error":
                self.error = value
        if not self.finished and not self.process.is_alive():
            self.error = f"the fit stopped unexpectedly (exit code {self.process.exitcode})"
        if self.finished:
            self.process.join(timeout=5)

    def cancel(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.cancelled = True

    def status(self) -> str:
        """One line: which stage, how many starts, seconds so far."""
        seconds = time.perf_counter() - self.started
        if self.cancelled:
            return f"Cancelled after {seconds:.0f} s."
        if self.error is not None:
            return self.error
        if self.outcome is not None:
            done = self.outcome
            profiles = f", profiles {done.profile_seconds:.1f} s" if self.profile else ""
            return f"Done: {self.starts} starts{self.where} in {done.fit_seconds:.1f} s{profiles}."
        if not self.prepared:
            return f"Reading the data and preparing the model ... ({seconds:.0f} s)"
        if self.starts_done < self.starts:
            return (
                f"Optimiser starts{self.where}: {self.starts_done} of {self.starts} done ... "
                f"({seconds:.0f} s)"
            )
        stage = "profile likelihoods and fitted curves" if self.profile else "fitted curves"
        return f"All {self.starts} starts done; {stage} ... ({seconds:.0f} s)"

    def fraction(self) -> float:
        """Rough share of the work done (starts, then profiles), for a progress bar."""
        if self.outcome is not None:
            return 1.0
        share = 0.6 if self.profile else 0.95
        return share * self.starts_done / max(self.starts, 1)
