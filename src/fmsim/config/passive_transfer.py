"""Configuration of an in-silico passive-transfer experiment.

The defaults reproduce Goebel, Krock et al., J Clin Invest 2021;131(13):e144201: 8 mg human
IgG i.p. daily on 4 consecutive days into female mice; IgG from 8 fibromyalgia (FMS) donors and
6 healthy-control (HC) donors; saline and IgG-depleted FMS serum as further controls.

Bounds: days are finite, from day 0 (the first injection) to :data:`MAX_STUDY_DAY` (one year:
human IgG in a mouse is cleared within two months, and the study followed the mice for five
weeks), at most :data:`MAX_DAYS_LISTED` per list; the dose lies in the plausible range of
:mod:`fmsim.config.quantities` unless ``allow_implausible_dose``; parameter overrides are
checked against the parameter registry (:func:`fmsim.model.parameters.shipped_parameters`);
the disease group differs from the control group; and the whole experiment must fit in memory
(:mod:`fmsim.config.limits`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from fmsim.config.base import Strict
from fmsim.config.errors import format_validation_error, read_yaml
from fmsim.config.limits import BYTES_PER_MOUSE_POINT, check_fits
from fmsim.config.quantities import check_plausible_dose, parse_dose
from fmsim.model.parameters import shipped_parameters

Material = Literal["igg", "depleted_serum", "saline"]
READOUTS = (
    "paw_pressure_threshold",
    "von_frey_threshold",
    "cold_response",
    "heat_latency",
    "grip_strength",
    "locomotor_activity",
)
#: Last day a passive-transfer experiment may test or inject (days after the first injection).
MAX_STUDY_DAY = 365.0
#: Most entries in one list of days (injections, tests, IENFD biopsies).
MAX_DAYS_LISTED = 1000
#: Days between stored model time points (the trajectories table).
TRAJECTORY_STEP = 0.25


class Donor(Strict):
    """One IgG donor. ``anti_sgc_fraction``: fraction of the donor's IgG that is pathogenic
    anti-satellite-glial-cell IgG (dimensionless, 0-1; assumed, titres were not published)."""

    id: str = Field(min_length=1, max_length=100)
    anti_sgc_fraction: float = Field(ge=0.0, le=1.0)


class Group(Strict):
    """A treatment group: what the mice receive, from which donors, how many mice."""

    name: str = Field(min_length=1, max_length=100)
    material: Material
    donors: list[Donor] = Field(default_factory=list)
    mice_per_donor: int | None = Field(default=None, ge=1, le=100_000)
    mice: int | None = Field(default=None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _sizes(self) -> Group:
        if self.material == "saline":
            if self.donors:
                raise ValueError("a saline group has no donors")
            if self.mice is None:
                raise ValueError("a saline group needs 'mice' (number of mice)")
        elif not self.donors:
            raise ValueError(f"a group of material {self.material!r} needs at least one donor")
        elif (self.mice is None) == (self.mice_per_donor is None):
            raise ValueError("give exactly one of 'mice_per_donor' or 'mice'")
        return self

    def n_mice(self) -> int:
        if self.mice_per_donor is not None:
            return self.mice_per_donor * len(self.donors)
        return int(self.mice)


def _default_groups() -> list[Group]:
    fms = [
        Donor(id=f"FMS{i + 1}", anti_sgc_fraction=f)
        # octiles of a lognormal titre distribution, median 0.007, CV 0.25 (calibrated so that
        # Goebel 2021's donor-level outcomes are the typical result; docs/calibration.md)
        for i, f in enumerate([0.0048, 0.0056, 0.0062, 0.0067, 0.0073, 0.0079, 0.0087, 0.0102])
    ]
    hc = [Donor(id=f"HC{i + 1}", anti_sgc_fraction=0.0) for i in range(6)]
    return [
        Group(name="FMS-IgG", material="igg", donors=fms, mice_per_donor=4),
        Group(name="HC-IgG", material="igg", donors=hc, mice_per_donor=4),
        Group(name="Saline", material="saline", mice=8),
        Group(name="IgG-depleted FMS serum", material="depleted_serum", donors=fms[:4], mice=8),
    ]


class PassiveTransferConfig(Strict):
    """A passive-transfer experiment. Times in days relative to the first injection (day 0).
    ``allow_implausible_dose``: accept a dose above the plausible range (see
    :mod:`fmsim.config.quantities`)."""

    name: str = Field(default="Passive transfer of FMS IgG (Goebel 2021 design)", max_length=200)
    seed: int = Field(default=2021, ge=0)
    allow_implausible_dose: bool = False
    dose: str = "8 mg"
    injection_days: list[float] = Field(default_factory=lambda: [0.0, 1.0, 2.0, 3.0])
    test_days: list[float] = Field(
        default_factory=lambda: [0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 17.0, 21.0, 28.0, 35.0]
    )
    ienfd_days: list[float] = Field(default_factory=lambda: [14.0])
    readouts: list[str] = Field(default_factory=lambda: list(READOUTS))
    groups: list[Group] = Field(default_factory=_default_groups, min_length=1)
    control_group: str = "HC-IgG"
    disease_group: str = "FMS-IgG"
    parameters: dict[str, float] = Field(default_factory=dict)

    @field_validator("dose", mode="before")
    @classmethod
    def _dose(cls, value: object, info: ValidationInfo) -> object:
        amount, unit = parse_dose(value)  # a bare number gets "a dose needs a unit"
        check_plausible_dose(amount, unit, info.data.get("allow_implausible_dose", False))
        return value

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameters(cls, values: object) -> object:
        """Each override checked against the registry: one line per bad name or value."""
        if not isinstance(values, dict):
            return values  # pydantic says "expected a dictionary"
        registry = shipped_parameters("mouse")
        errors = []
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                problem = "expected a number"
            else:
                problem = registry.problem(str(name), float(value))
            if problem:
                kind = PydanticCustomError("value_error", "{message}", {"message": problem})
                errors.append(InitErrorDetails(type=kind, loc=(name,), input=value))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return values

    @field_validator("injection_days", "test_days", "ienfd_days")
    @classmethod
    def _days(cls, days: list[float]) -> list[float]:
        if any(d < 0 for d in days):
            raise ValueError("days must be >= 0 (day 0 is the first injection)")
        if any(d > MAX_STUDY_DAY for d in days):
            raise ValueError(
                f"days must be at most {MAX_STUDY_DAY:g} (one year; human IgG is cleared from "
                "a mouse within two months)"
            )
        if len(days) > MAX_DAYS_LISTED:
            raise ValueError(f"at most {MAX_DAYS_LISTED} days, got {len(days)}")
        if len(set(days)) != len(days):
            raise ValueError("days must not repeat")
        if any(b < a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("days must be in increasing order")
        return days

    @field_validator("readouts")
    @classmethod
    def _readouts(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in READOUTS]
        if unknown:
            raise ValueError(f"unknown readout(s) {unknown}; expected any of {list(READOUTS)}")
        if len(set(names)) != len(names):
            raise ValueError("readouts must not repeat")
        return names

    @field_validator("test_days")
    @classmethod
    def _baseline_first(cls, days: list[float], info: ValidationInfo) -> list[float]:
        if not days or days[0] != 0.0:
            raise ValueError("test_days must start with the baseline test on day 0")
        injections = info.data.get("injection_days") or [0.0]
        if days[-1] < max(injections):
            raise ValueError(
                f"the last test day comes before the last injection ({max(injections):g})"
            )
        return days

    @field_validator("groups")
    @classmethod
    def _unique_names(cls, groups: list[Group]) -> list[Group]:
        names = [g.name for g in groups]
        if len(set(names)) != len(names):
            raise ValueError(f"group names must be unique, got {names}")
        return groups

    @field_validator("control_group", "disease_group")
    @classmethod
    def _known_group(cls, name: str, info: ValidationInfo) -> str:
        groups = info.data.get("groups")
        if groups is not None and name not in [g.name for g in groups]:
            raise ValueError(f"expected one of the group names {[g.name for g in groups]}")
        if info.field_name == "disease_group" and name == info.data.get("control_group"):
            raise ValueError("the disease group must differ from the control group")
        return name

    @model_validator(mode="after")
    def _fits_in_memory(self) -> PassiveTransferConfig:
        points = int(self.last_day() / TRAJECTORY_STEP) + 1 + len(self.test_days)
        try:
            check_fits(
                float(self.n_mice()) * points * BYTES_PER_MOUSE_POINT,
                f"{self.n_mice():,} mice x {points:,} time points",
                "simulate fewer mice per file (split the groups over several scenario files "
                "with different seeds) or fewer days",
            )
        except ValueError as problem:
            kind = PydanticCustomError("value_error", "{message}", {"message": str(problem)})
            detail = InitErrorDetails(type=kind, loc=("groups",), input=f"{self.n_mice()} mice")
            raise ValidationError.from_exception_data(type(self).__name__, [detail]) from None
        return self

    def _check_memory(self) -> None:
        points = int(self.last_day() / TRAJECTORY_STEP) + 1 + len(self.test_days)
        check_fits(
            float(self.n_mice()) * points * BYTES_PER_MOUSE_POINT,
            f"{self.n_mice():,} mice x {points:,} time points",
            "simulate fewer mice per file (split the groups over several scenario files with "
            "different seeds) or fewer days",
        )

    def n_mice(self) -> int:
        """Number of mice in the experiment."""
        return sum(g.n_mice() for g in self.groups)

    def last_day(self) -> float:
        """Day of the last test or IENFD biopsy (the end of the simulation)."""
        return max(self.test_days[-1], max(self.ienfd_days, default=0.0))

    def dose_quantity(self) -> tuple[float, str]:
        """The injection dose as (value, unit) with unit 'mg' (per mouse) or 'mg/kg'."""
        return parse_dose(self.dose)


def default_config() -> PassiveTransferConfig:
    """The Goebel 2021 design with fmsim's default donors and group sizes."""
    return PassiveTransferConfig()


def load_config(path: str | Path) -> PassiveTransferConfig:
    """Read and validate a YAML scenario; raises ConfigError with one line per problem."""
    path = Path(path)
    return parse_config(read_yaml(path), str(path))


def parse_config(raw: dict, origin: str = "scenario") -> PassiveTransferConfig:
    """Validate a scenario given as a mapping (``origin`` names it in messages)."""
    try:
        return PassiveTransferConfig(**raw)
    except ValidationError as error:
        raise format_validation_error(origin, error) from None
