"""``antibody_pain_gain`` from the human association data: a likelihood from significance.

The cohorts that related anti-SGC IgG to pain report significance, not effect sizes (the
coefficients were not found; see the reference data). One of them states its size: af Ekenstam
et al. found anti-SGC IgG levels correlated with pain intensity among 93 FM patients. The
probability that a cohort of that size shows a significant positive correlation depends on the
gain g (NRS points per unit of S - 1), so the report is a likelihood for g:

    L(g) = P(Spearman correlation of measured anti-SGC IgG and pain > 0, p < 0.05 | g, n = 93)

estimated by simulating cohorts: virtual FM patients from the human model (anti-SGC positive
with the parameter file's probability, steady-state sensitisation S), one pain rating each from
the trial layer's diary (baseline pain, gain x (S - 1), day-to-day fluctuation; no placebo), and
a measured anti-SGC level = the patient's anti-SGC IgG x log-normal assay noise
(:data:`ASSAY_CV`) + a log-normal background binding present in every serum
(:data:`BACKGROUND_MEDIAN`, :data:`BACKGROUND_CV`) - both assumed, as the cell-culture assay's
noise was not found. The posterior on a grid combines L(g) with the parameter file's lognormal
prior (median and CV as assumed there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.assays import clinical
from fmsim.experiments import therapy
from fmsim.model.human import HUMAN_MODEL, initial_state

COHORT = 93  # FM patients in the af Ekenstam correlation
ALPHA = 0.05
ASSAY_CV = 0.3  # assumed
BACKGROUND_MEDIAN = 0.1  # assumed: background binding, as a fraction of the median positive level
BACKGROUND_CV = 0.5  # assumed


@dataclass(frozen=True)
class GainEstimate:
    """Grid of gains with likelihood and posterior; prior median and CV from clinical.yaml."""

    table: pd.DataFrame  # gain, p_significant, prior, posterior (normalised on the grid)
    prior_median: float
    prior_cv: float

    def quantile(self, q: float, column: str = "posterior") -> float:
        cdf = np.cumsum(self.table[column]) / self.table[column].sum()
        return float(np.interp(q, cdf, self.table["gain"]))


def significance_probability(
    gains: np.ndarray, replicates: int = 200, seed: int = 0, n: int = COHORT
) -> np.ndarray:
    """P(significant positive Spearman correlation) for each gain, common random numbers."""
    rng = np.random.default_rng(seed)
    params = clinical.load_clinical_parameters()
    total = n * replicates
    population = therapy.sample_population(total, rng)
    excess = initial_state(population.patients())[HUMAN_MODEL.index("sensitisation")] - 1.0
    level = population.covariates()["anti_sgc_baseline"].to_numpy()
    reference = np.median(level[level > 0])
    sigma_a, sigma_b = (np.sqrt(np.log1p(cv**2)) for cv in (ASSAY_CV, BACKGROUND_CV))
    measured = level * np.exp(sigma_a * rng.standard_normal(total)) + (
        BACKGROUND_MEDIAN * reference * np.exp(sigma_b * rng.standard_normal(total))
    )
    traits = clinical.sample_patients(total, rng, params)
    relative_gain = traits.antibody_pain_gain / params["antibody_pain_gain"].value
    without = clinical.pain_diary(
        np.array([-1]), np.ones((total, 1)), traits, np.random.default_rng(seed + 1), params
    )[:, 0]
    out = []
    for gain in np.asarray(gains, dtype=float):
        pain = np.clip(np.round(without + gain * relative_gain * excess), 0, 10)
        rho, p = _spearman(measured.reshape(replicates, n), pain.reshape(replicates, n))
        out.append(float(np.mean((rho > 0) & (p < ALPHA))))
    return np.array(out)


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Spearman correlation and its two-sided p value (t approximation)."""
    rx, ry = (stats.rankdata(a, axis=1) for a in (x, y))
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(1) / np.sqrt((rx**2).sum(1) * (ry**2).sum(1))
        df = x.shape[1] - 2
        t = rho * np.sqrt(df / (1.0 - rho**2))
    return np.nan_to_num(rho), 2.0 * stats.t.sf(np.abs(np.nan_to_num(t)), df)


def estimate_gain(
    gains: np.ndarray | None = None, replicates: int = 200, seed: int = 0
) -> GainEstimate:
    """Likelihood, prior and posterior of the gain on a grid (NRS points per unit S - 1)."""
    gains = np.linspace(0.0, 8.0, 161) if gains is None else np.asarray(gains, dtype=float)
    prior_p = clinical.load_clinical_parameters()["antibody_pain_gain"]
    sigma = np.sqrt(np.log1p(prior_p.cv**2))
    with np.errstate(divide="ignore"):
        prior = stats.lognorm.pdf(gains, s=sigma, scale=prior_p.value)
    likelihood = significance_probability(gains, replicates, seed)
    posterior = prior * likelihood
    table = pd.DataFrame(
        {
            "gain": gains,
            "p_significant": likelihood,
            "prior": prior / prior.sum(),
            "posterior": posterior / posterior.sum(),
        }
    )
    return GainEstimate(table, prior_p.value, prior_p.cv)


def trial_effect_by_gain(
    config, gains: dict[str, float], replicates: int = 40, seed: int | None = None
) -> pd.DataFrame:
    """Primary-endpoint effect (mean over replicate trials) and power of the trial ``config``
    (:class:`fmsim.config.trial.TrialConfig`) at each labelled median gain, with the same
    virtual patients and noise for every gain (same seed)."""
    from fmsim.experiments.trial import primary_results, simulate_trial
    from fmsim.stats.trial import power_from_replicates

    params = clinical.load_clinical_parameters()
    rows = []
    for label, gain in gains.items():
        simulation = simulate_trial(
            config,
            replicates=replicates,
            seed=seed,
            keep_courses=False,
            clinical_parameters=params.with_values(antibody_pain_gain=gain),
        )
        results = primary_results(simulation)
        power = power_from_replicates(results["p_value"], config.power.alpha)
        rows.append(
            {
                "gain": label,
                "antibody_pain_gain": gain,
                "mean_effect": float(results["estimate"].mean()),
                "power": power.power,
                "power_ci_low": power.ci_low,
                "power_ci_high": power.ci_high,
                "replicates": len(results),
            }
        )
    return pd.DataFrame(rows)
