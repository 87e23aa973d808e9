"""Write the data sets that make_reference.R fits (deterministic; run from the repo root).

    .venv/bin/python tests/stats/reference/make_data.py
    Rscript tests/stats/reference/make_reference.R

Visits tables (patient, arm, week, value; week 0 = baseline) for ANCOVA and MMRM, crossover
tables (patient, sequence, period, treatment, value, baseline) for the crossover mixed model.
Values are pain-like scores (outcome units, about 0-10). Everything is simulated here with
fixed seeds; ``crossover_nct05643794`` comes from fmsim's own trial simulator (the
NCT05643794-like example: 63 patients, three sequences including placebo-placebo).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent / "data"
PLACEBO, DRUG = "placebo", "drug"


def visits(
    seed: int,
    n_placebo: int,
    n_drug: int,
    n_weeks: int,
    effect: float,
    dropout: float,
    intermittent: float = 0.0,
) -> pd.DataFrame:
    """Weekly values with AR(1)-like correlation (rho 0.7, SD rising over weeks), an effect
    growing linearly to ``effect`` at the last week, dropout missing at random (after a week
    with a value above 6.5 a patient leaves with probability ``dropout``) and intermittent
    missing post-baseline visits with probability ``intermittent``."""
    rng = np.random.default_rng(seed)
    weeks = np.arange(n_weeks + 1)
    sd = 1.2 + 0.1 * weeks
    cov = np.outer(sd, sd) * 0.7 ** np.abs(weeks[:, None] - weeks[None, :])
    n = n_placebo + n_drug
    y = rng.multivariate_normal(6.0 - 0.15 * weeks, cov, size=n)
    treated = np.arange(n) >= n_placebo
    y[treated] += effect * weeks / n_weeks
    present = np.ones_like(y, dtype=bool)
    for w in range(1, n_weeks + 1):
        leave = (y[:, w - 1] > 6.5) & (rng.random(n) < dropout)
        present[:, w] = present[:, w - 1] & ~leave
    present[:, 1:] &= rng.random((n, n_weeks)) >= intermittent
    table = pd.DataFrame(
        {
            "patient": np.repeat([f"p{i:03d}" for i in range(n)], n_weeks + 1),
            "arm": np.repeat(np.where(treated, DRUG, PLACEBO), n_weeks + 1),
            "week": np.tile(weeks, n),
            "value": y.ravel().round(6),
        }
    )
    return table.loc[present.ravel()].reset_index(drop=True)


def crossover(seed: int, n_per_sequence: int, between_sd: float, missing: int) -> pd.DataFrame:
    """AB/BA crossover with patient levels of SD ``between_sd``, within SD 0.8, period effect
    +0.3, treatment effect -0.6 and a baseline; ``missing`` patients lack period 2. With
    ``between_sd`` = 0 the two period values of a patient are negatively correlated, so the
    REML between-patient variance sits on its boundary at 0."""
    rng = np.random.default_rng(seed)
    rows = []
    for sequence, order in (("AB", (PLACEBO, DRUG)), ("BA", (DRUG, PLACEBO))):
        for i in range(n_per_sequence):
            level = rng.normal(0.0, between_sd)
            baseline = 6.5 + level + rng.normal(0.0, 0.7)
            first = rng.normal(0.0, 0.8)
            for period, treatment in enumerate(order, start=1):
                noise = first if period == 1 else -0.6 * first + rng.normal(0.0, 0.64)
                noise = noise if between_sd == 0 else rng.normal(0.0, 0.8)
                value = 6.0 + level + 0.3 * (period == 2) - 0.6 * (treatment == DRUG) + noise
                rows.append((f"{sequence}{i:02d}", sequence, period, treatment, value, baseline))
    table = pd.DataFrame(
        rows, columns=["patient", "sequence", "period", "treatment", "value", "baseline"]
    ).round(6)
    lost = rng.choice(table["patient"].unique(), size=missing, replace=False)
    return table.loc[~(table["patient"].isin(lost) & (table["period"] == 2))]


def nct05643794_like() -> pd.DataFrame:
    """One trial of the NCT05643794-like example (BPI-SF interference period values)."""
    from fmsim.config.trial import load_trial_config
    from fmsim.experiments.trial import crossover_table, simulate_trial

    root = Path(__file__).parents[3]
    config = load_trial_config(root / "examples/trials/rozanolixizumab_nct05643794.yaml")
    simulation = simulate_trial(config, seed=5, keep_courses=False)
    table = crossover_table(config, simulation.visits, "bpi_interference")
    return table.round(6)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    datasets = {
        "visits_complete": visits(1, 20, 20, 3, -0.8, 0.0),
        "visits_dropout": visits(2, 35, 25, 4, -0.7, 0.25),
        "visits_intermittent": visits(3, 30, 40, 5, -0.6, 0.15, intermittent=0.1),
        "visits_small": visits(4, 9, 7, 4, -1.0, 0.2),
        "crossover_ab": crossover(5, 20, 1.2, missing=4),
        "crossover_zero_between": crossover(6, 14, 0.0, missing=0),
        "crossover_nct05643794": nct05643794_like(),
    }
    for name, table in datasets.items():
        table.to_csv(HERE / f"{name}.csv", index=False)


if __name__ == "__main__":
    main()
