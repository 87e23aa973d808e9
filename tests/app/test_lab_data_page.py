"""The lab-data page in a browser: an uploaded file is validated and analysed, its issues are
listed, and the page's statistics are those of the study function on the same file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download
from tests.app.test_passive_transfer_page import wait_for_plot

from fmsim.experiments.studies import lab_data_study, load_lab_data
from fmsim.io.lab_layouts import lab_format

MESSY = Path(__file__).resolve().parents[1] / "io" / "fixtures" / "messy_lab_data.csv"


def test_uploaded_file_is_analysed(page, tmp_path):
    page.click("text=Analyse my data")
    page.set_input_files("#lab_upload", str(MESSY))
    wait_for_plot(page, "lab_plot")
    wait_for_plot(page, "lab_individual")
    quality = page.locator("#lab_quality")
    quality.locator("table").wait_for()
    text = quality.inner_text()
    expected = load_lab_data(MESSY)
    assert f"{len(expected.clean):,} rows used" in text
    assert "decimal comma read as 154.9" in text  # row 28 of the file, converted
    assert "HC-lgG" in text  # the misspelt group is named
    assert "declare the groups ('Groups')" in text and "--groups" not in text  # page's words
    assert "messy_lab_data.csv" in text  # the issues name the file as uploaded
    clean = expected.clean
    repeated = clean.groupby("test")["day"].nunique() > 1
    animals = clean[clean["test"].map(repeated)].groupby(["test", "mouse"]).ngroups
    shown = page.evaluate("() => document.getElementById('lab_individual').data.length")
    assert shown == animals  # one line per mouse and repeated test
    page.locator("#lab_statistics table").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "lab_data.png")
    archive = zipfile.ZipFile(download(page, "lab_download"))
    posthoc = pd.read_csv(archive.open("posthoc.csv"))
    study = lab_data_study(expected, "HC-IgG", "FMS-IgG")
    reference = study.tables()["posthoc"].frame
    assert len(posthoc) == len(reference)
    pd.testing.assert_series_equal(
        posthoc["p_value"], reference["p_value"].reset_index(drop=True), check_names=False
    )


def test_unreadable_file_shows_its_message(page, tmp_path):
    """A file without fmsim's columns is answered beside the column names (map them there);
    a file that cannot be read at all beside the upload."""
    page.click("text=Analyse my data")
    bad = tmp_path / "notes.csv"
    bad.write_text("this,is\nnot,lab data\n")
    page.set_input_files("#lab_upload", str(bad))
    message = page.locator("#lab_columns_message")
    message.wait_for(state="visible")
    assert "notes.csv: missing required column(s)" in message.inner_text()
    assert "name your columns with 'Column names'" in message.inner_text()
    old = tmp_path / "notes.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    page.set_input_files("#lab_upload", str(old))
    upload = page.locator("#lab_upload_message")
    upload.wait_for(state="visible")
    assert "notes.xls: old Excel .xls files are not supported" in upload.inner_text()
    assert "Traceback" not in page.content()


FIXTURES = Path(__file__).resolve().parents[1] / "io" / "fixtures"


def _statistics_match(page, clean_rows: int, expected_study) -> None:
    """The page shows ``clean_rows`` rows used and the study's post hoc p-values."""
    page.locator("#lab_quality").get_by_text(f"{clean_rows:,} rows used").wait_for()
    page.locator("#lab_statistics table").first.wait_for()
    archive = zipfile.ZipFile(download(page, "lab_download"))
    posthoc = pd.read_csv(archive.open("posthoc.csv"))
    reference = expected_study.tables()["posthoc"].frame
    pd.testing.assert_series_equal(
        posthoc["p_value"], reference["p_value"].reset_index(drop=True), check_names=False
    )


def test_prism_table_with_its_test_and_unit_is_analysed(page, tmp_path):
    """A Prism grouped table needs its test and unit: the page asks beside the Test field,
    then analyses it as fmsim analyze --test --unit does; the mapping downloads as YAML."""
    prism = FIXTURES / "lab_prism_grouped.csv"
    page.click("text=Analyse my data")
    page.set_input_files("#lab_upload", str(prism))
    message = page.locator("#lab_test_message")
    message.wait_for(state="visible")
    assert "Prism" in message.inner_text() and "lab_prism_grouped.csv" in message.inner_text()
    assert "Day, FMS-IgG, HC-IgG" in page.locator("#lab_header").inner_text()
    page.fill("#lab_test", "paw_pressure_threshold")
    page.fill("#lab_unit", "g")
    page.locator("#lab_unit").press("Tab")
    message.wait_for(state="hidden")
    fmt = lab_format(test="paw_pressure_threshold", unit="g")
    expected = load_lab_data(prism, fmt=fmt)
    _statistics_match(page, len(expected.clean), lab_data_study(expected, "HC-IgG", "FMS-IgG"))
    wait_for_plot(page, "lab_plot")
    saved = download(page, "lab_mapping", tmp_path)
    assert saved.name == "lab_mapping.yaml" and lab_format(str(saved)) == fmt


def test_own_column_names_are_mapped_and_the_quality_table_follows(page):
    """lab_mapped.csv has the lab's own column names: unmapped, the page names the missing
    columns; mapped as in --columns, the file is analysed (the same rows as the CLI)."""
    mapped = FIXTURES / "lab_mapped.csv"
    page.click("text=Analyse my data")
    page.set_input_files("#lab_upload", str(mapped))
    column_message = page.locator("#lab_columns_message")
    column_message.wait_for(state="visible")
    assert "'mouse_id' might be 'mouse'" in column_message.inner_text()
    columns = (
        "Mouse ID=mouse, Treatment=group, Timepoint=day, Assay=test, Reading=value, Units=unit"
    )
    page.fill("#lab_columns", columns)
    page.fill("#lab_tests", "Paw withdrawal force=g")
    page.locator("#lab_tests").press("Tab")
    column_message.wait_for(state="hidden")
    fmt = lab_format(columns, tests="Paw withdrawal force=g")
    expected = load_lab_data(mapped, fmt=fmt)
    _statistics_match(page, len(expected.clean), lab_data_study(expected, "HC-IgG", "FMS-IgG"))


def test_invalid_mapping_shows_its_message_beside_the_field(page):
    page.click("text=Analyse my data")
    page.set_input_files("#lab_upload", str(FIXTURES / "lab_mapped.csv"))
    page.fill("#lab_columns", "Mouse ID=mice")
    page.locator("#lab_columns").press("Tab")
    message = page.locator("#lab_columns_message")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert "'Mouse ID' -> 'mice'" in text and "expected one of the columns" in text
    assert "--columns" not in text and "Traceback" not in page.content()
    assert "is-invalid" in page.locator("#lab_columns").get_attribute("class")
