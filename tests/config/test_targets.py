"""Tests for fmsim.config.targets: target files (fmsim's own, package data, and users') validate
through the protocol schema; mistakes are one line naming the file and field."""

from __future__ import annotations

import textwrap

import pytest

from fmsim.config import ConfigError
from fmsim.config.targets import load_targets
from fmsim.experiments.reference import data_path

VALID = """
protocols:
  one_tpe:
    name: one TPE
    therapies: [{type: plasma_exchange, plasma_volumes: 1.0, days: [0]}]
targets:
  - id: tpe_after
    group: plasma_exchange
    agents: [plasma_exchange]
    course: single
    regimen: one TPE of 1 PV
    protocol: one_tpe
    days: 3
    metric: {kind: remaining, day: 0, after_session: true}
    published: [25, 33.3]
    statement: one-third to one-fourth remains
    accept: [20, 40]
    tolerance: 20-40%
    citation: Hanafusa 2014
"""


def write(tmp_path, text):
    path = tmp_path / "targets.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_targets_validate():
    targets = load_targets(data_path("validation_targets.yaml"))
    assert len(targets.targets) >= 36
    assert {t.group for t in targets.targets} >= {"fcrn_inhibitor", "plasma_exchange", "ivig"}


def test_a_user_target_file_validates(tmp_path):
    targets = load_targets(write(tmp_path, VALID))
    assert targets.targets[0].expected == "PASS"
    assert targets.protocols["one_tpe"].therapies[0].entry.name == "plasma_exchange"


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ("protocol: one_tpe", "protocol: two_tpe", ["no protocol 'two_tpe'"]),
        ("accept: [20, 40]", "accept: [40, 20]", ["lower bound 40"]),
        ("accept: [20, 40]", "accept: [null, null]", ["at least one bound"]),
        ("group: plasma_exchange", "group: apheresis", ["not a library class"]),
        ("kind: remaining, day: 0", "kind: remaining", ["targets.0.metric", "'day' is needed"]),
        ("days: 3", "days: .inf", ["targets.0.days"]),
        ("plasma_volumes: 1.0", "plasma_volumes: -1", ["protocols.one_tpe", "plasma_volumes"]),
    ],
)
def test_mistakes_are_one_line(tmp_path, old, new, fragments):
    path = write(tmp_path, VALID.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_targets(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
