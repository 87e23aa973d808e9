"""Where the Dask path's extra CPU goes: one virtual-trial block inside a Dask worker versus in
this process (benchmark b's follow-up).

Runs ``trial_block(config, --patients, seed)`` of examples/trials/efgartigimod_parallel.yaml
``--repeats`` times in this process and as a task on a one-worker ``LocalCluster`` (through
``fmsim.engine.execution``'s worker wrapper), and prints the CPU seconds the block takes inside
the task, and the worker process's CPU seconds over the task.

    .venv/bin/python benchmarks/dask_task_cost.py --patients 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from distributed import Client, LocalCluster

from fmsim.config.trial import load_trial_config
from fmsim.engine.execution import _on_worker
from fmsim.experiments.trial import trial_block

CONFIG = Path(__file__).parents[1] / "examples/trials/efgartigimod_parallel.yaml"


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_block(config, n: int, seed: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    trial_block(config, n, seed)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = load_trial_config(CONFIG)
    trial_block(config, 50, 0)
    for _ in range(args.repeats):
        cpu, wall = timed_block(config, args.patients, 5)
        print(f"in this process: {cpu:.2f} CPU-s ({wall:.2f} s)", flush=True)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.submit(_on_worker, trial_block, config, 50, 0).result()
        for _ in range(args.repeats):
            (before,) = client.run(process_cpu).values()
            task = client.submit(_on_worker, timed_block, config, args.patients, 5, pure=False)
            cpu, wall = task.result()
            (after,) = client.run(process_cpu).values()
            print(f"in a Dask worker: {cpu:.2f} CPU-s inside the task ({wall:.2f} s); worker "
                  f"process {after - before:.2f} CPU-s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
