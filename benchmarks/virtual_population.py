"""Benchmark (b) of issue 16: a virtual trial of up to 10^6 patients, direct and on Dask.

examples/trials/efgartigimod_parallel.yaml (12 weeks, efgartigimod i.v. versus placebo) with
``--patients`` virtual patients, in blocks of ``--block`` patients
(:func:`fmsim.experiments.trial.virtual_trial`: every block screened, randomised and simulated
afresh). Three paths on the same blocks (same seeds, so the same patients):

* **direct**: a plain loop calling :func:`fmsim.experiments.trial.trial_block` per block;
* **in-process**: ``virtual_trial`` through the execution interface (:class:`InProcess`);
* **dask** (with ``--dask``): ``virtual_trial`` on a local Dask cluster of ``--workers``
  single-threaded worker processes.

The Dask path is timed in two parts, so that its fixed cost is not mistaken for a cost per
patient: **start-up** (starting the cluster, then every worker importing fmsim and running a
50-patient block, which loads the compiled kernels: what the first chunk on each worker pays)
and the **run** on the warmed cluster. Per path: wall and CPU seconds (this process plus, for
Dask, the worker and nanny processes), patients per second, and peak memory (this process's
peak RSS; for Dask also the largest sum of the workers' RSS, sampled every 0.5 s). The Dask
path's overhead is given per patient (run against direct) and in total (start-up + run against
direct). Run one size per invocation, so that peaks do not carry over:

    .venv/bin/python benchmarks/virtual_population.py --patients 10000 --dask
    .venv/bin/python benchmarks/virtual_population.py --patients 1000000 --dask
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
from trial_power import children_cpu  # benchmarks/ is the script's folder

from fmsim.config.trial import load_trial_config
from fmsim.engine.execution import DaskExecutor, InProcess, _on_worker, chunk_seed
from fmsim.experiments.trial import TRIAL_CHUNK, trial_block, virtual_trial

CONFIG = Path(__file__).parents[1] / "examples/trials/efgartigimod_parallel.yaml"


class WorkerMemory:
    """Largest total RSS of this process's children (Dask workers), sampled in a thread."""

    def __init__(self) -> None:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            total = 0
            for child in psutil.Process().children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(function):
    wall, cpu, workers = time.perf_counter(), time.process_time(), children_cpu()
    result = function()
    cpu = time.process_time() - cpu + children_cpu() - workers
    return time.perf_counter() - wall, cpu, result


def warm_up(cluster: DaskExecutor, config) -> None:
    """Start ``cluster``; every worker imports fmsim and loads the compiled kernels (a
    50-patient block: what its first chunk would pay)."""
    cluster.__enter__()
    client = cluster.client
    tasks = [
        client.submit(_on_worker, trial_block, config, 50, 0, workers=[w], pure=False)
        for w in client.scheduler_info()["workers"]
    ]
    client.gather(tasks)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--block", type=int, default=TRIAL_CHUNK)
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--skip-direct", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    config = load_trial_config(CONFIG)
    n, block = args.patients, args.block
    trial_block(config, 50, 0)  # compile, warm caches
    print(f"load average at start: {os.getloadavg()}; {n:,} patients, blocks of {block:,}")
    rows = []

    def direct():
        tables = []
        for k, start in enumerate(range(0, n, block)):
            key = f"virtual trial|{n}|block {k} of {block}"
            tables.append(trial_block(config, min(block, n - start), chunk_seed(config.seed, key)))
        return tables

    if not args.skip_direct:
        wall, cpu, tables = timed(direct)
        rows.append(("direct (loop over trial_block)", wall, cpu, peak_rss_gib(), None))
        print(rows[-1], flush=True)
    table = None
    if not args.skip_in_process:
        wall, cpu, table = timed(
            lambda: virtual_trial(config, n, block=block, executor=InProcess())
        )
        rows.append(("in-process executor", wall, cpu, peak_rss_gib(), None))
        print(rows[-1], flush=True)
    if not args.skip_direct:
        merged = pd.concat(tables, ignore_index=True)
        if table is not None:
            assert merged["endpoint"].equals(table["endpoint"]), "direct and executor differ"
    if args.dask:
        cluster = DaskExecutor(workers=args.workers)
        wall, cpu, _ = timed(lambda: warm_up(cluster, config))
        startup = (f"Dask start-up: cluster of {args.workers} + warm workers", wall, cpu,
                   peak_rss_gib(), None)  # fmt: skip
        print(startup, flush=True)
        with WorkerMemory() as memory:
            wall, cpu, on_dask = timed(lambda: virtual_trial(config, n, block=block,
                                                             executor=cluster))  # fmt: skip
        cluster.__exit__(None, None, None)
        if table is not None:
            assert on_dask.equals(table), "Dask and in-process results differ"
        if not args.skip_direct:
            assert merged["endpoint"].equals(on_dask["endpoint"]), "Dask and direct differ"
        rows.append((f"Dask LocalCluster, {args.workers} workers (run)", wall, cpu,
                     peak_rss_gib(), memory.peak / 2**30))  # fmt: skip
        print(rows[-1], flush=True)
    print(f"load average at end: {os.getloadavg()}")
    base = rows[0]
    print("\n| path | patients | wall s | CPU-s | patients/s (wall) | patients/CPU-s | "
          "peak RSS client GiB | peak RSS workers GiB | CPU vs first row |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, wall, cpu, rss, workers in rows:
        shown = f"{workers:.2f}" if workers is not None else "-"
        print(f"| {name} | {n:,} | {wall:.1f} | {cpu:.1f} | {n / wall:,.0f} | {n / cpu:,.0f} | "
              f"{rss:.2f} | {shown} | {cpu / base[2] - 1:+.1%} |")  # fmt: skip
    if args.dask:
        name, wall, cpu, *_ = startup
        print(f"| {name} | - | {wall:.1f} | {cpu:.1f} | | | | | |")
        run_cpu = rows[-1][2]
        print(
            f"\nDask overhead over the first row, CPU: per patient (run) "
            f"{run_cpu / base[2] - 1:+.1%}, in total (start-up + run) "
            f"{(run_cpu + cpu) / base[2] - 1:+.1%}; wall: per patient "
            f"{rows[-1][1] / base[1] - 1:+.1%}, in total {(rows[-1][1] + wall) / base[1] - 1:+.1%}"
        )


if __name__ == "__main__":
    main()
