"""`fmsim drugs list / show` print the library with sources; a user's drug file joins it with
--drugs and works end to end in `fmsim therapies` (protocol -> simulation -> report); a broken
file ends with one line naming the file and field, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()
DRUGS = Path(__file__).resolve().parents[2] / "examples" / "drugs"


def test_list_groups_the_library_by_class():
    result = runner.invoke(app, ["drugs", "list"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.index("FcRn inhibitors") < text.index("nipocalimab") < text.index("anti-CD20")
    assert "protein_a" in text and "fresh_frozen_plasma" in text


def test_show_prints_every_constant_with_unit_cv_and_source():
    result = runner.invoke(app, ["drugs", "show", "nipocalimab"])
    assert result.exit_code == 0, result.output
    assert "parameters.clearance" in result.output and "0.655 L/day" in result.output
    assert "CV 24%" in result.output and "VAL2025 Table 3 CL" in result.output
    assert "[VAL2025] Valenzuela B et al." in result.output


def test_user_files_join_with_drugs_option():
    result = runner.invoke(app, ["drugs", "show", "example_anti_fcrn", "--drugs", str(DRUGS)])
    assert result.exit_code == 0, result.output
    assert "20 mL/h" in result.output and "assumed" in result.output
    listed = runner.invoke(app, ["drugs", "list", "--drugs", str(DRUGS)])
    assert "example_anti_fcrn" in listed.output and "your files:" in listed.output


def test_unknown_entry_and_broken_file_are_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["drugs", "show", "batoclimb"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "unknown entry 'batoclimb'" in result.output
    broken = tmp_path / "broken.yaml"
    raw = yaml.safe_load((DRUGS / "example_anti_fcrn.yaml").read_text())
    raw["parameters"]["central_volume"]["value"] = -1
    broken.write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["drugs", "list", "--drugs", str(broken)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert f"{broken}: parameters.central_volume.value: got -1" in result.output


def test_user_drug_end_to_end_protocol_simulation_report(tmp_path):
    """A protocol names the user's entry (its own 'drugs' field); `fmsim therapies` simulates it
    next to a library agent's standard regimen and reports it, grouped by class."""
    protocol = tmp_path / "mine.yaml"
    protocol.write_text(
        f"name: my anti-FcRn 600 mg weekly x4\ndrugs: [{DRUGS / 'example_anti_fcrn.yaml'}]\n"
        "therapies:\n"
        "  - {type: fcrn_inhibitor, drug: example_anti_fcrn, dose: 600 mg, days: [0, 7, 14, 21]}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "therapies",
            str(protocol),
            "--agents",
            "nipocalimab,protein_a",
            "--patients",
            "6",
            "--days",
            "42",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "fcrn_inhibitor example_anti_fcrn: 600 mg sc" in html
    assert html.index("FcRn inhibitors") < html.index("immunoadsorption columns")
    summary = pd.read_csv(out / "therapy_comparison.csv")
    nadir = summary[summary["quantity"] == "igg_nadir_reduction_pct"].set_index("therapy")
    assert nadir.loc["my anti-FcRn 600 mg weekly x4", "median"] > 30  # it lowers IgG
    used = yaml.safe_load((out / "drugs.yaml").read_text())
    assert {e["name"] for e in used} == {"example_anti_fcrn", "nipocalimab", "protein_a"}


def test_therapies_with_a_broken_drug_file_is_one_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nclass: fcrn_inhibitor\n")
    result = runner.invoke(app, ["therapies", "--drugs", str(broken), "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: {broken}: label")
    result = runner.invoke(app, ["therapies", "--agents", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--agents: unknown entry 'nope'" in result.output
