"""A small calibration problem shared by the calibration tests: one FMS donor's typical mouse
(8 mg x 4, anti-SGC fraction 0.005) and paw-pressure group means on 8 days (normal noise, 5 g);
and a small trial for the sensitivity tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmsim.calibration.objective import Objective
from fmsim.calibration.problem import Condition, make_problem
from fmsim.calibration.sensitivity_trial import DEFAULT_TRIAL
from fmsim.config.trial import parse_trial_config

DAYS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0)
SIGMA = 5.0  # g
CONDITION = Condition("c_FMS1", 8.0, (0.0, 1.0, 2.0, 3.0), 0.005)


def paw_measurements(values=None) -> pd.DataFrame:
    values = np.full(len(DAYS), 150.0) if values is None else values
    return pd.DataFrame(
        {
            "condition": CONDITION.id,
            "observable": "paw_pressure_threshold",
            "time": DAYS,
            "value": values,
            "noise": SIGMA,
            "noise_distribution": "normal",
        }
    )


def simulated_problem(names: list[str], seed: int):
    """A problem whose data are the nominal model plus normal noise (seeded), and the truth."""
    template = make_problem([CONDITION], paw_measurements(), names)
    truth = Objective(template).predictions(template.nominal_scaled[None])[0]
    noise = SIGMA * np.random.default_rng(seed).standard_normal(truth.size)
    problem = make_problem([CONDITION], paw_measurements(truth + noise), names)
    return problem, truth


@pytest.fixture(scope="session")
def noise_free_truth():
    return simulated_problem(["sensitisation_occupancy50"], 0)[1]


@pytest.fixture(scope="module")
def small_trial():
    return parse_trial_config(
        DEFAULT_TRIAL | {"patients": 30, "duration_weeks": 4,
                         "primary": {"outcome": "pain_nrs", "week": 4, "analysis": "ancova"}}
    )  # fmt: skip
