"""Bad parameter files (``fmsim params --file``), bad ``fmsim power`` options and bad
``fmsim therapies`` options: one line naming the file and entry, or the option, exit code 2,
before any simulation."""

from __future__ import annotations

import pytest
import yaml
from tests.robustness.harness import Case, check_refused

ENTRY = {"value": 1.0, "unit": "1/day", "source": "assumed", "cv": 0.1}


def parameter_file(entry_changes: dict | None = None, **changes) -> str:
    entry = {**ENTRY, **(entry_changes or {})}
    data = {"species": "test", "parameters": {"k_out": {k: v for k, v in entry.items()}}}
    data.update(changes)
    data["parameters"] = (
        {
            name: {k: v for k, v in e.items() if v is not None} if isinstance(e, dict) else e
            for name, e in data["parameters"].items()
        }
        if isinstance(data["parameters"], dict)
        else data["parameters"]
    )
    return yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)


#: (what, file text, fragments of the error, number of mistakes)
BAD_PARAMETER_FILES = [
    ("no species", parameter_file(species=None), ["species"], 1),
    ("no parameters", parameter_file(parameters=None), ["parameters"], 1),
    ("empty parameters", parameter_file(parameters={}), ["parameters"], 1),
    ("parameters as a list", parameter_file(parameters=[1, 2]), ["parameters"], 1),
    ("entry without unit", parameter_file({"unit": None}), ["parameters.k_out.unit"], 1),
    ("entry without source", parameter_file({"source": None}), ["k_out.source"], 1),
    ("value as text", parameter_file({"value": "fast"}), ["parameters.k_out.value"], 1),
    ("NaN value", parameter_file({"value": float("nan")}), ["k_out.value", "finite"], 1),
    ("negative cv", parameter_file({"cv": -1}), ["parameters.k_out.cv"], 1),
    ("reversed range", parameter_file({"range": "[1, 0]"}), ["lower bound must be below"], 1),
    ("range not an interval", parameter_file({"range": "0 to 1"}), ["not an interval"], 1),
    ("value outside its range", parameter_file({"range": "(0, 0.5]"}), ["outside its range"], 1),
    ("unknown entry field", parameter_file({"units": "1/day"}), ["k_out.units", "unknown"], 1),
    (
        "readout with zero baseline",
        parameter_file(
            readouts={
                "grip": {
                    "label": "grip",
                    "unit": "g",
                    "baseline": 0,
                    "max_change": -0.2,
                    "animal_cv": 0.1,
                    "measurement_cv": 0.1,
                    "source": "assumed",
                }
            }
        ),
        ["readouts.grip.baseline"],
        1,
    ),
    (
        "two bad entries",
        parameter_file(parameters={"a": {**ENTRY, "cv": -1}, "b": {**ENTRY, "value": "x"}}),
        ["parameters.a.cv", "parameters.b.value"],
        2,
    ),
]

CASES = [
    Case(f"params:file:{what}", ["params", "--file", "{in}/p.yaml"], {"p.yaml": text}, expect, n)
    for what, text, expect, n in BAD_PARAMETER_FILES
]

POWER = ["power", "--replicates", "20", "--out", "{out}"]
#: (what, options, fragments of the error)
BAD_POWER_OPTIONS = [
    ("zero mice", ["--n", "0,4"], ["--n", "got 0", "from 2"]),
    ("one mouse", ["--n", "1"], ["--n", "got 1"]),
    ("mice not a number", ["--n", "four"], ["--n", "got 'four'"]),
    ("fractional mice", ["--n", "2.5"], ["--n"]),
    ("no mice at all", ["--n", ","], ["--n", "at least 1 value"]),
    ("titre 2", ["--titre", "0.003,2"], ["--titre", "got 2"]),
    ("negative titre", ["--titre", "-0.1"], ["--titre"]),
    ("NaN titre", ["--titre", "nan"], ["--titre", "got nan"]),
    ("negative dose", ["--dose", "-8 mg"], ["--dose: got '-8 mg'"]),
    ("dose without unit", ["--dose", "8"], ["--dose", "needs a unit"]),
    ("implausible dose", ["--dose", "100 mg"], ["--dose", "plausible range"]),
    ("unknown endpoint", ["--endpoint", "pain"], ["--endpoint", "unknown readout"]),
    ("no baseline day", ["--test-days", "1,2"], ["--test-days", "baseline"]),
    ("NaN test day", ["--test-days", "0,nan"], ["--test-days", "got nan"]),
    ("test day after a year", ["--test-days", "0,400"], ["--test-days", "0 to 365"]),
    ("unsorted test days", ["--test-days", "0,3,1"], ["--test-days", "increasing"]),
    ("too many replicates", ["--n", "3", "--replicates", "10000000"], ["--replicates"]),
    ("target above 1", ["--target", "2"], ["--target"]),
    ("NaN target", ["--target", "nan"], ["--target", "finite"]),
    ("replicates below 20", ["--replicates", "5"], ["--replicates"]),
]
CASES += [
    Case(f"power:options:{what}", [*POWER, *options], {}, expect)
    for what, options, expect in BAD_POWER_OPTIONS
]

THERAPIES = ["therapies", "--out", "{out}"]
#: (what, options, fragments of the error)
BAD_THERAPIES_OPTIONS = [
    ("zero patients", ["--patients", "0"], ["--patients"]),
    ("half a day", ["--days", "0.5"], ["--days"]),
    ("NaN days", ["--days", "nan"], ["--days", "finite"]),
    ("infinite days", ["--days", "inf"], ["--days", "inf"]),
    ("a million years", ["--days", "365000000"], ["--days", "3650"]),
    ("a hundred million patients", ["--patients", "100000000"], ["--patients", "100000"]),
]
CASES += [
    Case(f"therapies:options:{what}", [*THERAPIES, *options], {}, expect)
    for what, options, expect in BAD_THERAPIES_OPTIONS
]
CASES.append(
    Case(
        "therapies:protocols:two protocols with one name",
        [*THERAPIES, "{in}/a.yaml", "{in}/b.yaml"],
        {
            "a.yaml": "name: same\ntherapies: [{type: placebo}]\n",
            "b.yaml": "name: same\ntherapies: [{type: placebo}]\n",
        },
        ["b.yaml: name: 'same'", "a.yaml"],
    )
)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_option_or_parameter_file_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
