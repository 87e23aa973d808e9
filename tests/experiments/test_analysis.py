"""Experiment-level analysis: AUC versus control against a hand computation."""

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.experiments.analysis import auc_versus_control


def test_auc_versus_control_matches_hand_computation():
    days = [0.0, 1.0, 3.0]
    values = {  # mouse: (group, values on days)
        "a1": ("FMS", [10.0, 6.0, 8.0]),
        "a2": ("FMS", [12.0, 7.0, 9.0]),
        "a3": ("FMS", [11.0, 8.0, 11.0]),
        "c1": ("HC", [10.0, 10.0, 11.0]),
        "c2": ("HC", [12.0, 11.0, 12.0]),
        "c3": ("HC", [9.0, 9.5, 9.0]),
    }
    rows = [
        {"mouse": m, "group": g, "donor": g, "day": d, "test": "paw", "value": v}
        for m, (g, vs) in values.items()
        for d, v in zip(days, vs, strict=True)
    ]
    table = auc_versus_control(pd.DataFrame(rows), control="HC", baseline_day=0.0)

    def auc(vs):
        return np.trapezoid(np.array(vs) - vs[0], days)

    fms = [auc(vs) for g, vs in values.values() if g == "FMS"]
    hc = [auc(vs) for g, vs in values.values() if g == "HC"]
    row = table.iloc[0]
    assert row["group"] == "FMS" and row["n_group"] == 3
    np.testing.assert_allclose(row["auc_group"], np.mean(fms))
    np.testing.assert_allclose(row["difference"], np.mean(fms) - np.mean(hc))
    np.testing.assert_allclose(row["p_value"], stats.ttest_ind(fms, hc, equal_var=False).pvalue)
    assert row["ci_low"] < row["difference"] < row["ci_high"]
