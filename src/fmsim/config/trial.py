"""Configuration of a virtual clinical trial of an IgG-lowering therapy in fibromyalgia.

A trial is a population (who is screened, who is eligible, who is enrolled), a design (parallel
arms, or a crossover of treatment sequences over periods), therapies per arm (protocols of
:mod:`fmsim.config.therapy`), visits, endpoints and their analysis, and the replicate trials
used for power. Times are in weeks from randomisation (day 0 = first dose).

Bounds: every arm (parallel) or sequence (crossover) must receive at least
:data:`MIN_PATIENTS_PER_GROUP` patients, so that each group's variance can be estimated (the
ANCOVA, MMRM and crossover mixed models all need it), which sets the smallest trial for the
allocation (:meth:`TrialConfig.minimum_patients`); the same holds for every power sample size.
No therapy block starts after the trial (parallel) or its period (crossover) has ended. The trial,
and one chunk of replicate trials for power, must fit in memory (:mod:`fmsim.config.limits`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from fmsim.config.base import Strict
from fmsim.config.errors import format_validation_error, read_yaml
from fmsim.config.limits import BYTES_PER_PATIENT_DAY, check_fits
from fmsim.config.therapy import (
    TherapyBlock,
    TherapyProtocol,
    drug_library,
    resolve_drug_paths,
    shift_block,
)

Outcome = Literal["pain_nrs", "bpi_interference", "fiqr"]
#: Fewest patients an arm (or crossover sequence) may receive: two, so that its variance can
#: be estimated.
MIN_PATIENTS_PER_GROUP = 2
OUTCOME_LABELS = {
    "pain_nrs": "weekly mean pain (0-10 NRS)",
    "bpi_interference": "BPI-SF pain interference (0-10)",
    "fiqr": "FIQR total (0-100)",
}


class Population(Strict):
    """Who is screened and who may enter.

    ``anti_sgc_positive_fraction``: share of fibromyalgia patients whose IgG binds satellite
    glial cells (68/184 = 37 % of sera bound rat DRG; Seefried et al., Pain 2025).
    ``enrichment``: ``anti_sgc_positive`` enrols only patients who test positive.
    ``inclusion_outcome`` / ``inclusion_minimum``: baseline severity needed to enter (e.g.
    BPI-SF interference >= 6 as in NCT05643794).
    """

    anti_sgc_positive_fraction: float = Field(default=0.37, ge=0.0, le=1.0)
    enrichment: Literal["none", "anti_sgc_positive"] = "none"
    inclusion_outcome: Outcome = "pain_nrs"
    inclusion_minimum: float = Field(default=4.0, ge=0.0, le=100.0)


class Arm(Strict):
    """A treatment arm: a name and the therapy blocks it receives (see
    :mod:`fmsim.config.therapy`; no blocks, or ``[{type: placebo}]``, is placebo). Days of the
    blocks count from the arm's start (day 0 of the trial, or of the period in a crossover)."""

    name: str = Field(min_length=1, max_length=100)
    therapies: list[TherapyBlock] = Field(default_factory=list)
    allocation: float = Field(default=1.0, gt=0.0)

    @model_validator(mode="after")
    def _protocol(self) -> Arm:
        # a ValidationError raised here keeps its locations (under this arm: "therapies")
        self.protocol()
        return self

    def protocol(self, offset_days: float = 0.0) -> TherapyProtocol:
        """The arm's therapy protocol, its days shifted by ``offset_days``."""
        blocks = [shift_block(b, offset_days) for b in self.therapies]
        return TherapyProtocol(name=self.name, therapies=blocks or [TherapyBlock(type="placebo")])

    @property
    def is_placebo(self) -> bool:
        return all(b.type == "placebo" for b in self.therapies)


class Sequence(Strict):
    """A crossover sequence: the arm received in each period, in order."""

    name: str = Field(min_length=1, max_length=100)
    periods: list[str] = Field(min_length=1, max_length=20)
    allocation: float = Field(default=1.0, gt=0.0)


class Crossover(Strict):
    """Crossover timing: every period lasts ``period_weeks``; ``washout_weeks`` separate them;
    the period's outcome is the mean of its last ``assessment_weeks`` weeks."""

    sequences: list[Sequence] = Field(min_length=2)
    period_weeks: int = Field(ge=1, le=104)
    washout_weeks: int = Field(default=0, ge=0, le=104)
    assessment_weeks: int = Field(default=2, ge=1, le=104)


class Endpoint(Strict):
    """An endpoint: change from baseline in ``outcome`` at ``week`` (parallel designs; in a
    crossover the period assessment is used), analysed by ``analysis``."""

    outcome: Outcome
    week: int | None = Field(default=None, ge=1, le=520)
    analysis: Literal["ancova", "mmrm"] = "ancova"


#: Where chunked work runs: ``local`` (a Dask cluster on this machine) or a Dask scheduler.
SCHEDULER = r"^(local|(tcp|tls)://[^\s/:]+:\d{1,5})$"


class Power(Strict):
    """Replicate trials for power: ``sample_sizes`` are total patients randomised;
    ``positive_fractions``: anti-SGC-positive shares of the population at which the power of
    the configured trial size is also estimated. ``pool_patients``: size of the patient pool
    that replicate trials draw from when that needs fewer simulations (None: always fresh
    patients; see :func:`fmsim.experiments.trial.uses_pool`). ``scheduler``: where the replicate
    trials run: ``local`` (a Dask cluster on this machine), a Dask scheduler's address
    ``tcp://HOST:PORT``, or None (in the fmsim process); ``fmsim trial --scheduler`` overrides."""

    sample_sizes: list[int] = Field(default=[30, 60, 90, 120, 180], min_length=1, max_length=100)
    positive_fractions: list[float] = Field(default=[0.1, 0.2, 0.37, 0.6, 1.0])
    replicates: int = Field(default=200, ge=10, le=100_000)
    pool_patients: int | None = Field(default=20_000, ge=2_000, le=1_000_000)
    scheduler: str | None = Field(default=None, pattern=SCHEDULER)
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    target: float = Field(default=0.8, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _positive_sizes(self) -> Power:
        if any(n > 1_000_000 for n in self.sample_sizes):
            raise ValueError("every sample size must be at most 1,000,000 patients")
        if any(not 0.0 <= f <= 1.0 for f in self.positive_fractions):
            raise ValueError("positive_fractions are shares of the population between 0 and 1")
        return self


class TrialConfig(Strict):
    """A virtual trial. ``patients``: number randomised; ``duration_weeks``: treatment and
    follow-up of a parallel design (a crossover's length follows from its periods);
    ``dropout_per_week``: constant weekly dropout hazard (default: the clinical parameter file's,
    25 % by week 12); ``questionnaire_weeks``: visit weeks at which BPI-SF, FIQR, WPI and SSS
    are taken (default: every week; week 0, the baseline visit, always); the pain diary is
    kept daily and summarised every week. ``drugs``: the user's drug-library files or folders
    the arms may name (relative to the trial file)."""

    name: str = Field(default="virtual trial", max_length=200)
    drugs: list[str] = Field(default_factory=list)
    seed: int = Field(default=2021, ge=0)
    design: Literal["parallel", "crossover"] = "parallel"
    patients: int = Field(ge=1, le=1_000_000)
    duration_weeks: int = Field(default=12, ge=1, le=520)
    population: Population = Population()
    arms: list[Arm] = Field(min_length=2)
    control_arm: str
    crossover: Crossover | None = None
    primary: Endpoint
    secondary: list[Endpoint] = Field(default_factory=list)
    responder_thresholds: list[float] = Field(default=[0.3, 0.5])
    questionnaire_weeks: list[int] | None = None
    dropout_per_week: float | None = Field(default=None, ge=0.0, lt=1.0)
    power: Power = Power()

    @model_validator(mode="after")
    def _consistent(self) -> TrialConfig:
        # each mistake is reported at its own field (e.g. "crossover.sequences.1.periods")
        errors: list[InitErrorDetails] = []

        def error(loc: tuple, value: object, message: str) -> None:
            kind = PydanticCustomError("value_error", "{message}", {"message": message})
            errors.append(InitErrorDetails(type=kind, loc=loc, input=value))

        self._check_arms(error)
        self._check_crossover(error)
        self._check_sizes(error)
        self._check_therapy_days(error)
        self._check_memory(error)
        self._check_visits_and_endpoints(error)
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def _check_arms(self, error) -> None:
        """Unique arm names, a control arm among them, responder thresholds in (0, 1)."""
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            error(("arms",), names, f"arm names must be unique, got {names}")
        if self.control_arm not in names:
            error(("control_arm",), self.control_arm, f"is not one of the arms {names}")
        if any(not 0.0 < t < 1.0 for t in self.responder_thresholds):
            error(
                ("responder_thresholds",),
                self.responder_thresholds,
                "responder_thresholds are fractions of baseline between 0 and 1",
            )

    def _check_crossover(self, error) -> None:
        """A crossover design has sequences of known arms using every arm; a parallel one has
        no crossover section."""
        if self.design != "crossover":
            if self.crossover is not None:
                error(("design",), self.design, "a 'crossover' section needs design: crossover")
            return
        if self.crossover is None:
            error(("crossover",), None, "a crossover design needs a 'crossover' section")
            return
        names = [a.name for a in self.arms]
        for k, seq in enumerate(self.crossover.sequences):
            unknown = [p for p in seq.periods if p not in names]
            if unknown:
                error(
                    ("crossover", "sequences", k, "periods"),
                    seq.periods,
                    f"sequence {seq.name!r} uses unknown arms {unknown} (arms: {names})",
                )
        used = {p for seq in self.crossover.sequences for p in seq.periods}
        for k, name in enumerate(names):
            if name not in used:  # it would be compared with control without patients
                error(("arms", k, "name"), name, "this arm is in no crossover sequence")

    def _check_sizes(self, error) -> None:
        """Enough patients per arm (sequence) in the trial and in every power sample size."""
        minimum = self.minimum_patients()
        if self.patients < minimum:
            error(("patients",), self.patients, self._too_few(self.patients, minimum))
        for k, n in enumerate(self.power.sample_sizes):
            if n < minimum:
                error(("power", "sample_sizes", k), n, self._too_few(n, minimum))

    def _check_visits_and_endpoints(self, error) -> None:
        """Questionnaire weeks inside the trial; every endpoint's week inside the trial and,
        for questionnaires of a parallel trial, a questionnaire week."""
        visits = self.questionnaire_weeks
        if visits is not None and any(not 1 <= w <= self.total_weeks for w in visits):
            error(
                ("questionnaire_weeks",),
                visits,
                f"visit weeks must lie between 1 and the end of the trial ({self.total_weeks})",
            )
        endpoints = [(("primary",), self.primary)]
        endpoints += [(("secondary", k), e) for k, e in enumerate(self.secondary)]
        for loc, endpoint in endpoints:
            week = endpoint.week or self.total_weeks
            if week > self.total_weeks:
                error(
                    (*loc, "week"),
                    endpoint.week,
                    f"endpoint week {endpoint.week} is after the end of the trial "
                    f"({self.total_weeks} weeks)",
                )
            elif (
                visits is not None
                and endpoint.outcome != "pain_nrs"
                and self.design == "parallel"
                and week not in visits
            ):
                error(
                    (*loc, "week"),
                    week,
                    f"{endpoint.outcome} is only taken at questionnaire_weeks {visits}",
                )

    def minimum_patients(self) -> int:
        """The smallest number of patients giving every arm (parallel) or sequence
        (crossover) :data:`MIN_PATIENTS_PER_GROUP` patients at the configured allocation."""
        if self.design == "crossover" and self.crossover is not None:
            weights = [s.allocation for s in self.crossover.sequences]
        else:
            weights = [a.allocation for a in self.arms]
        share = min(weights) / sum(weights)
        return max(2 * MIN_PATIENTS_PER_GROUP, math.ceil(MIN_PATIENTS_PER_GROUP / share - 1e-9))

    def _too_few(self, n: int, minimum: int) -> str:
        groups = "sequence" if self.design == "crossover" else "arm"
        return (
            f"{n} patients are too few to analyse: every {groups} needs at least "
            f"{MIN_PATIENTS_PER_GROUP} patients to estimate its variance, which with this "
            f"allocation takes at least {minimum} patients"
        )

    def _check_therapy_days(self, error) -> None:
        """No therapy block starts after the trial (parallel) or its period (crossover) has
        ended: none of it would happen. (A schedule may run on past the end, as maintenance
        dosing does after a trial's last visit.)"""
        if self.design == "crossover" and self.crossover is not None:
            end, where = 7.0 * self.crossover.period_weeks, "the end of the period"
        else:
            end, where = 7.0 * self.total_weeks, "the end of the trial"
        for k, arm in enumerate(self.arms):
            for j, block in enumerate(arm.therapies):
                schedule = block.schedule()
                if schedule and schedule[0] >= end and block.type != "placebo":
                    error(
                        ("arms", k, "therapies", j),
                        f"day {schedule[0]:g}",
                        f"{block.type} starts on day {schedule[0]:g}, after {where} "
                        f"(day {end:g}); none of it would happen",
                    )

    def _check_memory(self, error) -> None:
        """The trial, and one chunk of replicate trials for power, fit in memory."""
        days = 7 * self.total_weeks
        largest = max(self.power.sample_sizes)
        try:
            check_fits(
                float(self.patients) * days * BYTES_PER_PATIENT_DAY,
                f"a trial of {self.patients:,} patients x {days} days",
                "lower 'patients' (power curves come from replicate trials of the smaller size)",
            )
        except ValueError as problem:
            error(("patients",), self.patients, str(problem))
        try:
            check_fits(
                float(largest) * self.power.replicates * days * BYTES_PER_PATIENT_DAY,
                f"a power chunk of {self.power.replicates:,} replicate trials x "
                f"{largest:,} patients x {days} days",
                "lower power.replicates or the largest power.sample_sizes, or run without power",
            )
        except ValueError as problem:
            error(("power", "replicates"), self.power.replicates, str(problem))

    def with_replicates(self, replicates: int, origin: str = "trial config") -> TrialConfig:
        """This trial with ``replicates`` replicate trials per power design, validated again
        (raises :class:`ConfigError` naming ``origin``)."""
        data = self.model_dump()
        data["power"]["replicates"] = replicates
        return parse_trial_config(data, origin)

    @property
    def total_weeks(self) -> int:
        """Weeks from randomisation to the last visit."""
        if self.design == "crossover" and self.crossover is not None:
            c = self.crossover
            n_periods = max(len(s.periods) for s in c.sequences)
            return n_periods * c.period_weeks + (n_periods - 1) * c.washout_weeks
        return self.duration_weeks

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)


def load_trial_config(path: str | Path) -> TrialConfig:
    """Read and validate a trial YAML; raise :class:`ConfigError` with one line per mistake."""
    path = Path(path)
    return parse_trial_config(read_yaml(path), str(path))


def parse_trial_config(data: dict, origin: str = "trial config") -> TrialConfig:
    """Validate a trial config given as a dict (``origin`` names it in error messages); the
    arms' drug names resolve in the built-in library plus the config's ``drugs`` files."""
    paths = resolve_drug_paths(data, origin if origin != "trial config" else None)
    library = drug_library(paths, origin) if paths else None
    try:
        return TrialConfig.model_validate({**data, "drugs": paths}, context={"library": library})
    except ValidationError as error:
        raise format_validation_error(origin, error) from None
