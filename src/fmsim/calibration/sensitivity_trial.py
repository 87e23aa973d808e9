"""Sensitivity analysis ``trial``: effect and power of a virtual trial.

Inputs: the population median of ``antibody_pain_gain`` (lognormal, median and CV of
clinical.yaml, the prior of docs/calibration.md) and the share of anti-SGC-positive patients
(normal, 68 of 184 sera in Seefried et al., Pain 2025: mean 0.37, binomial SD 0.036). For a
parallel placebo-controlled trial (default :data:`DEFAULT_TRIAL`), replicate trials with common
random numbers (the trial's seed for every parameter set):

* ``trial_effect``: mean primary-endpoint effect over the replicates (treatment - placebo,
  NRS points);
* ``trial_power``: power of the primary analysis at the configured alpha, from the mean effect
  and the root-mean-square standard error of the replicates (normal approximation; smoother in
  the inputs than the share of significant replicates).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.assays import clinical
from fmsim.calibration.sensitivity import Analysis, lognormal_input
from fmsim.config.trial import TrialConfig, parse_trial_config
from fmsim.experiments.trial import replicate_effects, simulate_trial, treatment_arms

DEFAULT_TRIAL = {
    "name": "efgartigimod 10 mg/kg i.v. weekly x4 vs placebo, 6 weeks (sensitivity)",
    "seed": 2026,
    "patients": 60,
    "duration_weeks": 6,
    "population": {"anti_sgc_positive_fraction": 0.37, "enrichment": "none"},
    "arms": [
        {"name": "placebo", "therapies": [{"type": "placebo"}]},
        {
            "name": "efgartigimod",
            "therapies": [
                {
                    "type": "fcrn_inhibitor",
                    "drug": "efgartigimod",
                    "route": "iv",
                    "dose": "10 mg/kg",
                    "max_dose": "1200 mg",
                    "start": 0,
                    "every": 7,
                    "count": 4,
                }
            ],  # fmt: skip
        },
    ],
    "control_arm": "placebo",
    "primary": {"outcome": "pain_nrs", "week": 6, "analysis": "ancova"},
}
TRIAL_REPLICATES = 20
#: Share of anti-SGC-positive FMS patients: Seefried et al., Pain 2025, 68 of 184 sera.
POSITIVE, SCREENED = 68, 184
GAIN, SHARE = "antibody_pain_gain", "anti_sgc_positive_fraction"
TRIAL_OUTPUTS = {
    "trial_effect": ("unit of the primary outcome", "mean primary effect, treatment - control"),
    "trial_power": ("1", "power of the primary analysis (normal approximation)"),
}


def trial_outputs(
    samples: pd.DataFrame, config: TrialConfig, replicates: int = TRIAL_REPLICATES
) -> pd.DataFrame:
    """Effect and power of ``config`` for each row (gain, positive share): ``replicates``
    trials per row, all rows with the trial's seed (common random numbers)."""
    params = clinical.load_clinical_parameters()
    arm = treatment_arms(config)[0]
    critical = stats.norm.ppf(1.0 - config.power.alpha / 2.0)
    rows = []
    for gain, share in zip(samples[GAIN], samples[SHARE], strict=True):
        simulation = simulate_trial(
            config,
            replicates=replicates,
            anti_sgc_positive_fraction=float(np.clip(share, 0.0, 1.0)),
            keep_courses=False,
            clinical_parameters=params.with_values(antibody_pain_gain=float(gain)),
        )
        effects = replicate_effects(config, simulation.visits, config.primary, arm)
        effect = float(effects["estimate"].mean())
        z = abs(effect) / math.sqrt(float(np.mean(effects["se"] ** 2)))
        power = stats.norm.cdf(z - critical) + stats.norm.cdf(-z - critical)
        rows.append({"trial_effect": effect, "trial_power": float(power)})
    return pd.DataFrame(rows)


def trial_analysis(
    config: TrialConfig | None = None, replicates: int = TRIAL_REPLICATES
) -> Analysis:
    """Trial effect and power over the pain gain's and the positive share's uncertainty."""
    config = config or parse_trial_config(DEFAULT_TRIAL, "the sensitivity study's trial")
    gain = clinical.load_clinical_parameters()[GAIN]
    share = POSITIVE / SCREENED
    problem = {
        "num_vars": 2,
        "names": [GAIN, SHARE],
        "bounds": [lognormal_input(gain.value, gain.cv)[0],
                   [share, math.sqrt(share * (1.0 - share) / SCREENED)]],
        "dists": ["lognorm", "norm"],
    }  # fmt: skip
    sources = {
        GAIN: f"clinical.yaml median {gain.value:g}, CV {gain.cv:g} ({gain.source})",
        SHARE: f"Seefried et al., Pain 2025: {POSITIVE} of {SCREENED} FMS sera bound SGCs "
        "(binomial standard error)",
    }
    return Analysis(
        "trial",
        f"{config.name}: {config.patients} patients, {replicates} replicate trials per set",
        problem,
        TRIAL_OUTPUTS,
        partial(trial_outputs, config=config, replicates=replicates),
        sources,
        chunk_sets=4,  # x replicates trials
    )
