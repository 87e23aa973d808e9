"""Benchmark: what an ``fmsim`` command costs before it computes anything (not a test).

Each command runs ``--repeats`` times as a fresh process, timed by ``/usr/bin/time`` (wall
seconds and user + system CPU seconds): the help of the group and of one command, and a refused
input (a scenario or fit file that does not exist: one line, exit code 2). The peer, in the
same run: a Python process that imports only typer, the floor of any typer command line. With
``--source DIR`` the commands run from another checkout's ``src`` (``PYTHONPATH``), e.g. the
main branch before a change.

Usage::

    .venv/bin/python benchmarks/cli_startup.py --repeats 5
    .venv/bin/python benchmarks/cli_startup.py --repeats 5 --source /path/to/other/checkout/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

FMSIM = str(Path(sys.executable).with_name("fmsim"))
COMMANDS = {
    "python -c 'import typer' (peer)": [sys.executable, "-c", "import typer"],
    "fmsim --help": [FMSIM, "--help"],
    "fmsim simulate --help": [FMSIM, "simulate", "--help"],
    "fmsim simulate nonexistent.yaml": [FMSIM, "simulate", "nonexistent.yaml"],
    "fmsim fit data.csv nonexistent.yaml": [FMSIM, "fit", "data.csv", "nonexistent.yaml"],
}


def timed(command: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``command``."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S", *command],
        env=environment,
        capture_output=True,
        text=True,
    )
    wall, user, system = map(float, done.stderr.strip().splitlines()[-1].split())
    return wall, user + system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--source", type=Path, help="run fmsim from this src folder")
    options = parser.parse_args()
    environment = dict(os.environ)
    if options.source:
        environment["PYTHONPATH"] = str(options.source.resolve())
    print(f"{'command':38s} {'wall s (median, min-max)':>26s} {'CPU s (median, min-max)':>25s}")
    for name, command in COMMANDS.items():
        runs = [timed(command, environment) for _ in range(options.repeats)]
        walls, cpus = zip(*runs, strict=True)
        print(
            f"{name:38s} {statistics.median(walls):8.2f} ({min(walls):.2f}-{max(walls):.2f})"
            f"{'':7s} {statistics.median(cpus):8.2f} ({min(cpus):.2f}-{max(cpus):.2f})"
        )


if __name__ == "__main__":
    main()
