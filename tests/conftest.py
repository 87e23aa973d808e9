"""Fixtures shared by several test packages: a real Dask cluster on localhost (a scheduler and
two single-threaded workers, each a process of its own, started with the ``dask scheduler`` /
``dask worker`` commands), fresh per test (``cluster``: tests may kill its workers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

DASK = Path(sys.executable).parent / "dask"


class Cluster:
    """A scheduler and two single-threaded workers, each a process of its own."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "scheduler.json"
        self.logs = folder
        self.scheduler = self._start("scheduler", "--scheduler-file", self.file, "--port", "0")
        deadline = time.monotonic() + 120
        while not self.file.exists():
            assert time.monotonic() < deadline, (self.logs / "scheduler.log").read_text()
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [
            self._start(f"worker-{k}", "--scheduler-file", self.file, "--nthreads", "1",
                        "--no-nanny", "--name", f"w{k}", "--death-timeout", "60")
            for k in range(2)
        ]  # fmt: skip
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)

    def _start(self, name: str, *args) -> subprocess.Popen:
        command = "scheduler" if name == "scheduler" else "worker"
        log = open(self.logs / f"{name}.log", "w")
        return subprocess.Popen(
            [str(DASK), command, *map(str, args), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NUMBA_NUM_THREADS": "1"},
        )

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def cluster(tmp_path):
    started = Cluster(tmp_path)
    try:
        yield started
    finally:
        started.stop()
