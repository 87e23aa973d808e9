"""How many donors does the in-silico Goebel 2021 study detect, seed after seed?

The study reports mechanical hypersensitivity with IgG of 8 of 8 FMS donors and cold
hypersensitivity with 7 of 8 (Goebel et al., J Clin Invest 2021). In silico, the number of
detected donors depends on the seed (which mice, which noise); :func:`detected_donors` runs the
default design over many seeds and counts, per readout, the donors whose mice differ from the
HC-IgG mice (the donor-level test of :mod:`fmsim.experiments.analysis`: Welch t-test of the mean
% change over days 1-10, p < 0.05).
"""

from __future__ import annotations

import pandas as pd

from fmsim.config import PassiveTransferConfig, default_config
from fmsim.experiments.analysis import donor_effects
from fmsim.experiments.passive_transfer import run_passive_transfer
from fmsim.model.parameters import ParameterSet


def detected_donors(
    seeds: range | list[int],
    config: PassiveTransferConfig | None = None,
    parameters: ParameterSet | None = None,
) -> pd.DataFrame:
    """One row per seed and readout: donors detected, donors tested."""
    config = config or default_config()
    rows = []
    for seed in seeds:
        run = run_passive_transfer(config.model_copy(update={"seed": seed}), parameters)
        donors = donor_effects(run.measurements, config.control_group, config.disease_group, 0.0)
        for test, table in donors.groupby("test", sort=False):
            rows.append(
                {
                    "seed": seed,
                    "test": test,
                    "detected": int(table["effect"].sum()),
                    "donors": len(table),
                }  # fmt: skip
            )
    return pd.DataFrame(rows)


def distribution(table: pd.DataFrame) -> pd.DataFrame:
    """Per readout: mean and range of detected donors and the share of seeds with each count."""
    counts = table.pivot_table(index="test", columns="detected", values="seed", aggfunc="count")
    counts = counts.fillna(0).div(table.groupby("test")["seed"].nunique(), axis=0)
    summary = table.groupby("test")["detected"].agg(["mean", "min", "max"])
    return summary.join(counts.add_prefix("p_"))
