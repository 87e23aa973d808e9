"""`fmsim therapies`: a small run writes the tables and the report (with the validation table and
the banner); a bad protocol file ends with one line naming file and field, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.config.therapy import load_protocol
from fmsim.experiments.typical_patient import typical_courses
from fmsim.experiments.validation import published_targets
from fmsim.model.drugs import builtin_library

TARGETS = published_targets()

runner = CliRunner()
THERAPIES = Path(__file__).resolve().parents[2] / "examples" / "therapies"


def test_small_run_writes_tables_and_report(tmp_path):
    result = runner.invoke(
        app,
        [
            "therapies",
            str(THERAPIES / "tpe.yaml"),
            str(THERAPIES / "efgartigimod_iv.yaml"),
            "--patients",
            "10",
            "--days",
            "56",
            "--all",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert "These are simulations, not clinical evidence." in html
    assert "Validation against published pharmacodynamics" in html
    assert "Hanafusa 2014" in html and "Ulrichts et al., JCI 2018" in html
    assert html.count('class="pass"') + html.count('class="fail"') == len(TARGETS)
    assert "Assumptions and limits" in html and "plasma exchange 5 x 1 plasma volume" in html
    validation = pd.read_parquet(tmp_path / "validation.parquet")
    assert len(validation) == len(TARGETS) and validation["citation"].str.len().min() > 3
    patients = pd.read_parquet(tmp_path / "therapy_patients.parquet")
    assert len(patients) == 20
    assert set(patients["therapy"]) == {
        "plasma exchange 5 x 1 plasma volume",
        "efgartigimod 10 mg/kg i.v. weekly x4",
    }
    courses = pd.read_csv(tmp_path / "therapy_courses.csv")
    assert courses["day"].max() == 56
    assert (tmp_path / "therapy_courses.png").stat().st_size > 10_000
    for vector in ("svg", "pdf"):  # exportable figures
        assert (tmp_path / f"therapy_courses.{vector}").stat().st_size > 10_000
    findings = html[html.index("Main findings") : html.index("<h2>Protocols")]
    summary = pd.read_csv(tmp_path / "therapy_comparison.csv")
    nadir = summary[summary["quantity"] == "anti_sgc_nadir_reduction_pct"].set_index("therapy")
    for therapy, row in nadir.iterrows():  # the first screen states each therapy's answer
        assert f"{therapy}: anti-SGC IgG falls by {row['median']:.0f} %" in findings
    assert 'id="figure-therapy_courses"' in html and (tmp_path / "plotly.min.js").is_file()
    references = html[html.index('<h2 id="references">') : html.index("<h2>Files")]
    valenzuela = builtin_library().get("efgartigimod").references["VAL2025"]
    assert "<b>VAL2025</b>: Valenzuela B et al." in references  # one article, one entry
    assert valenzuela.split(", Table")[0] in references
    assert (tmp_path / "protocols.yaml").exists()
    check_typical_patient_and_pain(tmp_path, html)


def check_typical_patient_and_pain(folder: Path, html: str) -> None:
    """The typical patient's courses are those of typical_courses (the function the web app's
    page draws and downloads), with their entry in the data dictionary; the report shows them,
    and the patients' pain beside IgG and sensitisation."""
    protocols = {
        p.name: p
        for p in (load_protocol(THERAPIES / f) for f in ("tpe.yaml", "efgartigimod_iv.yaml"))
    }
    typical = pd.read_parquet(folder / "typical_patient_courses.parquet")
    pd.testing.assert_frame_equal(typical, typical_courses(protocols, 56.0))
    written = pd.read_csv(folder / "typical_patient_courses.csv")
    np.testing.assert_allclose(written["q50"], typical["q50"], rtol=1e-12)
    dictionary = json.loads((folder / "tables.json").read_text())
    assert "typical patient" in dictionary["typical_patient_courses"]["description"]
    assert dictionary["therapy_pain"]["units"]["q50"] == "NRS 0-10"
    pain = pd.read_parquet(folder / "therapy_pain.parquet")
    assert pain["q50"].between(0, 10).all() and set(pain["therapy"]) == set(protocols)
    section = html[html.index('<h2 id="typical-patient">') : html.index("<h2>Validation")]
    assert 'id="figure-typical_patient_courses"' in section
    assert (folder / "typical_patient_courses.svg").stat().st_size > 10_000
    efgartigimod = typical[typical["therapy"] == "efgartigimod 10 mg/kg i.v. weekly x4"]
    pain_nrs = efgartigimod[efgartigimod["quantity"] == "pain_nrs"].reset_index()
    lowest = pain_nrs.loc[pain_nrs["q50"].idxmin()]
    assert lowest["q50"] < pain_nrs["q50"].iloc[0] - 0.5  # the typical patient's pain falls
    row = f"{pain_nrs['q50'].iloc[0]:.1f} to {lowest['q50']:.1f} (day {lowest['day']:g})"
    assert row in section
    assert "pain (0-10 NRS)" in html[html.index("<h2>Time courses") :]


def test_bad_protocol_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntherapies:\n  - type: tpe\n    plasma_volume: 1.0\n    days: [0]\n")
    result = runner.invoke(app, ["therapies", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "bad.yaml" in lines[0] and "plasma_volume" in lines[0]
    assert not (tmp_path / "out").exists()


def test_missing_protocol_file(tmp_path):
    result = runner.invoke(app, ["therapies", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_two_protocols_with_one_name(tmp_path):
    for stem in ("a", "b"):
        (tmp_path / f"{stem}.yaml").write_text((THERAPIES / "tpe.yaml").read_text())
    result = runner.invoke(app, ["therapies", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    assert result.exit_code == 2
    assert "b.yaml" in result.output and "name" in result.output


def test_default_protocols_are_counted_in_the_size_check(tmp_path, monkeypatch):
    """Without protocol files the standard protocols run: the size check counts them (this
    crashed with a TypeError before any simulation when no protocol was named)."""
    from fmsim.experiments.reference import standard_protocols

    monkeypatch.setenv("FMSIM_MEMORY_LIMIT", "1MB")
    result = runner.invoke(app, ["therapies", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    n = len(standard_protocols(builtin_library()))
    assert f"x {n} protocols" in result.output and "--patients" in result.output
    assert not (tmp_path / "run").exists()
