"""Benchmark: fitting the mouse model to a group-level passive-transfer data set (not a test).

Data: the default Goebel 2021 design simulated by fmsim (seed 2021: 8 FMS donors x 4 mice,
6 HC donors x 4, saline 8, IgG-depleted serum 8), paw-pressure and cold group means per donor
and day (456 data points, 19 conditions). Estimated: sensitisation turnover, occupancy at half
effect and DRG equilibration rate (log10 scale, bounds from the parameter file's CVs).

1. Multi-start fit, 20 starts, trust-region least squares (pyPESTO ``ls_trf`` on residuals and
   the batched finite-difference Jacobian), each start a chunk of ``fmsim.engine.execution``:
   in this process, and on a local Dask cluster of ``--workers`` single-threaded workers
   (started, and every worker's imports and compiled kernels loaded, before the clock: that
   start-up is reported on its own); then the profiles of the three parameters from the best
   fit, with 1 and ``--procs`` processes (pyPESTO ``MultiProcessEngine``).
2. What derivatives buy: the same 20 starts with L-BFGS-B (gradient) and Powell (no
   derivatives): wall time, objective evaluations, starts reaching the best optimum (within
   0.01 of the best negative log-likelihood). fmsim's engine has no forward sensitivities, so
   the derivatives are central differences (2p+1 parameter sets per gradient, one batch).

The machine is shared: every step reports wall time and CPU seconds (this process, its
threads, the worker processes it waited for, ``os.times``, and its live child processes, the
Dask workers and nannies).
3. Objective cost against pyPESTO's libroadrunner objective on the exported PEtab problem, in
   the same run: one negative log-likelihood, and one gradient (fmsim: 2p+1 parameter sets in
   one engine batch; pyPESTO: central finite differences of the libroadrunner objective,
   ``pypesto.objective.FD``), best of ``--repeats``; the two log-likelihoods are compared.

Usage::

    .venv/bin/python benchmarks/calibration_fit.py --out /tmp/calibration_benchmark.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pypesto
from trial_power import children_cpu  # benchmarks/ is the script's folder

from fmsim.calibration.measurements import problem_from_lab_data
from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.petab_export import export_petab, roadrunner_objective
from fmsim.calibration.profile import profiles
from fmsim.config import default_config
from fmsim.engine.execution import DaskExecutor, InProcess, _on_worker
from fmsim.experiments.passive_transfer import run_passive_transfer

NAMES = ["sensitisation_turnover", "sensitisation_occupancy50", "drg_equilibration_rate"]
TESTS = ["paw_pressure_threshold", "cold_response"]


def _problem():
    config = default_config()
    data = run_passive_transfer(config).measurements
    return problem_from_lab_data(data, config, NAMES, level="group", tests=TESTS)


@contextlib.contextmanager
def _clock():
    """Wall and CPU seconds of the block (CPU: this process, its waited-for children and its
    live children)."""
    spent = {}
    before, wall, alive = os.times(), time.perf_counter(), children_cpu()
    yield spent
    after = os.times()
    spent["seconds"] = round(time.perf_counter() - wall, 2)
    spent["cpu_seconds"] = round(
        sum(getattr(after, k) - getattr(before, k)
            for k in ("user", "system", "children_user", "children_system"))
        + children_cpu() - alive,
        2,
    )  # fmt: skip


def _fit(objective, method, executor, starts):
    with _clock() as spent:
        result = multistart(objective, starts, seed=0, method=method, executor=executor)
    fvals = np.array([r.fval for r in result.optimize_result.list], dtype=float)
    evaluations = sum(max(r.n_fval, r.n_res) for r in result.optimize_result.list)
    x, nllh = best(result, objective)
    return {
        "method": method,
        "where": executor.name,
        **spent,
        "best_nllh": round(nllh, 4),
        "starts_at_best": int(np.sum(fvals - fvals.min() < 0.01)),
        "objective_evaluations": int(evaluations),
        "estimate": dict(
            zip(NAMES, objective.problem.to_natural(x).round(4).tolist(), strict=True)
        ),
        "result": result,
    }


def _profiles(objective, result, procs):
    with _clock() as spent:
        found = profiles(objective, result, n_procs=procs)
    return {
        "procs": procs,
        **spent,
        "points": int(sum(p.x.size for p in found)),
        "verdicts": {p.name: p.verdict() for p in found},
    }


def _per_call(function, repeats):
    """Best wall seconds of ``repeats`` calls, mean CPU seconds per call (this process and
    its threads), and the last value."""
    walls, cpu = [], time.process_time()
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        walls.append(time.perf_counter() - started)
    return {"seconds": min(walls), "cpu_seconds": (time.process_time() - cpu) / repeats}, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2, help="processes for the profiles")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers for the starts")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    problem = _problem()
    objective = Objective(problem)
    objective.nllh(problem.nominal_scaled)  # compile / load the engine code
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "data_points": len(problem.measurements),
        "conditions": len(problem.conditions),
    }
    fits = [_fit(objective, "ls_trf", InProcess(), args.starts)]
    dask = DaskExecutor(workers=args.workers)
    with _clock() as spent:
        dask.__enter__()
        warm = [
            dask.client.submit(
                _on_worker,
                Objective(problem).nllh,
                problem.nominal_scaled,
                workers=[w],
                pure=False,
            )  # fmt: skip
            for w in dask.client.scheduler_info()["workers"]
        ]
        dask.client.gather(warm)  # fmt: skip
    report["dask_start_up"] = {"workers": args.workers, **spent}
    fits.append(_fit(objective, "ls_trf", dask, args.starts))
    dask.__exit__(None, None, None)
    best_fit = fits[0]["result"]
    report["profiles"] = [
        _profiles(objective, best_fit, 1),
        _profiles(objective, best_fit, args.procs),
    ]
    fits += [_fit(objective, m, InProcess(), args.starts) for m in ("L-BFGS-B", "Powell")]
    report["fits"] = [{k: v for k, v in f.items() if k != "result"} for f in fits]
    x = problem.nominal_scaled + np.array([0.05, -0.02, 0.1])
    with tempfile.TemporaryDirectory() as folder:
        yaml_path = export_petab(problem, Path(folder))
        started = time.perf_counter()
        rr_problem = roadrunner_objective(yaml_path)
        import_seconds = time.perf_counter() - started
        rr = rr_problem.objective
        rr_fd = pypesto.objective.FD(rr, grad=True, method=pypesto.objective.FD.CENTRAL)
        fmsim_f, ours = _per_call(lambda: objective.nllh(x), args.repeats)
        fmsim_g, _ = _per_call(lambda: objective.nllh_and_gradient(x), args.repeats)
        rr_f, theirs = _per_call(lambda: rr(x), args.repeats)
        rr_g, _ = _per_call(lambda: rr_fd(x, sensi_orders=(0, 1)), max(1, args.repeats // 2))
    report["objective"] = {
        "fmsim_nllh": fmsim_f,
        "fmsim_gradient": fmsim_g,
        "roadrunner_import_seconds": import_seconds,
        "roadrunner_nllh": rr_f,
        "roadrunner_fd_gradient": rr_g,
        "nllh_wall_ratio": rr_f["seconds"] / fmsim_f["seconds"],
        "nllh_cpu_ratio": rr_f["cpu_seconds"] / fmsim_f["cpu_seconds"],
        "gradient_wall_ratio": rr_g["seconds"] / fmsim_g["seconds"],
        "gradient_cpu_ratio": rr_g["cpu_seconds"] / fmsim_g["cpu_seconds"],
        "fmsim_nllh_value": ours,
        "roadrunner_nllh_value": float(theirs),
        "relative_difference": abs(float(theirs) - ours) / abs(ours),
    }
    report["load_average_at_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
