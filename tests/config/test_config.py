"""Tests for fmsim.config: scenario YAML validated into PassiveTransferConfig, and ConfigError
messages (one line per problem: file, field, bad value, what was expected)."""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml

from fmsim.config import ConfigError, PassiveTransferConfig, default_config, load_config
from fmsim.config.quantities import parse_dose


def write(tmp_path, text, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def config_error(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "Traceback" not in message
    assert 'File "' not in message
    assert "pydantic" not in message.lower()  # no links to pydantic's error pages
    return message


def assert_one_line(message, path, *fragments):
    assert "\n" not in message, message
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---------------------------------------------------------------- valid configurations


def test_default_config_is_the_goebel_2021_design():
    config = default_config()
    assert isinstance(config, PassiveTransferConfig)
    assert config.dose_quantity() == (8.0, "mg")
    assert config.injection_days == [0.0, 1.0, 2.0, 3.0]
    assert config.test_days[0] == 0.0
    assert config.control_group in [g.name for g in config.groups]
    groups = {g.name: g for g in config.groups}
    # Goebel2021: IgG from 8 FMS and 6 healthy-control donors; saline and depleted-serum controls
    assert len(groups["FMS-IgG"].donors) == 8
    assert len(groups["HC-IgG"].donors) == 6
    assert all(d.anti_sgc_fraction == 0.0 for d in groups["HC-IgG"].donors)
    assert all(0.0 < d.anti_sgc_fraction < 1.0 for d in groups["FMS-IgG"].donors)
    assert groups["Saline"].material == "saline" and not groups["Saline"].donors
    for g in config.groups:
        per = g.mice_per_donor
        assert g.n_mice() == (per * len(g.donors) if per is not None else g.mice) >= 1
    # revalidates from its own dump
    assert PassiveTransferConfig(**config.model_dump()) == config


def test_default_config_round_trips_through_yaml(tmp_path):
    path = write(tmp_path, yaml.safe_dump(default_config().model_dump(), sort_keys=False))
    assert load_config(path) == default_config()


def test_example_scenario_loads(tmp_path):
    path = write(
        tmp_path,
        """
        name: Pilot
        seed: 7
        dose: 400 mg/kg
        injection_days: [0, 1]
        test_days: [0, 2, 7, 14]
        ienfd_days: [14]
        readouts: [paw_pressure_threshold, cold_response]
        control_group: HC
        disease_group: FMS
        groups:
          - name: FMS
            material: igg
            mice_per_donor: 2
            donors:
              - {id: D1, anti_sgc_fraction: 0.004}
              - {id: D2, anti_sgc_fraction: 0.006}
          - name: HC
            material: igg
            mice: 5
            donors: [{id: H1, anti_sgc_fraction: 0.0}]
          - name: Saline
            material: saline
            mice: 4
        parameters:
          ada_clearance_rate: 0.3
        """,
    )
    config = load_config(path)
    assert config.name == "Pilot"
    assert config.seed == 7
    assert config.dose_quantity() == (400.0, "mg/kg")
    assert config.injection_days == [0.0, 1.0]
    assert config.test_days == [0.0, 2.0, 7.0, 14.0]
    assert [g.n_mice() for g in config.groups] == [4, 5, 4]
    assert config.groups[0].donors[1].anti_sgc_fraction == 0.006
    assert config.parameters == {"ada_clearance_rate": 0.3}


def test_empty_file_is_an_error_not_the_defaults(tmp_path):
    with pytest.raises(ConfigError, match="is empty"):
        load_config(write(tmp_path, ""))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8 mg", (8.0, "mg")),
        ("0.5 g", (500.0, "mg")),
        ("250 ug", (0.25, "mg")),
        ("400 mg/kg", (400.0, "mg/kg")),
        ("1 g/kg", (1000.0, "mg/kg")),
        (" 1e1 mg ", (10.0, "mg")),
        ("0 mg", (0.0, "mg")),
    ],
)
def test_parse_dose(text, expected):
    value, unit = parse_dose(text)
    assert unit == expected[1]
    assert value == pytest.approx(expected[0], rel=1e-12)


# ---------------------------------------------------------------- errors


def test_unknown_top_level_field(tmp_path):
    path = write(tmp_path, "dose_mg: 8\n")
    message = config_error(path)
    assert_one_line(message, path, "dose_mg", "8", "unknown field")


def test_negative_dose(tmp_path):
    path = write(tmp_path, "dose: -8 mg\n")
    message = config_error(path)
    assert_one_line(message, path, ": dose", "-8 mg", "non-negative", "mg/kg")


def test_wrong_dose_unit(tmp_path):
    path = write(tmp_path, "dose: 8 ml\n")
    message = config_error(path)
    assert_one_line(message, path, ": dose", "8 ml", "'ml'", "mg", "mg/kg")


def test_dose_without_unit_asks_for_a_unit(tmp_path):
    path = write(tmp_path, "dose: 8\n")
    message = config_error(path)
    assert_one_line(message, path, ": dose", "8", "unit", "mg")


def test_dose_without_unit_is_rejected_on_one_line(tmp_path):
    path = write(tmp_path, "dose: 8\n")
    message = config_error(path)
    assert_one_line(message, path, ": dose", "got 8")


def test_unsorted_injection_days(tmp_path):
    path = write(tmp_path, "injection_days: [0, 2, 1, 3]\n")
    message = config_error(path)
    assert_one_line(message, path, "injection_days", "increasing order")


def test_unsorted_injection_days_shows_the_value(tmp_path):
    path = write(tmp_path, "injection_days: [0, 2, 1, 3]\n")
    message = config_error(path)
    assert re.search(r"\[0(\.0)?, 2(\.0)?, 1(\.0)?, 3(\.0)?\]", message), message


def test_test_days_must_start_at_zero(tmp_path):
    path = write(tmp_path, "test_days: [1, 2, 5]\n")
    message = config_error(path)
    assert_one_line(message, path, "test_days", "day 0")


def test_test_days_error_names_field_and_value(tmp_path):
    path = write(tmp_path, "test_days: [1, 2, 5]\n")
    message = config_error(path)
    assert message.startswith(f"{path}: test_days"), message
    assert re.search(r"\[1(\.0)?, 2(\.0)?, 5(\.0)?\]", message), message


def test_control_group_must_be_a_group(tmp_path):
    path = write(tmp_path, "control_group: Nope\n")
    message = config_error(path)
    assert_one_line(message, path, "control_group", "'Nope'", "HC-IgG", "Saline")


def test_saline_group_with_donors(tmp_path):
    path = write(
        tmp_path,
        """
        control_group: S
        groups:
          - name: S
            material: saline
            mice: 3
            donors: [{id: D1, anti_sgc_fraction: 0.1}]
        """,
    )
    message = config_error(path)
    assert_one_line(message, path, "groups.0", "saline", "no donors")


def test_igg_group_without_donors(tmp_path):
    path = write(
        tmp_path,
        """
        control_group: A
        groups:
          - {name: A, material: igg, mice: 3}
        """,
    )
    message = config_error(path)
    assert_one_line(message, path, "groups.0", "'igg'", "at least one donor")


def test_anti_sgc_fraction_above_one(tmp_path):
    path = write(
        tmp_path,
        """
        control_group: A
        groups:
          - name: A
            material: igg
            mice_per_donor: 2
            donors: [{id: D1, anti_sgc_fraction: 1.5}]
        """,
    )
    message = config_error(path)
    assert_one_line(
        message, path, "groups.0.donors.0.anti_sgc_fraction", "1.5", "less than or equal to 1"
    )


def test_each_problem_gets_its_own_line(tmp_path):
    path = write(tmp_path, "dose: 8 ml\nseed: -1\nbogus: 1\n")
    message = config_error(path)
    lines = message.splitlines()
    assert len(lines) == 3, message
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert any("dose" in line and "8 ml" in line for line in lines)
    assert any("seed" in line and "-1" in line for line in lines)
    assert any("bogus" in line and "unknown field" in line for line in lines)


def test_malformed_yaml(tmp_path):
    path = write(tmp_path, "dose: [8 mg\n  x: : :\n")
    message = config_error(path)
    assert_one_line(message, path, "not valid YAML")


def test_malformed_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "dose: [8 mg\n  x: : :\n")
    message = config_error(path)
    assert "\n" not in message
    assert re.search(r"line \d+", message), message


def test_top_level_list_is_rejected(tmp_path):
    path = write(tmp_path, "- dose: 8 mg\n")
    message = config_error(path)
    assert_one_line(message, path, "mapping")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    message = config_error(path)
    assert_one_line(message, path, "file not found")


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
