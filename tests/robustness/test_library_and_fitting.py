"""Bad inputs to the drug library (``fmsim drugs list/show``, ``fmsim therapies --agents /
--drugs``) and to fitting (``fmsim fit``, ``fmsim export petab``, ``fmsim sensitivity``): one
line naming the file and field (or the option), exit code 2, before any simulation, nothing
left in the output folder and the inputs byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.robustness.harness import FOLDER, Case, check_refused

EXAMPLE_DRUG = Path(__file__).resolve().parents[2] / "examples" / "drugs" / "example_anti_fcrn.yaml"
ENTRY = {"value": 1, "unit": "day", "source": "assumed", "cv": 0}


def drug_file(change: dict | None = None, path: tuple[str, ...] = (), remove: str = "") -> str:
    """The example user drug with ``change`` merged into the mapping at ``path`` (or the
    key ``remove`` removed there)."""
    data = yaml.safe_load(EXAMPLE_DRUG.read_text())
    target = data
    for key in path:
        target = target[key]
    if remove:
        del target[remove]
    target.update(change or {})
    return yaml.safe_dump(data, sort_keys=False)


def constant(field: str, value: object) -> str:
    """The example drug with one field of ``parameters.central_volume`` set to ``value``."""
    return drug_file({field: value}, ("parameters", "central_volume"))


#: (what, drug file text, fragments of the error)
BAD_DRUG_FILES = [
    ("empty file", "", ["the file is empty"]),
    ("syntax error", "name: [x\n", ["drug.yaml"]),
    ("a list", "- name: x\n", ["drug.yaml"]),
    ("unknown class", drug_file({"class": "antacid"}), ["class"]),
    ("no name", drug_file(remove="name"), ["name"]),
    ("unknown top-level field", drug_file({"colour": "blue"}), ["colour"]),
    ("negative volume", constant("value", -1), ["parameters.central_volume.value: got -1"]),
    ("NaN value", constant("value", float("nan")), ["parameters.central_volume.value"]),
    ("infinite value", constant("value", float("inf")), ["parameters.central_volume.value"]),
    ("value as text", constant("value", "big"), ["parameters.central_volume.value"]),
    ("no source", drug_file(path=("parameters", "central_volume"), remove="source"), ["source"]),
    ("no unit", drug_file(path=("parameters", "central_volume"), remove="unit"), ["unit"]),
    ("negative cv", constant("cv", -0.2), ["parameters.central_volume.cv"]),
    ("unknown constant", drug_file({"half_life": ENTRY}, ("parameters",)), ["half_life"]),
    ("missing constant", drug_file(path=("parameters",), remove="clearance"), ["clearance"]),
    (
        "bioavailability 5",
        drug_file({"bioavailability": {**ENTRY, "value": 5, "unit": "1"}}, ("routes", "sc")),
        ["routes.sc.bioavailability"],
    ),
    ("unknown route", drug_file({"default_route": "oral"}), ["default_route"]),
    ("duplicate key", EXAMPLE_DRUG.read_text() + "class: ivig\n", ["duplicate key 'class'"]),
    ("binary file", b"\x00\x01\x02\x89PNG", ["binary"]),
    ("a library name", drug_file({"name": "efgartigimod"}), ["efgartigimod"]),
]

DRUGS_COMMANDS = {
    "drugs list": ["drugs", "list", "--drugs", "{in}/drug.yaml"],
    "drugs show": ["drugs", "show", "example_anti_fcrn", "--drugs", "{in}/drug.yaml"],
    "therapies": [
        "therapies",
        "--agents",
        "example_anti_fcrn",
        "--drugs",
        "{in}/drug.yaml",
        "--patients",
        "2",
        "--days",
        "7",
        "--out",
        "{out}",
    ],
}
CASES = [
    Case(f"{command}:drug file:{what}", argv, {"drug.yaml": text}, expect, names=["drug.yaml"])
    for command, argv in DRUGS_COMMANDS.items()
    for what, text, expect in BAD_DRUG_FILES
]

THERAPIES = ["therapies", "--patients", "2", "--days", "7", "--out", "{out}"]
CASES += [
    Case(
        "drugs show:options:unknown entry",
        ["drugs", "show", "batoclimb"],
        {},
        ["'batoclimb'"],
        names=["batoclimb"],
    ),
    Case("drugs show:options:no entry named", ["drugs", "show"], {}, ["NAME"], names=["NAME"]),
    Case(
        "drugs list:options:missing --drugs file",
        ["drugs", "list", "--drugs", "{in}/no.yaml"],
        {},
        ["no.yaml"],
    ),
    Case(
        "drugs list:options:folder without drug files",
        ["drugs", "list", "--drugs", "{in}/d"],
        {"d": FOLDER},
        [],
        names=["d"],
    ),
    Case(
        "drugs list:options:unknown option",
        ["drugs", "list", "--drug", "x"],
        {},
        ["--drug"],
        names=["--drug"],
    ),
    Case(
        "therapies:agents:unknown entry",
        [*THERAPIES, "--agents", "efgartigimd"],
        {},
        ["--agents: unknown entry 'efgartigimd'"],
    ),
    Case(
        "therapies:agents:one agent twice",
        [*THERAPIES, "--agents", "nipocalimab,nipocalimab"],
        {},
        ["--agents", "nipocalimab"],
    ),
    Case(
        "therapies:agents:a replacement fluid",
        [*THERAPIES, "--agents", "albumin"],
        {},
        ["albumin"],
        names=["--agents", "albumin"],
    ),
    Case(
        "therapies:agents:user agent without its file",
        [*THERAPIES, "--agents", "example_anti_fcrn"],
        {},
        ["'example_anti_fcrn'"],
    ),
    Case(
        "therapies:agents:missing --drugs folder",
        [*THERAPIES, "--agents", "nipocalimab", "--drugs", "{in}/none"],
        {},
        ["none"],
    ),
    Case(
        "therapies:agents:protocol and agent with one name",
        [*THERAPIES, "{in}/p.yaml", "--agents", "nipocalimab"],
        {
            "p.yaml": "name: nipocalimab 30 mg/kg then 15 mg/kg every 2 weeks\n"
            "therapies: [{type: placebo}]\n"
        },
        ["name"],
        names=["p.yaml", "--agents"],
    ),
    Case(
        "therapies:protocol:unknown drug in a protocol",
        [*THERAPIES, "{in}/p.yaml"],
        {
            "p.yaml": "name: x\ntherapies:\n  - {type: fcrn_inhibitor, drug: aspirin, dose: 1 g, "
            "days: [0]}\n"
        },
        ["p.yaml", "aspirin"],
    ),
    Case(
        "therapies:protocol:protocol names a broken drug file",
        [*THERAPIES, "{in}/p.yaml"],
        {
            "p.yaml": "name: x\ndrugs: [drug.yaml]\ntherapies: [{type: placebo}]\n",
            "drug.yaml": constant("value", -1),
        },
        ["drug.yaml", "central_volume"],
    ),
    Case(
        "therapies:protocol:protocol drugs not a list",
        [*THERAPIES, "{in}/p.yaml"],
        {"p.yaml": "name: x\ndrugs: 3\ntherapies: [{type: placebo}]\n"},
        ["p.yaml: drugs"],
    ),
    Case(
        "therapies:protocol:dose above the entry's maximum",
        [*THERAPIES, "{in}/p.yaml"],
        {
            "p.yaml": "name: x\ntherapies:\n  - {type: fcrn_inhibitor, drug: nipocalimab, "
            "dose: 5000 mg, days: [0]}\n"
        },
        ["p.yaml", "allow_high_dose"],
    ),
]

#: The default design's groups and donors, two mice each, paw pressure on days 0 and 1.
LAB_DATA = "mouse,group,donor,day,test,value,unit\n" + "".join(
    f"{group}{donor}{m},{group},{donor},{day},paw_pressure_threshold,{150 - 10 * day + m},g\n"
    for group, donor in (("FMS-IgG", "FMS1"), ("HC-IgG", "HC1"))
    for m in range(2)
    for day in (0, 1)
)
FIT = {"estimate": ["sensitisation_occupancy50"], "starts": 2, "profile": False}


def fit_config(**changes) -> str:
    return yaml.safe_dump({k: v for k, v in (FIT | changes).items() if v is not None})


#: (what, fit YAML text, lab data text, fragments of the error)
BAD_FITS = [
    ("config", "empty config", "", LAB_DATA, ["fit.yaml", "the file is empty"]),
    ("config", "config syntax error", "estimate: [a\n", LAB_DATA, ["fit.yaml"]),
    ("config", "config a list", "- a\n", LAB_DATA, ["fit.yaml"]),
    ("config", "no estimate", fit_config(estimate=None), LAB_DATA, ["fit.yaml: estimate"]),
    ("config", "empty estimate", fit_config(estimate=[]), LAB_DATA, ["fit.yaml: estimate"]),
    (
        "config",
        "unknown parameter",
        fit_config(estimate=["tail_length"]),
        LAB_DATA,
        ["'tail_length' is not a parameter of the model"],
    ),
    (
        "config",
        "reversed bounds",
        fit_config(estimate=[{"name": "sensitisation_turnover", "lower": 2, "upper": 1}]),
        LAB_DATA,
        ["fit.yaml", "lower < upper"],
    ),
    (
        "config",
        "NaN bound",
        fit_config(estimate=[{"name": "sensitisation_turnover", "lower": float("nan")}]),
        LAB_DATA,
        ["fit.yaml", "estimate.0.lower"],
    ),
    ("config", "unknown level", fit_config(level="herd"), LAB_DATA, ["fit.yaml: level"]),
    ("config", "unknown method", fit_config(method="bayes"), LAB_DATA, ["fit.yaml: method"]),
    ("config", "zero starts", fit_config(starts=0), LAB_DATA, ["fit.yaml: starts"]),
    ("config", "a million starts", fit_config(starts=10**6), LAB_DATA, ["fit.yaml: starts"]),
    ("config", "negative seed", fit_config(seed=-1), LAB_DATA, ["fit.yaml: seed"]),
    ("config", "unknown optimizer", fit_config(optimizer="adam"), LAB_DATA, ["optimizer"]),
    ("config", "unknown field", fit_config(start=3), LAB_DATA, ["fit.yaml: start", "unknown"]),
    (
        "config",
        "unknown test",
        fit_config(tests=["tail_flick"]),
        LAB_DATA,
        ["tests: ['tail_flick'] are not observables"],
    ),
    (
        "config",
        "missing scenario file",
        fit_config(scenario="design.yaml"),
        LAB_DATA,
        ["design.yaml"],
    ),
    ("config", "duplicate key", fit_config() + "starts: 3\n", LAB_DATA, ["duplicate key"]),
    ("data", "empty data file", fit_config(), "", ["data.csv", "the file is empty"]),
    (
        "data",
        "data without value column",
        fit_config(),
        LAB_DATA.replace(",value,", ",reading,"),
        ["data.csv", "value"],
    ),
    (
        "data",
        "a group outside the design",
        fit_config(),
        LAB_DATA.replace("HC-IgG", "PBS"),
        ["data.csv", "PBS"],
    ),
    (
        "data",
        "rows with errors",
        fit_config(),
        LAB_DATA.replace(",g\n", ",kg\n", 1),
        ["row(s) with errors"],
    ),
    (
        "data",
        "one mouse per mean",
        fit_config(),
        "".join(line + "\n" for line in LAB_DATA.splitlines() if "FMS-IgGFMS11" not in line),
        ["data.csv", "at least 2 per mean"],
    ),
]
#: fit and export petab import pyPESTO and PEtab (seconds of CPU) before reading their input
FIT_TIMEOUT = 120.0
FIT_COMMANDS = {
    "fit": ["fit", "{in}/data.csv", "{in}/fit.yaml", "--out", "{out}"],
    "export petab": ["export", "petab", "{in}/data.csv", "{in}/fit.yaml", "{out}"],
}
CASES += [
    Case(
        f"{command}:{category}:{what}",
        argv,
        {"fit.yaml": config, "data.csv": data},
        expect,
        names=["fit.yaml", "data.csv", "design.yaml"],
        timeout=FIT_TIMEOUT,
    )
    for command, argv in FIT_COMMANDS.items()
    for category, what, config, data, expect in BAD_FITS
]
CASES += [
    Case(
        f"{command}:data:missing data file",
        [a.replace("data.csv", "none.csv") for a in argv],
        {"fit.yaml": fit_config()},
        ["none.csv"],
        timeout=FIT_TIMEOUT,
    )
    for command, argv in FIT_COMMANDS.items()
]
CASES += [
    Case(
        "export petab:config:derived parameter",
        FIT_COMMANDS["export petab"],
        {"fit.yaml": fit_config(estimate=["body_weight"]), "data.csv": LAB_DATA},
        ["'body_weight' sets derived constants"],
        names=["fit.yaml", "body_weight"],
        timeout=FIT_TIMEOUT,
    ),
    Case(
        "fit:options:processes (replaced by --workers)",
        [*FIT_COMMANDS["fit"], "--procs", "2"],
        {"fit.yaml": fit_config(), "data.csv": LAB_DATA},
        ["--procs"],
        timeout=FIT_TIMEOUT,
    ),
    Case(
        "fit:config:scheduler not an address",
        FIT_COMMANDS["fit"],
        {"fit.yaml": fit_config(scheduler="http://host:8786"), "data.csv": LAB_DATA},
        ["fit.yaml: scheduler"],
        timeout=FIT_TIMEOUT,
    ),
]
#: (what, options, fragments of the error): where the chunks of fit and sensitivity run
BAD_EXECUTION = [
    ("scheduler without scheme", ["--scheduler", "localhost:8786"], ["--scheduler", "tcp://"]),
    ("scheduler without port", ["--scheduler", "tcp://host"], ["--scheduler", "tcp://"]),
    ("zero workers", ["--workers", "0"], ["--workers"]),
    ("workers not a number", ["--workers", "two"], ["--workers"]),
    (
        "workers for a remote scheduler",
        ["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"],
        ["--workers", "applies to a local cluster"],
    ),
]
CASES += [
    Case(
        f"fit:options:{what}",
        [*FIT_COMMANDS["fit"], *options],
        {"fit.yaml": fit_config(), "data.csv": LAB_DATA},
        expect,
        timeout=FIT_TIMEOUT,
    )
    for what, options, expect in BAD_EXECUTION
]

SENSITIVITY = ["sensitivity", "--out", "{out}"]
#: (what, options, fragments of the error)
BAD_SENSITIVITY = [
    ("n not a power of 2", ["--n", "100"], ["--n", "got 100", "power of 2"]),
    ("n below 4", ["--n", "2"], ["--n", "2 is not in the range"]),
    ("n not a number", ["--n", "many"], ["--n"]),
    ("negative seed", ["--seed", "-1"], ["--seed"]),
    ("unknown option", ["--samples", "64"], ["--samples"]),
]
CASES += [
    Case(f"sensitivity:options:{what}", [*SENSITIVITY, *options], {}, expect)
    for what, options, expect in [*BAD_SENSITIVITY, *BAD_EXECUTION]
]


#: Known defects, each reported to the helper who owns the code (strict: the mark must go
#: when the defect is fixed).
KNOWN_DEFECTS: dict[str, str] = {}


def _marked(case: Case):
    reason = KNOWN_DEFECTS.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, marks=marks, id=case.id)


@pytest.mark.parametrize("case", [_marked(case) for case in CASES])
def test_bad_library_or_fit_input_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
