"""Benchmark: fitting the mouse model to a group-level passive-transfer data set (not a test).

Data: the default Goebel 2021 design simulated by fmsim (seed 2021: 8 FMS donors x 4 mice,
6 HC donors x 4, saline 8, IgG-depleted serum 8), paw-pressure and cold group means per donor
and day (456 data points, 19 conditions). Estimated: sensitisation turnover, occupancy at half
effect and DRG equilibration rate (log10 scale, bounds from the parameter file's CVs).

1. Multi-start fit, 20 starts, trust-region least squares (pyPESTO ``ls_trf`` on residuals and
   the batched finite-difference Jacobian): wall time with 1 and with ``--procs`` worker
   processes (pyPESTO ``MultiProcessEngine``).
2. What derivatives buy: the same 20 starts with L-BFGS-B (gradient) and Powell (no
   derivatives): wall time, objective evaluations, starts reaching the best optimum (within
   0.01 of the best negative log-likelihood).
3. Objective cost against pyPESTO's libroadrunner objective on the exported PEtab problem, in
   the same run: one negative log-likelihood, and one gradient (fmsim: 2p+1 parameter sets in
   one engine batch; pyPESTO: central finite differences of the libroadrunner objective,
   ``pypesto.objective.FD``), best of ``--repeats``; the two log-likelihoods are compared.

Usage::

    .venv/bin/python benchmarks/calibration_fit.py --out /tmp/calibration_benchmark.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pypesto

from fmsim.calibration.measurements import problem_from_lab_data
from fmsim.calibration.objective import Objective
from fmsim.calibration.optimize import best, multistart
from fmsim.calibration.petab_export import export_petab, roadrunner_objective
from fmsim.config import default_config
from fmsim.experiments.passive_transfer import run_passive_transfer

NAMES = ["sensitisation_turnover", "sensitisation_occupancy50", "drg_equilibration_rate"]
TESTS = ["paw_pressure_threshold", "cold_response"]


def _problem():
    config = default_config()
    data = run_passive_transfer(config).measurements
    return problem_from_lab_data(data, config, NAMES, level="group", tests=TESTS)


def _fit(objective, method, procs, starts):
    started = time.perf_counter()
    result = multistart(objective, starts, seed=0, method=method, n_procs=procs)
    seconds = time.perf_counter() - started
    fvals = np.array([r.fval for r in result.optimize_result.list], dtype=float)
    evaluations = sum(max(r.n_fval, r.n_res) for r in result.optimize_result.list)
    x, nllh = best(result, objective)
    return {
        "method": method,
        "procs": procs,
        "seconds": round(seconds, 2),
        "best_nllh": round(nllh, 4),
        "starts_at_best": int(np.sum(fvals - fvals.min() < 0.01)),
        "objective_evaluations": int(evaluations),
        "estimate": dict(
            zip(NAMES, objective.problem.to_natural(x).round(4).tolist(), strict=True)
        ),
    }


def _best_of(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    problem = _problem()
    objective = Objective(problem)
    objective.nllh(problem.nominal_scaled)  # compile / load the engine code
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "data_points": len(problem.measurements),
        "conditions": len(problem.conditions),
        "fits": [
            _fit(objective, "ls_trf", 1, args.starts),
            _fit(objective, "ls_trf", args.procs, args.starts),
            _fit(objective, "L-BFGS-B", 1, args.starts),
            _fit(objective, "Powell", 1, args.starts),
        ],
    }
    x = problem.nominal_scaled + np.array([0.05, -0.02, 0.1])
    with tempfile.TemporaryDirectory() as folder:
        yaml_path = export_petab(problem, Path(folder))
        started = time.perf_counter()
        rr_problem = roadrunner_objective(yaml_path)
        import_seconds = time.perf_counter() - started
        rr = rr_problem.objective
        rr_fd = pypesto.objective.FD(rr, grad=True, method=pypesto.objective.FD.CENTRAL)
        fmsim_f, ours = _best_of(lambda: objective.nllh(x), args.repeats)
        fmsim_g, _ = _best_of(lambda: objective.nllh_and_gradient(x), args.repeats)
        rr_f, theirs = _best_of(lambda: rr(x), args.repeats)
        rr_g, _ = _best_of(lambda: rr_fd(x, sensi_orders=(0, 1)), max(1, args.repeats // 2))
    report["objective"] = {
        "fmsim_nllh_seconds": fmsim_f,
        "fmsim_gradient_seconds": fmsim_g,
        "roadrunner_import_seconds": import_seconds,
        "roadrunner_nllh_seconds": rr_f,
        "roadrunner_fd_gradient_seconds": rr_g,
        "nllh_ratio": rr_f / fmsim_f,
        "gradient_ratio": rr_g / fmsim_g,
        "fmsim_nllh": ours,
        "roadrunner_nllh": float(theirs),
        "relative_difference": abs(float(theirs) - ours) / abs(ours),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
