"""Benchmark: libroadrunner on fmsim's SBML export against a hand-written closed-form model, and
fmsim's engine on the export imported back (not run by the tests).

Scenario: the mouse passive-transfer experiment of benchmarks/engine_vs_roadrunner.py (8 mg
human IgG i.p. on days 0-3, anti-SGC fraction 0.005, lognormal between-animal variability, seed
2024), rtol 1e-8, atol 1e-10, daily outputs from day 0 to day 35.

* libroadrunner 2.9 (CVODE), each document loaded once and re-parameterised per mouse
  (``reset()`` then ``setValues``, :func:`fmsim.io.sbml.use_subject`):
  - ``export``: :func:`fmsim.io.sbml.export_sbml` of mouse 0 (free FcRn: closed form in 1/R,
    safeguarded, two Newton steps, as function definitions);
  - ``hand-written``: benchmarks/mouse_closed_form.ant, the same equations written by hand in
    Antimony with free FcRn in the textbook closed form (Wang 1995, one assignment rule
    chain), converted to SBML by antimony.
  The two are run alternately, ``--repeats`` rounds of N mice each; the cost per mouse is the
  best round's CPU time (libroadrunner runs in this process, single-threaded).
* fmsim's engine (compiled backend) on the model imported from the export
  (:func:`fmsim.io.sbml_import.import_sbml`) and on fmsim's own model, same mice, same run.
* Differences: max |a - b| / |b| over states above 1e-4 (state units) on days 4-35 (at a dose
  time libroadrunner reports the state after the dose, fmsim before it).

Usage::

    .venv/bin/python benchmarks/sbml_closed_form.py --out /tmp/sbml_benchmark.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from fmsim.engine import Bolus, run
from fmsim.io.sbml import export_sbml, roadrunner_for, subject_values, use_subject
from fmsim.io.sbml_import import import_sbml
from fmsim.model.equations import MODEL, build_subjects, initial_state
from fmsim.model.parameters import load_parameter_set

RTOL, ATOL = 1e-8, 1e-10
TIMES = np.arange(0.0, 35.0 + 1e-9, 1.0)
COMPARED = TIMES >= 4.0
FLOOR = 1e-4
SEED = 2024
HAND_WRITTEN = Path(__file__).with_name("mouse_closed_form.ant")


def scenario(n: int):
    values = load_parameter_set().sample(n, np.random.default_rng(SEED))
    subjects = build_subjects(values, np.full(n, 0.005))
    doses = [Bolus(day, MODEL.index("human_ip_depot"), 8.0) for day in (0.0, 1.0, 2.0, 3.0)]
    return subjects, initial_state(subjects), doses


def hand_written_sbml() -> str:
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(HAND_WRITTEN.read_text()) < 0:
        raise RuntimeError(antimony.getLastError())
    return antimony.getSBMLString("mouse_closed_form")


def roadrunner_round(runner, subjects, y0, doses, n) -> tuple[float, np.ndarray]:
    """CPU seconds for N mice and their states (n_times, n_states, n)."""
    out = np.empty((TIMES.size, MODEL.n_states, n))
    start = time.process_time()
    for i in range(n):
        use_subject(runner, subject_values(MODEL, subjects, y0, i, doses))
        out[:, :, i] = runner.simulate(times=TIMES.tolist())[:, 1:]
    return time.process_time() - start, out


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[COMPARED], b[COMPARED]
    above = np.abs(b) > FLOOR
    return float(np.max(np.abs(a - b)[above] / np.abs(b)[above]))


def engine_rate(model, subjects, y0, doses, repeats: int) -> tuple[dict, np.ndarray]:
    run(model, _take(model, subjects, 2), y0[:, :2], TIMES, doses)  # compile or load
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = run(model, subjects, y0, TIMES, doses, rtol=RTOL, atol=ATOL, progress=False)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    n = y0.shape[1]
    return {"subjects_per_s": n / min(walls), "subjects_per_cpu_s": n / min(cpus)}, result.states


def _take(model, subjects, k: int):
    return model.subjects_type(**{c: getattr(subjects, c)[:k] for c in model.constants})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="mice per libroadrunner round")
    parser.add_argument("--engine-n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "settings": {"rtol": RTOL, "atol": ATOL, "n": args.n, "repeats": args.repeats},
    }
    subjects, y0, doses = scenario(max(args.n, args.engine_n))
    exported = export_sbml(MODEL, subjects, y0, doses, 0)
    runners = {
        "export": roadrunner_for(exported, RTOL, ATOL),
        "hand-written": roadrunner_for(hand_written_sbml(), RTOL, ATOL),
    }
    best = {name: np.inf for name in runners}
    states = {}
    for _ in range(args.repeats):
        for name, runner in runners.items():
            cpu, states[name] = roadrunner_round(runner, subjects, y0, doses, args.n)
            best[name] = min(best[name], cpu)
    results["roadrunner"] = {
        name: {"cpu_s_per_mouse": best[name] / args.n, "mice_per_cpu_s": args.n / best[name]}
        for name in runners
    }
    results["export_cost_over_hand_written"] = best["export"] / best["hand-written"]
    print(json.dumps(results["roadrunner"], indent=1), flush=True)

    imported = import_sbml(exported)
    own, own_states = engine_rate(MODEL, subjects, y0, doses, args.repeats)
    n = y0.shape[1]
    mapped = imported.model.subjects_type(  # every mouse's constants; dose amounts as exported
        **{
            c: getattr(subjects, c) if c in MODEL.constants else np.full(n, float(v[0]))
            for c, v in ((c, getattr(imported.subjects, c)) for c in imported.model.constants)
        }
    )
    y0_imported = y0.copy()  # the export starts with the day-0 dose in the depot
    y0_imported[MODEL.index("human_ip_depot")] += 8.0
    theirs, imported_states = engine_rate(
        imported.model, mapped, y0_imported, imported.events, args.repeats
    )
    results["engine"] = {"fmsim_model": own, "imported_from_sbml": theirs, "n": args.engine_n}
    m = args.n
    results["max_relative_differences"] = {
        "export_vs_hand_written (roadrunner)": max_relative_difference(
            states["export"], states["hand-written"]
        ),
        "export (roadrunner) vs engine": max_relative_difference(
            states["export"], own_states[:, :, :m]
        ),
        "imported vs fmsim model (engine)": max_relative_difference(imported_states, own_states),
    }
    results["load_average_at_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
