"""The lab-data page's fields read as ``fmsim analyze``'s options: each mistake is shown beside
its own field in the page's words, and the mapping downloads as a YAML file the command reads
back to the same layout (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmsim.app.pages.lab_data import field_message, file_format, mapping_yaml
from fmsim.config import ConfigError
from fmsim.experiments.studies import load_lab_data
from fmsim.io.lab_data import LabDataError
from fmsim.io.lab_layouts import lab_format

FIXTURES = Path(__file__).resolve().parents[1] / "io" / "fixtures"


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
