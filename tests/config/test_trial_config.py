"""Trial configuration (fmsim.config.trial): valid designs, defaults, and one clear line per
mistake naming the field path (and the file when loaded from a file)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from fmsim.config import ConfigError
from fmsim.config.trial import TrialConfig, load_trial_config, parse_trial_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"

VALID = {
    "name": "small trial",
    "patients": 20,
    "duration_weeks": 8,
    "arms": [
        {"name": "placebo", "therapies": [{"type": "placebo"}]},
        {
            "name": "efgartigimod",
            "therapies": [
                {"type": "efgartigimod_iv", "dose": "10 mg/kg", "start": 0, "every": 7, "count": 4}
            ],
        },
    ],
    "control_arm": "placebo",
    "primary": {"outcome": "pain_nrs", "week": 8},
}
CROSSOVER = {
    "design": "crossover",
    "crossover": {
        "sequences": [
            {"name": "EP", "periods": ["efgartigimod", "placebo"]},
            {"name": "PE", "periods": ["placebo", "efgartigimod"]},
        ],
        "period_weeks": 4,
        "washout_weeks": 2,
    },
    "primary": {"outcome": "bpi_interference"},
}


def config(**changes) -> dict:
    data = copy.deepcopy(VALID)
    data.update(copy.deepcopy(changes))
    return data


def tpe_arm(days):
    return {"name": "tpe", "therapies": [{"type": "tpe", "plasma_volumes": 1.0, "days": days}]}


def error_of(data, origin="trial config") -> str:
    with pytest.raises(ConfigError) as info:
        parse_trial_config(data, origin)
    message = str(info.value)
    assert "Traceback" not in message and "pydantic" not in message.lower(), message
    return message


# ---------------------------------------------------------------- valid configurations


def test_small_parallel_config_and_defaults():
    trial = parse_trial_config(config())
    assert isinstance(trial, TrialConfig)
    assert trial.design == "parallel" and trial.total_weeks == 8
    assert trial.seed == 2021 and trial.crossover is None
    population = trial.population
    assert population.anti_sgc_positive_fraction == 0.37  # 68/184 sera, Seefried 2025
    assert population.enrichment == "none" and population.inclusion_minimum == 4.0
    assert trial.arm("placebo").is_placebo and not trial.arm("efgartigimod").is_placebo
    assert trial.primary.analysis == "ancova" and trial.secondary == []
    assert trial.power.replicates == 200 and trial.power.alpha == 0.05
    # an arm without therapies is placebo
    no_blocks = parse_trial_config(config(arms=[{"name": "a"}, {"name": "b"}], control_arm="a"))
    assert no_blocks.arm("b").is_placebo
    assert [b.type for b in no_blocks.arm("b").protocol().therapies] == ["placebo"]
    # round trip
    assert parse_trial_config(trial.model_dump()) == trial


def test_crossover_length_follows_from_its_periods():
    trial = parse_trial_config(config(**CROSSOVER))
    # 2 periods x 4 weeks + 1 washout x 2 weeks
    assert trial.total_weeks == 10
    assert trial.arm("efgartigimod").protocol(14.0).therapies[0].schedule() == [14, 21, 28, 35]


def test_example_trials_validate():
    paths = sorted(EXAMPLES.glob("*.yaml"))
    assert len(paths) >= 2
    trials = {p.stem: load_trial_config(p) for p in paths}
    roza = trials["rozanolixizumab_nct05643794"]
    assert roza.design == "crossover" and roza.patients == 63 and roza.total_weeks == 12
    assert roza.population.inclusion_outcome == "bpi_interference"
    efg = trials["efgartigimod_parallel"]
    assert efg.total_weeks == 12 and efg.primary.week == 12
    days = [d for b in efg.arm("efgartigimod").therapies for d in b.schedule()]
    assert days == [0, 7, 14, 21, 56, 63, 70, 77]


# ---------------------------------------------------------------- one line per mistake

BAD = [
    # (what is wrong, changes, field path, fragment of the reason)
    ("zero patients", {"patients": 0}, "patients: got 0", "greater than or equal to 1"),
    (
        "overlapping TPE sessions 1 h apart",
        {"arms": VALID["arms"] + [tpe_arm([0, 1 / 24])]},
        "arms.2.therapies",
        "overlaps the plasma_exchange session",
    ),
    (
        "dose in the wrong unit",
        {
            "arms": [
                VALID["arms"][0],
                {
                    "name": "efgartigimod",
                    "therapies": [{"type": "efgartigimod_iv", "dose": "10 mL", "days": [0]}],
                },
            ]
        },
        "arms.1.therapies.0.dose: got '10 mL'",
        "unknown dose unit 'mL'",
    ),
    (
        "unknown therapy type",
        {
            "arms": [
                VALID["arms"][0],
                {"name": "x", "therapies": [{"type": "efgartigimab", "dose": "1 g", "days": [0]}]},
            ]
        },
        "arms.1.therapies.0.type: got 'efgartigimab'",
        "'fcrn_inhibitor'",
    ),
    ("control arm not an arm", {"control_arm": "plcebo"}, "control_arm: got 'plcebo'", "arms"),
    (
        "crossover sequence with an unknown arm",
        {
            **CROSSOVER,
            "crossover": {
                **CROSSOVER["crossover"],
                "sequences": [
                    {"name": "EP", "periods": ["efgartigimod", "placebo"]},
                    {"name": "PE", "periods": ["placebo", "efgartigimd"]},
                ],
            },
        },
        "crossover.sequences.1.periods",
        "unknown arms ['efgartigimd']",
    ),
    (
        "primary endpoint after the end",
        {"primary": {"outcome": "pain_nrs", "week": 9}},
        "primary.week: got 9",
        "after the end of the trial (8 weeks)",
    ),
    (
        "secondary endpoint after the end of a crossover",
        {**CROSSOVER, "secondary": [{"outcome": "fiqr"}, {"outcome": "fiqr", "week": 11}]},
        "secondary.1.week: got 11",
        "after the end of the trial (10 weeks)",
    ),
    ("unknown top-level field", {"patiens": 30}, "patiens: got 30", "unknown field"),
    (
        "unknown nested field",
        {"population": {"enrichmnt": "anti_sgc_positive"}},
        "population.enrichmnt",
        "unknown field",
    ),
    (
        "unknown enrichment",
        {"population": {"enrichment": "positive"}},
        "population.enrichment: got 'positive'",
        "'anti_sgc_positive'",
    ),
    (
        "positive fraction above 1",
        {"population": {"anti_sgc_positive_fraction": 1.5}},
        "population.anti_sgc_positive_fraction: got 1.5",
        "less than or equal to 1",
    ),
    (
        "crossover design without crossover section",
        {"design": "crossover"},
        "crossover",
        "needs a 'crossover' section",
    ),
    (
        "an arm no crossover sequence uses",
        {**CROSSOVER, "arms": VALID["arms"] + [tpe_arm([0, 2])]},
        "arms.2.name: got 'tpe'",
        "no crossover sequence",
    ),
    ("duplicate arm names", {"arms": [VALID["arms"][0]] * 2}, "arms", "must be unique"),
    ("tiny power sample size", {"power": {"sample_sizes": [2, 40]}}, "power", "at least 4"),
    ("unknown outcome", {"primary": {"outcome": "pain"}}, "primary.outcome: got 'pain'", "'fiqr'"),
]


@pytest.mark.parametrize(
    ("changes", "field", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_config_is_one_line_naming_the_field(changes, field, reason):
    message = error_of(config(**changes))
    assert "\n" not in message, message
    assert message.startswith(f"trial config: {field}"), message
    assert reason in message, message


@pytest.mark.parametrize(
    ("changes", "field", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_config_file_names_the_file_and_field(tmp_path, changes, field, reason):
    path = tmp_path / "my_trial.yaml"
    path.write_text(yaml.safe_dump(config(**changes), sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load_trial_config(path)
    message = str(info.value)
    assert message.count("\n") == 0, message
    assert message.startswith(f"{path}: {field}"), message
    assert reason in message


def test_several_mistakes_give_one_line_each(tmp_path):
    data = config(patients=0, control_arm="nobody", primary={"outcome": "pain_nrs", "week": 99})
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_trial_config(path)
    lines = str(info.value).splitlines()
    # the field error stops validation before the cross-field checks
    assert lines == [f"{path}: patients: got 0: Input should be greater than or equal to 1"]
    data["patients"] = 20
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_trial_config(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: ") for line in lines)
    assert lines[0].startswith(f"{path}: control_arm: got 'nobody'")
    assert lines[1].startswith(f"{path}: primary.week: got 99")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name: x\narms: [\n  - a\n", "not valid YAML (line 3, column 3)"),
        (
            "- a\n- b\n",
            "expected a mapping of fields ('name: value' lines) at the top level, got a list",
        ),
        ("", "the file is empty"),
    ],
)
def test_unreadable_trial_file_is_one_line(tmp_path, text, reason):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_trial_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and reason in message


def test_missing_trial_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read file"):
        load_trial_config(tmp_path / "nope.yaml")


def test_questionnaire_endpoint_must_be_a_visit_week():
    data = {
        "patients": 30,
        "duration_weeks": 8,
        "questionnaire_weeks": [4, 8],
        "arms": [{"name": "placebo"}, {"name": "inert"}],
        "control_arm": "placebo",
        "primary": {"outcome": "fiqr", "week": 6},
    }
    with pytest.raises(ConfigError) as error:
        parse_trial_config(data)
    assert str(error.value) == (
        "trial config: primary.week: got 6: fiqr is only taken at questionnaire_weeks [4, 8]"
    )
    data["questionnaire_weeks"] = [4, 9]
    with pytest.raises(ConfigError, match="questionnaire_weeks"):
        parse_trial_config(data)
