"""The lab-data page's fields read as ``fmsim analyze``'s options: each mistake is shown beside
its own field in the page's words, and the mapping downloads as a YAML file the command reads
back to the same layout (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fmsim.app.pages.lab_data import (
    field_message,
    file_format,
    group_list,
    mapping_yaml,
    page_words,
)
from fmsim.config import ConfigError
from fmsim.experiments.studies import load_lab_data
from fmsim.io.lab_data import LabDataError
from fmsim.io.lab_layouts import lab_format

FIXTURES = Path(__file__).resolve().parents[1] / "io" / "fixtures"
MESSY = FIXTURES / "messy_lab_data.csv"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"columns": "Mouse ID=mice"}, "lab_columns", "'Mouse ID' -> 'mice': expected one of"),
        ({"columns": "Mouse ID"}, "lab_columns", "expected NAME=VALUE pairs"),
        ({"columns": "mapping.yaml"}, "lab_columns", "expected NAME=VALUE pairs"),
        ({"test": "grip_strength"}, "lab_test", "give both the test and its unit"),
        ({"test": "grip_strength", "unit": "stone"}, "lab_unit", "unknown unit 'stone'"),
        ({"tests": "burrowing=kg/s"}, "lab_tests", "unknown unit 'kg/s'"),
        ({"layout": "sideways"}, "lab_layout", "got 'sideways'"),
    ],
)
def test_each_mistake_is_shown_beside_its_field(fields, field, words):
    values = {"columns": "", "layout": "auto", "test": "", "unit": "", "tests": ""} | fields
    with pytest.raises(ConfigError) as error:
        file_format(**values)
    shown = field_message(str(error.value), "lab_columns")
    assert shown.field == field and words in shown.message
    assert "--" not in shown.message  # the page's field names, not the command's options


def test_a_prism_table_without_its_test_is_asked_for_beside_the_test_field():
    with pytest.raises(LabDataError) as error:
        load_lab_data(FIXTURES / "lab_prism_grouped.csv", fmt=file_format("", "auto", "", "", ""))
    shown = field_message(str(error.value))
    assert shown.field == "lab_test"
    assert "Test 'paw_pressure_threshold', Unit 'g'" in shown.message


def test_the_downloaded_mapping_reads_back_as_the_same_layout(tmp_path):
    fmt = file_format(
        "Mouse ID=mouse, Treatment=group, Timepoint=day, Assay=test, Reading=value, Units=unit",
        "tidy",
        "",
        "",
        "Paw withdrawal force=g",
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping_yaml(fmt))
    assert lab_format(path) == fmt
    data = load_lab_data(FIXTURES / "lab_mapped.csv", fmt=lab_format(path))
    reference = load_lab_data(
        FIXTURES / "lab_mapped.csv", fmt=lab_format(FIXTURES / "lab_mapping.yaml")
    )
    assert len(data.clean) == len(reference.clean) > 0


def test_a_row_message_names_the_groups_field_not_the_option():
    misspelt = next(i for i in load_lab_data(MESSY).issues if "misspelling" in i.message)
    assert "declare the groups (--groups)" in misspelt.message  # the command's words ...
    shown = page_words(misspelt.message)  # ... and the page's
    assert "declare the groups ('Groups') if 'HC-lgG' is a real group" in shown
    assert "--" not in shown
    declared = load_lab_data(MESSY, group_list(" HC-IgG, FMS-IgG,HC-lgG "))  # as on the page
    assert not any("misspelling" in i.message for i in declared.issues)
    assert group_list("  ") is None


def test_two_complete_sheets_are_asked_for_beside_the_sheet_field(tmp_path):
    workbook = tmp_path / "two_sheets.xlsx"
    rows = pd.read_csv(MESSY, dtype=str).head(5)
    with pd.ExcelWriter(workbook) as writer:
        rows.to_excel(writer, sheet_name="week 1", index=False)
        rows.to_excel(writer, sheet_name="week 2", index=False)
    with pytest.raises(LabDataError) as error:
        load_lab_data(workbook)
    shown = field_message(str(error.value))
    assert shown.field == "lab_sheet"
    assert shown.message.endswith("name the one to analyse ('Excel sheet')"), shown.message
    assert len(load_lab_data(workbook, sheet="week 2").clean) > 0  # the field's value, read
