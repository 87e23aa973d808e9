"""Result objects: a study's tables with units and descriptions, its provenance, and saving it
as a run folder (tables, data dictionary, configuration, manifest); rendering is separate."""

from __future__ import annotations

import json

import pandas as pd
import yaml

from fmsim.config import PassiveTransferConfig, default_config
from fmsim.experiments.result import config_hash, config_yaml
from fmsim.experiments.studies import PowerStudy, power_study
from fmsim.io.store import MANIFEST, RunFolder
from fmsim.report import render


def test_saved_configuration_reads_back_as_the_same_configuration():
    config = default_config().model_copy(update={"seed": 17})
    again = PassiveTransferConfig(**yaml.safe_load(config_yaml(config)))
    assert config_hash(again) == config_hash(config)
    assert config_hash(config.model_copy(update={"seed": 18})) != config_hash(config)


def test_power_study_saves_and_renders_separately(tmp_path):
    study = power_study([3], [0.005], replicates=20, seed=2)
    assert isinstance(study, PowerStudy) and study.table["replicates"].tolist() == [20]
    folder = study.save(tmp_path / "tables")
    dictionary = json.loads((folder / "tables.json").read_text())
    assert dictionary["power"]["rows"] == 1 and dictionary["power"]["units"]["power"] == "1"
    assert "Wilson" in dictionary["power"]["description"]
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "power.parquet"), study.table)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["kind"] == "power" and manifest["status"] == "complete"
    assert manifest["config_hash"] == study.provenance.config_hash
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == written - {MANIFEST}
    assert "power_curve.png" not in written  # saving computes and draws nothing

    report = render(study, tmp_path / "with_figure")
    assert report == tmp_path / "with_figure" / "report.html"
    figure = report.parent / "power_curve.png"
    assert figure.stat().st_size > 10_000
    listed = json.loads((figure.parent / MANIFEST).read_text())["files"]
    assert {"power_curve.png", "power_curve.svg", "report.html"} <= set(listed)

    # rendering into an open run folder adds the figure to the files already written there
    with RunFolder(tmp_path / "both", "power") as run:
        study.save(run)
        assert render(study, run) == tmp_path / "both" / "report.html"
    assert (tmp_path / "both" / "power.csv").exists() and figure.exists()


def test_to_frame_and_plot_give_the_main_table_and_figure():
    study = power_study([3, 4], [0.005], replicates=20, seed=2)
    frame = study.to_frame()
    pd.testing.assert_frame_equal(frame, study.table)  # power is the study's first table
    assert frame.attrs["units"]["power"] == "1" and "Wilson" in frame.attrs["description"]
    assert study.to_frame("required_mice").equals(study.required)
    try:
        study.to_frame("trajectories")
    except KeyError as error:
        assert "'trajectories'" in str(error) and "power" in str(error)
    else:
        raise AssertionError("an unknown table must raise KeyError")
    figure = study.plot()
    (axes,) = figure.axes
    (line, *_) = axes.get_lines()
    assert list(line.get_xdata()) == [3, 4]
    assert list(line.get_ydata()) == study.table["power"].tolist()
