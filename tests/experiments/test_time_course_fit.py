"""The time-course scan: monotone, discriminating, and consistent with the engine."""

import numpy as np

from fmsim.experiments.time_course_fit import TimeCourseCriteria, scan_time_course

GRID = {
    "anti_sgc_fraction": (0.002, 0.005, 0.012),
    "sensitisation_turnover": (0.5, 1.0, 2.0),
    "ada_clearance_rate": (0.0, 0.3),
}


def test_recovery_is_later_for_higher_titre_and_earlier_with_anti_human_igg():
    scan = scan_time_course(GRID)
    no_ada = scan[scan["ada_clearance_rate"] == 0.0]
    for _, rows in no_ada.groupby("sensitisation_turnover"):
        days = rows.sort_values("anti_sgc_fraction")["recovery_day_after_last_dose"].to_numpy()
        assert np.all(np.diff(days) > 0)
    with_ada = scan[scan["ada_clearance_rate"] == 0.3].set_index(
        ["anti_sgc_fraction", "sensitisation_turnover"]
    )["recovery_day_after_last_dose"]
    without = no_ada.set_index(["anti_sgc_fraction", "sensitisation_turnover"])[
        "recovery_day_after_last_dose"
    ]
    # anti-human IgG (onset ~day 14, 11 days after the last dose) shortens only later recoveries
    late = without > 11.0
    assert (with_ada[late] < without[late]).all()
    assert (with_ada[~late] == without[~late]).all()


def test_criteria_discriminate_between_combinations():
    scan = scan_time_course(GRID)
    assert 0 < scan["fits"].sum() < len(scan)
    # the lowest titre recovers too early (< 14 days after the last dose) and cannot fit
    assert not scan.loc[scan["anti_sgc_fraction"] == 0.002, "fits"].any()


def test_fits_follow_the_stated_criteria():
    criteria = TimeCourseCriteria()
    scan = scan_time_course(GRID, criteria)
    recomputed = (
        (scan["onset_fraction"] >= criteria.onset_fraction)
        & (scan["maintained_fraction"] >= criteria.maintained_fraction)
        & scan["recovery_day_after_last_dose"].between(*criteria.recovery_window)
    )
    assert (recomputed == scan["fits"]).all()
    assert (scan["peak_sensitisation"] > 1.0).all()
