"""Tests for fmsim.model.drugs: the drug and device library validates, every constant carries a
unit, a source and a CV, units convert, patients get their own constants, and a broken file
gets one line naming the file and the field."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from fmsim.model.drugs import (
    CLASS_PARAMETERS,
    DrugFileError,
    builtin_library,
    load_library,
    random_effect_names,
    read_entry,
)

LIBRARY = builtin_library()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "drugs" / "example_anti_fcrn.yaml"
REQUIRED = {
    "fcrn_inhibitor": {"efgartigimod", "rozanolixizumab", "nipocalimab"},
    "anti_cd20": {"rituximab"},
    "ivig": {"ivig"},
    "plasma_exchange": {"plasma_exchange"},
    "replacement_fluid": {"albumin", "fresh_frozen_plasma"},
    "immunoadsorption": {"protein_a"},
}


def test_library_has_every_class_and_the_agents_of_the_issue():
    for kind, names in REQUIRED.items():
        assert names <= set(LIBRARY.names(kind)), kind


@pytest.mark.parametrize("name", LIBRARY.names())
def test_every_constant_has_unit_source_and_cv(name):
    entry = LIBRARY.get(name)
    assert set(CLASS_PARAMETERS[entry.kind]) <= set(entry.constants())
    items = [*entry.parameters.values(), *(v for r in entry.routes.values() for v in r.values())]
    for item in items:
        assert item.unit and len(item.source) > 3 and item.cv >= 0, (name, item)
        assert math.isfinite(item.value)
    for tag in entry.references:
        assert len(entry.references[tag]) > 10


def test_published_constants_are_read_as_published():
    """Spot checks against the papers' tables (via the nlmixr2lib transcriptions)."""
    assert LIBRARY.get("rozanolixizumab").value("fcrn_kd") == 1.0  # LG2022 Table 2, nM
    assert LIBRARY.get("nipocalimab").value("clearance") == 0.655  # VAL2025 Table 3, L/day
    assert LIBRARY.get("nipocalimab").cv("clearance") == 0.241
    assert LIBRARY.get("rituximab").value("bcell_depletion_ec50") == 5.87  # CHEN2024, ug/mL
    assert LIBRARY.get("albumin").value("igg_concentration") == 0.0


def test_units_convert_to_the_canonical_unit():
    entry = read_entry(EXAMPLE)
    assert entry.value("clearance") == pytest.approx(20 * 24 / 1000)  # 20 mL/h in L/day
    assert entry.parameters["clearance"].unit == "mL/h"  # shown as written


def test_per_patient_constants_use_the_cv_and_the_patients_deviates():
    entry = LIBRARY.get("nipocalimab")
    eta = np.array([0.0, 1.0, -2.0])
    values = entry.per_patient(3, {"fcrn_inhibitor.clearance": eta})
    sigma = math.sqrt(math.log1p(0.241**2))
    np.testing.assert_allclose(values["clearance"], 0.655 * np.exp(sigma * eta))
    np.testing.assert_allclose(values["central_volume"], 3.23)  # no deviate given: typical
    fluid = LIBRARY.get("fresh_frozen_plasma")  # CV 20%, a deviate of 0 is the typical value
    assert fluid.per_patient(1, {"replacement_fluid.igg_concentration": np.zeros(1)})[
        "igg_concentration"
    ][0] == pytest.approx(10.0)


def test_fractions_stay_at_most_one():
    entry = LIBRARY.get("efgartigimod")
    huge = {"fcrn_inhibitor.sc.bioavailability": np.array([10.0])}
    assert entry.per_patient(1, huge)["sc.bioavailability"][0] == 1.0


def test_every_random_effect_has_a_unique_key():
    names = random_effect_names()
    assert len(names) == len(set(names))
    for entry in LIBRARY:
        for constant in entry.constants():
            assert f"{entry.kind}.{constant}" in names


def test_with_values_replaces_a_constant_and_keeps_its_source():
    entry = LIBRARY.get("efgartigimod").with_values(clearance=2.0, sc__bioavailability=0.5)
    assert entry.value("clearance") == 2.0 and entry.value("sc.bioavailability") == 0.5
    assert (
        entry.parameters["clearance"].source
        == LIBRARY.get("efgartigimod").parameters["clearance"].source
    )


def test_user_files_join_the_library(tmp_path):
    library = load_library([EXAMPLE.parent])
    assert "example_anti_fcrn" in library and "efgartigimod" in library
    assert library.origin["example_anti_fcrn"].endswith("example_anti_fcrn.yaml")


# ---------------------------------------------------------------- broken files


def entry_text(**changes) -> dict:
    raw = yaml.safe_load(EXAMPLE.read_text())
    for key, value in changes.items():
        target = raw
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return raw


BROKEN = [
    ("missing source", {"parameters__clearance__source": None}, "parameters.clearance.source"),
    ("missing cv", {"parameters__fcrn_kd__cv": None}, "parameters.fcrn_kd.cv"),
    ("unknown unit", {"parameters__clearance__unit": "gallons"}, "parameters.clearance.unit"),
    ("wrong unit kind", {"parameters__clearance__unit": "kDa"}, "parameters.clearance.unit"),
    ("negative volume", {"parameters__central_volume__value": -3}, "parameters.central_volume"),
    ("NaN value", {"parameters__fcrn_kd__value": float("nan")}, "parameters.fcrn_kd.value"),
    ("fraction above 1", {"routes__sc__bioavailability__value": 1.5}, "routes.sc.bioavailability"),
    ("missing constant", {"parameters__clearance": None}, "parameters"),
    (
        "unknown constant",
        {"parameters__half_life": {"value": 1, "unit": "h", "source": "x y z", "cv": 0}},
        "parameters.half_life",
    ),
    ("unknown field", {"colour": "blue"}, "colour"),
    ("unknown class", {"class": "antibody"}, "class"),
    ("bad name", {"name": "My Drug"}, "name"),
    ("no maximum dose", {"maximum_dose": None}, "maximum_dose"),
    ("route of another class", {"routes__im": {}}, "routes.im"),
]


@pytest.mark.parametrize(("changes", "field"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_file_is_one_line_naming_file_and_field(tmp_path, changes, field):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(entry_text(**changes)))
    with pytest.raises(DrugFileError) as info:
        read_entry(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: {field}"), message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_not_yaml_and_missing_files_are_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(DrugFileError, match=r"bad.yaml: not valid YAML \(line"):
        read_entry(path)
    with pytest.raises(DrugFileError, match="no such file or folder"):
        load_library([tmp_path / "absent"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrugFileError, match="no drug files"):
        load_library([tmp_path / "empty"])


def test_a_user_entry_may_not_reuse_a_built_in_name(tmp_path):
    path = tmp_path / "efgartigimod.yaml"
    path.write_text(yaml.safe_dump(entry_text(name="efgartigimod")))
    with pytest.raises(DrugFileError) as info:
        load_library([path])
    assert str(info.value).startswith(f"{path}: name: got 'efgartigimod': already the name")


def test_two_user_files_with_one_name_are_refused(tmp_path):
    for file in ("a.yaml", "b.yaml"):
        (tmp_path / file).write_text(textwrap.dedent(EXAMPLE.read_text()))
    with pytest.raises(DrugFileError, match="b.yaml: name: got 'example_anti_fcrn': also the"):
        load_library([tmp_path])
