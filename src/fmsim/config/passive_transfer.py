"""Configuration of an in-silico passive-transfer experiment.

The defaults reproduce Goebel, Krock et al., J Clin Invest 2021;131(13):e144201: 8 mg human
IgG i.p. daily on 4 consecutive days into female mice; IgG from 8 fibromyalgia (FMS) donors and
6 healthy-control (HC) donors; saline and IgG-depleted FMS serum as further controls.
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

from fmsim.config.base import Strict
from fmsim.config.errors import format_validation_error, read_yaml
from fmsim.config.quantities import parse_dose

Material = Literal["igg", "depleted_serum", "saline"]
READOUTS = (
    "paw_pressure_threshold",
    "von_frey_threshold",
    "cold_response",
    "heat_latency",
    "grip_strength",
    "locomotor_activity",
)


class Donor(Strict):
    """One IgG donor. ``anti_sgc_fraction``: fraction of the donor's IgG that is pathogenic
    anti-satellite-glial-cell IgG (dimensionless, 0-1; assumed, titres were not published)."""

    id: str = Field(min_length=1)
    anti_sgc_fraction: float = Field(ge=0.0, le=1.0)


class Group(Strict):
    """A treatment group: what the mice receive, from which donors, how many mice."""

    name: str = Field(min_length=1)
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
    """A passive-transfer experiment. Times in days relative to the first injection (day 0)."""

    name: str = "Passive transfer of FMS IgG (Goebel 2021 design)"
    seed: int = Field(default=2021, ge=0)
    dose: str | float = "8 mg"
    injection_days: list[float] = Field(default_factory=lambda: [0.0, 1.0, 2.0, 3.0])
    test_days: list[float] = Field(
        default_factory=lambda: [0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 17.0, 21.0, 28.0, 35.0]
    )
    ienfd_days: list[float] = Field(default_factory=lambda: [14.0])
    readouts: list[str] = Field(default_factory=lambda: list(READOUTS))
    groups: list[Group] = Field(default_factory=_default_groups)
    control_group: str = "HC-IgG"
    disease_group: str = "FMS-IgG"
    parameters: dict[str, float] = Field(default_factory=dict)

    @field_validator("dose")
    @classmethod
    def _dose(cls, value: str | float) -> str | float:
        parse_dose(value)
        return value

    @field_validator("injection_days", "test_days", "ienfd_days")
    @classmethod
    def _days(cls, days: list[float]) -> list[float]:
        if any(d < 0 for d in days):
            raise ValueError("days must be >= 0 (day 0 is the first injection)")
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
        return name

    def dose_quantity(self) -> tuple[float, str]:
        """The injection dose as (value, unit) with unit 'mg' (per mouse) or 'mg/kg'."""
        return parse_dose(self.dose)


def default_config() -> PassiveTransferConfig:
    """The Goebel 2021 design with fmsim's default donors and group sizes."""
    return PassiveTransferConfig()


def load_config(path: str | Path) -> PassiveTransferConfig:
    """Read and validate a YAML scenario; raises ConfigError with one line per problem."""
    path = Path(path)
    raw = read_yaml(path)
    try:
        return PassiveTransferConfig(**raw)
    except ValidationError as error:
        raise format_validation_error(str(path), error) from None
