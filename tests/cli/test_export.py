"""`fmsim export sbml`: one mouse of a passive-transfer scenario as a validated SBML file."""

from pathlib import Path

import libsbml
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.io.sbml import validate_sbml

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_default_scenario_exports_first_disease_mouse(tmp_path):
    out = tmp_path / "mouse.xml"
    result = runner.invoke(app, ["export", "sbml", "default", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert "FMS-IgG#001" in result.output and "validates with libsbml: 0 errors" in result.output
    assert "day 0: 8 mg, day 1: 8 mg, day 2: 8 mg, day 3: 8 mg" in result.output
    text = out.read_text()
    assert validate_sbml(text).errors == ()
    model = libsbml.readSBMLFromString(text).getModel()
    assert model.getId() == "mouse_passive_transfer_FMS_IgG_001"
    assert model.getNumEvents() == 3  # days 1-3; the day-0 dose is in the initial state


def test_scenario_file_group_and_subject(tmp_path):
    out = tmp_path / "hc.xml"
    scenario = EXAMPLES / "low_dose.yaml"
    result = runner.invoke(
        app, ["export", "sbml", str(scenario), str(out), "--group", "HC-IgG", "--subject", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "HC-IgG#003" in result.output and "4 mg" in result.output
    model = libsbml.readSBMLFromString(out.read_text()).getModel()
    assert model.getId() == "mouse_passive_transfer_HC_IgG_003"
    assert model.getParameter("pathogenic_fraction").getValue() == 0.0


def test_unknown_group_names_the_option_and_the_groups(tmp_path):
    result = runner.invoke(
        app, ["export", "sbml", "default", str(tmp_path / "x.xml"), "--group", "FMS"]
    )
    assert result.exit_code == 2
    assert "--group 'FMS'" in result.output and "HC-IgG" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.xml").exists()


def test_subject_out_of_range_names_the_option(tmp_path):
    for subject in ("0", "33"):
        result = runner.invoke(
            app, ["export", "sbml", "default", str(tmp_path / "x.xml"), "--subject", subject]
        )
        assert result.exit_code == 2
        assert f"--subject {subject}: group 'FMS-IgG' has mice 1 to 32" in result.output


def test_bad_or_missing_config_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["export", "sbml", str(EXAMPLES / "bad_config.yaml"), "x.xml"])
    assert result.exit_code == 2
    assert "dose: got '-8 mg'" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["export", "sbml", str(tmp_path / "nope.yaml"), "x.xml"])
    assert result.exit_code == 2 and "file not found" in result.output


def test_unwritable_output_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["export", "sbml", "default", str(tmp_path / "no" / "x.xml")])
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_therapy_protocol_exports_the_human_model_with_its_events(tmp_path):
    protocol = tmp_path / "tpe.yaml"
    protocol.write_text(
        "name: two exchanges\ntherapies:\n  - {type: tpe, plasma_volumes: 1.0, days: [1, 3]}\n"
    )
    out = tmp_path / "tpe.xml"
    result = runner.invoke(app, ["export", "sbml", str(protocol), str(out)])
    assert result.exit_code == 0, result.output
    assert "human_fibromyalgia" in result.output and "2 therapy events" in result.output
    document = libsbml.readSBMLFromString(out.read_text())
    assert document.getModel().getNumEvents() == 2
    assert not validate_sbml(out.read_text()).errors


def test_bad_therapy_protocol_names_the_field(tmp_path):
    protocol = tmp_path / "bad.yaml"
    protocol.write_text("therapies:\n  - {type: tpe, plasma_volumes: 1.0, days: [1], dose: 5 mg}\n")
    result = runner.invoke(app, ["export", "sbml", str(protocol), str(tmp_path / "x.xml")])
    assert result.exit_code == 2
    assert "therapies.0" in result.output and "Traceback" not in result.output
