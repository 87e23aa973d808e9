"""``fmsim trial``: report and tables of a small virtual trial, ``--no-power``, resumable power
chunks, and user mistakes (exit code 2, one line on stderr, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"
TABLES = (
    "patients",
    "visits",
    "courses",
    "adsl",
    "adeff",
    "effects",
    "responders",
    "power",
    "required_sample_size",
    "power_by_positive_share",
)
SMALL_TRIAL = """\
name: cli test trial
seed: 9
patients: 20
duration_weeks: 6
arms:
  - {name: placebo}
  - name: efgartigimod
    therapies: [{type: efgartigimod_iv, dose: 10 mg/kg, start: 0, every: 7, count: 6}]
control_arm: placebo
primary: {outcome: pain_nrs, week: 6}
secondary: [{outcome: fiqr, week: 6}]
power: {sample_sizes: [10, 20], positive_fractions: [0.37, 1.0], replicates: 500}
"""


def write_config(folder: Path, text: str = SMALL_TRIAL, name: str = "small_trial.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def chunk_state(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((folder / "chunks").glob("*.parquet"))}


def test_trial_writes_report_tables_and_resumes_power_chunks(tmp_path):
    config = write_config(tmp_path)
    out = tmp_path / "out"
    args = ["trial", str(config), "--out", str(out), "--replicates", "10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "power: 6 chunks of 10 replicate trials" in result.stdout

    html = (out / "report.html").read_text()
    assert "simulations" in html and "not clinical evidence" in html
    assert "Power and enrichment" in html and "Power was not run" not in html
    assert "Power against the share of anti-SGC-positive patients" in html
    assert "10 replicate trials per sample size" in html
    findings = html[html.index("Main findings") : html.index("<h2>Design")]
    primary = pd.read_csv(out / "effects.csv").iloc[0]
    assert f"95% CI {primary['ci_low']:.3g} to {primary['ci_high']:.3g}" in findings
    assert 'id="figure-power"' in html and (out / "power.svg").is_file()
    for stem in TABLES:
        assert (out / f"{stem}.parquet").is_file() and (out / f"{stem}.csv").is_file(), stem

    assert len(pd.read_parquet(out / "adsl.parquet")) == 20  # ADaM-like, one row per patient
    patients = pd.read_parquet(out / "patients.parquet")
    assert len(patients) == 20 and patients["group"].value_counts().to_dict() == {
        "placebo": 10,
        "efgartigimod": 10,
    }
    effects = pd.read_parquet(out / "effects.parquet")
    assert effects[["role", "outcome"]].values.tolist() == [
        ["primary", "pain_nrs"],
        ["secondary", "fiqr"],
    ]
    assert f"{effects['estimate'][0]:+.2f}" in result.stdout
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "effects.csv"), effects, check_dtype=False, check_exact=False
    )
    power = pd.read_parquet(out / "power.parquet")
    assert len(power) == 4 and set(power["patients"]) == {10, 20}
    assert (power["replicates"] == 10).all()
    assert set(power["population"]) == {"all comers (as configured)", "anti-SGC positive only"}
    shares = pd.read_parquet(out / "power_by_positive_share.parquet")
    assert shares["positive_fraction"].tolist() == [0.37, 1.0]
    assert (shares["patients"] == 20).all()
    assert len(pd.read_parquet(out / "required_sample_size.parquet")) == 2

    # 2 populations x 2 sizes + 2 positive shares = 6 chunks, reused by a second run after
    # verification (the same files, not rewritten) ...
    assert len(chunk_state(out)) == 6
    assert "chunks: 0 of 6 reused" in result.stdout
    written = chunk_state(out)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "chunks: 6 of 6 reused after verification" in again.stdout
    assert chunk_state(out) == written
    pd.testing.assert_frame_equal(pd.read_parquet(out / "power.parquet"), power)
    # ... but a chunk edited in place (every replicate marked significant) is not trusted:
    # it is reported, recomputed, and the results are those of the first run
    edited = sorted((out / "chunks").glob("*.parquet"))[0]
    pd.read_parquet(edited).assign(p_value=0.0).to_parquet(edited)
    third = runner.invoke(app, args)
    assert third.exit_code == 0, third.output
    assert "chunks: 5 of 6 reused after verification" in third.stdout
    assert f"chunk recomputed: {edited.name} (" in third.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out / "power.parquet"), power)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "power_by_positive_share.parquet"), shares)


@pytest.mark.parametrize("example", ["efgartigimod_parallel", "rozanolixizumab_nct05643794"])
def test_no_power_runs_the_example_trial_without_replicates(tmp_path, example):
    out = tmp_path / example
    result = runner.invoke(
        app, ["trial", str(EXAMPLES / f"{example}.yaml"), "--out", str(out), "--no-power"]
    )
    assert result.exit_code == 0, result.output
    assert "replicate trials" not in result.stdout
    html = (out / "report.html").read_text()
    assert "simulations" in html and "Power was not run" in html
    assert not (out / "chunks").exists()
    assert pd.read_parquet(out / "power.parquet").empty
    assert pd.read_parquet(out / "power_by_positive_share.parquet").empty
    patients = pd.read_parquet(out / "patients.parquet")
    assert (
        len(patients) == {"efgartigimod_parallel": 120, "rozanolixizumab_nct05643794": 63}[example]
    )
    assert not pd.read_parquet(out / "effects.parquet").empty


@pytest.mark.parametrize(
    ("bad", "good", "fragment"),
    [
        ("dose: 10 mg/kg", "dose: 10 mL", "arms.1.therapies.0.dose: got '10 mL'"),
        ("patients: 20", "patients: 0", "patients: got 0"),
        ("control_arm: placebo", "control_arm: plasebo", "control_arm: got 'plasebo'"),
        ("week: 6}\nsecondary", "week: 8}\nsecondary", "primary.week: got 8"),
        ("duration_weeks: 6", "duration_weks: 6", "duration_weks: got 6: unknown field"),
    ],
    ids=["dose unit", "zero patients", "control arm", "endpoint week", "unknown field"],
)
def test_bad_config_exits_2_with_one_line_on_stderr(tmp_path, bad, good, fragment):
    assert bad in SMALL_TRIAL
    config = write_config(tmp_path, SMALL_TRIAL.replace(bad, good), "bad_trial.yaml")
    result = runner.invoke(app, ["trial", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {config}: ") and fragment in lines[0]
    assert not (tmp_path / "out").exists()


def test_too_strict_inclusion_exits_2_with_a_clear_line(tmp_path):
    strict = SMALL_TRIAL.replace("patients: 20", "patients: 4").replace(
        "control_arm", "population: {inclusion_minimum: 10.5}\ncontrol_arm"
    )
    config = write_config(tmp_path, strict, "strict.yaml")
    result = runner.invoke(app, ["trial", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {config}: population: only 0 of")
    assert "relax inclusion or enrichment" in lines[0]


def test_missing_trial_file_exits_2(tmp_path):
    result = runner.invoke(app, ["trial", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: cannot read file" in result.stderr and "Traceback" not in result.output


def test_too_few_replicates_is_rejected(tmp_path):
    config = write_config(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["trial", str(config), "--out", str(out), "--replicates", "3"])
    assert result.exit_code == 2 and "replicates" in result.output
    assert not out.exists()
