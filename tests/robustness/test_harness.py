"""The corpus harness fails cases that are not clean refusals (so the corpus can fail)."""

from __future__ import annotations

import pytest
from tests.robustness.harness import Case, check_refused, error_lines

ARGV = ["params", "--file", "{in}/p.yaml"]
PARAMS_FILE = (
    "species: test\n"
    "parameters:\n"
    "  k:\n    value: 1.0\n    unit: 1/day\n    source: assumed\n    cv: 0.0\n"
)


def test_a_successful_command_fails_the_case(tmp_path):
    case = Case("params:ok:valid file", ARGV, {"p.yaml": PARAMS_FILE})
    with pytest.raises(AssertionError, match="exit code 0"):
        check_refused(case, tmp_path)


def test_a_wrong_number_of_error_lines_fails_the_case(tmp_path):
    case = Case("params:structure:empty", ARGV, {"p.yaml": ""}, errors=2)
    with pytest.raises(AssertionError, match="1 error line"):
        check_refused(case, tmp_path)


def test_a_missing_fragment_fails_the_case(tmp_path):
    case = Case("params:structure:empty", ARGV, {"p.yaml": ""}, ["nope"])
    with pytest.raises(AssertionError, match="'nope' missing"):
        check_refused(case, tmp_path)


def test_an_error_not_naming_the_input_fails_the_case(tmp_path):
    case = Case(
        "params:structure:empty",
        ARGV,
        {"p.yaml": ""},
        names=["other.yaml"],
    )
    with pytest.raises(AssertionError, match="names none of"):
        check_refused(case, tmp_path)


def test_usage_errors_count_as_one_line():
    boxed = (
        "Usage: root power [OPTIONS]\nTry 'root power --help' for help.\n"
        "╭─ Error ─────╮\n│ Invalid value: expected numbers │\n╰─────────────╯\n"
    )
    plain = "Usage: fmsim power [OPTIONS]\nTry 'fmsim power --help' for help.\n\nError: Bad n\n"
    assert error_lines(boxed) == ["Invalid value: expected numbers"]
    assert error_lines(plain) == ["Bad n"]
    assert error_lines("error: a.yaml: x\na.yaml: y\n") == ["error: a.yaml: x", "a.yaml: y"]
