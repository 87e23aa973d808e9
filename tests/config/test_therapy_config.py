"""Tests for fmsim.config.therapy: therapy protocols in YAML, validated into TherapyProtocol, and
ConfigError messages (one line per problem: file, field, bad value, what was expected)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fmsim.config import ConfigError
from fmsim.config.therapy import (
    TherapyProtocol,
    load_protocol,
    parse_protocol,
    parse_therapy_dose,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "therapies").glob("*.yaml"))


def write(tmp_path, text, name="protocol.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_protocol(path)
    message = str(info.value)
    assert "Traceback" not in message and "pydantic" not in message.lower()
    return message


def assert_one_line(message, path, *fragments):
    assert "\n" not in message, message
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---------------------------------------------------------------- valid protocols


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_are_valid(path):
    protocol = load_protocol(path)
    assert isinstance(protocol, TherapyProtocol)
    assert protocol.therapies
    assert TherapyProtocol(**protocol.model_dump()) == protocol


def test_there_is_an_example_of_every_therapy():
    types = {b.type for p in EXAMPLES for b in load_protocol(p).therapies}
    assert types >= {
        "tpe",
        "immunoadsorption",
        "ivig",
        "efgartigimod_iv",
        "efgartigimod_sc",
        "rozanolixizumab",
        "nipocalimab",
        "rituximab",
        "placebo",
    }


def test_periodic_and_explicit_schedules_agree():
    periodic = parse_protocol(
        {
            "therapies": [
                {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 1, "every": 7, "count": 4}
            ]
        }
    )
    explicit = parse_protocol(
        {"therapies": [{"type": "efgartigimod_iv", "dose": "10 mg/kg", "days": [1, 8, 15, 22]}]}
    )
    assert periodic.therapies[0].schedule() == explicit.therapies[0].schedule() == [1, 8, 15, 22]
    assert periodic.last_day() == 22
    assert periodic.fcrn_inhibitor() == "efgartigimod"


def test_defaults_routes_and_lengths():
    protocol = parse_protocol(
        {
            "therapies": [
                {"type": "rozanolixizumab", "dose": "7 mg/kg", "days": [0]},
                {"type": "rozanolixizumab", "dose": "7 mg/kg", "days": [7], "route": "iv"},
                {"type": "tpe", "plasma_volumes": 1.5, "days": [20]},
                {"type": "placebo"},
            ]
        }
    )
    sc, iv, tpe, placebo = protocol.therapies
    assert (sc.route_of(), sc.hours()) == ("sc", None)
    assert iv.route_of() == "iv" and iv.hours() > 0
    assert tpe.hours() == 2.5 and tpe.route_of() is None
    assert placebo.schedule() == []


def test_combination_of_exchange_and_drugs_is_allowed():
    protocol = load_protocol(next(p for p in EXAMPLES if p.stem == "tpe_then_rituximab"))
    assert [b.type for b in protocol.therapies] == ["tpe", "rituximab"]
    assert protocol.fcrn_inhibitor() is None


def test_doses_and_units():
    assert parse_therapy_dose("10 mg/kg") == (10.0, "mg/kg")
    assert parse_therapy_dose("2 g/kg") == (2000.0, "mg/kg")
    assert parse_therapy_dose("1000 mg") == (1000.0, "mg")
    assert parse_therapy_dose("375 mg/m2", allow_bsa=True) == (375.0, "mg/m2")
    with pytest.raises(ValueError, match="rituximab only"):
        parse_therapy_dose("375 mg/m2")
    with pytest.raises(ValueError, match="unknown dose unit 'mL'"):
        parse_therapy_dose("10 mL")


# ---------------------------------------------------------------- one-line errors


@pytest.mark.parametrize(
    ("block", "fragments"),
    [
        ("type: plasmapheresis\n    days: [0]", ["therapies.0.type", "'plasmapheresis'", "'tpe'"]),
        (
            "type: efgartigimod_iv\n    dose: 10 mL\n    days: [0]",
            ["therapies.0.dose", "'10 mL'", "unknown dose unit 'mL'"],
        ),
        (
            "type: nipocalimab\n    dose: 375 mg/m2\n    days: [0]",
            ["therapies.0.dose", "rituximab only"],
        ),
        ("type: ivig\n    dose: 0 g/kg\n    days: [0]", ["therapies.0.dose", "positive"]),
        (
            "type: ivig\n    dose: 1 g/kg\n    start: 0\n    every: 7\n    count: 0",
            ["therapies.0.count", "got 0", "greater than or equal to 1"],
        ),
        (
            "type: ivig\n    dose: 1 g/kg\n    start: 0\n    every: 7\n    count: -2",
            ["therapies.0.count", "got -2"],
        ),
        (
            "type: ivig\n    dose: 1 g/kg\n    start: 0\n    every: 0\n    count: 3",
            ["therapies.0.every", "greater than 0"],
        ),
        (
            "type: ivig\n    dose: 1 g/kg\n    days: [0, 2, 1]",
            ["therapies.0.days", "strictly increasing"],
        ),
        ("type: ivig\n    dose: 1 g/kg\n    days: [-1]", ["therapies.0.days", ">= 0"]),
        ("type: ivig\n    dose: 1 g/kg", ["therapies.0", "needs a schedule"]),
        ("type: ivig\n    dose: 1 g/kg\n    days: [0]\n    count: 2", ["therapies.0", "not both"]),
        ("type: rituximab\n    days: [0]", ["therapies.0", "needs 'dose'"]),
        ("type: tpe\n    days: [0]", ["therapies.0", "needs 'plasma_volumes'"]),
        (
            "type: tpe\n    plasma_volumes: 1\n    dose: 1 g\n    days: [0]",
            ["therapies.0", "['dose']", "do not apply"],
        ),
        (
            "type: efgartigimod_sc\n    dose: 1000 mg\n    route: iv\n    days: [0]",
            ["therapies.0", "route 'iv'"],
        ),
        (
            "type: efgartigimod_sc\n    dose: 1000 mg\n    infusion_hours: 1\n    days: [0]",
            ["therapies.0", "['infusion_hours']"],
        ),
        (
            "type: tpe\n    plasma_volumes: 7\n    days: [0]",
            ["therapies.0.plasma_volumes", "less than or equal to 5"],
        ),
        (
            "type: efgartigimod_iv\n    dose: 10 mg/kg\n    max_dose: 20 mg/kg\n    days: [0]",
            ["therapies.0.max_dose", "'1200 mg'"],
        ),
        (
            "type: tpe\n    plasma_volumes: 1\n    days: [0]\n    frequency: 2",
            ["therapies.0.frequency", "unknown field"],
        ),
    ],
)
def test_bad_block_gives_one_line_naming_the_field(tmp_path, block, fragments):
    path = write(tmp_path, f"therapies:\n  - {block}\n")
    assert_one_line(error_of(path), path, *fragments)


def test_overlapping_sessions_are_rejected(tmp_path):
    # a 2.5 h plasma exchange on day 2 and an immunoadsorption 1 h later
    path = write(
        tmp_path,
        """
        therapies:
          - type: tpe
            plasma_volumes: 1.0
            days: [0, 2]
          - type: immunoadsorption
            plasma_volumes: 2.0
            days: [2.04]
        """,
    )
    assert_one_line(error_of(path), path, "therapies", "day 2", "overlaps", "immunoadsorption")


def test_sessions_of_one_block_must_not_overlap(tmp_path):
    path = write(
        tmp_path,
        """
        therapies:
          - type: immunoadsorption
            plasma_volumes: 2.0
            session_hours: 6
            start: 0
            every: 0.2
            count: 3
        """,
    )
    assert_one_line(error_of(path), path, "therapies", "overlaps")


def test_back_to_back_sessions_are_allowed():
    protocol = parse_protocol(
        {"therapies": [{"type": "tpe", "plasma_volumes": 1, "days": [0, 2.5 / 24]}]}
    )
    assert protocol.therapies[0].schedule() == [0, 2.5 / 24]


def test_two_fcrn_inhibitors_are_rejected(tmp_path):
    path = write(
        tmp_path,
        """
        therapies:
          - type: efgartigimod_iv
            dose: 10 mg/kg
            days: [0]
          - type: nipocalimab
            dose: 30 mg/kg
            days: [14]
        """,
    )
    assert_one_line(error_of(path), path, "therapies", "at most one FcRn inhibitor")


def test_several_problems_give_one_line_each(tmp_path):
    path = write(
        tmp_path,
        """
        therapies:
          - type: ivig
            dose: 2 mL
            days: [0]
          - type: tpe
            plasma_volumes: 0
            days: [0]
        """,
    )
    lines = error_of(path).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(str(path)) for line in lines)


def test_file_level_errors(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert_one_line(error_of(missing), missing, "file not found")
    broken = write(tmp_path, "therapies: [\n", name="broken.yaml")
    assert_one_line(error_of(broken), broken, "not valid YAML")
    empty = write(tmp_path, "", name="empty.yaml")
    assert_one_line(error_of(empty), empty, "is empty")
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_protocol(["tpe"])
