"""Courses of the typical patient and the population's pain (fmsim.experiments.typical_patient):
pain follows sensitisation with clinical.yaml's median baseline pain and gain; an IgG-lowering
therapy lowers the typical patient's anti-SGC IgG, S and pain, and the pain of most patients;
the population pain uses the therapy study's patients."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.experiments.studies import therapy_study
from fmsim.experiments.typical_patient import population_pain, typical_courses


@pytest.fixture(scope="module")
def protocols():
    library = drug_library()
    return {"efgartigimod": regimen_protocol(library.get("efgartigimod"), library)}


def clinical_value(name: str) -> float:
    text = resources.files("fmsim.model.data").joinpath("clinical.yaml").read_text()
    return float(yaml.safe_load(text)["parameters"][name]["value"])


def test_typical_pain_is_baseline_plus_gain_times_sensitisation(protocols):
    courses = typical_courses(protocols, 84.0)
    wide = courses.pivot(index="day", columns="quantity", values="q50")
    assert (courses["q05"] == courses["q95"]).all()  # one patient: every quantile the same
    expected = clinical_value("baseline_pain") + clinical_value("antibody_pain_gain") * (
        wide["sensitisation"] - 1.0
    )
    np.testing.assert_allclose(wide["pain_nrs"], np.clip(expected, 0, 10), rtol=1e-12)
    assert wide["total_igg_pct"].iloc[0] == pytest.approx(100.0)
    nadir = wide["anti_sgc_pct"].idxmin()
    assert 7 <= nadir <= 42 and wide["anti_sgc_pct"].min() < 60  # 4 weekly doses lower it
    assert wide.loc[nadir, "pain_nrs"] < wide["pain_nrs"].iloc[0] - 0.5
    assert wide["pain_nrs"].iloc[-1] > wide.loc[nadir, "pain_nrs"]  # and it comes back


def test_population_pain_falls_with_the_studys_sensitisation(protocols):
    settings = {"patients": 12, "days": 56.0, "positive_only": True, "seed": 3}
    pain = population_pain(protocols, **settings)
    study = therapy_study(protocols, validate=False, **settings)
    s = study.comparison.courses[study.comparison.courses["quantity"] == "sensitisation"]
    assert list(pain["day"]) == list(s["day"])
    s_day = s.set_index("day")
    pain_day = pain.set_index("day")
    nadir = s_day["q50"].idxmin()  # the study's patients: their S and pain are lowest together
    assert abs(pain_day["q50"].idxmin() - nadir) <= 7
    assert pain_day.loc[nadir, "q50"] < pain_day.loc[0.0, "q50"]
    assert (pain[["q05", "q25", "q50", "q75", "q95"]].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert pain[["q05", "q95"]].stack().between(0, 10).all()


def test_the_therapy_study_keeps_the_typical_patient_and_the_pain(protocols):
    """The study's tables are those of the two functions on their own (the pain of its own
    patients through its simulation hook; the same patients as a separate simulation)."""
    settings = {"patients": 6, "days": 42.0, "positive_only": False, "seed": 5}
    study = therapy_study(protocols, validate=False, **settings)
    pd.testing.assert_frame_equal(study.typical, typical_courses(protocols, 42.0))
    pd.testing.assert_frame_equal(study.pain, population_pain(protocols, **settings))
    tables = study.tables()
    assert tables["typical_patient_courses"].frame is study.typical
    assert tables["therapy_pain"].units["q50"] == "NRS 0-10"
