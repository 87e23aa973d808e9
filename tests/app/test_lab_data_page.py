"""The lab-data page in a browser: an uploaded file is validated and analysed, its issues are
listed, and the page's statistics are those of the study function on the same file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
from tests.app.conftest import SCREENSHOTS
from tests.app.test_passive_transfer_page import wait_for_plot

from fmsim.experiments.studies import lab_data_study, load_lab_data

MESSY = Path(__file__).resolve().parents[1] / "io" / "fixtures" / "messy_lab_data.csv"


def test_uploaded_file_is_analysed(page, tmp_path):
    page.click("text=Analyse my data")
    page.set_input_files("#lab_upload", str(MESSY))
    wait_for_plot(page, "lab_plot")
    quality = page.locator("#lab_quality")
    quality.locator("table").wait_for()
    text = quality.inner_text()
    expected = load_lab_data(MESSY)
    assert f"{len(expected.clean):,} rows used" in text
    assert "decimal comma read as 154.9" in text  # row 28 of the file, converted
    assert "HC-lgG" in text  # the misspelt group is named
    page.locator("#lab_statistics table").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "lab_data.png")
    with page.expect_download() as download:
        page.click("#lab_download")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    posthoc = pd.read_csv(archive.open("posthoc.csv"))
    study = lab_data_study(expected, "HC-IgG", "FMS-IgG")
    reference = study.tables()["posthoc"].frame
    assert len(posthoc) == len(reference)
    pd.testing.assert_series_equal(
        posthoc["p_value"], reference["p_value"].reset_index(drop=True), check_names=False
    )


def test_unreadable_file_shows_its_message(page, tmp_path):
    page.click("text=Analyse my data")
    bad = tmp_path / "notes.csv"
    bad.write_text("this,is\nnot,lab data\n")
    page.set_input_files("#lab_upload", str(bad))
    message = page.locator("#lab_upload_message")
    message.wait_for(state="visible")
    assert "notes.csv" in message.inner_text()
    assert "Traceback" not in page.content()
