"""Configuration of IgG-lowering therapy protocols (YAML), validated with pydantic.

A protocol is a list of therapy blocks; blocks may be combined (e.g. plasma exchange followed by
rituximab). Each block has a ``type``, names its agent or device in the drug library
(:mod:`fmsim.model.drugs`; ``fmsim drugs list``), a schedule (``days: [0, 2, 4]`` or
``start``/``every``/``count``, days relative to the start of treatment) and the fields its type
needs:

================  ==============  ========================================================
type              library entry   per administration / session
================  ==============  ========================================================
fcrn_inhibitor    ``drug``        ``dose`` ("10 mg/kg", "680 mg"), ``route`` (iv, sc;
                                  default: the entry's), ``max_dose`` ("1200 mg")
anti_cd20         ``drug``        ``dose`` ("1000 mg", "375 mg/m2")
ivig              ``drug``        ``dose`` ("0.4 g/kg"); ``drug`` defaults to ``ivig``
plasma_exchange   ``fluid``       ``plasma_volumes`` (1.0) or ``volume`` ("3 L", "2500 mL")
                                  exchanged; ``fluid`` defaults to the procedure's (albumin)
immunoadsorption  ``column``      ``plasma_volumes`` or ``volume`` processed; ``column``
                                  defaults to ``protein_a``
placebo           --              nothing (its schedule is kept for blinding)
================  ==============  ========================================================

For example ``{type: fcrn_inhibitor, drug: batoclimab, dose: 680 mg, route: sc, start: 0,
every: 7, count: 6}`` or ``{type: immunoadsorption, column: tryptophan, volume: 2500 mL,
days: [0, 2, 4, 6]}``. The types of earlier fmsim versions (``tpe``, ``efgartigimod_iv``,
``efgartigimod_sc``, ``rozanolixizumab``, ``nipocalimab``, ``rituximab``) are still read: they
are rewritten to the blocks above (e.g. ``efgartigimod_sc`` = ``fcrn_inhibitor`` with ``drug:
efgartigimod, route: sc``).

Infusion and session lengths default to the library entry's and can be set per block
(``infusion_hours``, ``session_hours``); ``column_efficiency`` overrides a column's IgG
extraction. Two exchange/adsorption sessions of one patient must not overlap. Numbers must be
finite; doses positive and at most the entry's plausible maximum per administration (for a
75 kg, 1.8 m2 patient) unless the block says ``allow_high_dose: true``. A protocol may name its
own library files: ``drugs: [my_drugs/]`` (files or folders, relative to the protocol file).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from fmsim.config.base import Strict
from fmsim.config.errors import ConfigError, format_validation_error, read_yaml
from fmsim.config.quantities import parse_dose
from fmsim.model.drugs import DrugEntry, DrugFileError, DrugLibrary, load_library

TherapyType = Literal[
    "fcrn_inhibitor", "anti_cd20", "ivig", "plasma_exchange", "immunoadsorption", "placebo"
]
EXTRACORPOREAL = ("plasma_exchange", "immunoadsorption")
DRUG_TYPES = ("fcrn_inhibitor", "anti_cd20", "ivig")
DEFAULT_ENTRY = {
    "ivig": "ivig",
    "plasma_exchange": "plasma_exchange",
    "immunoadsorption": "protein_a",
}
# the block field naming the library entry, by type (plasma exchange: the procedure itself)
ENTRY_FIELD = {"immunoadsorption": "column", "plasma_exchange": None}
# block types of fmsim <= 0.1 and what they mean now
LEGACY_TYPES: dict[str, dict[str, str]] = {
    "tpe": {"type": "plasma_exchange"},
    "efgartigimod_iv": {"type": "fcrn_inhibitor", "drug": "efgartigimod", "route": "iv"},
    "efgartigimod_sc": {"type": "fcrn_inhibitor", "drug": "efgartigimod", "route": "sc"},
    "rozanolixizumab": {"type": "fcrn_inhibitor", "drug": "rozanolixizumab"},
    "nipocalimab": {"type": "fcrn_inhibitor", "drug": "nipocalimab"},
    "rituximab": {"type": "anti_cd20", "drug": "rituximab"},
}
REFERENCE_WEIGHT_KG = 75.0  # reference patient of the dose plausibility check
REFERENCE_BSA_M2 = 1.8
MAX_DAY = 3650.0  # ten years of treatment
_BSA_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*mg/m(2|²|\^2)\s*$")
_VOLUME = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(mL|ml|L|l)\s*$")
MAX_VOLUME_ML = 15000.0  # five plasma volumes of a 75 kg adult


def parse_therapy_dose(text: str, allow_bsa: bool = False) -> tuple[float, str]:
    """``(value, unit)`` with unit "mg" (per patient), "mg/kg" or "mg/m2" (body surface area).

    Accepts the units of :func:`fmsim.config.quantities.parse_dose` (mg, g, mg/kg, g/kg...) and,
    if ``allow_bsa``, "mg/m2". Raises ValueError naming the accepted units."""
    match = _BSA_UNIT.match(str(text))
    if match:
        if not allow_bsa:
            raise ValueError("a dose in mg/m2 is accepted for anti-CD20 antibodies only")
        return float(match.group(1)), "mg/m2"
    try:
        return parse_dose(text)
    except ValueError as error:
        if allow_bsa:
            raise ValueError(f"{error}, or 'mg/m2' (body surface area)") from None
        raise


def parse_volume_ml(text: str) -> float:
    """A plasma volume such as "2500 mL" or "2.5 L", in mL; ValueError otherwise."""
    match = _VOLUME.match(str(text))
    if not match:
        raise ValueError("expected a volume such as '2500 mL' or '2.5 L'")
    number = float(match.group(1)) * (1000.0 if match.group(2) in ("L", "l") else 1.0)
    if not 0.0 < number <= MAX_VOLUME_ML:
        raise ValueError(f"a session volume must be > 0 and <= {MAX_VOLUME_ML:g} mL")
    return number


def reference_amount(value: float, unit: str) -> float:
    """A dose in mg for the reference patient (75 kg, 1.8 m2)."""
    factor = {"mg": 1.0, "mg/kg": REFERENCE_WEIGHT_KG, "mg/m2": REFERENCE_BSA_M2}[unit]
    return value * factor


class TherapyBlock(Strict):
    """One therapy with its schedule. Days are relative to treatment start (day 0)."""

    type: TherapyType
    drug: str | None = None
    column: str | None = None
    fluid: str | None = None
    days: list[float] | None = None
    start: float | None = Field(default=None, ge=0.0, le=MAX_DAY)
    every: float | None = Field(default=None, gt=0.0, le=MAX_DAY)
    count: int | None = Field(default=None, ge=1, le=10_000)
    dose: str | None = None
    max_dose: str | None = None
    allow_high_dose: bool = False
    route: Literal["iv", "sc"] | None = None
    infusion_hours: float | None = Field(default=None, gt=0.0, le=72.0)
    plasma_volumes: float | None = Field(default=None, gt=0.0, le=5.0)
    volume: str | None = None
    column_efficiency: float | None = Field(default=None, gt=0.0, le=1.0)
    session_hours: float | None = Field(default=None, gt=0.0, le=24.0)
    _entry: DrugEntry | None = PrivateAttr(default=None)
    _fluid: DrugEntry | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: object) -> object:
        if not isinstance(data, dict) or data.get("type") not in LEGACY_TYPES:
            return data
        new = LEGACY_TYPES[data["type"]]
        for key, value in new.items():
            if key != "type" and data.get(key, value) != value:
                raise ValueError(
                    f"type {data['type']!r} means {key} {value!r}, got {key} {data[key]!r}; "
                    f"write type: {new['type']} with {key}: {data[key]!r} instead"
                )
        return {**data, **new}

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[float] | None) -> list[float] | None:
        if days is None:
            return days
        if not days:
            raise ValueError("give at least one day")
        if any(not 0 <= d <= MAX_DAY for d in days):
            raise ValueError(f"days must lie between 0 (start of treatment) and {MAX_DAY:g}")
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("days must be strictly increasing")
        return days

    @field_validator("dose")
    @classmethod
    def _dose(cls, dose: str | None, info: ValidationInfo) -> str | None:
        if dose is None:
            return dose
        value, _ = parse_therapy_dose(dose, allow_bsa=info.data.get("type") == "anti_cd20")
        if not 0 < value < float("inf"):
            raise ValueError("a dose must be a positive, finite amount")
        return dose

    @field_validator("max_dose")
    @classmethod
    def _max_dose(cls, max_dose: str | None) -> str | None:
        if max_dose is None:
            return max_dose
        value, unit = parse_dose(max_dose)
        if unit != "mg" or not 0 < value < float("inf"):
            raise ValueError("max_dose is a positive amount per administration such as '1200 mg'")
        return max_dose

    @field_validator("volume", mode="before")
    @classmethod
    def _volume(cls, volume: object) -> object:
        if volume is not None:
            parse_volume_ml(volume)
        return volume

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TherapyBlock:
        self._check_schedule()
        self._check_fields()
        if self._entry is None and self.type != "placebo":  # pydantic re-runs this on reuse
            self._resolve((info.context or {}).get("library") or load_library())
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
        if self.schedule() and self.schedule()[-1] > MAX_DAY:
            raise ValueError(f"the schedule runs past day {MAX_DAY:g}")

    def _check_fields(self) -> None:
        kind = self.type
        allowed = {"type", "days", "start", "every", "count"}
        if kind in DRUG_TYPES:
            if self.dose is None:
                raise ValueError(f"a {kind} block needs 'dose' (e.g. '10 mg/kg' or '1000 mg')")
            if kind != "ivig" and self.drug is None:
                raise ValueError(f"a {kind} block needs 'drug' (a library entry; fmsim drugs list)")
            allowed |= {"drug", "dose", "max_dose", "allow_high_dose", "route", "infusion_hours"}
        elif kind in EXTRACORPOREAL:
            if (self.plasma_volumes is None) == (self.volume is None):
                raise ValueError(
                    f"a {kind} block needs either 'plasma_volumes' (e.g. 1.0) or 'volume' "
                    "(e.g. '2500 mL') per session"
                )
            allowed |= {"plasma_volumes", "volume", "session_hours"}
            allowed |= {"fluid"} if kind == "plasma_exchange" else {"column", "column_efficiency"}
        extra = sorted(
            name
            for name in type(self).model_fields
            if getattr(self, name) not in (None, False) and name not in allowed
        )
        if extra:
            raise ValueError(f"field(s) {extra} do not apply to a {kind} block")

    def _resolve(self, library: DrugLibrary) -> None:
        """Find the block's library entry (and fluid); check route and dose against it."""
        field = ENTRY_FIELD.get(self.type, "drug")
        name = (getattr(self, field) if field else None) or DEFAULT_ENTRY[self.type]
        self._entry = _lookup(library, name, self.type, field or "type")
        if self.type == "plasma_exchange":
            fluid = self.fluid or self._entry.default_fluid
            self._fluid = _lookup(library, fluid, "replacement_fluid", "fluid")
        if self.type in DRUG_TYPES:
            self._check_route(self._entry)
            self._check_dose(self._entry)

    def _check_route(self, entry: DrugEntry) -> None:
        if self.route is not None and self.route not in entry.routes:
            _fail(
                "route",
                self.route,
                f"not available for {entry.name} (routes: {sorted(entry.routes)})",
            )
        if self.infusion_hours is not None and self.route_of() != "iv":
            _fail("infusion_hours", self.infusion_hours, "applies to i.v. administration only")

    def _check_dose(self, entry: DrugEntry) -> None:
        value, unit = self.dose_quantity()
        limit = entry.maximum_dose
        maximum = reference_amount(*parse_therapy_dose(f"{limit.value:g} {limit.unit}", True))
        if reference_amount(value, unit) > maximum and not self.allow_high_dose:
            _fail(
                "dose",
                self.dose,
                f"above the plausible maximum for {entry.name} ({limit.value:g} {limit.unit} "
                f"per administration; {limit.source}); set 'allow_high_dose: true' to "
                "simulate it anyway",
            )

    # ------------------------------------------------------------ what the block means

    @property
    def entry(self) -> DrugEntry | None:
        """The library entry of the drug, column or procedure (None for placebo)."""
        return self._entry

    @property
    def replacement_fluid(self) -> DrugEntry | None:
        """The replacement fluid of a plasma exchange (None otherwise)."""
        return self._fluid

    def route_of(self) -> str | None:
        """'iv', 'sc' or None (extracorporeal, placebo)."""
        if self.type not in DRUG_TYPES or self._entry is None:
            return None
        return self.route or self._entry.route

    def schedule(self) -> list[float]:
        """Administration (or session) days, sorted."""
        if self.days is not None:
            return list(self.days)
        if self.count is None:
            return []
        start = self.start or 0.0
        return [start + k * (self.every or 0.0) for k in range(self.count)]

    def hours(self) -> float | None:
        """Length of one infusion or session (hours); None for s.c. doses and placebo."""
        if self.type in EXTRACORPOREAL:
            return self.session_hours or self._entry.value("session_hours")
        if self.route_of() == "iv":
            return self.infusion_hours or self._entry.value("iv.infusion_hours")
        return None

    def dose_quantity(self) -> tuple[float, str]:
        """The dose per administration as (value, unit), unit "mg", "mg/kg" or "mg/m2"."""
        return parse_therapy_dose(self.dose, allow_bsa=self.type == "anti_cd20")

    def volume_ml(self) -> float | None:
        """The fixed plasma volume per session (mL), or None if given in plasma volumes."""
        return None if self.volume is None else parse_volume_ml(self.volume)


def _fail(field: str, value: object, message: str) -> None:
    """Raise a validation error located at ``field`` of the block."""
    kind = PydanticCustomError("value_error", "{message}", {"message": message})
    details = InitErrorDetails(type=kind, loc=(field,), input=value)
    raise ValidationError.from_exception_data("TherapyBlock", [details])


def _lookup(library: DrugLibrary, name: str, kind: str, field: str) -> DrugEntry:
    try:
        return library.get(name, kind)
    except KeyError as error:
        _fail(
            field,
            name,
            f"{error.args[0]} (fmsim drugs list; add your own entry with 'drugs:' in the file "
            "or --drugs DIR)",
        )


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
    """A treatment protocol: named list of therapy blocks (combinations allowed) and, in
    ``drugs``, the user's library files it may use (absolute paths once loaded)."""

    name: str = Field(default="therapy protocol", min_length=1)
    drugs: list[str] = Field(default_factory=list)
    therapies: list[TherapyBlock] = Field(min_length=1)

    @field_validator("therapies")
    @classmethod
    def _combination(cls, blocks: list[TherapyBlock]) -> list[TherapyBlock]:
        for kind, label in (("fcrn_inhibitor", "FcRn inhibitor"), ("anti_cd20", "anti-CD20")):
            names = sorted({b.entry.name for b in blocks if b.type == kind})
            if len(names) > 1:
                raise ValueError(f"at most one {label} per protocol (one drug slot), got {names}")
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

    def entry_of(self, kind: str) -> DrugEntry | None:
        """The library entry of class ``kind`` the protocol gives (fcrn_inhibitor, anti_cd20),
        or None."""
        return next((b.entry for b in self.therapies if b.type == kind), None)

    def fcrn_inhibitor(self) -> DrugEntry | None:
        """The FcRn inhibitor the protocol gives, if any."""
        return self.entry_of("fcrn_inhibitor")

    def anti_cd20(self) -> DrugEntry | None:
        """The anti-CD20 antibody the protocol gives, if any."""
        return self.entry_of("anti_cd20")

    def entries(self) -> list[DrugEntry]:
        """Every library entry the protocol uses (drugs, procedures, fluids, columns), once."""
        found: dict[str, DrugEntry] = {}
        for block in self.therapies:
            for entry in (block.entry, block.replacement_fluid):
                if entry is not None:
                    found.setdefault(entry.name, entry)
        return list(found.values())

    def group(self) -> str:
        """The therapy class the protocol belongs to (a library class such as
        ``fcrn_inhibitor``), ``combination`` for several classes, ``placebo`` for none."""
        kinds = {b.type for b in self.therapies if b.type != "placebo"}
        if not kinds:
            return "placebo"
        return kinds.pop() if len(kinds) == 1 else "combination"

    def last_day(self) -> float:
        """Day of the last administration or session (0 for placebo-only protocols)."""
        return max((d for b in self.therapies for d in b.schedule()), default=0.0)


def regimen_protocol(entry: DrugEntry, library: DrugLibrary) -> TherapyProtocol:
    """The entry's ``standard_regimen`` as a protocol; ConfigError naming the entry's file if
    the entry has none or it is invalid."""
    origin = f"{library.origin.get(entry.name, entry.name)}: standard_regimen"
    regimen = entry.standard_regimen
    if regimen is None:
        raise ConfigError(f"{origin}: {entry.name} has no standard regimen; write a protocol")
    field = ENTRY_FIELD.get(entry.kind, "drug")
    name_field = {field: entry.name} if field else {}
    blocks = [
        {"type": entry.kind, **name_field, **block} if isinstance(block, dict) else block
        for block in regimen["therapies"]
    ]
    return parse_protocol({**regimen, "therapies": blocks}, origin, library)


def drug_library(paths: Sequence[str | Path] = (), origin: str | None = None) -> DrugLibrary:
    """The built-in library plus the user's drug files or folders ``paths``; a broken file
    raises :class:`ConfigError` in one line naming the file and field (``origin``, if given,
    says which configuration named it)."""
    try:
        return load_library(list(paths), read_yaml)
    except DrugFileError as error:
        prefix = f"{origin}: drugs: " if origin else ""
        raise ConfigError(f"{prefix}{error}") from None


def resolve_drug_paths(raw: dict, origin: str | None) -> list[str]:
    """The ``drugs`` entries of a configuration mapping as absolute paths (relative ones are
    relative to the configuration file ``origin``); ConfigError if malformed."""
    paths = raw.get("drugs") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        where = origin or "configuration"
        raise ConfigError(f"{where}: drugs: got {paths!r}: expected a list of files or folders")
    base = Path(origin).parent if origin and Path(origin).suffix else Path.cwd()
    return [str((base / p).resolve()) if not Path(p).is_absolute() else p for p in paths]


def parse_protocol(
    raw: object, origin: str = "protocol", library: DrugLibrary | None = None
) -> TherapyProtocol:
    """Validate a protocol given as a mapping; raises ConfigError, one line per problem.
    Drug names resolve in ``library`` (default: the built-in one) plus the protocol's own
    ``drugs`` files."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'therapies' at the top level")
    paths = resolve_drug_paths(raw, origin if origin != "protocol" else None)
    if paths:
        own = drug_library(paths, origin)
        library = own if library is None else _union(library, own, origin)
        raw = {**raw, "drugs": paths}
    try:
        return TherapyProtocol.model_validate(raw, context={"library": library})
    except ValidationError as error:
        raise format_validation_error(origin, error) from None


def _union(first: DrugLibrary, second: DrugLibrary, origin: str) -> DrugLibrary:
    extra = {n: second.entries[n] for n in second.entries if n not in first.entries}
    clash = [n for n in second.entries if n in first.entries and second.entries[n] != first.get(n)]
    if clash:
        raise ConfigError(f"{origin}: drugs: entry {clash[0]!r} is defined twice, differently")
    return DrugLibrary(
        {**first.entries, **extra},
        {**first.origin, **{n: second.origin[n] for n in extra}},
    )


def load_protocol(path: str | Path, library: DrugLibrary | None = None) -> TherapyProtocol:
    """Read and validate a protocol YAML file; raises ConfigError with file, field and reason."""
    path = Path(path)
    return parse_protocol(read_yaml(path), str(path), library)
