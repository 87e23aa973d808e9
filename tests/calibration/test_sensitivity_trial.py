"""The trial sensitivity analysis: effect and power follow the pain gain only through the
anti-SGC-positive patients (common random numbers)."""

from __future__ import annotations

import pandas as pd

from fmsim.calibration.sensitivity_trial import GAIN, SHARE, trial_outputs


def test_trial_outputs_follow_the_gain_only_in_positive_patients(small_trial):
    """Common random numbers: without gain the positive share changes nothing, without
    positive patients the gain changes nothing; a large gain in an all-positive population
    gives a clear benefit and more power."""
    frame = pd.DataFrame({GAIN: [0.0, 0.0, 8.0, 8.0], SHARE: [0.0, 1.0, 0.0, 1.0]})
    out = trial_outputs(frame, small_trial, replicates=2)
    null = out.iloc[0]
    pd.testing.assert_series_equal(out.iloc[1], null, check_names=False)
    pd.testing.assert_series_equal(out.iloc[2], null, check_names=False)
    assert out["trial_effect"][3] < null["trial_effect"] - 0.5
    assert out["trial_power"][3] > null["trial_power"]
