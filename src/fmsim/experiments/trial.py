"""Virtual clinical trials of IgG-lowering therapies in fibromyalgia.

A trial simulation runs the whole chain for every virtual patient:

1. **Screening**: patients are drawn from the human model's population (anti-SGC IgG positive
   with the configured probability) with clinical traits (:mod:`fmsim.assays.clinical`); a
   baseline week of diary (days -7..-1) at the patient's untreated steady state decides
   inclusion (baseline severity) and, with enrichment, only anti-SGC-positive patients enter.
2. **Randomisation**: permuted allocation to arms (parallel) or treatment sequences (crossover)
   in proportion to the configured allocation weights.
3. **Treatment**: each arm's therapy protocol (a crossover sequence's periods shifted in time)
   becomes engine events; the human model gives total IgG, anti-SGC IgG and nociceptor
   sensitisation S per patient and day.
4. **Outcomes**: daily pain diary from S with placebo (expectation) response in every arm,
   day-to-day fluctuation and dropout; weekly visits with BPI-SF interference, FIQR, WPI, SSS.
5. **Analysis** (:mod:`fmsim.stats.trial`): change from baseline by ANCOVA or MMRM, responder
   rates (>=30 %, >=50 % pain reduction), crossover mixed model; replicate trials for power.

Everything is a simulation of an assumed mechanism; see the report's assumptions section.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from fmsim.assays import clinical
from fmsim.config.therapy import TherapyBlock, TherapyProtocol
from fmsim.config.trial import OUTCOME_LABELS, Endpoint, TrialConfig
from fmsim.engine import run
from fmsim.engine.execution import (
    Chunk,
    ChunkProgress,
    Executor,
    InProcess,
    ResultOf,
    chunk_seed,
    run_job,
)
from fmsim.experiments import patient_courses, therapy
from fmsim.experiments.patient_courses import PatientCourse
from fmsim.io.store import ChunkStore
from fmsim.model.human import HUMAN_MODEL, initial_state, load_human_parameters
from fmsim.model.parameters import ParameterSet
from fmsim.stats import trial as trial_stats

#: Outcome columns of the visits table, in their units (see :data:`OUTCOME_LABELS`).
OUTCOMES = ("pain_nrs", "bpi_interference", "fiqr")
#: Visit instruments taken only at the configured questionnaire weeks.
QUESTIONNAIRES = ("bpi_interference", "fiqr", "wpi", "sss")
#: Run-in diary days before the first dose (the baseline week, days -7..-1).
BASELINE_DAYS = 7
#: Screening draws at most this many times the number of patients needed.
MAX_SCREENING_FACTOR = 200


@dataclass(frozen=True)
class TrialSimulation:
    """One simulated trial, or ``replicates`` independent trials of the same design.

    ``patients``: one row per randomised patient (replicate, group = arm or sequence, anti-SGC
    status, covariates, baseline sensitisation, dropout day). ``visits``: patient, replicate,
    group, week and one column per outcome (missed visits omitted). ``courses``: patient, day,
    total_igg, anti_sgc (mg/mL), sensitisation (1 = none) of the first replicate (empty if not
    kept). ``screened``: patients screened to randomise them all. ``population``: the
    randomised patients' parameters and ``given``: the per-patient courses (with the arm each
    is restricted to, or None), kept with the courses, tell what each patient received
    (:func:`fmsim.experiments.patient_courses.trial_records`).
    """

    config: TrialConfig
    patients: pd.DataFrame
    visits: pd.DataFrame
    courses: pd.DataFrame
    screened: int
    population: therapy.Population | None = None
    given: tuple[tuple[PatientCourse, str | None], ...] = ()


def simulate_trial(
    config: TrialConfig,
    n_patients: int | None = None,
    *,
    replicates: int = 1,
    seed: int | None = None,
    anti_sgc_positive_fraction: float | None = None,
    enrichment: str | None = None,
    keep_courses: bool = True,
    clinical_parameters: clinical.ClinicalParameters | None = None,
    pool: PatientPool | None = None,
    given: Sequence[tuple[PatientCourse, str | None]] = (),
) -> TrialSimulation:
    """Simulate ``replicates`` independent trials of ``config`` with ``n_patients`` each
    (default: the configured number); population options, seed and the clinical parameter set
    (default: the shipped ``clinical.yaml``) may be overridden.

    With ``pool`` (:func:`simulate_pool`, made for the same population options), candidates
    are drawn from the pool's patients (uniformly, with replacement) instead of being sampled
    and simulated afresh: their pharmacology (parameters and sensitisation course per group)
    comes from the pool; clinical traits, diaries, questionnaires, dropout, screening and
    randomisation are drawn afresh (courses are then not kept).

    ``given``: per-patient courses (patient n = the n-th randomised patient, 1-based), each
    with the arm (parallel design) its patients must be randomised to, or None; a patient a
    course names receives exactly its records instead of the group's protocol. A patient
    outside the trial, in another arm than the course's (or its ARM column's) or named by two
    courses raises EventTableError (file, row, ID)."""
    n = config.patients if n_patients is None else n_patients
    if n < 2 or replicates < 1:
        raise ValueError(f"need at least 2 patients and 1 replicate, got {n} and {replicates}")
    if pool is not None and keep_courses:
        raise ValueError("courses are not kept for trials drawn from a patient pool")
    rng = np.random.default_rng(config.seed if seed is None else seed)
    fraction, enrich = population_settings(config, anti_sgc_positive_fraction, enrichment)
    params = clinical_parameters or clinical.load_clinical_parameters()
    if config.dropout_per_week is not None:
        params = params.with_values(dropout_weekly_hazard=config.dropout_per_week)

    total = n * replicates
    source = _PoolDraws(pool) if pool is not None else _FreshPatients(fraction)
    screening = _screen(config, total, enrich, rng, params, source)
    groups = np.concatenate([_randomise(config, n, rng) for _ in range(replicates)])
    course_of = patient_courses.assign_courses(given, groups, n)
    replicate = np.repeat(np.arange(replicates), n)
    weeks = np.arange(1, config.total_weeks + 1)
    trial_days = np.arange(7 * config.total_weeks)
    days = trial_days.size  # courses from day 0 to day `days` (one past the last diary day)
    dropout = clinical.dropout_days(total, float(trial_days.size), rng, params)

    visits, courses = [], []
    for group in dict.fromkeys(groups):
        members = np.flatnonzero(groups == group)
        protocol = group_protocol(config, group)
        if pool is not None:
            s = pool.sensitisation(group, screening.pool_index[members])
        else:
            s = _group_sensitisation(screening.population, members, protocol, days, course_of)
        traits = screening.traits.take(members)
        diary = clinical.pain_diary(trial_days, s[:-1].T, traits, rng, params, dropout[members])
        weekly = clinical.weekly_mean_pain(diary, trial_days, weeks, dropout[members])
        outcomes = clinical.visit_outcomes(weekly, traits, rng, params)
        if config.questionnaire_weeks is not None:
            off = ~np.isin(weeks, config.questionnaire_weeks)
            for name in QUESTIONNAIRES:
                outcomes[name] = np.where(off, np.nan, outcomes[name])
        table = clinical.visits_table(
            np.concatenate([[0], weeks]),
            np.hstack([screening.weekly_pain[members, None], weekly]),
            {k: np.hstack([screening.outcomes[k][members, None], v]) for k, v in outcomes.items()},
            members,
        )
        visits.append(table.assign(group=group, replicate=replicate[table["patient"]]))
        first = members[replicate[members] == 0]
        if keep_courses and first.size:  # full courses (IgG, drugs ...) of the first replicate
            for subset, protocol_of, events in _subsets(
                screening.population, first, protocol, course_of
            ):
                course = therapy.simulate_course(
                    screening.population.select(subset), protocol_of, days, events=events
                )
                frame = course.to_frame()
                courses.append(frame.assign(patient=subset[frame["patient"]]))

    covariates = screening.population.covariates().drop(columns="patient")
    patients = pd.DataFrame(
        {
            "patient": np.arange(total),
            "replicate": replicate,
            "group": groups,
            "baseline_sensitisation": screening.sensitisation,
            "dropout_day": dropout,
        }
    ).join(covariates)
    visit_table = pd.concat(visits, ignore_index=True).rename(columns={"pain": "pain_nrs"})
    course_table = (
        pd.concat(courses, ignore_index=True)
        .rename(columns={"anti_sgc": "anti_sgc_igg"})
        .loc[:, ["patient", "day", "total_igg", "anti_sgc_igg", "sensitisation"]]
        if courses
        else pd.DataFrame()
    )
    kept = screening.population if keep_courses else None
    return TrialSimulation(
        config, patients, visit_table, course_table, screening.screened, kept, tuple(given)
    )


def _subsets(population: therapy.Population, members: np.ndarray, protocol, course_of: dict):
    """(patients, protocol, events or None) of ``members``: those without a per-patient course
    under the group's ``protocol``, then those of each course (its events; its summary
    protocol gives the drug constants). ``course_of`` maps a patient to its course."""
    if not course_of:
        yield members, protocol, None
        return
    courses = [course_of.get(int(m)) for m in members]
    unnamed = np.array([c is None for c in courses])
    if unnamed.any():
        yield members[unnamed], protocol, None
    for course in dict.fromkeys(c for c in courses if c is not None):
        subset = members[np.array([c is course for c in courses])]
        events = patient_courses.course_events(course, population.select(subset), subset + 1)
        yield subset, course.protocol, events


def _group_sensitisation(population, members, protocol, days, course_of) -> np.ndarray:
    """S per day of ``members`` (days + 1, len(members)): the group's protocol, or their
    per-patient course."""
    s = np.empty((days + 1, members.size))
    position = {int(m): k for k, m in enumerate(members)}
    for subset, protocol_of, events in _subsets(population, members, protocol, course_of):
        index = [position[int(m)] for m in subset]
        s[:, index] = sensitisation_course(population.select(subset), protocol_of, days, events)
    return s


def group_protocol(config: TrialConfig, group: str) -> TherapyProtocol:
    """Therapy protocol of an arm (parallel) or of a sequence (crossover: each period's arm,
    shifted to the period's start)."""
    if config.design == "parallel":
        return config.arm(group).protocol()
    design = config.crossover
    sequence = next(s for s in design.sequences if s.name == group)
    blocks = []
    for k, arm in enumerate(sequence.periods):
        if not config.arm(arm).is_placebo:
            offset = 7.0 * k * (design.period_weeks + design.washout_weeks)
            blocks += config.arm(arm).protocol(offset).therapies
    return TherapyProtocol(name=group, therapies=blocks or [TherapyBlock(type="placebo")])


def population_settings(
    config: TrialConfig,
    anti_sgc_positive_fraction: float | None = None,
    enrichment: str | None = None,
) -> tuple[float, bool]:
    """The anti-SGC-positive share of the screened population and whether only positive
    patients are enrolled: the config's, or the given overrides."""
    population = config.population
    fraction = (
        population.anti_sgc_positive_fraction
        if anti_sgc_positive_fraction is None
        else anti_sgc_positive_fraction
    )
    return fraction, (enrichment or population.enrichment) == "anti_sgc_positive"


def sensitisation_course(
    population: therapy.Population, protocol: TherapyProtocol, days: int, events=None
) -> np.ndarray:
    """Nociceptor sensitisation S on days 0..``days`` under ``protocol``, shape (days + 1, n).

    A protocol without events (placebo) leaves every patient at the untreated steady state of
    :func:`fmsim.model.human.initial_state`, so S is that state's value on every day (the engine
    reproduces it to within 1e-8, tests/experiments/test_trial.py); otherwise the engine
    integrates the human model. ``events`` (e.g. per-patient records) replace the protocol's,
    which then only gives the drug constants."""
    if events is None:
        events = therapy.protocol_events(protocol, population)
    constants = population.patients(protocol)
    y0 = initial_state(constants)
    if not events:
        s0 = y0[HUMAN_MODEL.index("sensitisation")]
        return np.tile(s0, (days + 1, 1))
    result = run(HUMAN_MODEL, constants, y0, np.arange(days + 1.0), events)
    return result.state("sensitisation")


@dataclass(frozen=True)
class PatientPool:
    """Virtual patients whose pharmacology is simulated once, for replicate trials to draw
    from (:func:`simulate_pool`): ``population`` (parameters, anti-SGC status), ``baseline`` S
    at the untreated steady state (n,), and per group with a therapy its sensitisation course
    S on each trial day (``courses[group]``, shape (days + 1, n)); a group without therapy
    keeps ``baseline``."""

    population: therapy.Population
    baseline: np.ndarray
    courses: dict[str, np.ndarray]
    days: int

    @property
    def n(self) -> int:
        return self.population.n

    def sensitisation(self, group: str, index: np.ndarray) -> np.ndarray:
        """S per day of the pool patients at ``index`` in ``group``, shape (days + 1, len)."""
        if group in self.courses:
            return self.courses[group][:, index]
        return np.tile(self.baseline[index], (self.days + 1, 1))

    @staticmethod
    def concatenate(parts: Sequence[PatientPool]) -> PatientPool:
        """All patients of ``parts`` (blocks of one pool), in order."""
        return PatientPool(
            therapy.concatenate_populations([p.population for p in parts]),
            np.concatenate([p.baseline for p in parts]),
            {g: np.hstack([p.courses[g] for p in parts]) for g in parts[0].courses},
            parts[0].days,
        )


def trial_groups(config: TrialConfig) -> list[str]:
    """The randomised groups: arms (parallel) or sequences (crossover)."""
    if config.design == "crossover":
        return [s.name for s in config.crossover.sequences]
    return [a.name for a in config.arms]


def simulate_pool(
    config: TrialConfig,
    size: int,
    seed: int,
    anti_sgc_positive_fraction: float | None = None,
    enrichment: str | None = None,
) -> PatientPool:
    """``size`` virtual patients of the screened population (sampled with ``seed``), each
    simulated under every group's protocol that has a therapy. With enrichment only
    anti-SGC-positive patients are drawn (the population conditioned on positivity: the
    positive share only decides who is positive, independently of the other parameters)."""
    rng = np.random.default_rng(seed)
    fraction, enrich = population_settings(config, anti_sgc_positive_fraction, enrichment)
    population = therapy.sample_population(
        size, rng, 1.0 if enrich else fraction, _human_parameters()
    )
    days = 7 * config.total_weeks
    constants = population.patients()
    baseline = initial_state(constants)[HUMAN_MODEL.index("sensitisation")]
    courses = {}
    for group in trial_groups(config):
        protocol = group_protocol(config, group)
        if therapy.protocol_events(protocol, population):
            courses[group] = sensitisation_course(population, protocol, days)
    return PatientPool(population, baseline, courses, days)


@functools.cache
def _human_parameters() -> ParameterSet:
    """The shipped human parameter set, read once per process."""
    return load_human_parameters()


@dataclass(frozen=True)
class _FreshPatients:
    """Candidates sampled afresh from the population (and simulated later)."""

    positive_fraction: float

    def draw(self, n: int, rng: np.random.Generator):
        candidates = therapy.sample_population(n, rng, self.positive_fraction, _human_parameters())
        s = initial_state(candidates.patients())[HUMAN_MODEL.index("sensitisation")]
        return candidates, s, None


@dataclass(frozen=True)
class _PoolDraws:
    """Candidates drawn from a patient pool, uniformly with replacement."""

    pool: PatientPool

    def draw(self, n: int, rng: np.random.Generator):
        index = rng.integers(self.pool.n, size=n)
        return self.pool.population.select(index), self.pool.baseline[index], index


@dataclass(frozen=True)
class _Screening:
    population: therapy.Population
    traits: clinical.PatientTraits
    sensitisation: np.ndarray  # baseline (untreated steady state) S per patient
    weekly_pain: np.ndarray  # baseline-week mean diary pain
    outcomes: dict[str, np.ndarray]  # baseline visit instruments
    screened: int
    pool_index: np.ndarray | None  # position of each patient in the pool (None: no pool)


def _screen(
    config: TrialConfig,
    needed: int,
    enrich: bool,
    rng: np.random.Generator,
    params,
    source: _FreshPatients | _PoolDraws,
) -> _Screening:
    """Screen candidates of ``source`` until ``needed`` are eligible: baseline week of diary
    (days -7..-1) at the untreated steady state, baseline severity >= the inclusion minimum,
    and, with enrichment, anti-SGC positive."""
    population = config.population
    baseline_days = np.arange(-BASELINE_DAYS, 0)
    kept: list[_Screening] = []
    found = screened = 0
    while found < needed:
        if screened >= MAX_SCREENING_FACTOR * needed:
            raise ValueError(
                f"population: only {found} of {screened} screened patients were eligible "
                f"(inclusion {population.inclusion_outcome} >= {population.inclusion_minimum}"
                f"{', anti-SGC positive' if enrich else ''}); relax inclusion or enrichment"
            )
        batch = max(2 * (needed - found), 64)
        candidates, s, pool_index = source.draw(batch, rng)
        traits = clinical.sample_patients(batch, rng, params)
        diary = clinical.pain_diary(baseline_days, s[:, None], traits, rng, params)
        weekly = clinical.weekly_mean_pain(diary, baseline_days, np.array([0]))
        outcomes = clinical.visit_outcomes(weekly, traits, rng, params)
        severity = (
            weekly[:, 0]
            if population.inclusion_outcome == "pain_nrs"
            else (outcomes[population.inclusion_outcome][:, 0])
        )
        ok = severity >= population.inclusion_minimum
        if enrich:
            ok &= candidates.anti_sgc_positive
        index = np.flatnonzero(ok)[: needed - found]
        found += index.size
        # the last screened candidate is the last one enrolled once enough are found
        screened += int(index[-1]) + 1 if found >= needed else batch
        kept.append(
            _Screening(
                candidates.select(index),
                traits.take(index),
                s[index],
                weekly[index, 0],
                {k: v[index, 0] for k, v in outcomes.items()},
                0,
                pool_index[index] if pool_index is not None else None,
            )
        )
    return _Screening(
        therapy.concatenate_populations([k.population for k in kept]),
        clinical.PatientTraits.concatenate([k.traits for k in kept]),
        np.concatenate([k.sensitisation for k in kept]),
        np.concatenate([k.weekly_pain for k in kept]),
        {key: np.concatenate([k.outcomes[key] for k in kept]) for key in kept[0].outcomes},
        screened,
        np.concatenate([k.pool_index for k in kept]) if kept[0].pool_index is not None else None,
    )


def _randomise(config: TrialConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """Group label per patient: arms (parallel) or sequences (crossover), allocated in
    proportion to their weights (largest-remainder rounding), in random order."""
    names = trial_groups(config)
    if config.design == "crossover":
        weights = np.array([s.allocation for s in config.crossover.sequences])
    else:
        weights = np.array([a.allocation for a in config.arms])
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.array(names, dtype=object), counts))


@dataclass(frozen=True)
class TrialAnalysis:
    """Effects of every non-control arm versus control on every endpoint, and responders."""

    effects: pd.DataFrame
    responders: pd.DataFrame


def outcome_table(visits: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Visits in the contract of :mod:`fmsim.stats.trial` (patient, arm, week, value)."""
    return pd.DataFrame(
        {
            "patient": visits["patient"].astype(str),
            "arm": visits["group"].astype(str),
            "week": visits["week"].astype(int),
            "value": visits[outcome].astype(float),
        }
    )


def crossover_table(config: TrialConfig, visits: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Period values of a crossover: the mean of the last ``assessment_weeks`` weeks of each
    period, with the treatment received, the patient's baseline (week 0) and replicate."""
    design = config.crossover
    periods = {s.name: s.periods for s in design.sequences}
    baseline = visits[visits["week"] == 0].set_index("patient")[outcome]
    sequence = visits.groupby("patient")["group"].first()
    replicate = visits.groupby("patient")["replicate"].first()
    frames = []
    for k in range(max(len(p) for p in periods.values())):
        end = (k + 1) * design.period_weeks + k * design.washout_weeks
        window = visits[visits["week"].between(end - design.assessment_weeks + 1, end)]
        means = window.groupby("patient")[outcome].mean()
        seq = sequence.reindex(means.index)
        has_period = seq.map(lambda name, k=k: len(periods[name]) > k)
        means, seq = means[has_period], seq[has_period]
        frames.append(
            pd.DataFrame(
                {
                    "patient": means.index.astype(str),
                    "sequence": seq.to_numpy(),
                    "period": k + 1,
                    "treatment": [periods[name][k] for name in seq],
                    "value": means.to_numpy(),
                    "baseline": baseline.reindex(means.index).to_numpy(),
                    "replicate": replicate.reindex(means.index).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).dropna(subset=["baseline"])


def endpoint_effect(
    config: TrialConfig, visits: pd.DataFrame, endpoint: Endpoint, arm: str
) -> trial_stats.TreatmentEffect:
    """Effect of ``arm`` versus the control arm on one endpoint (one trial's visits)."""
    if config.design == "crossover":
        table = crossover_table(config, visits, endpoint.outcome)
        return trial_stats.crossover_effect(table, config.control_arm, arm)
    week = endpoint.week or config.total_weeks
    analysis = trial_stats.ancova if endpoint.analysis == "ancova" else trial_stats.mmrm
    return analysis(outcome_table(visits, endpoint.outcome), week, config.control_arm, arm)


def treatment_arms(config: TrialConfig) -> list[str]:
    """The arms compared with the control arm."""
    return [a.name for a in config.arms if a.name != config.control_arm]


def analyse_trial(simulation: TrialSimulation, replicate: int = 0) -> TrialAnalysis:
    """Primary and secondary endpoints of one trial for every non-control arm versus control,
    and pain responder rates (parallel designs)."""
    config = simulation.config
    visits = simulation.visits[simulation.visits["replicate"] == replicate]
    endpoints = [("primary", config.primary)] + [("secondary", e) for e in config.secondary]
    rows, responders = [], []
    for arm in treatment_arms(config):
        comparison = f"{arm} vs {config.control_arm}"
        for role, endpoint in endpoints:
            effect = endpoint_effect(config, visits, endpoint, arm)
            rows.append(
                {
                    "role": role,
                    "outcome": endpoint.outcome,
                    "label": OUTCOME_LABELS[endpoint.outcome],
                    "comparison": comparison,
                    "estimate": effect.estimate,
                    "ci_low": effect.ci_low,
                    "ci_high": effect.ci_high,
                    "p_value": effect.p_value,
                    "endpoint": effect.endpoint,
                    "method": effect.method,
                }
            )
        if config.design == "parallel":
            week = config.primary.week or config.total_weeks
            table = outcome_table(visits, "pain_nrs")
            for threshold in config.responder_thresholds:
                result = trial_stats.responder_analysis(
                    table, week, config.control_arm, arm, threshold
                )
                responders.append(
                    {
                        "comparison": comparison,
                        "threshold": threshold,
                        "treatment": result.proportions[arm],
                        "control": result.proportions[config.control_arm],
                        "difference": result.effect.estimate,
                        "ci_low": result.effect.ci_low,
                        "ci_high": result.effect.ci_high,
                        "p_value": result.effect.p_value,
                    }
                )
    return TrialAnalysis(pd.DataFrame(rows), pd.DataFrame(responders))


def replicate_effects(
    config: TrialConfig, visits: pd.DataFrame, endpoint: Endpoint, arm: str
) -> pd.DataFrame:
    """Effect of ``arm`` versus the control arm on one endpoint in every replicate trial of
    ``visits``, analysed together (:mod:`fmsim.stats` batched analyses; one row per replicate
    with estimate, se, df, ci_low, ci_high and p_value)."""
    if config.design == "crossover":
        table = crossover_table(config, visits, endpoint.outcome)
        analysis, args = trial_stats.crossover_effects, (table, config.control_arm, arm)
    else:
        week = endpoint.week or config.total_weeks
        table = outcome_table(visits, endpoint.outcome).assign(
            replicate=visits["replicate"].to_numpy()
        )
        batched = {"ancova": trial_stats.ancova_effects, "mmrm": trial_stats.mmrm_effects}
        analysis = batched[endpoint.analysis]
        args = (table, week, config.control_arm, arm)
    # stacks of small matrices: one BLAS thread each is faster than sharing the cores per call
    with threadpool_limits(limits=1, user_api="blas"):
        return analysis(*args)


def primary_results(simulation: TrialSimulation, arm: str | None = None) -> pd.DataFrame:
    """Primary-endpoint estimate and p-value of ``arm`` (default: the first non-control arm)
    versus control in every replicate trial of ``simulation``."""
    config = simulation.config
    arm = arm or treatment_arms(config)[0]
    effects = replicate_effects(config, simulation.visits, config.primary, arm)
    return effects.loc[:, ["replicate", "estimate", "p_value"]]


@dataclass(frozen=True)
class PowerCurve:
    """Power per population and number of patients (``table``: population, patients, power,
    ci_low, ci_high, mean_effect, replicates) and the patients needed for the target power
    per population (``required``: population, required_n, label, mean_effect)."""

    table: pd.DataFrame
    required: pd.DataFrame


def empty_power_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Power and required-size tables with their columns and no rows (power not run)."""
    return (
        pd.DataFrame(
            columns=[
                "population",
                "patients",
                "power",
                "ci_low",
                "ci_high",
                "mean_effect",
                "replicates",
            ]
        ),
        pd.DataFrame(columns=["population", "required_n", "label", "mean_effect"]),
    )


def enrichment_populations(config: TrialConfig) -> dict[str, dict[str, str]]:
    """The configured population and its enrichment alternative (overrides per population)."""
    if config.population.enrichment == "anti_sgc_positive":
        return {"anti-SGC positive (as configured)": {}, "all comers": {"enrichment": "none"}}
    return {
        "all comers (as configured)": {},
        "anti-SGC positive only": {"enrichment": "anti_sgc_positive"},
    }


def power_curve(
    config: TrialConfig,
    populations: dict[str, dict[str, str]] | None = None,
    *,
    chunks: ChunkStore | None = None,
    progress: bool = False,
    executor: Executor | None = None,
) -> PowerCurve:
    """Replicate trials for every population and sample size of ``config.power``.

    Each (population, sample size) is one chunk of ``config.power.replicates`` trials with its
    own seed (:func:`fmsim.engine.execution.chunk_seed` of the config seed and the chunk's
    key); chunks run on ``executor`` (default: in this process). With ``chunks`` (see
    :func:`chunk_store`) each chunk's per-replicate results are stored and, verified, reused on
    the next run of the same config (resume). Where it saves simulation (:func:`uses_pool`),
    the trials of a population draw their patients from a pool of
    ``config.power.pool_patients`` patients simulated once (see :func:`simulate_trial`)."""
    populations = populations or enrichment_populations(config)
    jobs = [(p, n, populations[p]) for p in populations for n in config.power.sample_sizes]
    table = _replicate_chunks(config, jobs, chunks, progress, "power", executor)
    return PowerCurve(table, _required_sizes(table, config.power.target))


def power_by_positive_fraction(
    config: TrialConfig,
    *,
    chunks: ChunkStore | None = None,
    progress: bool = False,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Power of the configured trial (its size and enrichment) at each anti-SGC-positive share
    of ``config.power.positive_fractions``; same columns as :class:`PowerCurve` ``table`` plus
    ``positive_fraction``."""
    jobs = [
        (
            f"{fraction:.0%} anti-SGC positive",
            config.patients,
            {"anti_sgc_positive_fraction": fraction},
        )
        for fraction in config.power.positive_fractions
    ]
    table = _replicate_chunks(config, jobs, chunks, progress, "positive share", executor)
    return table.assign(positive_fraction=config.power.positive_fractions)


#: Version of the replicate-trial method; part of every chunk's fingerprint, so that chunks of
#: an earlier method are never reused.
REPLICATE_METHOD = "pool-v1"
#: Patients per block of a patient pool (the unit of work of the pool's simulation).
POOL_BLOCK = 2_000


def chunk_fingerprint(config: TrialConfig) -> str:
    """Identifies what a chunk of replicate trials depends on: the config, the fmsim version,
    the replicate method, the human and clinical parameter files and the drug-library entries
    the arms use (a stale chunk is never reused)."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    digest.update(metadata.version("fmsim").encode())
    digest.update(REPLICATE_METHOD.encode())
    for name in ("human.yaml", "clinical.yaml"):
        digest.update(resources.files("fmsim.model").joinpath("data", name).read_bytes())
    for arm in config.arms:
        for entry in arm.protocol().entries():
            digest.update(entry.model_dump_json().encode())
    return digest.hexdigest()


def chunk_store(config: TrialConfig, folder: Path) -> ChunkStore:
    """The store of replicate-trial chunks of ``config`` in ``folder``."""
    return ChunkStore(folder, chunk_fingerprint(config))


def treated_groups(config: TrialConfig) -> list[str]:
    """The randomised groups whose protocol has a therapy (not only placebo)."""
    return [
        g
        for g in trial_groups(config)
        if any(b.type != "placebo" for b in group_protocol(config, g).therapies)
    ]


def uses_pool(config: TrialConfig, trials: Sequence[tuple[int, int]]) -> bool:
    """Whether the replicate trials of one population, ``trials`` = (patients, replicates)
    per chunk, draw from a patient pool: only if ``config.power.pool_patients`` is set and the
    pool (its size x the groups with a therapy) needs fewer simulated courses than fresh
    patients would (patients in groups with a therapy; placebo groups cost nothing)."""
    size = config.power.pool_patients
    treated = treated_groups(config)
    if size is None or not treated:
        return False
    if config.design == "crossover":
        weights = {s.name: s.allocation for s in config.crossover.sequences}
    else:
        weights = {a.name: a.allocation for a in config.arms}
    share = sum(weights[g] for g in treated) / sum(weights.values())
    fresh = share * sum(n * r for n, r in trials)
    return _pool_size(size) * len(treated) < fresh


def _pool_size(patients: int) -> int:
    """Pool size: ``patients`` rounded up to whole blocks."""
    return -(-patients // POOL_BLOCK) * POOL_BLOCK


def replicate_chunk(
    config: TrialConfig,
    n: int,
    replicates: int,
    seed: int,
    overrides: dict[str, str | float],
    pool_blocks: Sequence[PatientPool] = (),
) -> pd.DataFrame:
    """One chunk of a power analysis: ``replicates`` trials of ``n`` patients (from the pool
    made of ``pool_blocks``, if any), primary-endpoint estimate and p-value per replicate."""
    pool = PatientPool.concatenate(pool_blocks) if pool_blocks else None
    simulation = simulate_trial(
        config, n, replicates=replicates, seed=seed, keep_courses=False, pool=pool, **overrides
    )
    return primary_results(simulation)


def _chunk_key(population: str, n: int, overrides: dict) -> str:
    return f"{population}|{n}|{sorted(overrides.items())}"


def _replicate_chunks(config, jobs, store, progress, label, executor) -> pd.DataFrame:
    """Run (or reload, verified) one chunk of replicate trials per job (label, patients,
    overrides); pools first where :func:`uses_pool`."""
    settings = config.power
    results = {}
    for population, n, overrides in jobs:
        key = _chunk_key(population, n, overrides)
        stored = store.read_verified_chunk(key) if store is not None else None
        if stored is not None:
            results[key] = stored
    chunks: list[Chunk] = []
    pools: dict[str, list[ResultOf]] = {}
    for population, n, overrides in jobs:
        key = _chunk_key(population, n, overrides)
        if key in results:
            continue
        name = str(sorted(overrides.items()))
        trials = [(m, settings.replicates) for _, m, o in jobs if o == overrides]
        if name not in pools and uses_pool(config, trials):
            blocks = [
                f"pool|{name}|{b}" for b in range(_pool_size(settings.pool_patients) // POOL_BLOCK)
            ]
            chunks += [
                Chunk(
                    b,
                    simulate_pool,
                    (config, POOL_BLOCK, chunk_seed(config.seed, b)),
                    dict(overrides),
                    POOL_BLOCK * len(treated_groups(config)),
                )
                for b in blocks
            ]
            pools[name] = [ResultOf(b) for b in blocks]
        arguments = (config, n, settings.replicates, chunk_seed(config.seed, key), overrides)
        chunks.append(
            Chunk(
                key, replicate_chunk, (*arguments, pools.get(name, [])), {}, n * settings.replicates
            )
        )

    def done(chunk: Chunk, result) -> None:
        if store is not None and chunk.function is replicate_chunk:
            store.write_chunk(chunk.key, result)

    if results:
        logging.getLogger("fmsim").info(
            "%s: %d chunks reused after verification", label, len(results)
        )
    with ChunkProgress(label, chunks, enabled=progress) as bar:
        computed = (executor or InProcess()).run(chunks, bar.after(done))
    results.update({k: v for k, v in computed.items() if not k.startswith("pool|")})
    rows = []
    for population, n, overrides in jobs:
        replicate_results = results[_chunk_key(population, n, overrides)]
        estimate = trial_stats.power_from_replicates(replicate_results["p_value"], settings.alpha)
        rows.append(
            {
                "population": population,
                "patients": n,
                "power": estimate.power,
                "ci_low": estimate.ci_low,
                "ci_high": estimate.ci_high,
                "mean_effect": float(replicate_results["estimate"].mean()),
                "replicates": len(replicate_results),
            }
        )
    return pd.DataFrame(rows)


#: Patients per chunk of a large virtual trial (:func:`virtual_trial`).
TRIAL_CHUNK = 10_000


def trial_block(config: TrialConfig, n: int, seed: int) -> pd.DataFrame:
    """One block of a large virtual trial: ``n`` patients screened, randomised, simulated
    afresh; one row per patient: group, anti-SGC status, the primary outcome at baseline
    (week 0) and at the primary endpoint's week (NaN after dropout)."""
    simulation = simulate_trial(config, n, seed=seed, keep_courses=False)
    outcome, week = config.primary.outcome, config.primary.week or config.total_weeks
    visits = simulation.visits.set_index(["patient", "week"])[outcome]
    patients = simulation.patients
    index = patients["patient"].to_numpy()
    return pd.DataFrame(
        {
            "patient": index,
            "group": patients["group"].to_numpy(),
            "anti_sgc_positive": patients["anti_sgc_positive"].to_numpy(),
            "baseline": visits.reindex(
                pd.MultiIndex.from_arrays([index, np.zeros_like(index)])
            ).to_numpy(),
            "endpoint": visits.reindex(
                pd.MultiIndex.from_arrays([index, np.full_like(index, week)])
            ).to_numpy(),
        }
    )


def virtual_trial(
    config: TrialConfig,
    patients: int,
    *,
    block: int = TRIAL_CHUNK,
    chunks: ChunkStore | None = None,
    progress: bool = False,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """A trial of ``patients`` virtual patients (10^6 and more) run as blocks of ``block``
    patients (:func:`trial_block`; each screened and randomised on its own, i.e. randomisation
    stratified by block, with the seed :func:`fmsim.engine.execution.chunk_seed` of the config
    seed and the block's key) on ``executor``; blocks stored in ``chunks`` and, verified, reused
    (resume). One row per patient (``patient`` numbered over the whole trial, ``block``)."""
    sizes = [min(block, patients - start) for start in range(0, patients, block)]
    keys = [f"virtual trial|{patients}|block {k} of {block}" for k in range(len(sizes))]
    jobs = [
        Chunk(key, trial_block, (config, n, chunk_seed(config.seed, key)), {}, n)
        for key, n in zip(keys, sizes, strict=True)
    ]
    results = run_job("virtual trial", jobs, executor, chunks, progress)
    tables = []
    for k, key in enumerate(keys):
        table = results[key]
        tables.append(table.assign(patient=table["patient"] + k * block, block=k))
    return pd.concat(tables, ignore_index=True)


def _required_sizes(table: pd.DataFrame, target: float) -> pd.DataFrame:
    rows = []
    for population, curve in table.groupby("population", sort=False):
        ordered = curve.sort_values("patients")
        if ordered["power"].iloc[0] >= target:
            n = float(ordered["patients"].iloc[0])
        else:
            try:
                n = trial_stats.required_sample_size(curve["patients"], curve["power"], target)
            except ValueError:  # not reached within the simulated sample sizes
                n = math.inf
        rows.append(
            {
                "population": population,
                "required_n": n,
                "label": sample_size_label(n, curve["patients"].min(), curve["patients"].max()),
                "mean_effect": float(curve.sort_values("patients")["mean_effect"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows)


def sample_size_label(n: float, smallest: int, largest: int) -> str:
    """Readable required sample size: a number, or where it lies outside the simulated sizes."""
    if not math.isfinite(n):
        return f"more than {largest}"
    if n <= smallest:
        return f"{smallest} or fewer"
    return str(int(math.ceil(n)))
