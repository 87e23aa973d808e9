"""Benchmark: fmsim's compiled engine against libroadrunner and scipy (not run by the tests).

Scenario: the mouse passive-transfer experiment (8 mg human IgG i.p. on days 0, 1, 2, 3; anti-SGC
fraction 0.005), N mice with lognormal between-animal variability drawn once (seed 2024) and used
by every backend, rtol 1e-8 and atol 1e-10 everywhere, daily outputs from day 0 to day 35.

* fmsim ``backend="compiled"`` for N = 1e3, 1e4, 1e5 (best of ``--repeats`` runs): subjects/s,
  peak memory; compile and first-call overhead measured in fresh processes, cold (empty numba
  and fmsim caches) and warm.
* libroadrunner 2.9 (CVODE) on the SBML export (:mod:`fmsim.io.sbml`), one document loaded once
  and re-parameterised per subject (``reset()`` then ``setValues`` of constants, initial amounts
  and dose parameters; setting ``init(...)`` values instead recompiles the model, ~80 s per
  subject): a serial loop, and a pool of 2 worker processes, each loading the document once;
  for N = 1e3 and 1e4.
* scipy's ``solve_ivp(method="DOP853")`` one subject at a time (fmsim's scipy backend with a batch
  of one) for ``--scipy-n`` subjects.
* Differences: max |a - b| / |b| over states above 1e-4 (state units; below it atol dominates a
  1e-6 comparison) and days 4-35 (roadrunner reports the state after a dose at a dose time,
  fmsim before it), for all subjects run by both; plus each backend's error against scipy's
  DOP853 at rtol 1e-12, atol 1e-16 (restarted at every output, so its outputs are step ends)
  for the first ``--reference-n`` subjects, and fmsim against libroadrunner at rtol 1e-11,
  atol 1e-16 (CVODE fails at rtol 1e-12).

Usage::

    .venv/bin/python benchmarks/engine_vs_roadrunner.py            # full run, ~10 minutes
    .venv/bin/python benchmarks/engine_vs_roadrunner.py --quick    # N 1e3 only, for a check
    .venv/bin/python benchmarks/engine_vs_roadrunner.py --fmsim-only  # compile and throughput
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from fmsim.engine import Bolus, run
from fmsim.model.equations import MODEL, Subjects, build_subjects, initial_state
from fmsim.model.parameters import load_parameter_set

RTOL, ATOL = 1e-8, 1e-10
TIMES = np.arange(0.0, 35.0 + 1e-9, 1.0)
DOSE_DAYS = (0.0, 1.0, 2.0, 3.0)
FLOOR = 1e-4
COMPARED_DAYS = TIMES >= 4.0
SEED = 2024
MAX_N = 100_000


def scenario(n: int) -> tuple[Subjects, np.ndarray, list[Bolus]]:
    """The first ``n`` of 100,000 mice (lognormal variability, seed 2024; every backend and size
    gets the same mice), their undosed state and the four doses."""
    values = load_parameter_set().sample(max(n, MAX_N), np.random.default_rng(SEED))
    subjects = take(build_subjects(values, np.full(max(n, MAX_N), 0.005)), slice(0, n))
    doses = [Bolus(day, MODEL.index("human_ip_depot"), 8.0) for day in DOSE_DAYS]
    return subjects, initial_state(subjects), doses


def take(subjects: Subjects, index: slice) -> Subjects:
    return Subjects(**{name: getattr(subjects, name)[index] for name in MODEL.constants})


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Over days 4-35 and states above FLOOR; arrays (n_times, n_states, n)."""
    a, b = a[COMPARED_DAYS], b[COMPARED_DAYS]
    above = np.abs(b) > FLOOR
    return float(np.max(np.abs(a - b)[above] / np.abs(b)[above]))


# ---------------------------------------------------------------- fmsim


def bench_fmsim(n: int, repeats: int) -> tuple[dict, np.ndarray]:
    subjects, y0, doses = scenario(n)
    run(MODEL, take(subjects, slice(0, 2)), y0[:, :2], TIMES, doses)  # compiled, loaded
    walls, cpus = [], []
    for _ in range(repeats):
        tracemalloc.start()
        start, cpu = time.perf_counter(), time.process_time()
        result = run(MODEL, subjects, y0, TIMES, doses, rtol=RTOL, atol=ATOL, progress=False)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert not result.messages, result.messages
    best = min(walls)
    return {
        "n": n,
        "best_wall_s": best,
        "median_wall_s": float(np.median(walls)),
        "subjects_per_s": n / best,
        "median_subjects_per_s": n / float(np.median(walls)),
        "subjects_per_cpu_s": n / min(cpus),
        "output_bytes": result.states.nbytes,
        "peak_traced_bytes": peak,
        "rhs_evaluations_per_subject": result.n_rhs_evaluations / n,
    }, result.states


FIRST_CALL = """
import json, time
start = time.perf_counter()
import numpy as np
from fmsim.engine import Bolus, run
from fmsim.model.equations import MODEL, build_subjects, initial_state
from fmsim.model.parameters import load_parameter_set
imported = time.perf_counter()
values = load_parameter_set().sample(2, np.random.default_rng(0))
subjects = build_subjects(values, np.full(2, 0.005))
doses = [Bolus(d, MODEL.index("human_ip_depot"), 8.0) for d in (0.0, 1.0, 2.0, 3.0)]
times = np.arange(36.0)
before = time.perf_counter()
run(MODEL, subjects, initial_state(subjects), times, doses)
first = time.perf_counter()
run(MODEL, subjects, initial_state(subjects), times, doses)
second = time.perf_counter()
print(json.dumps({"import_s": imported - start, "first_call_s": first - before,
                  "second_call_s": second - first}))
"""


def bench_compile() -> dict:
    """First-call overhead in fresh processes: cold (empty caches), then warm (same caches)."""
    with tempfile.TemporaryDirectory() as numba_cache, tempfile.TemporaryDirectory() as ours:
        env = dict(os.environ, NUMBA_CACHE_DIR=numba_cache, FMSIM_CACHE_DIR=ours)
        timings = {}
        for label in ("cold", "warm"):
            output = subprocess.run(
                [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True
            )
            output.check_returncode()
            timings[label] = json.loads(output.stdout.strip().splitlines()[-1])
    return timings


# ---------------------------------------------------------------- libroadrunner


def _roadrunner_setup(n: int, rtol: float = RTOL, atol: float = ATOL):
    from fmsim.io.sbml import export_sbml, roadrunner_for

    subjects, y0, doses = scenario(n)
    runner = roadrunner_for(export_sbml(MODEL, subjects, y0, doses, index=0), rtol, atol)
    return runner, subjects, y0, doses


def _roadrunner_subjects(runner, subjects, y0, doses, indices) -> np.ndarray:
    """States of the subjects at ``indices`` from one loaded document, (n_times, n_states, k)."""
    from fmsim.io.sbml import subject_values

    out = np.empty((TIMES.size, MODEL.n_states, len(indices)))
    for k, i in enumerate(indices):
        values = subject_values(MODEL, subjects, y0, i, doses)
        runner.reset()
        runner.setValues(list(values), list(values.values()))
        out[:, :, k] = runner.simulate(times=TIMES.tolist())[:, 1:]
    return out


def bench_roadrunner_serial(n: int) -> tuple[dict, np.ndarray]:
    start = time.perf_counter()
    runner, subjects, y0, doses = _roadrunner_setup(n)
    loaded, cpu = time.perf_counter(), time.process_time()
    states = _roadrunner_subjects(runner, subjects, y0, doses, range(n))
    done = time.perf_counter()
    return {
        "n": n,
        "load_s": loaded - start,
        "simulate_s": done - loaded,
        "subjects_per_s": n / (done - loaded),
        "subjects_per_cpu_s": n / (time.process_time() - cpu),
        "subjects_per_s_with_load": n / (done - start),
    }, states


_WORKER: dict = {}


def _pool_init(n: int) -> None:
    _WORKER["setup"] = _roadrunner_setup(n)


def _pool_task(indices: list[int]) -> tuple[np.ndarray, float]:
    cpu = time.process_time()
    states = _roadrunner_subjects(*_WORKER["setup"], indices)
    return states, time.process_time() - cpu


def bench_roadrunner_pool(n: int, workers: int = 2) -> tuple[dict, np.ndarray]:
    tasks = [list(chunk) for chunk in np.array_split(np.arange(n), max(1, n // 50))]
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    with context.Pool(workers, initializer=_pool_init, initargs=(n,)) as pool:
        pool.map(_pool_task, [[0]] * workers, chunksize=1)  # every worker has loaded the model
        ready = time.perf_counter()
        parts = pool.map(_pool_task, tasks, chunksize=1)
        done = time.perf_counter()
    return {
        "n": n,
        "workers": workers,
        "startup_and_load_s": ready - start,
        "simulate_s": done - ready,
        "subjects_per_s": n / (done - ready),
        "subjects_per_s_with_startup": n / (done - start),
        "subjects_per_cpu_s": n / sum(cpu for _, cpu in parts),
    }, np.concatenate([states for states, _ in parts], axis=2)


# ---------------------------------------------------------------- scipy


def bench_scipy(n: int) -> tuple[dict, np.ndarray]:
    subjects, y0, doses = scenario(n)
    out = np.empty((TIMES.size, MODEL.n_states, n))
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        one = take(subjects, slice(i, i + 1))
        result = run(MODEL, one, y0[:, i : i + 1], TIMES, doses, backend="scipy")
        out[:, :, i] = result.states[:, :, 0]
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"n": n, "wall_s": wall, "subjects_per_s": n / wall, "subjects_per_cpu_s": n / cpu}, out


def reference(n: int) -> np.ndarray:
    """scipy DOP853 at rtol 1e-12, atol 1e-16, one subject at a time, restarted at every output
    and dose (outputs are step ends; pre-dose at dose times)."""
    subjects, y0, doses = scenario(n)
    out = np.empty((TIMES.size, MODEL.n_states, n))
    for i in range(n):
        one = take(subjects, slice(i, i + 1))
        y = y0[:, i].copy()
        for k, (t0, t1) in enumerate(zip(TIMES, [*TIMES[1:], None], strict=True)):
            out[k, :, i] = y
            y[MODEL.index("human_ip_depot")] += 8.0 * (t0 in DOSE_DAYS)
            if t1 is not None:

                def rhs(t, state, one=one):
                    return MODEL.rhs(t, state[:, None], one)[:, 0]

                solution = solve_ivp(rhs, (t0, t1), y, method="DOP853", rtol=1e-12, atol=1e-16)
                y = solution.y[:, -1].copy()
    return out


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e3 only")
    parser.add_argument("--fmsim-only", action="store_true", help="skip roadrunner and scipy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scipy-n", type=int, default=200)
    parser.add_argument("--reference-n", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()
    sizes = [1_000] if args.quick else [1_000, 10_000, 100_000]
    rr_sizes = [1_000] if args.quick else [1_000, 10_000]

    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "settings": {"rtol": RTOL, "atol": ATOL, "outputs": TIMES.size, "seed": SEED},
    }
    results["compile"] = bench_compile()
    print("compile", results["compile"], flush=True)

    fmsim_states = {}
    results["fmsim"] = []
    for n in sizes:
        numbers, fmsim_states[n] = bench_fmsim(n, args.repeats)
        results["fmsim"].append(numbers)
        print("fmsim", numbers, flush=True)
    results["fmsim_max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not args.fmsim_only:
        compare_with_others(args, sizes, rr_sizes, results, fmsim_states)
    results["load_average_at_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


def compare_with_others(
    args: argparse.Namespace,
    sizes: list[int],
    rr_sizes: list[int],
    results: dict,
    fmsim_states: dict[int, np.ndarray],
) -> None:
    """libroadrunner and scipy runs, the differences and the speed-ups, into ``results``."""
    results["roadrunner_serial"], results["roadrunner_pool"], differences = [], [], {}
    for n in rr_sizes:
        numbers, serial = bench_roadrunner_serial(n)
        results["roadrunner_serial"].append(numbers)
        print("roadrunner serial", numbers, flush=True)
        numbers, pooled = bench_roadrunner_pool(n)
        results["roadrunner_pool"].append(numbers)
        print("roadrunner pool", numbers, flush=True)
        differences[f"fmsim_vs_roadrunner_n{n}"] = max_relative_difference(fmsim_states[n], serial)
        differences[f"roadrunner_pool_vs_serial_n{n}"] = max_relative_difference(pooled, serial)

    numbers, scipy_states = bench_scipy(args.scipy_n)
    results["scipy"] = numbers
    print("scipy", numbers, flush=True)
    differences["fmsim_vs_scipy"] = max_relative_difference(
        fmsim_states[sizes[0]][:, :, : args.scipy_n], scipy_states
    )
    exact = reference(args.reference_n)
    m = args.reference_n
    differences["error_fmsim"] = max_relative_difference(fmsim_states[sizes[0]][:, :, :m], exact)
    differences["error_scipy"] = max_relative_difference(scipy_states[:, :, :m], exact)
    runner, subjects, y0, doses = _roadrunner_setup(m)
    differences["error_roadrunner"] = max_relative_difference(
        _roadrunner_subjects(runner, subjects, y0, doses, range(m)), exact
    )
    tight = _roadrunner_setup(m, rtol=1e-11, atol=1e-16)
    differences["fmsim_vs_roadrunner_at_rtol_1e-11"] = max_relative_difference(
        fmsim_states[sizes[0]][:, :, :m], _roadrunner_subjects(*tight, range(m))
    )
    results["max_relative_differences"] = differences
    print("differences", differences, flush=True)

    results["speedup_vs_best_roadrunner"] = {}
    for n in rr_sizes:
        runs = [*results["roadrunner_serial"], *results["roadrunner_pool"]]
        best = max(r["subjects_per_s"] for r in runs if r["n"] == n)
        ours = next(r["subjects_per_s"] for r in results["fmsim"] if r["n"] == n)
        results["speedup_vs_best_roadrunner"][n] = ours / best


if __name__ == "__main__":
    main()
