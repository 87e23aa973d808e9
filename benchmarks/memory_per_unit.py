"""Memory per simulated unit: the costs behind fmsim's size limits (fmsim.config.limits).

Each measurement runs in a fresh Python process and reports the growth of its peak resident
memory (``ru_maxrss``) over the run, at two sizes; the slope between them is the memory per
unit, free of the fixed cost of Python and the libraries:

* passive transfer: ``run_passive_transfer`` plus writing the measurement and trajectory
  tables (CSV and Parquet), per mouse x stored time point (every 0.25 day, day 0-35);
* virtual trial: ``simulate_trial`` of ``examples/trials/efgartigimod_parallel.yaml`` (12
  weeks, therapy courses kept), per patient x day.

    .venv/bin/python benchmarks/memory_per_unit.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

PASSIVE_TRANSFER = """
import json, resource, sys, tempfile
from pathlib import Path
from fmsim.config.passive_transfer import Donor, Group, PassiveTransferConfig
from fmsim.experiments.passive_transfer import run_passive_transfer
from fmsim.io.store import write_table
n = int(sys.argv[1])
config = PassiveTransferConfig(groups=[
    Group(name="FMS-IgG", material="igg", donors=[Donor(id="F", anti_sgc_fraction=0.005)], mice=n),
    Group(name="HC-IgG", material="igg", donors=[Donor(id="H", anti_sgc_fraction=0.0)], mice=n),
])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = run_passive_transfer(config)
with tempfile.TemporaryDirectory() as out:
    write_table(result.measurements, Path(out), "measurements")
    write_table(result.trajectories, Path(out), "trajectories")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"units": len(result.trajectories), "kib": after - before}))
"""

TRIAL = """
import json, resource, sys
from fmsim.config.trial import load_trial_config
from fmsim.experiments.trial import simulate_trial
n = int(sys.argv[1])
config = load_trial_config(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
simulate_trial(config, n)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"units": n * 7 * config.total_weeks, "kib": after - before}))
"""


def measure(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(script: str, sizes: tuple[int, int], *args: str) -> tuple[float, list[dict]]:
    small, large = (measure(script, str(n), *args) for n in sizes)
    per_unit = 1024.0 * (large["kib"] - small["kib"]) / (large["units"] - small["units"])
    return per_unit, [small, large]


def main() -> None:
    per_point, runs = slope(PASSIVE_TRANSFER, (100, 1000))
    print(f"passive transfer: {per_point:.0f} bytes per mouse x time point {runs}")
    trial = str(EXAMPLES / "trials" / "efgartigimod_parallel.yaml")
    per_day, runs = slope(TRIAL, (200, 2000), trial)
    print(f"virtual trial: {per_day:.0f} bytes per patient x day {runs}")


if __name__ == "__main__":
    main()
