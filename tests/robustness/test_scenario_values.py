"""Scenario files with absurd, non-finite or inconsistent values, fed to ``simulate`` and to
``export sbml`` (both read passive-transfer scenarios): each mistake is one line naming the
file and the field, before any simulation."""

from __future__ import annotations

import pytest
import yaml
from tests.robustness.harness import Case, check_refused

COMMANDS = {
    "simulate": ["simulate", "{in}/scenario.yaml", "--out", "{out}"],
    "export sbml": ["export", "sbml", "{in}/scenario.yaml", "{out}/mouse.xml"],
}
NAN, INF = float("nan"), float("inf")


def scenario(**changes) -> str:
    """A small valid scenario with ``changes`` applied (a value None removes the field)."""
    base = {
        "name": "robustness",
        "dose": "8 mg",
        "injection_days": [0, 1],
        "test_days": [0, 1, 3],
        "ienfd_days": [3],
        "groups": [
            {"name": "FMS", "material": "igg", "donors": [_donor("F1", 0.005)], "mice": 2},
            {"name": "HC", "material": "igg", "donors": [_donor("H1", 0.0)], "mice": 2},
        ],
        "control_group": "HC",
        "disease_group": "FMS",
    }
    base.update(changes)
    return yaml.safe_dump({k: v for k, v in base.items() if v is not None}, sort_keys=False)


def _donor(name: str, fraction: float) -> dict:
    return {"id": name, "anti_sgc_fraction": fraction}


def _groups(**changes) -> list[dict]:
    group = {"name": "FMS", "material": "igg", "donors": [_donor("F1", 0.005)], "mice": 2}
    group.update(changes)
    group = {k: v for k, v in group.items() if v is not None}
    return [group, {"name": "HC", "material": "igg", "donors": [_donor("H1", 0.0)], "mice": 2}]


#: (category, what, scenario text, fragments of the error, number of mistakes)
BAD_SCENARIOS = [
    ("dose", "negative dose", scenario(dose="-8 mg"), ["dose: got '-8 mg'"], 1),
    ("dose", "dose without unit", scenario(dose=8), ["dose", "needs a unit"], 1),
    ("dose", "unknown dose unit", scenario(dose="8 kg"), ["unknown dose unit 'kg'"], 1),
    ("dose", "dose overflowing to inf", scenario(dose="1e999 mg"), ["too large"], 1),
    ("dose", "implausible per-mouse dose", scenario(dose="100 mg"), ["plausible range"], 1),
    ("dose", "implausible dose per kg", scenario(dose="3 g/kg"), ["plausible range"], 1),
    (
        "dose",
        "allowed but absurd dose",
        scenario(dose="5 g", allow_implausible_dose=True),
        ["10 times the largest plausible"],
        1,
    ),
    ("dose", "dose as a list", scenario(dose=[8, "mg"]), ["dose"], 1),
    ("days", "NaN injection day", scenario(injection_days=[0, NAN]), ["finite number"], 1),
    ("days", "infinite injection day", scenario(injection_days=[0, INF]), ["finite"], 1),
    ("days", "negative injection day", scenario(injection_days=[-1, 0]), [">= 0"], 1),
    ("days", "injection days out of order", scenario(injection_days=[1, 0]), ["order"], 1),
    ("days", "repeated injection day", scenario(injection_days=[0, 0]), ["repeat"], 1),
    ("days", "test day 1e5", scenario(test_days=[0, 1e5]), ["at most 365"], 1),
    ("days", "no baseline test", scenario(test_days=[1, 3]), ["baseline test on day 0"], 1),
    ("days", "NaN test day", scenario(test_days=[0, NAN]), ["test_days.1", "finite"], 1),
    ("days", "test days as text", scenario(test_days="0, 1, 3"), ["test_days"], 1),
    ("days", "IENFD day after a year", scenario(ienfd_days=[400]), ["ienfd_days"], 1),
    (
        "days",
        "too many test days",
        scenario(test_days=[k / 4 for k in range(1001)]),
        ["at most 1000 days"],
        1,
    ),
    (
        "days",
        "injection after the last test",
        scenario(injection_days=[0, 10]),
        ["before the last injection"],
        1,
    ),
    ("readouts", "unknown readout", scenario(readouts=["pain"]), ["unknown readout"], 1),
    (
        "readouts",
        "repeated readout",
        scenario(readouts=["grip_strength", "grip_strength"]),
        ["must not repeat"],
        1,
    ),
    ("groups", "no groups", scenario(groups=[]), ["groups"], 1),
    ("groups", "zero mice", scenario(groups=_groups(mice=0)), ["groups.0.mice"], 1),
    ("groups", "negative mice", scenario(groups=_groups(mice=-3)), ["groups.0.mice"], 1),
    ("groups", "fractional mice", scenario(groups=_groups(mice=1.5)), ["groups.0.mice"], 1),
    ("groups", "ten million mice", scenario(groups=_groups(mice=10**7)), ["groups.0.mice"], 1),
    (
        "groups",
        "more mice than memory",
        scenario(
            test_days=[0, 365],
            groups=_groups(mice=1_000_000)
            + [{"name": f"G{k}", "material": "saline", "mice": 1_000_000} for k in range(3)],
        ),
        ["groups", "of memory", "split the groups"],
        1,
    ),
    (
        "groups",
        "fraction above 1",
        scenario(groups=_groups(donors=[_donor("F1", 1.5)])),
        ["anti_sgc_fraction: got 1.5"],
        1,
    ),
    (
        "groups",
        "negative fraction",
        scenario(groups=_groups(donors=[_donor("F1", -0.1)])),
        ["anti_sgc_fraction"],
        1,
    ),
    (
        "groups",
        "NaN fraction",
        scenario(groups=_groups(donors=[_donor("F1", NAN)])),
        ["anti_sgc_fraction", "finite"],
        1,
    ),
    (
        "groups",
        "empty donor id",
        scenario(groups=_groups(donors=[_donor("", 0.005)])),
        ["donors.0.id"],
        1,
    ),
    (
        "groups",
        "saline group with donors",
        scenario(groups=_groups(material="saline")),
        ["saline group has no donors"],
        1,
    ),
    (
        "groups",
        "mice and mice_per_donor",
        scenario(groups=_groups(mice_per_donor=2)),
        ["exactly one of"],
        1,
    ),
    ("groups", "unknown material", scenario(groups=_groups(material="serum")), ["material"], 1),
    (
        "groups",
        "duplicate group names",
        scenario(groups=_groups(name="HC")),
        ["must be unique"],
        1,
    ),
    ("groups", "unknown control group", scenario(control_group="PBS"), ["control_group"], 1),
    (
        "groups",
        "disease group is the control",
        scenario(disease_group="HC"),
        ["disease_group", "must differ from the control"],
        1,
    ),
    (
        "parameters",
        "misspelt parameter",
        scenario(parameters={"sgc_kdd": 0.1}),
        ["parameters.sgc_kdd", "did you mean 'sgc_kd'"],
        1,
    ),
    (
        "parameters",
        "NaN parameter",
        scenario(parameters={"sgc_kd": NAN}),
        ["parameters.sgc_kd", "finite"],
        1,
    ),
    (
        "parameters",
        "negative body weight",
        scenario(parameters={"body_weight": -20}),
        ["parameters.body_weight", "[5, 100] g"],
        1,
    ),
    (
        "parameters",
        "bioavailability 5",
        scenario(parameters={"ip_bioavailability": 5}),
        ["parameters.ip_bioavailability", "(0, 1]"],
        1,
    ),
    (
        "parameters",
        "zero plasma volume",
        scenario(parameters={"plasma_volume_per_kg": 0}),
        ["parameters.plasma_volume_per_kg"],
        1,
    ),
    (
        "parameters",
        "stiff rate 1e12",
        scenario(parameters={"ip_absorption_rate": 1e12}),
        ["parameters.ip_absorption_rate", "(0, 1000] 1/day"],
        1,
    ),
    (
        "parameters",
        "parameter as text",
        scenario(parameters={"sgc_kd": "small"}),
        ["parameters.sgc_kd"],
        1,
    ),
    ("parameters", "parameters as a list", scenario(parameters=[1, 2]), ["parameters"], 1),
    ("fields", "negative seed", scenario(seed=-1), ["seed"], 1),
    ("fields", "fractional seed", scenario(seed=1.5), ["seed"], 1),
    ("fields", "very long name", scenario(name="x" * 300), ["name"], 1),
    ("fields", "unknown field", scenario(dose_mg=8), ["dose_mg", "unknown field"], 1),
    (
        "several",
        "two mistakes, two lines",
        scenario(dose="-8 mg", dose_mg=8),
        ["dose: got '-8 mg'", "dose_mg"],
        2,
    ),
    (
        "several",
        "three parameter mistakes",
        scenario(parameters={"sgc_kdd": 1, "body_weight": 0, "sgc_kd": INF}),
        ["sgc_kdd", "body_weight", "sgc_kd"],
        3,
    ),
]

CASES = [
    Case(f"{command}:{category}:{what}", argv, {"scenario.yaml": text}, expect, errors)
    for command, argv in COMMANDS.items()
    for category, what, text, expect, errors in BAD_SCENARIOS
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_scenario_value_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)


EXPORT = ["export", "sbml", "{in}/scenario.yaml", "{out}/mouse.xml"]
OPTION_CASES = [
    Case(
        "export sbml:options:subject 0",
        [*EXPORT, "--subject", "0"],
        {"scenario.yaml": scenario()},
        ["--subject 0"],
    ),
    Case(
        "export sbml:options:subject beyond the group",
        [*EXPORT, "--subject", "99"],
        {"scenario.yaml": scenario()},
        ["--subject 99", "mice 1 to 2"],
    ),
    Case(
        "export sbml:options:unknown group",
        [*EXPORT, "--group", "PBS"],
        {"scenario.yaml": scenario()},
        ["--group 'PBS'"],
    ),
]


@pytest.mark.parametrize("case", OPTION_CASES, ids=str)
def test_bad_export_option_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
