"""Clinical outcome instruments for virtual fibromyalgia trials.

Turns the latent disease state of virtual patients - nociceptor sensitisation ``S(t) >= 1`` per
patient and day, from the mechanistic model - into what a fibromyalgia trial records: a daily pain
diary, visit questionnaires and the ACR 2016 diagnostic criteria, with between-patient
variability, an expectation (placebo) response and dropout. Every parameter, with unit, value and
source (or "assumed" with a reason), is in ``fmsim/model/data/clinical.yaml``.

Daily pain diary (0-10 numeric rating scale, integers)
-----------------------------------------------------
``pain_i(d) = clip(round(B_i + g_i (S_i(d) - 1) - f_i B_i (1 - exp(-d / tau)) + e_i(d)), 0, 10)``

* ``B_i`` (``baseline_pain``): pain not driven by antibodies; normal, clipped to [0, 10].
* ``g_i`` (``antibody_pain_gain``): NRS points per unit of ``S - 1``; lognormal.
* Expectation (placebo) response: from the first dose (study day 0) a fraction ``f_i``
  (``placebo_relief``, beta-distributed between patients) of ``B_i`` is relieved, reached with
  time constant ``tau`` (``placebo_onset_time``). It stands for everything a blinded placebo arm
  shows (expectation, regression to the mean, natural course) and applies in every arm of a
  blinded trial; it is not a drug effect. Nocebo worsening is not modelled (worse days come from
  the fluctuation only). Calibrated so that a 12-week placebo arm has 30.8% >=30% and 18.8% >=50%
  responders (Haeuser et al. Schmerz 2011); see :func:`placebo_responder_rates`.
* ``e_i(d)``: day-to-day fluctuation, a stationary AR(1) process with per-patient SD
  (``pain_fluctuation_sd``, lognormal) and lag-1 autocorrelation ``pain_autocorrelation``
  (``rho ** gap`` across gaps of several days). The link of high fluctuation with high placebo
  response (Harris et al. 2005) is not modelled.

Study days: day 0 is the first dose; run-in (baseline) days are negative. Week ``w`` is days
``7(w-1) <= d < 7w`` (week 0 = the baseline week, days -7 to -1); the visit of week ``w`` is on day
``7w``.

Visit instruments, linked to the patient's mean diary pain ``p`` of the week before the visit
--------------------------------------------------------------------------------------------------
``score = clip(a_i + b_i (p - p_ref) + noise, lower, upper)`` with a per-patient level ``a_i`` at
the reference pain ``p_ref`` (the population mean of ``baseline_pain``; normal), a per-patient
slope ``b_i`` (lognormal) and visit-to-visit noise (normal):

* BPI-SF pain interference: mean of 7 items, 0-10, reported in steps of 1/7.
* FIQR total: 0-100, continuous.
* ACR 2016 widespread pain index (WPI, 0-19 sites) and symptom severity scale (SSS, 0-12),
  integers.

ACR 2016 fibromyalgia criteria (Wolfe et al. 2016 revision)
-----------------------------------------------------------
(WPI >= 7 and SSS >= 5, or WPI 4-6 and SSS >= 9) and generalized pain (pain in at least 4 of
the 5 regions; jaw, chest and abdomen do not count for it). Simplifications: the simulation does
not model single symptoms, only the WPI and SSS totals; which sites hurt follows a fixed random
order of the 19 sites per patient (uniform over orders), the first WPI sites of which are
painful, so generalized pain follows from the WPI and that order. "Symptoms present for at least
3 months" is taken as met (chronic fibromyalgia), and other diagnoses do not exclude fibromyalgia
(as in the 2016 revision).

Dropout: constant weekly hazard from day 0; all diary days and visits from the dropout day on are
missing (NaN). Baseline inclusion: :func:`eligible` (mean baseline-week pain at least
``min_baseline_pain``).

Everything is vectorised over patients (arrays are ``(n_patients, n_days)`` or
``(n_patients, n_visits)``); only the AR(1) recursion loops, over days.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from fmsim.model.parameters import ParameterSet, load_parameter_set, shipped_parameters

__all__ = [
    "ClinicalParameters",
    "PatientTraits",
    "WPI_REGIONS",
    "WPI_SITES",
    "ar1_fluctuation",
    "calibrate_placebo_response",
    "diary_table",
    "dropout_days",
    "eligible",
    "generalized_pain",
    "load_clinical_parameters",
    "meets_acr2016",
    "pain_diary",
    "placebo_responder_rates",
    "responder_fractions",
    "sample_patients",
    "visit_outcomes",
    "visits_table",
    "weekly_mean_pain",
]

ClinicalParameters = ParameterSet
"""Clinical parameters share the schema and machinery of the model parameter sets."""

NRS_MAX = 10.0
BPI_ITEMS = 7
FIQR_MAX = 100.0
WPI_MAX = 19
SSS_MAX = 12

# ACR 2016: the 19 WPI sites by region; sites marked False do not count for generalized pain.
WPI_REGIONS: dict[str, tuple[tuple[str, bool], ...]] = {
    "left upper": (
        ("jaw, left", False),
        ("shoulder girdle, left", True),
        ("upper arm, left", True),
        ("lower arm, left", True),
    ),
    "right upper": (
        ("jaw, right", False),
        ("shoulder girdle, right", True),
        ("upper arm, right", True),
        ("lower arm, right", True),
    ),
    "left lower": (
        ("hip (buttock, trochanter), left", True),
        ("upper leg, left", True),
        ("lower leg, left", True),
    ),
    "right lower": (
        ("hip (buttock, trochanter), right", True),
        ("upper leg, right", True),
        ("lower leg, right", True),
    ),
    "axial": (
        ("neck", True),
        ("upper back", True),
        ("lower back", True),
        ("chest", False),
        ("abdomen", False),
    ),
}
WPI_SITES: tuple[str, ...] = tuple(site for sites in WPI_REGIONS.values() for site, _ in sites)

# (site, region) membership counting for generalized pain: shape (19, 5).
_GENERALIZED_MEMBERSHIP = np.array(
    [
        [counts and region == column for column in WPI_REGIONS]
        for region, sites in WPI_REGIONS.items()
        for _, counts in sites
    ],
    dtype=float,
)


def load_clinical_parameters(path: str | Path | None = None) -> ClinicalParameters:
    """Load the clinical parameter file; by default the shipped ``clinical.yaml`` (read once
    per process)."""
    if path is not None:
        return load_parameter_set(path)
    return shipped_parameters("clinical")


@dataclass(frozen=True)
class PatientTraits:
    """Per-patient characteristics, each an array of shape ``(n_patients,)``.

    Units: pain in NRS points (0-10); ``antibody_pain_gain`` in NRS points per unit of
    ``S - 1``; ``placebo_relief`` a fraction of ``baseline_pain``; ``*_at_reference`` in the
    instrument's units at the reference weekly pain; ``*_slope`` in instrument units per NRS
    point; ``pain_site_rank[i, k]`` the position (0-18) of WPI site ``k`` in the order in which
    the patient's sites become painful (shape ``(n_patients, 19)``).
    """

    baseline_pain: np.ndarray
    antibody_pain_gain: np.ndarray
    fluctuation_sd: np.ndarray
    placebo_relief: np.ndarray
    bpi_interference_at_reference: np.ndarray
    bpi_interference_slope: np.ndarray
    fiqr_at_reference: np.ndarray
    fiqr_slope: np.ndarray
    wpi_at_reference: np.ndarray
    wpi_slope: np.ndarray
    sss_at_reference: np.ndarray
    sss_slope: np.ndarray
    pain_site_rank: np.ndarray

    @property
    def n_patients(self) -> int:
        return len(self.baseline_pain)

    @classmethod
    def concatenate(cls, parts: list[PatientTraits]) -> PatientTraits:
        """All patients of ``parts``, in order."""
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self, index: np.ndarray) -> PatientTraits:
        """The traits of the patients at ``index`` (integer positions or a boolean mask)."""
        return PatientTraits(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _lognormal(median: float, cv: float, n: int, rng: np.random.Generator) -> np.ndarray:
    sigma = np.sqrt(np.log1p(cv**2))
    return median * np.exp(sigma * rng.standard_normal(n))


def _normal(mean: float, cv: float, upper: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Normal with SD ``cv * mean``, clipped to ``[0, upper]``."""
    return np.clip(mean + cv * mean * rng.standard_normal(n), 0.0, upper)


def _beta_shapes(mean: float, cv: float) -> tuple[float, float]:
    """Beta shape parameters for a given mean and coefficient of variation."""
    concentration = (1.0 - mean) / (mean * cv**2) - 1.0
    if not 0.0 < mean < 1.0 or concentration <= 0.0:
        raise ValueError(f"no beta distribution with mean {mean} and CV {cv}")
    return mean * concentration, (1.0 - mean) * concentration


def sample_patients(n: int, rng: np.random.Generator, params: ClinicalParameters) -> PatientTraits:
    """Draw ``n`` virtual patients' traits (distributions as in the module docstring)."""
    p = params.parameters
    relief = p["placebo_relief"]
    uniforms = rng.random(n)
    if relief.cv > 0:
        placebo_relief = stats.beta.ppf(uniforms, *_beta_shapes(relief.value, relief.cv))
    else:
        placebo_relief = np.full(n, relief.value)
    return PatientTraits(
        baseline_pain=_normal(p["baseline_pain"].value, p["baseline_pain"].cv, NRS_MAX, n, rng),
        antibody_pain_gain=_lognormal(
            p["antibody_pain_gain"].value, p["antibody_pain_gain"].cv, n, rng
        ),
        fluctuation_sd=_lognormal(
            p["pain_fluctuation_sd"].value, p["pain_fluctuation_sd"].cv, n, rng
        ),
        placebo_relief=placebo_relief,
        bpi_interference_at_reference=_normal(
            p["bpi_interference_at_reference_pain"].value,
            p["bpi_interference_at_reference_pain"].cv,
            NRS_MAX,
            n,
            rng,
        ),
        bpi_interference_slope=_lognormal(
            p["bpi_interference_slope"].value, p["bpi_interference_slope"].cv, n, rng
        ),
        fiqr_at_reference=_normal(
            p["fiqr_at_reference_pain"].value, p["fiqr_at_reference_pain"].cv, FIQR_MAX, n, rng
        ),
        fiqr_slope=_lognormal(p["fiqr_slope"].value, p["fiqr_slope"].cv, n, rng),
        wpi_at_reference=_normal(
            p["wpi_at_reference_pain"].value, p["wpi_at_reference_pain"].cv, WPI_MAX, n, rng
        ),
        wpi_slope=_lognormal(p["wpi_slope"].value, p["wpi_slope"].cv, n, rng),
        sss_at_reference=_normal(
            p["sss_at_reference_pain"].value, p["sss_at_reference_pain"].cv, SSS_MAX, n, rng
        ),
        sss_slope=_lognormal(p["sss_slope"].value, p["sss_slope"].cv, n, rng),
        pain_site_rank=rng.permuted(np.broadcast_to(np.arange(WPI_MAX), (n, WPI_MAX)), axis=1),
    )


def ar1_fluctuation(
    days: np.ndarray, sd: np.ndarray, autocorrelation: float, rng: np.random.Generator
) -> np.ndarray:
    """Stationary AR(1) fluctuation, shape ``(len(sd), len(days))``.

    Each patient's series has marginal SD ``sd[i]`` (NRS points) and correlation
    ``autocorrelation ** (days[k] - days[k - 1])`` between successive diary days.
    """
    days = np.asarray(days, dtype=float)
    sd = np.asarray(sd, dtype=float)
    out = rng.standard_normal((len(sd), len(days)))
    for k in range(1, len(days)):
        rho = autocorrelation ** (days[k] - days[k - 1])
        out[:, k] = rho * out[:, k - 1] + np.sqrt(1.0 - rho**2) * out[:, k]
    out *= sd[:, None]
    return out


def antibody_pain(sensitisation, baseline_pain, antibody_pain_gain) -> np.ndarray:
    """Pain (NRS points) without expectation response or fluctuation, neither rounded nor
    clipped: ``B + g (S - 1)`` (module docstring); the arguments broadcast."""
    return np.asarray(baseline_pain) + np.asarray(antibody_pain_gain) * (
        np.asarray(sensitisation, dtype=float) - 1.0
    )


def pain_diary(
    days: np.ndarray,
    sensitisation: np.ndarray,
    traits: PatientTraits,
    rng: np.random.Generator,
    params: ClinicalParameters,
    dropout_day: np.ndarray | None = None,
    placebo_response: bool = True,
) -> np.ndarray:
    """Daily pain NRS (integers 0-10, NaN from dropout on), shape ``(n_patients, n_days)``.

    ``days``: study days (increasing; day 0 = first dose, negative = run-in).
    ``sensitisation``: S per patient and day (>= 1; anything broadcastable to
    ``(n_patients, n_days)``). ``dropout_day``: per patient, the first study day no longer
    recorded (``inf`` = completes). ``placebo_response=False`` for unblinded observation (no
    expectation response).
    """
    days = np.asarray(days, dtype=float)
    shape = (traits.n_patients, len(days))
    s = np.broadcast_to(np.asarray(sensitisation, dtype=float), shape)
    if np.any(s < 1.0):
        raise ValueError("sensitisation S must be >= 1")
    baseline = traits.baseline_pain[:, None]
    pain = antibody_pain(s, baseline, traits.antibody_pain_gain[:, None])
    if placebo_response:
        tau = params["placebo_onset_time"].value
        onset = -np.expm1(-np.maximum(days, 0.0) / tau)
        pain -= (traits.placebo_relief[:, None] * baseline) * onset[None, :]
    pain += ar1_fluctuation(days, traits.fluctuation_sd, params["pain_autocorrelation"].value, rng)
    diary = np.clip(np.rint(pain), 0.0, NRS_MAX)
    if dropout_day is not None:
        diary[days[None, :] >= np.asarray(dropout_day, dtype=float)[:, None]] = np.nan
    return diary


def dropout_days(
    n: int, duration_days: float, rng: np.random.Generator, params: ClinicalParameters
) -> np.ndarray:
    """Study day of dropout per patient (``inf`` for completers), constant weekly hazard.

    With weekly hazard h the fraction still in the study after w weeks is ``(1 - h) ** w``.
    """
    hazard = params["dropout_weekly_hazard"].value
    if hazard <= 0.0:
        return np.full(n, np.inf)
    daily_rate = -np.log1p(-hazard) / 7.0
    day = rng.exponential(1.0 / daily_rate, n)
    return np.where(day < duration_days, day, np.inf)


def weekly_mean_pain(
    diary: np.ndarray,
    days: np.ndarray,
    weeks: np.ndarray,
    dropout_day: np.ndarray | None = None,
) -> np.ndarray:
    """Mean recorded diary pain in each visit's week, shape ``(n_patients, len(weeks))``.

    Week ``w`` covers days ``7(w-1) <= d < 7w``. NaN if no day of that week was recorded, or if
    the patient dropped out before the visit day ``7w``.
    """
    days = np.asarray(days, dtype=float)
    weeks = np.asarray(weeks, dtype=float)
    out = np.full((diary.shape[0], len(weeks)), np.nan)
    recorded = ~np.isnan(diary)
    values = np.where(recorded, diary, 0.0)
    for j, week in enumerate(weeks):
        in_week = (days >= 7.0 * (week - 1.0)) & (days < 7.0 * week)
        count = recorded[:, in_week].sum(axis=1)
        total = values[:, in_week].sum(axis=1)
        out[:, j] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if dropout_day is not None:
        out[7.0 * weeks[None, :] >= np.asarray(dropout_day, dtype=float)[:, None]] = np.nan
    return out


def eligible(
    baseline_weekly_pain: np.ndarray,
    params: ClinicalParameters,
    min_baseline_pain: float | None = None,
) -> np.ndarray:
    """Inclusion by baseline pain: mean baseline-week diary pain >= the minimum (NRS points).

    The minimum defaults to ``min_baseline_pain`` in the parameters; set e.g. 6 for a trial in
    severe fibromyalgia.
    """
    minimum = params["min_baseline_pain"].value if min_baseline_pain is None else min_baseline_pain
    return np.asarray(baseline_weekly_pain) >= minimum


def generalized_pain(painful_sites: np.ndarray) -> np.ndarray:
    """ACR 2016 generalized pain: pain in >= 4 of the 5 regions (jaw, chest, abdomen excluded).

    ``painful_sites``: boolean array ``(..., 19)`` in the order of :data:`WPI_SITES`.
    """
    regions = np.asarray(painful_sites, dtype=float) @ _GENERALIZED_MEMBERSHIP
    return (regions > 0).sum(axis=-1) >= 4


def meets_acr2016(wpi: np.ndarray, sss: np.ndarray, generalized: np.ndarray) -> np.ndarray:
    """ACR 2016 fibromyalgia criteria: (WPI >= 7 and SSS >= 5, or WPI 4-6 and SSS >= 9) and
    generalized pain. Missing (NaN) scores do not meet the criteria."""
    wpi = np.asarray(wpi, dtype=float)
    sss = np.asarray(sss, dtype=float)
    extent = ((wpi >= 7) & (sss >= 5)) | ((wpi >= 4) & (wpi <= 6) & (sss >= 9))
    return extent & np.asarray(generalized, dtype=bool)


def visit_outcomes(
    weekly_pain: np.ndarray,
    traits: PatientTraits,
    rng: np.random.Generator,
    params: ClinicalParameters,
) -> dict[str, np.ndarray]:
    """Visit questionnaires from the mean diary pain of the week before each visit.

    ``weekly_pain``: shape ``(n_patients, n_visits)``, NaN for missed visits. Returns arrays of
    the same shape: ``bpi_interference`` (0-10), ``fiqr`` (0-100), ``wpi`` (0-19), ``sss``
    (0-12) (NaN where missed), and booleans ``generalized_pain`` and ``meets_acr2016`` (False
    where missed).
    """
    weekly_pain = np.asarray(weekly_pain, dtype=float)
    offset = weekly_pain - params["baseline_pain"].value

    def score(name: str, level: np.ndarray, slope: np.ndarray, upper: float) -> np.ndarray:
        noise = params[f"{name}_noise_sd"].value * rng.standard_normal(weekly_pain.shape)
        return np.clip(level[:, None] + slope[:, None] * offset + noise, 0.0, upper)

    interference = score(
        "bpi_interference",
        traits.bpi_interference_at_reference,
        traits.bpi_interference_slope,
        NRS_MAX,
    )
    fiqr = score("fiqr", traits.fiqr_at_reference, traits.fiqr_slope, FIQR_MAX)
    wpi = np.rint(score("wpi", traits.wpi_at_reference, traits.wpi_slope, WPI_MAX))
    sss = np.rint(score("sss", traits.sss_at_reference, traits.sss_slope, SSS_MAX))
    generalized = generalized_pain(traits.pain_site_rank[:, None, :] < wpi[:, :, None])
    return {
        "bpi_interference": np.rint(interference * BPI_ITEMS) / BPI_ITEMS,
        "fiqr": fiqr,
        "wpi": wpi,
        "sss": sss,
        "generalized_pain": generalized,
        "meets_acr2016": meets_acr2016(wpi, sss, generalized),
    }


def responder_fractions(
    baseline_pain: np.ndarray, endpoint_pain: np.ndarray, reductions: tuple[float, ...] = (0.3, 0.5)
) -> tuple[float, ...]:
    """Fraction of patients whose pain fell by at least each relative reduction.

    Patients with a missing endpoint count as non-responders (baseline carried forward).
    """
    baseline_pain = np.asarray(baseline_pain, dtype=float)
    change = (np.asarray(endpoint_pain, dtype=float) - baseline_pain) / baseline_pain
    return tuple(float(np.mean(change <= -r)) for r in reductions)


def placebo_responder_rates(
    n: int, rng: np.random.Generator, params: ClinicalParameters, weeks: int = 12
) -> tuple[float, float]:
    """(>=30%, >=50%) pain responder fractions in a simulated placebo arm.

    Eligible patients (by the baseline week, days -7..-1) without antibody effect (S = 1) and
    without dropout; response = change from the baseline week to the mean of the last week.
    """
    days = np.arange(-7, 7 * weeks)
    traits = sample_patients(n, rng, params)
    diary = pain_diary(days, np.ones(1), traits, rng, params)
    baseline, endpoint = weekly_mean_pain(diary, days, np.array([0, weeks])).T
    keep = eligible(baseline, params)
    return responder_fractions(baseline[keep], endpoint[keep])


def calibrate_placebo_response(
    params: ClinicalParameters,
    targets: tuple[float, float] = (0.308, 0.188),
    n: int = 200_000,
    seed: int = 20110,
) -> tuple[float, float]:
    """Mean and CV of ``placebo_relief`` that reproduce the target (>=30%, >=50%) responder
    fractions of a 12-week placebo arm (default: Haeuser et al. 2011, 30.8% and 18.8%).

    Uses common random numbers (the same seed for every trial value) and Nelder-Mead.
    """

    def mismatch(x: np.ndarray) -> float:
        mean, cv = x
        if not 0.0 < mean < 1.0 or cv <= 0.0 or mean * cv**2 >= 1.0 - mean:
            return 1.0
        relief = replace(params["placebo_relief"], value=mean, cv=cv)
        trial = replace(params, parameters={**params.parameters, "placebo_relief": relief})
        rates = placebo_responder_rates(n, np.random.default_rng(seed), trial)
        return float(np.sum((np.array(rates) - np.array(targets)) ** 2))

    start = np.array([params["placebo_relief"].value, params["placebo_relief"].cv])
    result = optimize.minimize(
        mismatch, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-8}
    )
    return float(result.x[0]), float(result.x[1])


def diary_table(
    days: np.ndarray, diary: np.ndarray, patient_ids: np.ndarray | None = None
) -> pd.DataFrame:
    """Long table ``patient, day, value`` of recorded diary entries (missing days omitted)."""
    n, n_days = diary.shape
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    table = pd.DataFrame(
        {
            "patient": np.repeat(ids, n_days),
            "day": np.tile(np.asarray(days, dtype=int), n),
            "value": diary.ravel(),
        }
    )
    table = table[table["value"].notna()].reset_index(drop=True)
    return table.astype({"value": int})


def visits_table(
    weeks: np.ndarray,
    weekly_pain: np.ndarray,
    outcomes: dict[str, np.ndarray],
    patient_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """Visit table ``patient, week, pain, <one column per instrument>`` (missed visits omitted).

    ``pain`` is the mean diary pain of the week before the visit.
    """
    n, n_visits = weekly_pain.shape
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    columns = {
        "patient": np.repeat(ids, n_visits),
        "week": np.tile(np.asarray(weeks, dtype=int), n),
        "pain": weekly_pain.ravel(),
    }
    columns.update({name: values.ravel() for name, values in outcomes.items()})
    table = pd.DataFrame(columns)
    table = table[table["pain"].notna()].reset_index(drop=True)
    return table.astype({"wpi": "Int64", "sss": "Int64"})  # integers; missing where not taken
