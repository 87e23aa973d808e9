"""The ``fmsim`` command group: help and refusals load none of the heavy layers.

Every command pays for what ``fmsim.cli.main`` imports, even ``fmsim --help``. The compiled
engine (sympy, numba) and the tables (pandas, scipy) are loaded by the command that computes,
inside its function; these tests run in a fresh interpreter and read ``sys.modules``.
"""

import json
import subprocess
import sys

import pytest

#: Modules that only a command computing something may load.
HEAVY = ("sympy", "numba", "fmsim.engine.compiled", "pandas", "scipy")

# Imports the command group, runs each argument list (if any) and prints, as JSON, the exit
# codes and which of the heavy modules are loaded.
LOADED_AFTER = """
import json, sys
from fmsim.cli.main import app
codes = [app(arguments.split(), standalone_mode=False) for arguments in sys.argv[2:]]
print(json.dumps([codes, sorted(m for m in sys.argv[1].split(",") if m in sys.modules)]))
"""

COMMANDS = (
    "reproduce simulate params power analyze trial therapies fit sensitivity query serve".split()
)


def loaded_after(*argument_lists: str) -> tuple[list[int], list[str]]:
    """The exit codes of the ``fmsim`` argument lists run in a fresh interpreter, and the
    heavy modules loaded at the end."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER, ",".join(HEAVY), *argument_lists],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    codes, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return codes, loaded


def test_importing_the_command_group_loads_no_heavy_module():
    assert loaded_after() == ([], [])


def test_the_help_of_every_command_loads_no_heavy_module():
    arguments = ["--help", *(f"{c} --help" for c in COMMANDS)]
    arguments += ["export --help", "export sbml --help", "export petab --help", "drugs --help"]
    assert loaded_after(*arguments) == ([0] * len(arguments), [])


@pytest.mark.parametrize("command", ["simulate", "therapies", "trial", "fit data.csv"])
def test_a_missing_input_file_is_refused_before_the_engine_loads(tmp_path, command):
    codes, loaded = loaded_after(f"{command} {tmp_path / 'missing.yaml'} --out {tmp_path / 'o'}")
    assert codes == [2]
    assert not {"sympy", "numba", "fmsim.engine.compiled"} & set(loaded), loaded
