"""Analyse a passive-transfer data set as a lab would: per readout, per donor, onset and recovery.

The same functions serve simulated data (``fmsim reproduce``) and a lab's tidy table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.stats.repeated_measures import (
    ReadoutAnalysis,
    analyze_readout,
    area_under_curve,
    hedges_g,
)

EFFECT_WINDOW = (1.0, 10.0)  # days averaged per mouse for donor-level tests (Goebel 2021: 10 days)


@dataclass(frozen=True)
class PassiveTransferAnalysis:
    readouts: dict[str, ReadoutAnalysis]  # behavioural tests over days (mixed model + post hoc)
    endpoint: dict[str, pd.DataFrame]  # single-day tests such as IENFD: Welch vs control
    time_course: pd.DataFrame  # readout, disease group, first and last significant day
    donors: pd.DataFrame  # per donor and readout: % change vs baseline, p vs control
    auc: pd.DataFrame  # per test and group: baseline-corrected AUC vs control (Welch, Hedges' g)

    def significant_days(self, group: str) -> dict[str, list[float]]:
        """Per test over days: the days on which ``group`` differs from control (Holm)."""
        return {
            test: a.posthoc.loc[
                (a.posthoc["group"] == group) & a.posthoc["significant"], "day"
            ].tolist()
            for test, a in self.readouts.items()
        }


def time_course_tests(measurements: pd.DataFrame) -> list[str]:
    """Tests measured on more than one day (analysed over time), in order of appearance."""
    days = measurements.groupby("test", sort=False)["day"].nunique()
    return days.index[days > 1].tolist()


def analyze_passive_transfer(
    measurements: pd.DataFrame, control: str, disease_group: str, baseline_day: float = 0.0
) -> PassiveTransferAnalysis:
    """Run the group x day analysis for every test and the donor-level comparisons."""
    readouts, endpoint = {}, {}
    over_time = time_course_tests(measurements)
    for test, data in measurements.groupby("test", sort=False):
        if test in over_time:
            readouts[test] = analyze_readout(data, control=control, baseline_day=baseline_day)
        else:
            endpoint[test] = analyze_readout_single_day(data, control)
    return PassiveTransferAnalysis(
        readouts=readouts,
        endpoint=endpoint,
        time_course=_time_course(readouts, disease_group),
        donors=donor_effects(measurements, control, disease_group, baseline_day),
        auc=auc_versus_control(measurements, control, baseline_day),
    )


def analyze_readout_single_day(data: pd.DataFrame, control: str) -> pd.DataFrame:
    """Welch t-test of each group against the control for a one-day readout (e.g. IENFD)."""
    reference = data.loc[data["group"] == control, "value"].to_numpy()
    rows = []
    for group, values in data.groupby("group", sort=False)["value"]:
        if group == control:
            continue
        test = stats.ttest_ind(values.to_numpy(), reference, equal_var=False)
        ci = test.confidence_interval()
        rows.append(
            {
                "group": group,
                "day": float(data["day"].iloc[0]),
                "mean_group": values.mean(),
                "mean_control": reference.mean(),
                "difference": values.mean() - reference.mean(),
                "ci_low": ci.low,
                "ci_high": ci.high,
                "p_value": test.pvalue,
            }
        )
    return pd.DataFrame(rows)


def auc_versus_control(
    measurements: pd.DataFrame, control: str, baseline_day: float
) -> pd.DataFrame:
    """Per test over days: each mouse's area under its baseline-corrected time course
    (value-units x days, trapezoid) compared between each group and the control
    (Welch t-test with 95% CI; Hedges' g with approximate 95% CI)."""
    rows = []
    for test in time_course_tests(measurements):
        data = measurements[measurements["test"] == test]
        with_baseline = data.groupby("mouse")["day"].transform(lambda d: (d == baseline_day).any())
        auc = area_under_curve(data[with_baseline], baseline_day)
        reference = auc.loc[auc["group"] == control, "auc"].to_numpy()
        for group, values in auc.groupby("group", sort=False)["auc"]:
            if group == control or len(values) < 2 or len(reference) < 2:
                continue
            welch = stats.ttest_ind(values.to_numpy(), reference, equal_var=False)
            ci = welch.confidence_interval()
            g, g_low, g_high = hedges_g(values.to_numpy(), reference)
            rows.append(
                {
                    "test": test,
                    "group": group,
                    "n_group": len(values),
                    "n_control": len(reference),
                    "auc_group": values.mean(),
                    "auc_control": reference.mean(),
                    "difference": values.mean() - reference.mean(),
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "p_value": welch.pvalue,
                    "hedges_g": g,
                    "g_ci_low": g_low,
                    "g_ci_high": g_high,
                }
            )
    return pd.DataFrame(rows)


def _time_course(readouts: dict[str, ReadoutAnalysis], disease_group: str) -> pd.DataFrame:
    rows = []
    for test, analysis in readouts.items():
        post = analysis.posthoc[analysis.posthoc["group"] == disease_group]
        significant = post.loc[post["significant"], "day"]
        rows.append(
            {
                "test": test,
                "group": disease_group,
                "first_significant_day": significant.min() if len(significant) else np.nan,
                "last_significant_day": significant.max() if len(significant) else np.nan,
                "largest_difference": post.loc[post["difference"].abs().idxmax(), "difference"]
                if len(post)
                else np.nan,
                "p_interaction": analysis.omnibus.loc["group:day", "p_value"],
            }
        )
    return pd.DataFrame(rows)


def donor_effects(measurements, control, disease_group, baseline_day) -> pd.DataFrame:
    """Per donor of the disease group: mean % change from baseline over the effect window,
    Welch t-test of the donor's mice against the control group's mice (two-sided)."""
    data = measurements[measurements["day"] != baseline_day]
    baseline = measurements[measurements["day"] == baseline_day].set_index(["mouse", "test"])
    rows = []
    for test, per_test in data.groupby("test", sort=False):
        if per_test["day"].nunique() < 2:
            continue
        window = per_test[per_test["day"].between(*EFFECT_WINDOW)]
        mean = window.groupby(["mouse", "group", "donor"], as_index=False)["value"].mean()
        keys = pd.MultiIndex.from_arrays([mean["mouse"], [test] * len(mean)])
        base = baseline["value"].reindex(keys).to_numpy()
        mean["change_percent"] = 100.0 * (mean["value"].to_numpy() / base - 1.0)
        mean = mean[np.isfinite(mean["change_percent"])]  # mice without a baseline value
        reference = mean.loc[mean["group"] == control, "change_percent"]
        for donor, sub in mean[mean["group"] == disease_group].groupby("donor"):
            p = stats.ttest_ind(sub["change_percent"], reference, equal_var=False).pvalue
            rows.append(
                {
                    "donor": donor,
                    "test": test,
                    "n_mice": len(sub),
                    "change_percent": sub["change_percent"].mean(),
                    "control_change_percent": reference.mean(),
                    "p_value": p,
                    "effect": bool(p < 0.05),
                }
            )
    return pd.DataFrame(rows)
