"""The drug and device library: one YAML file per agent or device, read through one schema.

Every entry (``fmsim/model/data/drugs/*.yaml``, or a user's file) has a ``name``, a ``class``
saying which slot of the human model it fills, a one-line ``label``, its ``references`` (short
tag -> full citation) and constants, each with ``value``, ``unit``, ``source`` (paper + table or
figure, "assumed" or "calibrated" with the target) and ``cv`` (between-patient coefficient of
variation, lognormal; 0 = the same in every patient). The constants each class needs, with the
unit the model uses and the physically meaningful range, are in :data:`CLASS_PARAMETERS`;
values may be given in any unit of :data:`UNITS` convertible to it (e.g. ``40 mL/h`` for a
clearance).

==================  =====================================================================
class               what the model reads
==================  =====================================================================
fcrn_inhibitor      two-compartment PK with quasi-steady-state FcRn binding, in the form of
                    its published TMDD model (KD and FcRn concentration on the drug's scale,
                    linear clearance of free drug, extra degradation of the complex),
                    allometric weight scaling; routes ``iv`` (infusion length) and ``sc``
                    (bioavailability, absorption rate)
anti_cd20           two-compartment PK (rate constants, central volume scaled by body surface
                    area) and Emax depletion of the B-cell-dependent plasma-cell source
ivig                pooled human IgG: shares the patient's FcRn pool; infusion length only
plasma_exchange     the procedure: session length and default replacement fluid
replacement_fluid   IgG concentration of the fluid returned to the patient (0 for albumin)
immunoadsorption    a column: fraction E of the passing IgG it retains (a session removes
                    1 - exp(-E V / Vp) of every plasma state, V processed plasma volume)
==================  =====================================================================

Drugs also state ``maximum_dose``, the largest plausible dose per administration (doses above
it are refused unless a protocol block allows them explicitly); drugs and devices may give
their ``standard_regimen`` (a protocol whose blocks omit ``type`` and the entry's name), which
``fmsim therapies --agents NAME`` simulates. A broken file raises :class:`DrugFileError` with
one line naming the file and field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

DrugClass = Literal[
    "fcrn_inhibitor",
    "anti_cd20",
    "ivig",
    "plasma_exchange",
    "replacement_fluid",
    "immunoadsorption",
]
DRUG_CLASSES: tuple[str, ...] = DrugClass.__args__
DRUGS = ("fcrn_inhibitor", "anti_cd20", "ivig")
DEVICES = ("plasma_exchange", "immunoadsorption")
CLASS_LABELS = {
    "fcrn_inhibitor": "FcRn inhibitors",
    "anti_cd20": "B-cell depletion (anti-CD20)",
    "ivig": "intravenous immunoglobulin",
    "plasma_exchange": "plasma exchange",
    "replacement_fluid": "replacement fluids",
    "immunoadsorption": "immunoadsorption columns",
}
Route = Literal["iv", "sc"]

# unit -> (canonical unit, factor to it)
UNITS: dict[str, tuple[str, float]] = {
    "kDa": ("kDa", 1.0),
    "g/mol": ("kDa", 1e-3),
    "nM": ("nM", 1.0),
    "pM": ("nM", 1e-3),
    "uM": ("nM", 1e3),
    "µM": ("nM", 1e3),
    "L/day": ("L/day", 1.0),
    "mL/day": ("L/day", 1e-3),
    "L/h": ("L/day", 24.0),
    "mL/h": ("L/day", 0.024),
    "L": ("L", 1.0),
    "mL": ("L", 1e-3),
    "1/day": ("1/day", 1.0),
    "1/h": ("1/day", 24.0),
    "1/week": ("1/day", 1.0 / 7.0),
    "1": ("1", 1.0),
    "%": ("1", 0.01),
    "h": ("h", 1.0),
    "min": ("h", 1.0 / 60.0),
    "kg": ("kg", 1.0),
    "m2": ("m2", 1.0),
    "ug/mL": ("ug/mL", 1.0),
    "µg/mL": ("ug/mL", 1.0),
    "mg/L": ("ug/mL", 1.0),
    "ng/mL": ("ug/mL", 1e-3),
    "mg/mL": ("mg/mL", 1.0),
    "g/L": ("mg/mL", 1.0),
    "mg/dL": ("mg/mL", 0.01),
}
DOSE_UNITS = {"mg": ("mg", 1.0), "g": ("mg", 1e3), "mg/kg": ("mg/kg", 1.0), "g/kg": ("mg/kg", 1e3)}
DOSE_UNITS["mg/m2"] = ("mg/m2", 1.0)


@dataclass(frozen=True)
class Spec:
    """A constant the model reads: canonical unit, allowed range, meaning."""

    unit: str
    low: float
    high: float
    description: str
    low_inclusive: bool = False

    def check(self, value: float) -> str | None:
        """An error message if ``value`` (canonical unit) is out of range, else None."""
        below = value < self.low if self.low_inclusive else value <= self.low
        if below or value > self.high:
            sign = ">=" if self.low_inclusive else ">"
            return f"expected {sign} {self.low:g} and <= {self.high:g} {self.unit}"
        return None


def _spec(unit, low, high, description, low_inclusive=False) -> Spec:
    return Spec(unit, low, high, description, low_inclusive)


CLASS_PARAMETERS: dict[str, dict[str, Spec]] = {
    "fcrn_inhibitor": {
        "molecular_weight": _spec("kDa", 1.0, 1000.0, "molecular weight"),
        "fcrn_kd": _spec("nM", 0.0, 1e6, "FcRn dissociation (or quasi-steady-state) constant"),
        "fcrn_capacity": _spec(
            "nM", 0.0, 1e6, "FcRn concentration the drug meets in its published model"
        ),
        "clearance": _spec("L/day", 0.0, 100.0, "linear clearance of FcRn-free drug", True),
        "central_volume": _spec("L", 0.0, 100.0, "central volume of distribution"),
        "peripheral_volume": _spec("L", 0.0, 1000.0, "peripheral volume of distribution"),
        "intercompartmental_clearance": _spec(
            "L/day", 0.0, 100.0, "intercompartmental clearance of free drug", True
        ),
        "complex_excess_degradation": _spec(
            "1/day", 0.0, 1000.0, "degradation of the drug:FcRn complex beyond FcRn turnover", True
        ),
        "reference_weight": _spec("kg", 0.0, 300.0, "body weight of the typical parameters"),
        "clearance_weight_exponent": _spec(
            "1", -2.0, 2.0, "allometric exponent of clearances", True
        ),
        "volume_weight_exponent": _spec("1", -2.0, 2.0, "allometric exponent of volumes", True),
    },
    "anti_cd20": {
        "central_volume": _spec("L", 0.0, 100.0, "central volume at the reference BSA"),
        "reference_bsa": _spec("m2", 0.0, 5.0, "body surface area of the central volume"),
        "elimination_rate": _spec("1/day", 0.0, 100.0, "elimination rate constant k10", True),
        "distribution_rate": _spec("1/day", 0.0, 100.0, "rate constant k12", True),
        "redistribution_rate": _spec("1/day", 0.0, 100.0, "rate constant k21", True),
        "bcell_depletion_emax": _spec(
            "1", 0.0, 1e4, "maximal fractional increase of B-cell loss", True
        ),
        "bcell_depletion_ec50": _spec("ug/mL", 0.0, 1e5, "concentration of half-maximal effect"),
    },
    "ivig": {},
    "plasma_exchange": {},
    "replacement_fluid": {
        "igg_concentration": _spec(
            "mg/mL", 0.0, 100.0, "IgG concentration of the fluid returned", True
        ),
    },
    "immunoadsorption": {
        "igg_extraction": _spec(
            "1", 0.0, 1.0, "fraction of the IgG passing the column that it retains"
        ),
    },
}
ROUTE_PARAMETERS: dict[str, dict[str, Spec]] = {
    "iv": {"infusion_hours": _spec("h", 0.0, 72.0, "default length of one infusion")},
    "sc": {
        "bioavailability": _spec("1", 0.0, 1.0, "fraction of an s.c. dose absorbed"),
        "absorption_rate": _spec("1/day", 0.0, 100.0, "first-order s.c. absorption rate"),
    },
}
SESSION = _spec("h", 0.0, 24.0, "default length of one session")
ROUTES_OF = {"fcrn_inhibitor": ("iv", "sc"), "anti_cd20": ("iv",), "ivig": ("iv",)}
_FRACTIONS = {"bioavailability", "igg_extraction"}


def random_effect_names() -> tuple[str, ...]:
    """Keys of the per-patient standard-normal deviates that make a patient's drug constants
    (``class.parameter`` and ``class.route.parameter``). A patient keeps the same deviate for a
    constant of every agent of one class (e.g. a fast FcRn-inhibitor clearer clears every FcRn
    inhibitor fast), so agents compared in the same virtual patients are paired."""
    names = [f"{kind}.{name}" for kind, specs in CLASS_PARAMETERS.items() for name in specs]
    for kind, routes in ROUTES_OF.items():
        names += [f"{kind}.{r}.{name}" for r in routes for name in ROUTE_PARAMETERS[r]]
    names += [f"{kind}.session_hours" for kind in DEVICES]
    return tuple(names)


class DrugFileError(ValueError):
    """A drug or device file is invalid; ``str(error)`` names the file and field in one line."""


class Value(BaseModel):
    """One sourced constant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: str
    source: str = Field(min_length=3)
    cv: float = Field(ge=0.0, le=2.0)
    note: str = ""

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        if unit not in UNITS and unit not in DOSE_UNITS:
            raise ValueError(f"unknown unit; known units: {sorted({*UNITS, *DOSE_UNITS})}")
        return unit

    def canonical(self, spec: Spec) -> float:
        """The value in ``spec.unit``; ValueError if the unit measures something else."""
        unit, factor = UNITS.get(self.unit, (None, 1.0))
        if unit != spec.unit:
            convertible = sorted(u for u, (c, _) in UNITS.items() if c == spec.unit)
            raise ValueError(f"unit {self.unit!r} does not fit; expected one of {convertible}")
        return self.value * factor


class DrugEntry(BaseModel):
    """One agent or device of the library (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    kind: DrugClass = Field(alias="class")
    label: str = Field(min_length=3)
    references: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, Value] = Field(default_factory=dict)
    routes: dict[Route, dict[str, Value]] = Field(default_factory=dict)
    default_route: Route | None = None
    maximum_dose: Value | None = None
    session_hours: Value | None = None
    default_fluid: str | None = None
    standard_regimen: dict | None = None
    _canonical: dict[str, float] = PrivateAttr(default_factory=dict)
    _origin: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _complete(self) -> DrugEntry:
        errors: list[tuple[tuple, object, str]] = []
        self._check_constants(errors)
        self._check_class_fields(errors)
        if errors:
            loc, value, message = errors[0]
            raise ValueError(f"{'.'.join(map(str, loc))}: {message}")
        return self

    def _check_constants(self, errors: list) -> None:
        specs = CLASS_PARAMETERS[self.kind]
        missing = sorted(set(specs) - set(self.parameters))
        if missing:
            errors.append((("parameters",), None, f"missing {missing} (class {self.kind})"))
        for name in sorted(set(self.parameters) - set(specs)):
            errors.append(
                (
                    ("parameters", name),
                    None,
                    f"not a constant of class {self.kind}; expected {sorted(specs) or 'none'}",
                )
            )
        values = [(("parameters", n), n, v, specs.get(n)) for n, v in self.parameters.items()]
        for route, items in self.routes.items():
            route_specs = ROUTE_PARAMETERS[route]
            for name in sorted(set(route_specs) - set(items)):
                errors.append((("routes", route), None, f"missing {name!r}"))
            for name in sorted(set(items) - set(route_specs)):
                errors.append(
                    (("routes", route, name), None, f"unknown; expected {sorted(route_specs)}")
                )
            values += [
                (("routes", route, n), f"{route}.{n}", v, route_specs.get(n))
                for n, v in items.items()
            ]
        if self.session_hours is not None:
            values.append((("session_hours",), "session_hours", self.session_hours, SESSION))
        for loc, key, value, spec in values:
            if spec is None:
                continue
            try:
                number = value.canonical(spec)
            except ValueError as error:
                errors.append(((*loc, "unit"), value.unit, str(error)))
                continue
            problem = spec.check(number)
            if problem:
                errors.append(((*loc, "value"), value.value, f"got {value.value:g}: {problem}"))
            self._canonical[key] = number

    def _check_class_fields(self, errors: list) -> None:
        kind = self.kind
        allowed_routes = ROUTES_OF.get(kind, ())
        for route in self.routes:
            if route not in allowed_routes:
                errors.append((("routes", route), None, f"class {kind} has no route {route}"))
        if kind in DRUGS:
            if not self.routes:
                errors.append((("routes",), None, f"give at least one route of {allowed_routes}"))
            if self.default_route is not None and self.default_route not in self.routes:
                errors.append((("default_route",), None, "must be one of the entry's routes"))
            if self.maximum_dose is None:
                errors.append((("maximum_dose",), None, "a drug needs a plausible maximum dose"))
            elif self.maximum_dose.unit not in DOSE_UNITS or self.maximum_dose.value <= 0:
                errors.append(
                    (("maximum_dose",), None, f"expected a positive dose in {sorted(DOSE_UNITS)}")
                )
        elif self.maximum_dose is not None or self.default_route is not None:
            errors.append(((), None, f"maximum_dose and default_route are for drugs, not {kind}"))
        if kind in DEVICES and self.session_hours is None:
            errors.append((("session_hours",), None, f"a {kind} entry needs session_hours"))
        if kind not in DEVICES and self.session_hours is not None:
            errors.append((("session_hours",), None, f"only devices have sessions, not {kind}"))
        if (self.default_fluid is not None) != (kind == "plasma_exchange"):
            errors.append((("default_fluid",), None, "plasma_exchange entries (only) name one"))
        regimen = self.standard_regimen
        if regimen is not None and (
            kind == "replacement_fluid"
            or not isinstance(regimen.get("name"), str)
            or not isinstance(regimen.get("therapies"), list)
        ):
            errors.append(
                (
                    ("standard_regimen",),
                    None,
                    "a drug or device's usual course: 'name' and 'therapies' (blocks without "
                    "type and drug, e.g. [{dose: 10 mg/kg, days: [0, 7]}])",
                )
            )

    # ------------------------------------------------------------ reading constants

    def value(self, name: str) -> float:
        """A constant in its canonical unit (:data:`CLASS_PARAMETERS`); route constants as
        ``"sc.bioavailability"``, the session length as ``"session_hours"``."""
        try:
            return self._canonical[name]
        except KeyError:
            raise KeyError(f"{self.name} has no constant {name!r}") from None

    def cv(self, name: str) -> float:
        """Between-patient CV of a constant (same names as :meth:`value`)."""
        return self._item(name).cv

    def _item(self, name: str) -> Value:
        if name == "session_hours" and self.session_hours is not None:
            return self.session_hours
        route, _, key = name.rpartition(".")
        item = self.routes.get(route, {}).get(key) if route else self.parameters.get(key)
        if item is None:
            raise KeyError(f"{self.name} has no constant {name!r}")
        return item

    def constants(self) -> list[str]:
        """Names of every constant of the entry (as accepted by :meth:`value`)."""
        return list(self._canonical)

    @property
    def origin(self) -> str:
        """The file the entry was read from ("" if built in code)."""
        return self._origin

    @property
    def route(self) -> str | None:
        """The route used when a protocol does not name one."""
        if self.kind not in DRUGS:
            return None
        return self.default_route or next(iter(self.routes))

    def per_patient(
        self, n: int, random_effects: Mapping[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Every constant as an array of shape (n,): the canonical value times
        exp(sigma eta), sigma^2 = log(1 + cv^2), eta the patient's deviate
        (``random_effects["class.name"]``; 0 = the typical patient). Fractions stay <= 1."""
        values = {}
        for name, typical in self._canonical.items():
            sigma = math.sqrt(math.log1p(self.cv(name) ** 2))
            eta = (random_effects or {}).get(f"{self.kind}.{name}")
            if sigma == 0.0 or eta is None:
                array = np.full(n, typical)
            else:
                array = typical * np.exp(sigma * np.asarray(eta, dtype=float))
            if name.rpartition(".")[2] in _FRACTIONS:
                array = np.minimum(array, 1.0)
            values[name] = array
        return values

    def with_values(self, **values: float) -> DrugEntry:
        """A copy with constants replaced (canonical units; route constants as
        ``sc__bioavailability``, i.e. ``.`` written ``__``), keeping source and CV."""
        data = self.model_dump(by_alias=True)
        for key, number in values.items():
            name = key.replace("__", ".")
            route, _, short = name.rpartition(".")
            item = self._item(name)
            spec = ROUTE_PARAMETERS[route][short] if route else CLASS_PARAMETERS[self.kind][short]
            new = {**item.model_dump(), "value": float(number), "unit": spec.unit}
            if route:
                data["routes"][route][short] = new
            else:
                data["parameters"][short] = new
        entry = DrugEntry.model_validate(data)
        entry._origin = self._origin
        return entry


@dataclass(frozen=True)
class DrugLibrary:
    """Entries by name; ``origin`` maps each name to the file it came from."""

    entries: Mapping[str, DrugEntry]
    origin: Mapping[str, str]

    def __iter__(self) -> Iterator[DrugEntry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def names(self, kind: str | None = None) -> list[str]:
        """Entry names (of class ``kind``), sorted."""
        return sorted(n for n, e in self.entries.items() if kind is None or e.kind == kind)

    def get(self, name: str, kind: str | None = None) -> DrugEntry:
        """The entry ``name``; KeyError naming the known entries (of class ``kind``)."""
        entry = self.entries.get(name)
        if entry is None or (kind is not None and entry.kind != kind):
            what = f"{kind} entry" if kind else "entry"
            raise KeyError(f"unknown {what} {name!r}; known: {self.names(kind)}")
        return entry

    def replaced(self, entry: DrugEntry) -> DrugLibrary:
        """A copy with the entry of the same name replaced by ``entry``."""
        self.get(entry.name, entry.kind)
        return DrugLibrary({**self.entries, entry.name: entry}, self.origin)

    def merged(self, other: DrugLibrary) -> DrugLibrary:
        """Both libraries; an entry of ``other`` may not reuse a name of this one."""
        for name in other.entries:
            if name in self.entries:
                raise DrugFileError(
                    f"{other.origin[name]}: name: got {name!r}: already the name of the entry "
                    f"in {self.origin[name]}; give the new entry its own name"
                )
        return DrugLibrary({**self.entries, **other.entries}, {**self.origin, **other.origin})


def _read_yaml(path: Path) -> object:
    """The content of a YAML file; DrugFileError in one line naming the file."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise DrugFileError(f"{path}: cannot read file: file not found") from None
    except OSError as error:
        raise DrugFileError(f"{path}: cannot read file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise DrugFileError(f"{path}: not valid YAML{where}: {problem}") from None


def read_entry(path: Path, reader: Callable[[Path], object] = _read_yaml) -> DrugEntry:
    """Read and validate one entry file; DrugFileError in one line naming file and field.
    ``reader`` parses the file (the configuration layer passes its hardened YAML reader)."""
    raw = reader(path)
    if not isinstance(raw, dict):
        raise DrugFileError(f"{path}: expected a mapping with 'name', 'class', 'parameters' ...")
    try:
        entry = DrugEntry.model_validate(raw)
        entry._origin = str(path)
        return entry
    except ValidationError as error:
        item = error.errors()[0]
        field = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (see src/fmsim/model/data/drugs/ for valid fields)"
        value = item.get("input")
        shown = (
            f": got {value!r}"
            if not isinstance(value, dict | list) and len(repr(value)) <= 60
            else ""
        )
        if item["type"] == "value_error" and ": " in message and field == "(top level)":
            field, message = message.split(": ", 1)
            shown = ""
        more = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
        raise DrugFileError(f"{path}: {field}{shown}: {message}{more}") from None


def _files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise DrugFileError(f"{path}: no drug files (*.yaml) in this folder")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise DrugFileError(f"{path}: cannot read: no such file or folder")
    return files


def read_library(
    paths: Iterable[str | Path], reader: Callable[[Path], object] = _read_yaml
) -> DrugLibrary:
    """Entries of the given files and folders (every ``*.yaml`` in a folder)."""
    entries: dict[str, DrugEntry] = {}
    origin: dict[str, str] = {}
    for path in _files(paths):
        entry = read_entry(path, reader)
        if entry.name in entries:
            raise DrugFileError(
                f"{path}: name: got {entry.name!r}: also the name of the entry in "
                f"{origin[entry.name]}"
            )
        entries[entry.name], origin[entry.name] = entry, str(path)
    library = DrugLibrary(entries, origin)
    _check_fluids(library)
    return library


def _check_fluids(library: DrugLibrary) -> None:
    for entry in library:
        fluid = entry.default_fluid
        if (
            fluid is not None
            and fluid in library
            and library.get(fluid).kind != ("replacement_fluid")
        ):
            raise DrugFileError(
                f"{library.origin[entry.name]}: default_fluid: got {fluid!r}: not a "
                "replacement_fluid entry"
            )


@cache
def builtin_library() -> DrugLibrary:
    """The library shipped with fmsim (``fmsim/model/data/drugs/*.yaml``)."""
    folder = resources.files("fmsim.model.data").joinpath("drugs")
    with resources.as_file(folder) as path:
        return read_library([path])


def load_library(
    paths: Sequence[str | Path] = (), reader: Callable[[Path], object] = _read_yaml
) -> DrugLibrary:
    """The built-in library plus the entries in ``paths`` (files or folders of YAML files)."""
    if not paths:
        return builtin_library()
    library = builtin_library().merged(read_library(paths, reader))
    for entry in library:
        fluid = entry.default_fluid
        if fluid is not None and fluid not in library:
            raise DrugFileError(
                f"{library.origin[entry.name]}: default_fluid: got {fluid!r}: no such "
                f"replacement_fluid; known: {library.names('replacement_fluid')}"
            )
    return library
