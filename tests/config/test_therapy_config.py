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


def test_there_is_an_example_of_every_therapy_type():
    protocols = [load_protocol(p) for p in EXAMPLES]
    types = {b.type for p in protocols for b in p.therapies}
    assert types == {
        "plasma_exchange",
        "immunoadsorption",
        "ivig",
        "fcrn_inhibitor",
        "anti_cd20",
        "placebo",
    }
    drugs = {b.entry.name for p in protocols for b in p.therapies if b.type == "fcrn_inhibitor"}
    assert drugs >= {"efgartigimod", "rozanolixizumab", "nipocalimab"}


def test_legacy_types_read_as_library_blocks():
    """Protocols written for fmsim 0.1 (one type per drug) keep working."""
    legacy = parse_protocol(
        {
            "therapies": [
                {"type": "efgartigimod_sc", "dose": "1000 mg", "days": [0]},
                {"type": "rituximab", "dose": "375 mg/m2", "days": [1]},
                {"type": "tpe", "plasma_volumes": 1.0, "days": [2]},
                {"type": "immunoadsorption", "plasma_volumes": 2.5, "days": [4]},
            ]
        }
    )
    sc, rtx, tpe, ia = legacy.therapies
    assert (sc.type, sc.entry.name, sc.route_of()) == ("fcrn_inhibitor", "efgartigimod", "sc")
    assert (rtx.type, rtx.entry.name) == ("anti_cd20", "rituximab")
    assert (tpe.type, tpe.entry.name, tpe.replacement_fluid.name) == (
        "plasma_exchange",
        "plasma_exchange",
        "albumin",
    )
    assert ia.entry.name == "protein_a"


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
    assert periodic.fcrn_inhibitor().name == "efgartigimod"


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
    assert [b.type for b in protocol.therapies] == ["plasma_exchange", "anti_cd20"]
    assert protocol.anti_cd20().name == "rituximab"
    assert protocol.fcrn_inhibitor() is None


def test_doses_and_units():
    assert parse_therapy_dose("10 mg/kg") == (10.0, "mg/kg")
    assert parse_therapy_dose("2 g/kg") == (2000.0, "mg/kg")
    assert parse_therapy_dose("1000 mg") == (1000.0, "mg")
    assert parse_therapy_dose("375 mg/m2", allow_bsa=True) == (375.0, "mg/m2")
    with pytest.raises(ValueError, match="anti-CD20 antibodies only"):
        parse_therapy_dose("375 mg/m2")
    with pytest.raises(ValueError, match="unknown dose unit 'mL'"):
        parse_therapy_dose("10 mL")


# ---------------------------------------------------------------- one-line errors


@pytest.mark.parametrize(
    ("block", "fragments"),
    [
        (
            "type: plasmapheresis\n    days: [0]",
            ["therapies.0.type", "'plasmapheresis'", "'plasma_exchange'"],
        ),
        (
            "type: efgartigimod_iv\n    dose: 10 mL\n    days: [0]",
            ["therapies.0.dose", "'10 mL'", "unknown dose unit 'mL'"],
        ),
        (
            "type: nipocalimab\n    dose: 375 mg/m2\n    days: [0]",
            ["therapies.0.dose", "anti-CD20 antibodies only"],
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
        ("type: ivig\n    dose: 1 g/kg\n    days: [-1]", ["therapies.0.days", "between 0"]),
        ("type: ivig\n    dose: 1 g/kg", ["therapies.0", "needs a schedule"]),
        ("type: ivig\n    dose: 1 g/kg\n    days: [0]\n    count: 2", ["therapies.0", "not both"]),
        ("type: rituximab\n    days: [0]", ["therapies.0", "needs 'dose'"]),
        ("type: tpe\n    days: [0]", ["therapies.0", "needs either 'plasma_volumes'"]),
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
            ["therapies.0.infusion_hours", "i.v. administration only"],
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


# ---------------------------------------------------------------- library entries and bounds

DRUGS = Path(__file__).resolve().parents[2] / "examples" / "drugs"


def test_blocks_name_library_entries():
    protocol = parse_protocol(
        {
            "therapies": [
                {"type": "fcrn_inhibitor", "drug": "nipocalimab", "dose": "30 mg/kg", "days": [0]},
                {
                    "type": "immunoadsorption",
                    "column": "protein_a",
                    "volume": "2500 mL",
                    "days": [10, 12],
                },
                {
                    "type": "plasma_exchange",
                    "fluid": "fresh_frozen_plasma",
                    "volume": "3 L",
                    "days": [20],
                },
            ]
        }
    )
    nipo, ia, tpe = protocol.therapies
    assert (nipo.entry.name, nipo.route_of(), nipo.hours()) == ("nipocalimab", "iv", 0.5)
    assert (ia.entry.name, ia.volume_ml(), ia.hours()) == ("protein_a", 2500.0, 4.0)
    assert (tpe.replacement_fluid.name, tpe.volume_ml()) == ("fresh_frozen_plasma", 3000.0)
    assert protocol.group() == "combination"
    assert [e.name for e in protocol.entries()] == [
        "nipocalimab",
        "protein_a",
        "plasma_exchange",
        "fresh_frozen_plasma",
    ]


def test_a_protocol_names_its_own_drug_files(tmp_path):
    path = write(
        tmp_path,
        f"""
        name: user drug
        drugs: [{DRUGS}]
        therapies:
          - {{type: fcrn_inhibitor, drug: example_anti_fcrn, dose: 600 mg, days: [0, 7]}}
        """,
    )
    protocol = load_protocol(path)
    assert protocol.fcrn_inhibitor().name == "example_anti_fcrn"
    assert protocol.therapies[0].route_of() == "sc"  # the entry's default route
    relative = tmp_path / "sub"
    relative.mkdir()
    (relative / "mine.yaml").write_text((DRUGS / "example_anti_fcrn.yaml").read_text())
    path = write(
        tmp_path,
        """
        drugs: [sub/mine.yaml]
        therapies: [{type: fcrn_inhibitor, drug: example_anti_fcrn, dose: 1 mg, days: [0]}]
        """,
    )
    assert load_protocol(path).therapies[0].entry.name == "example_anti_fcrn"


def test_a_broken_drug_file_named_by_a_protocol_is_one_line(tmp_path):
    drug = tmp_path / "broken.yaml"
    drug.write_text((DRUGS / "example_anti_fcrn.yaml").read_text().replace("unit: kDa", "unit: Da"))
    path = write(
        tmp_path,
        """
        drugs: [broken.yaml]
        therapies: [{type: fcrn_inhibitor, drug: example_anti_fcrn, dose: 1 mg, days: [0]}]
        """,
    )
    message = error_of(path)
    assert_one_line(message, path, "drugs:", str(drug), "parameters.molecular_weight.unit")


BAD_BOUNDS = [
    (
        "unknown drug",
        "type: fcrn_inhibitor\n    drug: batoclimb\n    dose: 1 mg\n    days: [0]",
        ["therapies.0.drug", "'batoclimb'", "unknown fcrn_inhibitor entry", "--drugs"],
    ),
    (
        "drug of another class",
        "type: fcrn_inhibitor\n    drug: rituximab\n    dose: 1 mg\n    days: [0]",
        ["therapies.0.drug", "unknown fcrn_inhibitor entry 'rituximab'"],
    ),
    (
        "unknown column",
        "type: immunoadsorption\n    column: charcoal\n    plasma_volumes: 1\n    days: [0]",
        ["therapies.0.column", "'charcoal'"],
    ),
    (
        "unknown fluid",
        "type: plasma_exchange\n    fluid: saline\n    plasma_volumes: 1\n    days: [0]",
        ["therapies.0.fluid", "'saline'"],
    ),
    ("no drug", "type: anti_cd20\n    dose: 1 g\n    days: [0]", ["therapies.0", "needs 'drug'"]),
    (
        "route not offered",
        "type: fcrn_inhibitor\n    drug: nipocalimab\n    route: sc\n    dose: 1 mg\n    days: [0]",
        ["therapies.0.route", "not available for nipocalimab"],
    ),
    (
        "dose above the plausible maximum",
        "type: fcrn_inhibitor\n    drug: efgartigimod\n    dose: 100 mg/kg\n    days: [0]",
        ["therapies.0.dose", "plausible maximum", "50 mg/kg", "allow_high_dose"],
    ),
    (
        "infinite dose",
        "type: ivig\n    dose: 1e400 mg\n    days: [0]",
        ["therapies.0.dose", "too large"],
    ),
    ("NaN day", "type: ivig\n    dose: 1 g\n    days: [.nan]", ["therapies.0.days.0", "finite"]),
    (
        "infinite start",
        "type: ivig\n    dose: 1 g\n    start: .inf\n    count: 1",
        ["therapies.0.start", "finite"],
    ),
    (
        "day beyond ten years",
        "type: ivig\n    dose: 1 g\n    days: [4000]",
        ["therapies.0.days", "3650"],
    ),
    (
        "schedule beyond ten years",
        "type: ivig\n    dose: 1 g\n    start: 0\n    every: 3000\n    count: 3",
        ["therapies.0", "past day 3650"],
    ),
    (
        "zero volume",
        "type: immunoadsorption\n    volume: 0 mL\n    days: [0]",
        ["therapies.0.volume", "> 0"],
    ),
    (
        "huge volume",
        "type: immunoadsorption\n    volume: 40 L\n    days: [0]",
        ["therapies.0.volume", "15000 mL"],
    ),
    (
        "volume without unit",
        "type: plasma_exchange\n    volume: 2500\n    days: [0]",
        ["therapies.0.volume", "'2500 mL'"],
    ),
    (
        "volume and plasma volumes",
        "type: plasma_exchange\n    volume: 2 L\n    plasma_volumes: 1\n    days: [0]",
        ["therapies.0", "either 'plasma_volumes'"],
    ),
    (
        "column efficiency above 1",
        "type: immunoadsorption\n    plasma_volumes: 1\n    column_efficiency: 1.5\n    days: [0]",
        ["therapies.0.column_efficiency", "1"],
    ),
    (
        "column on a plasma exchange",
        "type: plasma_exchange\n    column: protein_a\n    plasma_volumes: 1\n    days: [0]",
        ["therapies.0", "['column']", "do not apply"],
    ),
    (
        "legacy type with a contradicting route",
        "type: efgartigimod_iv\n    route: sc\n    dose: 10 mg/kg\n    days: [0]",
        ["therapies.0", "means route 'iv'"],
    ),
]


@pytest.mark.parametrize(
    ("block", "fragments"), [b[1:] for b in BAD_BOUNDS], ids=[b[0] for b in BAD_BOUNDS]
)
def test_out_of_bounds_input_is_one_line_naming_the_field(tmp_path, block, fragments):
    path = write(tmp_path, f"therapies:\n  - {block}\n")
    assert_one_line(error_of(path), path, *fragments)


def test_a_high_dose_can_be_allowed_explicitly():
    block = {"type": "fcrn_inhibitor", "drug": "efgartigimod", "dose": "100 mg/kg", "days": [0]}
    protocol = parse_protocol({"therapies": [{**block, "allow_high_dose": True}]})
    assert protocol.therapies[0].dose_quantity() == (100.0, "mg/kg")


def test_one_drug_slot_per_class(tmp_path):
    path = write(
        tmp_path,
        """
        drugs: [DRUGS]
        therapies:
          - {type: fcrn_inhibitor, drug: example_anti_fcrn, dose: 1 mg, days: [0]}
          - {type: fcrn_inhibitor, drug: efgartigimod, dose: 1 mg/kg, days: [7]}
        """.replace("DRUGS", str(DRUGS)),
    )
    assert_one_line(error_of(path), path, "at most one FcRn inhibitor")
