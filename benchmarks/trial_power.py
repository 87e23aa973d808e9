"""Benchmark (a) of issue 16: the NCT05643794-like power curve, old and new analysis path.

Simulates ``--replicates`` replicate trials of examples/trials/rozanolixizumab_nct05643794.yaml
at each of ``--sizes`` (patients per trial), then analyses the primary endpoint (crossover mixed
model) of every replicate with the batched REML path (``fmsim.stats.crossover.crossover_effects``,
what ``fmsim trial`` uses) and, on the first ``--old-replicates`` replicates of each size, with
the previous per-replicate path (statsmodels MixedLM fitted replicate by replicate, as fmsim did
before; its time is extrapolated to all replicates). Simulation is shared by both paths and
timed separately. Prints a Markdown table; the command and results go to docs/benchmarks.md.

    .venv/bin/python benchmarks/trial_power.py                      # 10 sizes x 1,000
    .venv/bin/python benchmarks/trial_power.py --replicates 50 --old-replicates 5   # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

from fmsim.config.trial import load_trial_config
from fmsim.experiments.trial import crossover_table, primary_results, simulate_trial
from fmsim.stats.repeated_measures import fit_mixed_model

CONFIG = Path(__file__).parents[1] / "examples/trials/rozanolixizumab_nct05643794.yaml"
SIZES = "30,40,50,63,75,90,105,120,150,200"


def old_crossover_p_value(table: pd.DataFrame, treatment: str) -> tuple[float, float]:
    """The previous analysis of one replicate: statsmodels MixedLM (REML) of
    ``value ~ treated + C(period) + baseline`` with a random patient intercept and the
    fallback over optimisers of ``fit_mixed_model``; returns (estimate, bse_fe SE)."""
    work = table.assign(treated=(table["treatment"] == treatment).astype(float))
    model = smf.mixedlm("value ~ treated + C(period) + baseline", work, groups=work["patient"])
    result, _, _ = fit_mixed_model(model)
    return float(result.fe_params["treated"]), float(result.bse_fe["treated"])


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table with 3 significant digits."""
    cells = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row] for row in table.values]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=SIZES, help="patients per trial, comma-separated")
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--old-replicates", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    config = load_trial_config(CONFIG)
    treatment = "rozanolixizumab"
    simulate_trial(config, 6, replicates=2, seed=0, keep_courses=False)  # compile, warm caches

    rows = []
    for n in sizes:
        start, cpu = time.perf_counter(), time.process_time()
        simulation = simulate_trial(
            config, n, replicates=args.replicates, seed=1000 + n, keep_courses=False
        )
        simulated, simulated_cpu = time.perf_counter() - start, time.process_time() - cpu

        start, cpu = time.perf_counter(), time.process_time()
        new = primary_results(simulation)
        analysed, analysed_cpu = time.perf_counter() - start, time.process_time() - cpu

        visits = simulation.visits
        old_visits = visits[visits["replicate"] < args.old_replicates]
        table = crossover_table(config, old_visits, config.primary.outcome)
        start, cpu = time.perf_counter(), time.process_time()
        with threadpool_limits(limits=1, user_api="blas"):
            old = [
                old_crossover_p_value(rows_r, treatment)
                for _, rows_r in table.groupby("replicate", sort=True)
            ]
        old_time = (time.perf_counter() - start) * args.replicates / len(old)
        old_cpu = (time.process_time() - cpu) * args.replicates / len(old)
        old_estimates = np.array([e for e, _ in old])
        rows.append(
            {
                "patients": n,
                "replicates": args.replicates,
                "simulate_s": simulated,
                "simulate_cpu_s": simulated_cpu,
                "new_analysis_s": analysed,
                "new_analysis_cpu_s": analysed_cpu,
                "old_analysis_s (extrapolated)": old_time,
                "old_analysis_cpu_s (extrapolated)": old_cpu,
                "analysis_speed-up (cpu)": old_cpu / analysed_cpu,
                "power": float((new["p_value"] < config.power.alpha).mean()),
                "max abs difference of estimates (new - old)": float(
                    np.max(np.abs(new["estimate"].to_numpy()[: len(old)] - old_estimates))
                ),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="%.3g"), flush=True)

    table = pd.DataFrame(rows)
    total = table.drop(columns=["patients", "replicates", "power"]).sum()
    patients = int((table["patients"] * table["replicates"]).sum())
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(markdown(table))
    print()
    print(
        f"total: {patients:,} simulated patients; simulation {total['simulate_s']:.0f} s "
        f"({patients / total['simulate_s']:,.0f} patients/s); analysis new "
        f"{total['new_analysis_s']:.1f} s, old {total['old_analysis_s (extrapolated)']:.0f} s "
        f"(extrapolated from {args.old_replicates} replicates per size); whole power curve new "
        f"{total['simulate_s'] + total['new_analysis_s']:.0f} s, old "
        f"{total['simulate_s'] + total['old_analysis_s (extrapolated)']:.0f} s; CPU seconds: "
        f"simulation {total['simulate_cpu_s']:.0f}, analysis new "
        f"{total['new_analysis_cpu_s']:.1f}, old {total['old_analysis_cpu_s (extrapolated)']:.0f}"
    )


if __name__ == "__main__":
    main()
