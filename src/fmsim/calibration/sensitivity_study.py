"""The sensitivity study: which uncertain inputs drive fmsim's key outputs.

Three analyses (:class:`fmsim.calibration.sensitivity.Analysis`), each over the inputs whose
uncertainty the parameter files state:

``passive_transfer`` (mouse): every mouse parameter with a between-animal CV (lognormal, median
= file value) and the donor's anti-SGC fraction (uniform over the default donors,
0.0048-0.0102); for a typical mouse dosed as in Goebel et al. 2021 (8 mg i.p. on days 0-3):

* ``peak_mechanical_percent``: largest fall of the paw-pressure threshold (% of baseline);
* ``hypersensitivity_days``: time with a fall above 10 % (days; linear interpolation on a
  0.25-day grid);
* ``donor_detection_probability``: probability that a donor's 4 mice differ from 24 HC-IgG mice
  (Welch t-test, two-sided 5 %) in the mean paw-pressure change over days 1-10, from the
  measurement noise and the spread of the effect between :data:`INNER_MICE` virtual mice per
  sample (non-central t, :func:`detection_probability`).

``therapy`` (patient): every human parameter with a between-patient CV and every constant of
the therapy's FcRn inhibitor with a CV in its library file (lognormal); an anti-SGC-positive
patient under a standard protocol (default ``efgartigimod_iv``: 10 mg/kg i.v. weekly x4, as in
ADAPT), over :data:`THERAPY_DAYS` days:

* ``igg_nadir_reduction_percent``: largest fall of total plasma IgG (% of baseline);
* ``anti_sgc_mean_reduction_percent``: mean fall of anti-SGC IgG over the course (%).

``trial`` (virtual trial): the population median of ``antibody_pain_gain`` (lognormal, median
and CV of clinical.yaml, the prior of docs/calibration.md) and the share of anti-SGC-positive
patients (normal, 68 of 184 sera in Seefried et al., Pain 2025: mean 0.37, binomial SD 0.036);
for a parallel placebo-controlled trial (default :data:`DEFAULT_TRIAL`), replicate trials with
common random numbers (the same seed for every parameter set):

* ``trial_effect``: mean primary-endpoint effect over the replicates (treatment - placebo,
  NRS points);
* ``trial_power``: power of the primary analysis at the configured alpha, from the mean effect
  and the root-mean-square standard error of the replicates (normal approximation; smoother in
  the inputs than the share of significant replicates).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from fmsim.assays import clinical
from fmsim.calibration.sensitivity import (
    Analysis,
    SensitivityResult,
    lognormal_input,
    run_analyses,
)
from fmsim.config.trial import TrialConfig, parse_trial_config
from fmsim.engine import Bolus, run
from fmsim.experiments import therapy
from fmsim.experiments.reference import standard_protocols
from fmsim.experiments.result import Provenance, config_hash
from fmsim.experiments.trial import replicate_effects, simulate_trial, treatment_arms
from fmsim.model.equations import MODEL, build_subjects, initial_state
from fmsim.model.human import load_human_parameters, typical_values
from fmsim.model.parameters import ParameterSet, load_parameter_set

ANALYSES = ("passive_transfer", "therapy", "trial")

# ------------------------------------------------------------------ mouse passive transfer

INJECTION_DAYS = (0.0, 1.0, 2.0, 3.0)
DOSE_MG = 8.0
FRACTION_RANGE = (0.0048, 0.0102)  # anti-SGC fractions of the default FMS donors
TEST_DAYS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
DONOR_MICE, CONTROL_MICE = 4, 24
HYPERSENSITIVE = 10.0  # % fall of the paw-pressure threshold counted as hypersensitive
HORIZON = 42.0
STEP = 0.25
INNER_MICE = 16  # virtual mice per sample for the between-animal spread of the effect
FRACTION = "anti_sgc_fraction"
MOUSE_OUTPUTS = {
    "peak_mechanical_percent": ("%", "largest fall of the paw-pressure threshold"),
    "hypersensitivity_days": ("day", "time with a paw-pressure fall above 10 %"),
    "donor_detection_probability": (
        "1",
        "probability that a donor's 4 mice differ from 24 HC-IgG mice (Welch, 5 %)",
    ),
}


def uncertain_parameters(parameters: ParameterSet) -> list[str]:
    """Model parameters with a between-animal CV (their stated uncertainty)."""
    return [name for name, p in parameters.parameters.items() if p.cv > 0 and p.value > 0]


def salib_problem(parameters: ParameterSet) -> dict:
    """SALib's problem: lognormal parameters (log-median, log-sd) and the uniform fraction."""
    names = uncertain_parameters(parameters)
    inputs = [lognormal_input(parameters[n].value, parameters[n].cv) for n in names]
    return {
        "num_vars": len(names) + 1,
        "names": [*names, FRACTION],
        "bounds": [*(b for b, _ in inputs), list(FRACTION_RANGE)],
        "dists": [*(d for _, d in inputs), "unif"],
    }


def passive_transfer_outputs(
    samples: pd.DataFrame, parameters: ParameterSet, inner: int = INNER_MICE, seed: int = 0
) -> pd.DataFrame:
    """The mouse outputs (see module doc) for each row of parameter values, one engine batch:
    the typical mouse of every row and ``inner`` virtual mice around it."""
    n = len(samples)
    rng = np.random.default_rng(seed)
    typical = {name: np.full(n, p.value) for name, p in parameters.parameters.items()}
    for name in samples.columns:
        if name != FRACTION:
            typical[name] = samples[name].to_numpy(float)
    values = {name: np.repeat(v, 1 + inner) for name, v in typical.items()}
    # the same virtual mice (relative deviations) around every sample: common random numbers
    variation = parameters.sample(inner, rng)
    for name, p in parameters.parameters.items():
        if p.cv > 0 and p.value > 0:
            factors = np.concatenate([[1.0], variation[name] / p.value])
            values[name] = values[name] * np.tile(factors, n)
    for name in ("ip_bioavailability", "vascular_reflection", "lymph_reflection"):
        values[name] = np.minimum(values[name], 1.0)
    fraction = np.repeat(samples[FRACTION].to_numpy(float), 1 + inner)
    subjects = build_subjects(values, fraction)
    times = np.arange(0.0, HORIZON + STEP / 2, STEP)
    doses = [Bolus(d, MODEL.index("human_ip_depot"), DOSE_MG) for d in INJECTION_DAYS]
    result = run(MODEL, subjects, initial_state(subjects), times, doses)
    spec = parameters.readouts["paw_pressure_threshold"]
    excess = result.states[:, MODEL.index("sensitisation"), :] - 1.0
    fall = -100.0 * spec.max_change * excess / values["sensitisation_emax"]  # % of baseline
    fall = fall.reshape(times.size, n, 1 + inner)
    window = fall[np.searchsorted(times, TEST_DAYS)].mean(axis=0)  # (n, 1 + inner)
    return pd.DataFrame(
        {
            "peak_mechanical_percent": fall[:, :, 0].max(axis=0),
            "hypersensitivity_days": time_above(fall[:, :, 0], HYPERSENSITIVE, STEP),
            "donor_detection_probability": detection_probability(
                window[:, 1:].mean(axis=1),
                spec.measurement_cv,
                len(TEST_DAYS),
                between_sd=window[:, 1:].std(axis=1, ddof=1),
            ),
        }
    )


def time_above(curves: np.ndarray, threshold: float, step: float) -> np.ndarray:
    """Time (grid units x ``step``) each column of ``curves`` (time, n) spends above
    ``threshold``, with linear interpolation inside the grid intervals that cross it."""
    a, b = curves[:-1], curves[1:]
    both = (a > threshold) & (b > threshold)
    crossing = (a > threshold) != (b > threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = (np.maximum(a, b) - threshold) / np.abs(b - a)
    return step * (both.sum(axis=0) + np.where(crossing, part, 0.0).sum(axis=0))


def detection_probability(
    mean_fall_percent: np.ndarray,
    measurement_cv: float,
    n_days: int,
    n_donor: int = DONOR_MICE,
    n_control: int = CONTROL_MICE,
    alpha: float = 0.05,
    between_sd: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Power of the donor-level test: a mouse's mean % change over ``n_days`` test days
    against its own baseline has measurement SD ``100 sqrt(ln(1 + cv^2) (1 + 1/n_days))``
    (log-normal noise, the animal's baseline cancels); donor mice add ``between_sd`` (% points,
    the spread of the effect between mice). The t statistic of the difference of group means
    is taken as non-central t with Welch-Satterthwaite degrees of freedom."""
    noise = 100.0 * math.sqrt(math.log1p(measurement_cv**2) * (1.0 + 1.0 / n_days))
    a = (noise**2 + np.asarray(between_sd, dtype=float) ** 2) / n_donor
    b = noise**2 / n_control
    se = np.sqrt(a + b)
    df = (a + b) ** 2 / (a**2 / (n_donor - 1) + b**2 / (n_control - 1))
    critical = stats.t.ppf(1.0 - alpha / 2.0, df)
    shift = np.asarray(mean_fall_percent, dtype=float) / se
    with np.errstate(all="ignore"):
        power = stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)
    # scipy's non-central t fails (NaN) far in the tail, where the power is 1 up to 1e-10
    normal = stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift)
    return np.where(np.isfinite(power), power, normal)


def passive_transfer_analysis(parameters: ParameterSet | None = None) -> Analysis:
    """Mouse passive-transfer outputs over the mouse parameters' stated CVs."""
    parameters = parameters or load_parameter_set()
    problem = salib_problem(parameters)
    sources = {n: parameters[n].source for n in problem["names"] if n != FRACTION}
    sources[FRACTION] = "range of the default FMS donors' anti-SGC fractions (docs/calibration.md)"
    return Analysis(
        "passive_transfer",
        f"typical mouse, {DOSE_MG:g} mg human IgG i.p. on days 0-3 (Goebel 2021 design)",
        problem,
        MOUSE_OUTPUTS,
        lambda frame: passive_transfer_outputs(frame, parameters),
        sources,
    )


# ------------------------------------------------------------------ therapy in patients

THERAPY = "efgartigimod_iv"
THERAPY_DAYS = 56.0
THERAPY_STEP = 0.5
THERAPY_OUTPUTS = {
    "igg_nadir_reduction_percent": ("%", "largest fall of total plasma IgG from baseline"),
    "anti_sgc_mean_reduction_percent": (
        "%",
        "mean fall of plasma anti-SGC IgG from baseline over the course",
    ),
}


def therapy_analysis(protocol: str = THERAPY, days: float = THERAPY_DAYS) -> Analysis:
    """IgG reduction by a standard protocol (:func:`standard_protocols` key) over the human
    parameters' and the FcRn inhibitor's stated between-patient CVs."""
    protocols = standard_protocols()
    if protocol not in protocols:
        raise ValueError(f"therapy {protocol!r}: expected one of {sorted(protocols)}")
    chosen = protocols[protocol]
    human = load_human_parameters()
    entry = chosen.fcrn_inhibitor()
    names = uncertain_parameters(human)
    inputs = [lognormal_input(human[n].value, human[n].cv) for n in names]
    sources = {n: human[n].source for n in names}
    drug = {}  # input name -> (random-effect key, typical value, log-SD)
    if entry is not None:
        for constant in entry.constants():
            cv, typical = entry.cv(constant), entry.value(constant)
            if cv > 0 and typical > 0:
                name = f"{entry.name}.{constant}"
                bounds, dist = lognormal_input(typical, cv)
                names.append(name)
                inputs.append((bounds, dist))
                drug[name] = (f"{entry.kind}.{constant}", typical, bounds[1])
                sources[name] = f"drug library entry {entry.name} (between-patient CV)"
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [b for b, _ in inputs],
        "dists": [d for _, d in inputs],
    }

    def outputs(samples: pd.DataFrame) -> pd.DataFrame:
        n = len(samples)
        values = typical_values(human, n)
        for name in names:
            if name not in drug:
                values[name] = samples[name].to_numpy(float)
        effects = {
            key: np.log(samples[name].to_numpy(float) / typical) / sigma
            for name, (key, typical, sigma) in drug.items()
        }
        population = therapy.Population(values, values["anti_sgc_fraction"], human, effects)
        course = therapy.simulate_course(population, chosen, days, step=THERAPY_STEP)
        summary = therapy.course_summary(course)
        anti_sgc = -course.percent_change("anti_sgc")
        return pd.DataFrame(
            {
                "igg_nadir_reduction_percent": summary["igg_nadir_reduction_pct"].to_numpy(),
                "anti_sgc_mean_reduction_percent": np.trapezoid(anti_sgc, course.days, axis=0)
                / days,
            }
        )

    return Analysis(
        "therapy",
        f"anti-SGC-positive patient, {chosen.name}, {days:g} days",
        problem,
        THERAPY_OUTPUTS,
        outputs,
        sources,
    )


# ------------------------------------------------------------------ virtual trial

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
        lambda frame: trial_outputs(frame, config, replicates),
        sources,
    )


# ------------------------------------------------------------------ the study


def sensitivity_study(
    n_base: int = 256,
    seed: int = 0,
    *,
    analyses: Sequence[str] = ANALYSES,
    trial_n_base: int = 16,
    trial_replicates: int = TRIAL_REPLICATES,
    therapy_protocol: str = THERAPY,
    trial_config: TrialConfig | None = None,
    inputs: Sequence[Path] = (),
    log: Callable[[str], None] | None = None,
) -> SensitivityResult:
    """Sobol and local sensitivities of the chosen analyses (:data:`ANALYSES`); the trial
    analysis, whose every parameter set is ``trial_replicates`` simulated trials, has its own
    base sample ``trial_n_base``."""
    unknown = [a for a in analyses if a not in ANALYSES]
    if unknown:
        raise ValueError(f"analyses {unknown}: expected any of {list(ANALYSES)}")
    builders = {
        "passive_transfer": lambda: passive_transfer_analysis(),
        "therapy": lambda: therapy_analysis(therapy_protocol),
        "trial": lambda: trial_analysis(trial_config, trial_replicates),
    }
    chosen = [builders[name]() for name in analyses]
    bases = [trial_n_base if a.name == "trial" else n_base for a in chosen]
    settings = {
        "n_base": n_base, "seed": seed, "analyses": list(analyses),
        "trial_n_base": trial_n_base, "trial_replicates": trial_replicates,
        "therapy": therapy_protocol,
        "trial": trial_config.model_dump(mode="json") if trial_config else DEFAULT_TRIAL,
    }  # fmt: skip
    return run_analyses(chosen, bases, seed, Provenance(config_hash(settings), tuple(inputs)), log)
