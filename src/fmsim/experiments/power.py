"""Simulation-based power for a planned passive-transfer study.

For each design (mice per group, dose, donor anti-SGC fraction) fmsim simulates many replicate
two-group experiments (FMS-IgG from one donor versus HC-IgG) with the model, analyses each with
the primary analysis below, and reports the fraction of replicates with p < alpha.

Primary analysis (one number per mouse, robust and fast): the mean percentage change from the
day-0 baseline over the test days in the effect window, compared between groups with Welch's
t-test (two-sided). All replicates of one design come from one batched simulation; mice are
independent draws, so splitting the batch into replicates is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from fmsim.config import PassiveTransferConfig
from fmsim.config.errors import format_validation_error
from fmsim.experiments.passive_transfer import run_passive_transfer

DISEASE, CONTROL = "FMS-IgG", "HC-IgG"


@dataclass(frozen=True)
class PowerDesign:
    """One planned experiment. ``test_days`` after baseline day 0 form the effect window."""

    mice_per_group: int
    dose: str = "8 mg"
    anti_sgc_fraction: float = 0.005
    endpoint: str = "paw_pressure_threshold"
    test_days: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 5.0, 7.0)
    injection_days: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0)


@dataclass(frozen=True)
class PowerEstimate:
    design: PowerDesign
    power: float
    ci_low: float  # 95% Wilson interval of the Monte-Carlo estimate
    ci_high: float
    replicates: int
    mean_difference_percent: float  # FMS minus HC, mean % change from baseline


@dataclass(frozen=True)
class ReplicateResults:
    """Per replicate experiment: Welch p-value, FMS minus HC difference in mean % change from
    baseline, and its 95% Welch confidence interval (percentage points)."""

    pvalues: np.ndarray
    differences: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def simulate_replicates(design: PowerDesign, replicates: int, seed: int) -> ReplicateResults:
    """Simulate and analyse ``replicates`` independent experiments of ``design``."""
    config = experiment_config(design, design.mice_per_group * replicates, seed)
    data = run_passive_transfer(config).measurements
    change = percent_change_from_baseline(data)
    disease = change[DISEASE].reshape(replicates, design.mice_per_group)
    control = change[CONTROL].reshape(replicates, design.mice_per_group)
    test = stats.ttest_ind(disease, control, axis=1, equal_var=False)
    interval = test.confidence_interval(0.95)
    return ReplicateResults(
        pvalues=test.pvalue,
        differences=disease.mean(axis=1) - control.mean(axis=1),
        ci_low=interval.low,
        ci_high=interval.high,
    )


def experiment_config(design: PowerDesign, n: int, seed: int) -> PassiveTransferConfig:
    """A two-group experiment (one FMS donor versus HC) with ``n`` mice per group; raises
    :class:`fmsim.config.ConfigError` if the design is invalid (dose, endpoint, days)."""
    try:
        return PassiveTransferConfig(
            name="power",
            seed=seed,
            dose=design.dose,
            injection_days=list(design.injection_days),
            test_days=list(design.test_days),
            ienfd_days=[],
            readouts=[design.endpoint],
            groups=[
                {
                    "name": DISEASE,
                    "material": "igg",
                    "mice": n,
                    "donors": [{"id": "FMS", "anti_sgc_fraction": design.anti_sgc_fraction}],
                },
                {
                    "name": CONTROL,
                    "material": "igg",
                    "mice": n,
                    "donors": [{"id": "HC", "anti_sgc_fraction": 0.0}],
                },
            ],
            control_group=CONTROL,
            disease_group=DISEASE,
        )
    except ValidationError as error:
        raise format_validation_error("power design", error) from None


def percent_change_from_baseline(data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per mouse: mean % change from its day-0 value over the later test days, by group,
    in the cohort's mouse order."""
    baseline = data[data["day"] == 0.0].set_index("mouse")["value"]
    later = data[data["day"] > 0.0].groupby("mouse", sort=False)["value"].mean()
    change = 100.0 * (later / baseline.loc[later.index] - 1.0)
    groups = data.drop_duplicates("mouse").set_index("mouse")["group"].loc[later.index]
    return {g: change[groups == g].to_numpy() for g in (DISEASE, CONTROL)}


def estimate_power(
    design: PowerDesign, replicates: int = 200, seed: int = 1, alpha: float = 0.05
) -> PowerEstimate:
    """Monte-Carlo power of ``design`` with its 95% Wilson confidence interval."""
    return power_from_table(design, replicate_table(design, replicates, seed), alpha)


def replicate_table(design: PowerDesign, replicates: int, seed: int) -> pd.DataFrame:
    """:func:`simulate_replicates` as a table (one row per replicate experiment: p_value,
    difference, ci_low, ci_high), e.g. one stored chunk of a power study."""
    results = simulate_replicates(design, replicates, seed)
    return pd.DataFrame(
        {
            "p_value": results.pvalues,
            "difference": results.differences,
            "ci_low": results.ci_low,
            "ci_high": results.ci_high,
        }
    )


def power_from_table(design: PowerDesign, table: pd.DataFrame, alpha: float) -> PowerEstimate:
    """Power of ``design`` from its :func:`replicate_table`, with the 95% Wilson interval."""
    replicates = len(table)
    hits = int(np.sum(table["p_value"].to_numpy() < alpha))
    low, high = proportion_confint(hits, replicates, alpha=0.05, method="wilson")
    return PowerEstimate(
        design,
        hits / replicates,
        float(low),
        float(high),
        replicates,
        float(table["difference"].mean()),
    )


def smallest_n(estimates: list[PowerEstimate], target: float = 0.8) -> int | None:
    """Smallest mice per group whose estimated power reaches ``target`` (None if none do)."""
    reached = [e.design.mice_per_group for e in estimates if e.power >= target]
    return min(reached) if reached else None
