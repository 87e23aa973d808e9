"""Trial files with absurd, non-finite or inconsistent values, fed to ``fmsim trial``; and its
``--replicates`` option. Each mistake is one line naming the file and the field, before any
simulation."""

from __future__ import annotations

import copy

import pytest
import yaml
from tests.robustness.harness import Case, check_refused

ARGV = ["trial", "{in}/trial.yaml", "--out", "{out}", "--no-power"]
NAN, INF = float("nan"), float("inf")
EFGARTIGIMOD = {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 4}
BASE = {
    "name": "robustness trial",
    "patients": 40,
    "duration_weeks": 12,
    "arms": [
        {"name": "placebo", "therapies": [{"type": "placebo"}]},
        {"name": "efgartigimod", "therapies": [EFGARTIGIMOD]},
    ],
    "control_arm": "placebo",
    "primary": {"outcome": "pain_nrs", "week": 12, "analysis": "ancova"},
    "power": {"sample_sizes": [20, 40], "replicates": 10},
}
CROSSOVER = {
    "design": "crossover",
    "crossover": {
        "sequences": [
            {"name": "AB", "periods": ["efgartigimod", "placebo"]},
            {"name": "BA", "periods": ["placebo", "efgartigimod"]},
        ],
        "period_weeks": 6,
        "washout_weeks": 2,
    },
    "primary": {"outcome": "pain_nrs", "analysis": "ancova"},
}


def trial(*, arm_therapy: dict | None = None, **changes) -> str:
    """The small valid trial with top-level ``changes`` (dotted keys reach into sections) and,
    if given, ``arm_therapy`` as the treatment arm's only therapy block."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        target, *path = key.split("__")
        if path:
            data.setdefault(target, {})[path[0]] = value
        else:
            data[target] = value
    if arm_therapy is not None:
        data["arms"][1]["therapies"] = [{**EFGARTIGIMOD, **arm_therapy}]
    return yaml.safe_dump(data, sort_keys=False)


def crossover(**changes) -> str:
    data = {**copy.deepcopy(BASE), **copy.deepcopy(CROSSOVER)}
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


#: (category, what, trial text, fragments of the error, number of mistakes)
BAD_TRIALS = [
    ("size", "3 patients", trial(patients=3), ["patients: got 3", "at least 4 patients"], 1),
    ("size", "1 patient", trial(patients=1), ["too few to analyse"], 1),
    ("size", "0 patients", trial(patients=0), ["patients"], 1),
    ("size", "ten million patients", trial(patients=10**7), ["patients"], 1),
    ("size", "NaN patients", trial(patients=NAN), ["patients"], 1),
    (
        "size",
        "unequal allocation needs more patients",
        trial(
            patients=8,
            arms=[
                {"name": "placebo", "therapies": [{"type": "placebo"}], "allocation": 1},
                {"name": "efgartigimod", "therapies": [EFGARTIGIMOD], "allocation": 4},
            ],
        ),
        ["at least 10 patients"],
        1,
    ),
    ("size", "crossover with 3 patients", crossover(patients=3), ["every sequence"], 1),
    (
        "size",
        "a million patients for ten years",
        trial(patients=1_000_000, duration_weeks=520),
        ["patients", "of memory"],
        1,
    ),
    (
        "size",
        "power chunk beyond memory",
        trial(power={"sample_sizes": [1_000_000], "replicates": 100_000}),
        ["power chunk", "of memory"],
        1,
    ),
    ("size", "power sample size 3", trial(power={"sample_sizes": [3, 40]}), ["sample_sizes.0"], 1),
    ("size", "too few replicates", trial(power={"replicates": 5}), ["power.replicates"], 1),
    ("size", "zero weeks", trial(duration_weeks=0), ["duration_weeks"], 1),
    ("size", "twenty years", trial(duration_weeks=1040), ["duration_weeks"], 1),
    (
        "schedule",
        "therapy starting after the trial",
        trial(arm_therapy={"start": 100}),
        ["arms.1.therapies.0", "after the end of the trial (day 84)"],
        1,
    ),
    (
        "schedule",
        "therapy days all after the trial",
        trial(arm_therapy={"start": None, "every": None, "count": None, "days": [90, 200]}),
        ["starts on day 90"],
        1,
    ),
    ("schedule", "every .inf", trial(arm_therapy={"every": INF}), ["every", "finite"], 1),
    ("schedule", "every NaN", trial(arm_therapy={"every": NAN}), ["every", "finite"], 1),
    ("schedule", "every 0", trial(arm_therapy={"every": 0}), ["every"], 1),
    ("schedule", "negative start", trial(arm_therapy={"start": -1}), ["start"], 1),
    ("schedule", "NaN start", trial(arm_therapy={"start": NAN}), ["start", "finite"], 1),
    ("schedule", "negative dose", trial(arm_therapy={"dose": "-10 mg/kg"}), ["dose"], 1),
    ("schedule", "overflowing dose", trial(arm_therapy={"dose": "1e999 mg"}), ["too large"], 1),
    (
        "schedule",
        "crossover therapy after its period",
        crossover(
            arms=[
                {"name": "placebo", "therapies": [{"type": "placebo"}]},
                {"name": "efgartigimod", "therapies": [{**EFGARTIGIMOD, "start": 50}]},
            ]
        ),
        ["after the end of the period (day 42)"],
        1,
    ),
    ("arms", "one arm", trial(arms=[BASE["arms"][0]]), ["arms"], 1),
    ("arms", "unknown control arm", trial(control_arm="nobody"), ["control_arm"], 1),
    (
        "arms",
        "duplicate arm names",
        trial(arms=[BASE["arms"][0], {**BASE["arms"][0], "therapies": [EFGARTIGIMOD]}]),
        ["must be unique"],
        1,
    ),
    (
        "arms",
        "zero allocation",
        trial(arms=[{**BASE["arms"][0], "allocation": 0}, BASE["arms"][1]]),
        ["allocation"],
        1,
    ),
    (
        "arms",
        "infinite allocation",
        trial(arms=[{**BASE["arms"][0], "allocation": INF}, BASE["arms"][1]]),
        ["allocation", "finite"],
        1,
    ),
    ("arms", "unknown therapy type", trial(arm_therapy={"type": "plasmapheresis"}), ["type"], 1),
    ("design", "crossover without its section", trial(design="crossover"), ["crossover"], 1),
    (
        "design",
        "zero-week periods",
        crossover(crossover={**CROSSOVER["crossover"], "period_weeks": 0}),
        ["period_weeks"],
        1,
    ),
    ("endpoints", "endpoint after the trial", trial(primary__week=99), ["primary.week"], 1),
    ("endpoints", "unknown outcome", trial(primary__outcome="mood"), ["primary.outcome"], 1),
    ("endpoints", "responder threshold 1.5", trial(responder_thresholds=[1.5]), ["responder"], 1),
    ("endpoints", "questionnaire week 0", trial(questionnaire_weeks=[0]), ["questionnaire"], 1),
    ("population", "dropout 100 % a week", trial(dropout_per_week=1.0), ["dropout_per_week"], 1),
    ("population", "NaN dropout", trial(dropout_per_week=NAN), ["dropout_per_week"], 1),
    (
        "population",
        "positive fraction 2",
        trial(population__anti_sgc_positive_fraction=2),
        ["population.anti_sgc_positive_fraction"],
        1,
    ),
    ("fields", "negative seed", trial(seed=-5), ["seed"], 1),
    ("fields", "unknown field", trial(patient=40), ["patient", "unknown field"], 1),
    (
        "several",
        "three mistakes",
        trial(patients=3, control_arm="nobody", primary__week=99),
        ["patients", "control_arm", "primary.week"],
        3,
    ),
]

CASES = [
    Case(f"trial:{category}:{what}", ARGV, {"trial.yaml": text}, expect, errors)
    for category, what, text, expect, errors in BAD_TRIALS
]
CASES += [
    Case(
        "trial:options:replicates beyond memory",
        ["trial", "{in}/trial.yaml", "--out", "{out}", "--replicates", "100000"],
        {"trial.yaml": trial()},
        ["--replicates", "power.replicates", "power chunk", "of memory"],
    ),
    Case(
        "trial:options:replicates below 10",
        ["trial", "{in}/trial.yaml", "--out", "{out}", "--replicates", "3"],
        {"trial.yaml": trial()},
        ["--replicates"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_trial_is_refused_in_one_line(case, tmp_path):
    check_refused(case, tmp_path)
