"""Benchmark (a) of issue 16: the NCT05643794-like power curve, before and after, same run.

The power curve of examples/trials/rozanolixizumab_nct05643794.yaml (crossover, primary BPI-SF
interference by the crossover mixed model) at ``--sizes`` patients per trial, ``--replicates``
replicate trials each, one population (as configured):

* **before**: fmsim at git revision ``--before`` (default: the commit before the patient pool),
  run in a subprocess from an extracted copy of that revision's source: per size, the previous
  power chunk, ``simulate_trial(config, n, replicates=R, keep_courses=False)`` (every replicate
  trial's patients sampled and simulated afresh) and ``primary_results`` (batched analysis).
  With ``--before-replicates`` below ``--replicates`` its times are extrapolated linearly.
* **after**: this checkout's ``power_curve`` (patients drawn from a pool of
  ``power.pool_patients`` simulated patients, placebo groups not integrated), in this process
  and, with ``--dask``, on a local Dask cluster of ``--workers`` worker processes.

CPU seconds are the process's (all threads) plus, for Dask, its worker processes'. Prints the
rows and a Markdown table for docs/benchmarks.md.

    .venv/bin/python benchmarks/trial_power.py                       # 10 sizes x 1,000
    .venv/bin/python benchmarks/trial_power.py --replicates 50 --before-replicates 10  # quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import psutil

from fmsim.config.trial import load_trial_config, parse_trial_config
from fmsim.engine.execution import DaskExecutor, InProcess
from fmsim.experiments.trial import power_curve

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "examples/trials/rozanolixizumab_nct05643794.yaml"
SIZES = "30,40,50,63,75,90,105,120,150,200"
BEFORE = "f7971f9"  # main before the patient pool and the execution interface

# Runs in the subprocess with the old source first on sys.path: the previous power chunks.
BEFORE_RUN = """
import json, sys, time
from fmsim.config.trial import load_trial_config
from fmsim.experiments.trial import primary_results, simulate_trial
config = load_trial_config(sys.argv[1])
sizes, replicates = [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3])
simulate_trial(config, 6, replicates=2, seed=0, keep_courses=False)  # compile, warm caches
rows = []
for n in sizes:
    wall, cpu = time.perf_counter(), time.process_time()
    results = primary_results(
        simulate_trial(config, n, replicates=replicates, seed=1000 + n, keep_courses=False)
    )
    rows.append({"patients": n, "wall_s": time.perf_counter() - wall,
                 "cpu_s": time.process_time() - cpu,
                 "power": float((results["p_value"] < config.power.alpha).mean()),
                 "mean_effect": float(results["estimate"].mean())})
print(json.dumps(rows))
"""


def before(revision: str, sizes: str, replicates: int) -> list[dict]:
    """The previous power chunks, timed in a subprocess running ``revision``'s source."""
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "src.tar"
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "-o", str(archive), revision, "src"], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(folder) / "src")}
        output = subprocess.run(
            [sys.executable, "-c", BEFORE_RUN, str(CONFIG), sizes, str(replicates)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def children_cpu() -> float:
    """CPU seconds of this process's child processes (Dask workers, nannies) alive now."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def after(config, executor) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``power_curve`` for the configured population on ``executor``."""
    wall, cpu, workers = time.perf_counter(), time.process_time(), children_cpu()
    curve = power_curve(config, {"as configured": {}}, executor=executor)
    cpu = time.process_time() - cpu + children_cpu() - workers
    return time.perf_counter() - wall, cpu, curve.table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=SIZES, help="patients per trial, comma-separated")
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--before-replicates", type=int, default=None)
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' run")
    parser.add_argument("--dask", action="store_true", help="also on a local Dask cluster")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    base = load_trial_config(CONFIG)
    data = base.model_dump()
    data["power"].update(
        sample_sizes=[int(s) for s in args.sizes.split(",")], replicates=args.replicates
    )
    config = parse_trial_config(data, "benchmark")
    sizes = config.power.sample_sizes
    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} cores", flush=True)

    before_replicates = args.before_replicates or args.replicates
    old = before(args.before, args.sizes, before_replicates)
    scale = args.replicates / before_replicates
    old_wall = sum(r["wall_s"] for r in old) * scale
    old_cpu = sum(r["cpu_s"] for r in old) * scale
    print(f"before ({args.before}, {before_replicates} replicates per size, x{scale:g}): "
          f"{old_wall:.1f} s, {old_cpu:.1f} CPU-s", flush=True)  # fmt: skip

    power_curve(parse_trial_config({**data, "power": {**data["power"], "sample_sizes": [24],
                "replicates": 10}}, "warm-up"), {"w": {}})  # fmt: skip
    new_wall, new_cpu, table = after(config, InProcess())
    print(f"after (in-process): {new_wall:.1f} s, {new_cpu:.1f} CPU-s", flush=True)
    runs = [("in-process", new_wall, new_cpu)]
    if args.dask:
        with DaskExecutor(workers=args.workers) as cluster:
            dask_wall, dask_cpu, dask_table = after(config, cluster)
        print(f"after (Dask, {args.workers} workers): {dask_wall:.1f} s, {dask_cpu:.1f} CPU-s",
              flush=True)  # fmt: skip
        assert dask_table.equals(table), "Dask and in-process results differ"
        runs.append((f"Dask LocalCluster, {args.workers} workers", dask_wall, dask_cpu))

    print(f"\nload average at end: {os.getloadavg()}")
    print("\n| size | before power | before mean effect | after power | after mean effect |")
    print("|---:|---:|---:|---:|---:|")
    for row, (_, new) in zip(old, table.iterrows(), strict=True):
        print(f"| {row['patients']} | {row['power']:.3f} | {row['mean_effect']:+.3f} | "
              f"{new['power']:.3f} | {new['mean_effect']:+.3f} |")  # fmt: skip
    patients = sum(sizes) * args.replicates
    print(f"\n{patients:,} trial patients ({len(sizes)} sizes x {args.replicates} replicates)")
    print("\n| path | wall s | CPU-s | speed-up (CPU) |")
    print("|---|---:|---:|---:|")
    print(f"| before ({args.before}) | {old_wall:.1f} | {old_cpu:.1f} | 1 |")
    for name, wall, cpu in runs:
        print(f"| after, {name} | {wall:.1f} | {cpu:.1f} | {old_cpu / cpu:.1f} |")


if __name__ == "__main__":
    main()
