"""``fmsim reproduce`` options, and the output-folder cases of every command that writes a run
folder (reproduce, simulate, analyze, power, therapies, trial): ``--out`` that is a file, holds
the command's own input, holds a user's files or another kind of run. Each is refused in one
line before any computation, and every file that was there before (inputs and the output
folder) is byte-identical afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.robustness.harness import Case, check_refused
from tests.robustness.test_lab_data_files import GOOD as LAB_DATA

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIO = "seed: 3\n"
PROTOCOL = (EXAMPLES / "therapies" / "tpe.yaml").read_text()
TRIAL = (EXAMPLES / "trials" / "efgartigimod_parallel.yaml").read_text()

REPRODUCE = ["reproduce", "--out", "{out}"]
#: (what, options, fragments of the error)
BAD_REPRODUCE_OPTIONS = [
    ("zero mice per donor", ["--mice-per-donor", "0"], ["--mice-per-donor"]),
    ("negative mice per donor", ["--mice-per-donor", "-4"], ["--mice-per-donor"]),
    ("too many mice per donor", ["--mice-per-donor", "100000"], ["--mice-per-donor"]),
    ("mice per donor as text", ["--mice-per-donor", "four"], ["--mice-per-donor"]),
    ("fractional mice per donor", ["--mice-per-donor", "2.5"], ["--mice-per-donor"]),
    ("negative seed", ["--seed", "-1"], ["--seed"]),
    ("seed beyond 64 bits", ["--seed", str(2**64)], ["--seed"]),
    ("seed as text", ["--seed", "abc"], ["--seed"]),
    ("unknown option", ["--mice", "3"], ["--mice"]),
    ("a scenario file (reproduce takes none)", ["{in}/scenario.yaml"], ["scenario.yaml"]),
]
CASES = [
    Case(f"reproduce:options:{what}", [*REPRODUCE, *options], {}, expect, names=expect)
    for what, options, expect in BAD_REPRODUCE_OPTIONS
]

#: command -> (its command line writing to {out}, its input files, its kind of run)
RUNS = {
    "reproduce": (["reproduce", "--mice-per-donor", "1"], {}, "passive_transfer"),
    "simulate": (
        ["simulate", "{in}/scenario.yaml"],
        {"scenario.yaml": SCENARIO},
        "passive_transfer",
    ),
    "analyze": (
        ["analyze", "{in}/data.csv", "--control", "HC"],
        {"data.csv": LAB_DATA},
        "lab_data_analysis",
    ),
    "power": (["power", "--n", "3", "--replicates", "20"], {}, "power"),
    "therapies": (
        ["therapies", "{in}/tpe.yaml", "--patients", "2"],
        {"tpe.yaml": PROTOCOL},
        "therapies",
    ),
    "trial": (["trial", "{in}/trial.yaml", "--no-power"], {"trial.yaml": TRIAL}, "trial"),
}
#: A refused run imports its study and report modules (seconds of CPU on a loaded machine)
#: before it opens the output folder.
TIMEOUT = 120.0
MANIFEST = {"fmsim_run_manifest": 1, "files": {}, "status": "complete", "fmsim_version": "0.1.0"}


def _output_cases(command: str, argv: list[str], inputs: dict, kind: str | None) -> list[Case]:
    other = "therapies" if kind != "therapies" else "trial"
    manifest = json.dumps(MANIFEST | {"kind": other})
    cases = [
        Case(
            f"{command}:output:--out is an existing file",
            [*argv, "--out", "{out}/report.html"],
            {**inputs, "out/report.html": "<p>my report</p>"},
            ["report.html: is an existing file"],
            names=["report.html"],
            timeout=TIMEOUT,
        ),
        Case(
            f"{command}:output:--out holds a user's measurements",
            [*argv, "--out", "{out}"],
            {**inputs, "out/measurements.csv": "mouse,value\nM1,1.0\n"},
            ["holds files fmsim did not write (measurements.csv)", "--overwrite"],
            names=["out"],
            timeout=TIMEOUT,
        ),
        Case(
            f"{command}:output:--out holds another kind of run",
            [*argv, "--out", "{out}"],
            {**inputs, "out/manifest.json": manifest},
            [f"holds a '{other}' run", "--overwrite"],
            names=["out"],
            timeout=TIMEOUT,
        ),
    ]
    if inputs:  # a run never writes next to its own inputs, not even with --overwrite
        for extra in ([], ["--overwrite"]):
            cases.append(
                Case(
                    f"{command}:output:--out is the input folder {' '.join(extra)}".strip(),
                    [*argv, "--out", "{in}", *extra],
                    inputs,
                    ["holds the input file"],
                    names=["in"],
                    timeout=TIMEOUT,
                )
            )
    return cases


CASES += [case for command, run in RUNS.items() for case in _output_cases(command, *run)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_option_or_output_folder_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
