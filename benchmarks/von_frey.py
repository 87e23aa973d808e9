"""Benchmark: the simulated up-down von Frey test (Chaplan 1994), per mouse and cohort-wide.

Peers in the same run and process, on the same true thresholds and random stream:

* **per mouse**: :func:`fmsim.assays.von_frey.simulate_up_down` called once per session in a
  Python loop (what the passive-transfer study did before);
* **cohort**: :func:`fmsim.assays.von_frey.simulate_up_down_cohort`, all sessions at once.

Sessions: 864 (the default Goebel design: 72 mice x 12 test days) and 100,000; true 50%
thresholds log-uniform over the mouse filament range 0.02-2 g (seed 2026), psychometric slope 4.
The two paths' thresholds and patterns are checked to be identical before timing is reported.
Then ``run_passive_transfer(default_config())`` as shipped (after) and with the measurement
step of commit ``BEFORE`` (the per-mouse loop, one data frame per test and day; its source is
read with ``git show``) in its place (before), warm (one call first, not counted); the two
measurement tables are checked to be identical. Times: best and median of ``--repeats`` runs
(wall clock, ``time.perf_counter``) and the best process CPU time (``time.process_time``: less
affected by other jobs on a shared machine); 100,000 per-mouse sessions: a third of the runs.

Usage::

    .venv/bin/python benchmarks/von_frey.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fmsim.assays.von_frey import (
    UpDownCohortResult,
    simulate_up_down,
    simulate_up_down_cohort,
)
from fmsim.config import default_config
from fmsim.experiments import passive_transfer

SESSIONS = (864, 100_000)
#: main before the cohort-wide von Frey simulation
BEFORE = "8bf72d7"
ROOT = Path(__file__).parents[1]


def measure_before() -> Callable:
    """``_measure`` of fmsim.experiments.passive_transfer as it was at commit ``BEFORE``."""
    path = "src/fmsim/experiments/passive_transfer.py"
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("passive_transfer_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{BEFORE}:{path}", "exec"), module.__dict__)
    return module._measure


def per_mouse(true_thresholds_g: np.ndarray, rng: np.random.Generator) -> UpDownCohortResult:
    """One :func:`simulate_up_down` call per session (the reference path)."""
    tests = [simulate_up_down(float(t), rng) for t in true_thresholds_g]
    return UpDownCohortResult(
        threshold_g=np.array([t.threshold_g for t in tests]),
        pattern=np.array([t.pattern for t in tests], dtype=object),
        k=np.array([t.k for t in tests]),
        flag=np.array([t.flag for t in tests], dtype=object),
    )


def times_s(function: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``repeats`` calls of ``function``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def row(label: str, times: tuple[list[float], list[float]], reference=None) -> str:
    """Table row: best and median wall clock, best CPU time (ms), speed-up of the best CPU."""
    (wall, cpu), ms = times, 1e3
    speed_up = f"{min(reference[1]) / min(cpu):,.1f}x" if reference else ""
    return (
        f"| {label} | {min(wall) * ms:,.2f} | {statistics.median(wall) * ms:,.2f} "
        f"| {min(cpu) * ms:,.2f} | {speed_up} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per path (best kept)")
    args = parser.parse_args()

    print("| path | best wall (ms) | median wall (ms) | best CPU (ms) | speed-up (best CPU) |")
    print("|---|---:|---:|---:|---:|")
    for n in SESSIONS:
        truths = 10 ** np.random.default_rng(2026).uniform(np.log10(0.02), np.log10(2.0), n)
        slow = per_mouse(truths, np.random.default_rng(1))
        fast = simulate_up_down_cohort(truths, np.random.default_rng(1))
        assert np.array_equal(slow.threshold_g, fast.threshold_g)
        assert list(slow.pattern) == list(fast.pattern)
        repeats = args.repeats if n < 10_000 else max(1, args.repeats // 3)
        loop = times_s(lambda t=truths: per_mouse(t, np.random.default_rng(1)), repeats)
        cohort = times_s(
            lambda t=truths: simulate_up_down_cohort(t, np.random.default_rng(1)), args.repeats
        )
        print(row(f"{n:,} sessions, per mouse", loop))
        print(row(f"{n:,} sessions, cohort", cohort, loop))

    config = default_config()
    run = passive_transfer.run_passive_transfer
    run(config)  # warm: compiled engine loaded
    shipped = passive_transfer._measure
    passive_transfer._measure = measure_before()
    before = times_s(lambda: run(config), args.repeats)
    reference = run(config).measurements
    passive_transfer._measure = shipped
    after = times_s(lambda: run(config), args.repeats)
    assert run(config).measurements.equals(reference)
    print(row(f"run_passive_transfer(default_config()), before ({BEFORE})", before))
    print(row("run_passive_transfer(default_config()), after", after, before))


if __name__ == "__main__":
    main()
