"""Configuration of IgG-lowering therapy protocols (YAML), validated with pydantic.

A protocol is a list of therapy blocks; blocks may be combined (e.g. plasma exchange followed by
IVIG). Each block has a ``type``, a schedule (``days: [0, 2, 4]`` or ``start``/``every``/
``count``, days relative to the start of treatment) and the fields its type needs:

=================  ====================================================  =====================
type               dose (per administration) / session                   route, default length
=================  ====================================================  =====================
tpe                ``plasma_volumes`` exchanged per session              session 2.5 h
immunoadsorption   ``plasma_volumes`` processed, ``column_efficiency``   session 4 h
ivig               ``dose`` e.g. "0.4 g/kg"                              i.v., 8 h
efgartigimod_iv    ``dose`` e.g. "10 mg/kg" (``max_dose`` "1200 mg")    i.v., 1 h
efgartigimod_sc    ``dose`` e.g. "1000 mg"                               s.c.
rozanolixizumab    ``dose`` e.g. "7 mg/kg"                               s.c. (or ``route: iv``)
nipocalimab        ``dose`` e.g. "30 mg/kg"                              i.v., 0.5 h
rituximab          ``dose`` e.g. "1000 mg" or "375 mg/m2"                i.v., 4 h
placebo            nothing (its schedule is kept for blinding)           --
=================  ====================================================  =====================

Session and infusion lengths can be set per block (``session_hours``, ``infusion_hours``).
Two exchange/adsorption sessions of one patient overlap, and are rejected, when the second starts
before the first has ended (start difference < the first session's length). Sources of the
defaults: efgartigimod 1 h infusion (VYVGART label, DailyMed); nipocalimab 30 min loading
infusion (US label as summarised by seekhealthz.com, 2nd); rituximab ~4.75 h median infusion
(Chen 2024, nlmixr2lib); TPE 120-135 min median (PMC5769505). IVIG 8 h/day and IA 4 h are
assumed (longer procedures; no source read).
"""

from __future__ import annotations

import re
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
from fmsim.config.errors import ConfigError, format_validation_error, read_yaml
from fmsim.config.quantities import parse_dose

TherapyType = Literal[
    "tpe",
    "immunoadsorption",
    "ivig",
    "efgartigimod_iv",
    "efgartigimod_sc",
    "rozanolixizumab",
    "nipocalimab",
    "rituximab",
    "placebo",
]
EXTRACORPOREAL = ("tpe", "immunoadsorption")
DRUGS = (
    "ivig",
    "efgartigimod_iv",
    "efgartigimod_sc",
    "rozanolixizumab",
    "nipocalimab",
    "rituximab",
)
# which FcRn inhibitor (model drug slot) a therapy type uses
FCRN_INHIBITOR_OF = {
    "efgartigimod_iv": "efgartigimod",
    "efgartigimod_sc": "efgartigimod",
    "rozanolixizumab": "rozanolixizumab",
    "nipocalimab": "nipocalimab",
}
DEFAULT_HOURS = {
    "tpe": 2.5,
    "immunoadsorption": 4.0,
    "ivig": 8.0,
    "efgartigimod_iv": 1.0,
    "rozanolixizumab": 1.0,  # only used with route: iv (LG2022 FIH infusions; length assumed)
    "nipocalimab": 0.5,
    "rituximab": 4.0,
}
_ROUTES = {
    "efgartigimod_sc": ("sc",),
    "rozanolixizumab": ("sc", "iv"),
}
_BSA_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*mg/m(2|²|\^2)\s*$")


def parse_therapy_dose(text: str, allow_bsa: bool = False) -> tuple[float, str]:
    """``(value, unit)`` with unit "mg" (per patient), "mg/kg" or "mg/m2" (body surface area).

    Accepts the units of :func:`fmsim.config.quantities.parse_dose` (mg, g, mg/kg, g/kg...) and,
    if ``allow_bsa``, "mg/m2". Raises ValueError naming the accepted units."""
    match = _BSA_UNIT.match(str(text))
    if match:
        if not allow_bsa:
            raise ValueError("a dose in mg/m2 is accepted for rituximab only")
        return float(match.group(1)), "mg/m2"
    try:
        return parse_dose(text)
    except ValueError as error:
        if allow_bsa:
            raise ValueError(f"{error}, or 'mg/m2' (body surface area)") from None
        raise


class TherapyBlock(Strict):
    """One therapy with its schedule. Days are relative to treatment start (day 0)."""

    type: TherapyType
    days: list[float] | None = None
    start: float | None = Field(default=None, ge=0.0)
    every: float | None = Field(default=None, gt=0.0)
    count: int | None = Field(default=None, ge=1, le=10_000)
    dose: str | None = None
    max_dose: str | None = None
    route: Literal["iv", "sc"] | None = None
    infusion_hours: float | None = Field(default=None, gt=0.0, le=72.0)
    plasma_volumes: float | None = Field(default=None, gt=0.0, le=5.0)
    column_efficiency: float | None = Field(default=None, gt=0.0, le=1.0)
    session_hours: float | None = Field(default=None, gt=0.0, le=24.0)

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[float] | None) -> list[float] | None:
        if days is None:
            return days
        if not days:
            raise ValueError("give at least one day")
        if any(d < 0 for d in days):
            raise ValueError("days must be >= 0 (day 0 is the start of treatment)")
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("days must be strictly increasing")
        return days

    @field_validator("dose")
    @classmethod
    def _dose(cls, dose: str | None, info: ValidationInfo) -> str | None:
        if dose is None:
            return dose
        value, _ = parse_therapy_dose(dose, allow_bsa=info.data.get("type") == "rituximab")
        if value <= 0:
            raise ValueError("a dose must be positive")
        return dose

    @field_validator("max_dose")
    @classmethod
    def _max_dose(cls, max_dose: str | None) -> str | None:
        if max_dose is not None and parse_dose(max_dose)[1] != "mg":
            raise ValueError("max_dose is an amount per administration such as '1200 mg'")
        return max_dose

    @model_validator(mode="after")
    def _consistent(self) -> TherapyBlock:
        self._check_schedule()
        self._check_fields()
        return self

    def _check_schedule(self) -> None:
        periodic = (self.start, self.every, self.count)
        if self.days is not None and any(x is not None for x in periodic):
            raise ValueError("give either 'days' or 'start'/'every'/'count', not both")
        if self.days is None:
            if self.count is None and self.type == "placebo":
                return
            if self.count is None:
                raise ValueError("needs a schedule: 'days: [...]' or 'start', 'every', 'count'")
            if self.count > 1 and self.every is None:
                raise ValueError("'every' (days between administrations) is needed when count > 1")

    def _check_fields(self) -> None:
        kind = self.type
        allowed = {"type", "days", "start", "every", "count"}
        if kind in DRUGS:
            if self.dose is None:
                raise ValueError(f"a {kind} block needs 'dose' (e.g. '10 mg/kg' or '1000 mg')")
            allowed |= {"dose", "max_dose"}
            if kind in _ROUTES:
                allowed.add("route")
                if self.route is not None and self.route not in _ROUTES[kind]:
                    raise ValueError(f"route {self.route!r} is not available for {kind}")
            if self.route_of() == "iv":
                allowed.add("infusion_hours")
        elif kind in EXTRACORPOREAL:
            if self.plasma_volumes is None:
                raise ValueError(f"a {kind} block needs 'plasma_volumes' per session (e.g. 1.0)")
            allowed |= {"plasma_volumes", "session_hours"}
            if kind == "immunoadsorption":
                allowed.add("column_efficiency")
        extra = sorted(
            name
            for name in type(self).model_fields
            if getattr(self, name) is not None and name not in allowed
        )
        if extra:
            raise ValueError(f"field(s) {extra} do not apply to a {kind} block")

    def route_of(self) -> str | None:
        """'iv', 'sc' or None (extracorporeal, placebo)."""
        if self.type not in DRUGS:
            return None
        if self.type in _ROUTES:
            return self.route or _ROUTES[self.type][0]
        return "iv"

    def schedule(self) -> list[float]:
        """Administration (or session) days, sorted."""
        if self.days is not None:
            return list(self.days)
        if self.count is None:
            return []
        start = self.start or 0.0
        return [start + k * (self.every or 0.0) for k in range(self.count)]

    def hours(self) -> float | None:
        """Length of one infusion or session (hours); None for boluses and placebo."""
        if self.type in EXTRACORPOREAL:
            return self.session_hours or DEFAULT_HOURS[self.type]
        if self.route_of() == "iv":
            return self.infusion_hours or DEFAULT_HOURS[self.type]
        return None

    def dose_quantity(self) -> tuple[float, str]:
        """The dose per administration as (value, unit), unit "mg", "mg/kg" or "mg/m2"."""
        return parse_therapy_dose(self.dose, allow_bsa=self.type == "rituximab")


def shift_block(block: TherapyBlock, offset_days: float) -> TherapyBlock:
    """The same block ``offset_days`` later (e.g. in a later crossover period)."""
    if offset_days == 0.0:
        return block
    if block.days is not None:
        return block.model_copy(update={"days": [d + offset_days for d in block.days]})
    if block.count is None:
        return block
    return block.model_copy(update={"start": (block.start or 0.0) + offset_days})


class TherapyProtocol(Strict):
    """A treatment protocol: named list of therapy blocks (combinations allowed)."""

    name: str = Field(default="therapy protocol", min_length=1)
    therapies: list[TherapyBlock] = Field(min_length=1)

    @field_validator("therapies")
    @classmethod
    def _combination(cls, blocks: list[TherapyBlock]) -> list[TherapyBlock]:
        inhibitors = sorted(
            {FCRN_INHIBITOR_OF[b.type] for b in blocks if b.type in FCRN_INHIBITOR_OF}
        )
        if len(inhibitors) > 1:
            raise ValueError(f"at most one FcRn inhibitor per protocol, got {inhibitors}")
        sessions = sorted(
            (day, b.hours(), k, b.type)
            for k, b in enumerate(blocks)
            if b.type in EXTRACORPOREAL
            for day in b.schedule()
        )
        for (day, hours, k, kind), (next_day, _, m, next_kind) in zip(
            sessions, sessions[1:], strict=False
        ):
            if next_day - day < hours / 24.0:
                raise ValueError(
                    f"{kind} session on day {day:g} (block {k}, {hours:g} h) overlaps the "
                    f"{next_kind} session on day {next_day:g} (block {m}); sessions of one "
                    "patient must not overlap"
                )
        return blocks

    def fcrn_inhibitor(self) -> str | None:
        """The FcRn inhibitor the protocol gives, if any (efgartigimod, rozanolixizumab...)."""
        for block in self.therapies:
            if block.type in FCRN_INHIBITOR_OF:
                return FCRN_INHIBITOR_OF[block.type]
        return None

    def last_day(self) -> float:
        """Day of the last administration or session (0 for placebo-only protocols)."""
        return max((d for b in self.therapies for d in b.schedule()), default=0.0)


def parse_protocol(raw: object, origin: str = "protocol") -> TherapyProtocol:
    """Validate a protocol given as a mapping; raises ConfigError, one line per problem."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'therapies' at the top level")
    try:
        return TherapyProtocol(**raw)
    except ValidationError as error:
        raise format_validation_error(origin, error) from None


def load_protocol(path: str | Path) -> TherapyProtocol:
    """Read and validate a protocol YAML file; raises ConfigError with file, field and reason."""
    path = Path(path)
    return parse_protocol(read_yaml(path), str(path))
