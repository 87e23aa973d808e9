"""The shared upload reader: a file's one-line errors name the file as the user knows it (not
the server's temporary path); a valid file is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

from fmsim.app.widgets import read_upload
from fmsim.config import load_config
from fmsim.config.trial import load_trial_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def uploaded(tmp_path: Path, example: str, name: str) -> dict[str, str]:
    """A file input's entry for ``example`` as the server stores it (a temporary name)."""
    stored = tmp_path / "0.yaml"
    shutil.copyfile(EXAMPLES / example, stored)
    return {"name": name, "datapath": str(stored)}


def test_error_names_the_users_file(tmp_path):
    config, problem = read_upload(uploaded(tmp_path, "bad_config.yaml", "mine.yaml"), load_config)
    assert config is None
    assert problem.startswith("mine.yaml: ") and str(tmp_path) not in problem
    assert "dose_mg: got 8: unknown field" in problem
    assert "\n" not in problem.splitlines()[0]


def test_valid_file_is_loaded(tmp_path):
    upload = uploaded(tmp_path, "trials/efgartigimod_parallel.yaml", "trial.yaml")
    config, problem = read_upload(upload, load_trial_config)
    assert problem is None
    assert config == load_trial_config(EXAMPLES / "trials/efgartigimod_parallel.yaml")


def test_with_a_folder_the_loader_reads_a_copy_under_the_users_name(tmp_path):
    """What the loader keeps (here the path it read) names the user's file; so does an error."""
    folder = tmp_path / "session"
    folder.mkdir()
    upload = uploaded(tmp_path, "low_dose.yaml", "my scenario.yaml")
    path, problem = read_upload(upload, Path, folder=folder)
    assert problem is None and path == folder / "my scenario.yaml"
    assert path.read_bytes() == (EXAMPLES / "low_dose.yaml").read_bytes()
    bad = uploaded(tmp_path, "bad_config.yaml", "mine.yaml")
    config, problem = read_upload(bad, load_config, folder=folder)
    assert config is None and problem.startswith("mine.yaml: ") and str(folder) not in problem
