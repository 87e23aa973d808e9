"""Counting detected donors over seeds."""

from __future__ import annotations

import pandas as pd

from fmsim.calibration.donor_detection import detected_donors, distribution
from fmsim.config import PassiveTransferConfig


def test_distribution_counts_shares_per_readout():
    table = pd.DataFrame(
        {"seed": [0, 1, 2, 3], "test": "paw", "detected": [8, 8, 7, 6], "donors": 8}
    )
    row = distribution(table).loc["paw"]
    assert row["mean"] == 7.25 and row["min"] == 6 and row["max"] == 8
    assert row["p_8"] == 0.5 and row["p_7"] == 0.25 and row["p_6"] == 0.25


def test_a_strong_donor_is_detected_and_a_null_donor_rarely():
    config = PassiveTransferConfig(
        test_days=[0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0],
        ienfd_days=[],
        readouts=["paw_pressure_threshold"],
        groups=[
            {"name": "FMS-IgG", "material": "igg", "mice_per_donor": 5,
             "donors": [{"id": "strong", "anti_sgc_fraction": 0.01},
                        {"id": "null", "anti_sgc_fraction": 0.0}]},
            {"name": "HC-IgG", "material": "igg", "mice": 10,
             "donors": [{"id": "H", "anti_sgc_fraction": 0.0}]},
        ],
    )  # fmt: skip
    table = detected_donors([0, 1], config)
    assert list(table["detected"]) == [1, 1] and set(table["donors"]) == {2}
