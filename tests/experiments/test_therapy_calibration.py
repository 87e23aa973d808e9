"""The calibrated constants (fmsim.experiments.therapy_calibration) reproduce their targets in
the shipped human.yaml and drug library: efgartigimod PK after the 4th dose (Jing et al., Drugs
R D 2024, abstract; 70 kg assumed) and every calibrated row of the validation table (checked
there, see test_validation.py); a setting replaces human and library constants."""

from __future__ import annotations

import pytest

from fmsim.experiments import therapy_calibration as tc


def test_efgartigimod_pk_calibration_targets_are_met():
    """i.v. Cmax 194 ug/mL, AUC(0-168 h) 5300 ug h/mL; s.c. Cmax 42.1 ug/mL, Tmax 47.7 h,
    AUC 4790 ug h/mL (least squares, so within 10-15%); IgG -65% on day 28."""
    nadir, auc, cmax = tc.efgartigimod_iv_metrics()
    assert nadir == pytest.approx(tc.published("efgartigimod_iv_calibration"), abs=0.5)
    assert auc == pytest.approx(tc.EFGARTIGIMOD_AUC, rel=0.01)
    assert cmax == pytest.approx(tc.EFGARTIGIMOD_CMAX, rel=0.01)
    auc, tmax, cmax = tc.efgartigimod_sc_metrics()
    assert auc == pytest.approx(tc.EFGARTIGIMOD_SC_AUC, rel=0.10)
    assert tmax == pytest.approx(tc.EFGARTIGIMOD_SC_TMAX, rel=0.15)
    assert cmax == pytest.approx(tc.EFGARTIGIMOD_SC_CMAX, rel=0.10)


def test_setting_replaces_human_and_library_constants():
    setting = tc.default_setting()
    changed = setting.with_values({"protein_a.igg_extraction": 0.2, "igg_baseline": 10.0})
    assert changed.value("protein_a.igg_extraction") == 0.2
    assert changed.value("igg_baseline") == 10.0
    assert setting.value("protein_a.igg_extraction") > 0.3  # the original is untouched
    # a weaker column removes less IgG in the calibration's course
    assert changed.target("ia_calibration") < setting.target("ia_calibration")


def test_a_target_is_read_like_the_validation_table():
    assert tc.default_setting().target("tpe_1pv_after") == pytest.approx(36.788, abs=0.01)
