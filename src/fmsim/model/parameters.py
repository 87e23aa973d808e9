"""Sourced parameter sets, the parameter registry, and virtual-animal sampling.

A parameter file (YAML) lists every parameter with ``value``, ``unit``, ``source`` (paper and
table/figure, or "assumed" / "calibrated"), ``cv``, the between-subject coefficient of
variation, ``range``, the values the parameter may physically take (interval notation, e.g.
``"(0, 1000]"``), and a one-line ``description``; the file's ``references`` map the short tags
used in the sources (e.g. ``SB2012``) to the full literature references. Virtual subjects draw
each parameter from a lognormal distribution whose median is the file value and whose CV is
``cv`` (CV 0 means the parameter is shared by all subjects), kept inside the range's closed
ends.

The shipped files (``fmsim/model/data/``) are the **parameter registry**: one place for the
units, ranges and descriptions of the model constants. Read it with::

    from fmsim.model.parameters import shipped_parameters

    mouse = shipped_parameters("mouse")           # "mouse", "human" or "clinical"
    p = mouse["fcrn_total"]
    p.unit, p.range, p.description, p.source      # 'uM', Range('(0, 10000]'), ...
    mouse.problem("fcrn_total", -1.0)             # why a value is not allowed, or None
    mouse.closest("fcrn_totl")                    # 'fcrn_total' (for "did you mean")
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

#: Registry name -> shipped parameter file in ``fmsim/model/data``.
SHIPPED_FILES = {"mouse": "mouse.yaml", "human": "human.yaml", "clinical": "clinical.yaml"}
_INTERVAL = re.compile(r"^\s*([\[(])\s*(\S+)\s*,\s*(\S+)\s*([\])])\s*$")


@dataclass(frozen=True)
class Range:
    """An interval of allowed values, e.g. ``Range.parse("(0, 1]")``: ``lower`` and ``upper``
    (``-inf`` / ``inf`` for no bound), each end open (excluded) or closed (included)."""

    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = True
    upper_open: bool = True

    @classmethod
    def parse(cls, text: str) -> Range:
        """Read interval notation: ``"[0, 1]"``, ``"(0, 1000]"``, ``"[0, inf)"``."""
        match = _INTERVAL.match(str(text))
        if not match:
            raise ValueError(f"range {text!r} is not an interval such as '(0, 1000]' or '[0, 1]'")
        left, low, high, right = match.groups()
        try:
            lower, upper = float(low), float(high)
        except ValueError:
            raise ValueError(f"range {text!r}: the bounds must be numbers (or inf)") from None
        if math.isnan(lower) or math.isnan(upper) or not lower < upper:
            raise ValueError(f"range {text!r}: the lower bound must be below the upper bound")
        return cls(lower, upper, left == "(", right == ")")

    def __contains__(self, value: float) -> bool:
        above = value > self.lower if self.lower_open else value >= self.lower
        below = value < self.upper if self.upper_open else value <= self.upper
        return above and below

    def __str__(self) -> str:
        left, right = "(" if self.lower_open else "[", ")" if self.upper_open else "]"
        return f"{left}{self.lower:g}, {self.upper:g}{right}"

    def clip(self, values: np.ndarray) -> np.ndarray:
        """``values`` moved onto the closed ends of the range where they lie beyond them."""
        lower = self.lower if not self.lower_open else -math.inf
        upper = self.upper if not self.upper_open else math.inf
        return np.clip(values, lower, upper)


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its provenance, unit and allowed range."""

    name: str
    value: float
    unit: str
    source: str
    cv: float = 0.0
    note: str = ""
    range: Range = Range()
    description: str = ""


@dataclass(frozen=True)
class ReadoutSpec:
    """How one behavioural or histological readout depends on the model.

    ``value = baseline * (1 + max_change * (S - 1) / sensitisation_emax)`` for behaviour, where S
    is nociceptor sensitisation (1 at baseline); IENFD is ``baseline * ienfd_state``.
    ``animal_cv`` is the between-animal CV of the baseline, ``measurement_cv`` the CV of one
    measurement (both lognormal).
    """

    name: str
    label: str
    unit: str
    baseline: float
    max_change: float
    animal_cv: float
    measurement_cv: float
    source: str


@dataclass(frozen=True)
class ParameterSet:
    """All parameters of one species, keyed by name, plus its readout definitions."""

    species: str
    parameters: dict[str, Parameter]
    readouts: dict[str, ReadoutSpec] = field(default_factory=dict)
    #: Short tags used in the sources (e.g. ``SB2012``) -> the full literature reference.
    references: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Parameter:
        return self.parameters[name]

    def typical(self) -> dict[str, float]:
        """Typical (median) value of every parameter."""
        return {name: p.value for name, p in self.parameters.items()}

    def with_values(self, **values: float) -> ParameterSet:
        """A copy with some parameter values replaced (unknown names raise KeyError)."""
        updated = dict(self.parameters)
        for name, value in values.items():
            if name not in updated:
                raise KeyError(f"unknown parameter {name!r}; known: {sorted(updated)}")
            updated[name] = replace(updated[name], value=float(value))
        return replace(self, parameters=updated)

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw ``n`` virtual subjects: lognormal around each value with the parameter's CV,
        kept inside the closed ends of its range (a fraction never exceeds 1)."""
        draws = {}
        for name, p in self.parameters.items():
            if p.cv > 0 and p.value > 0:
                sigma = np.sqrt(np.log1p(p.cv**2))
                values = p.value * np.exp(sigma * rng.standard_normal(n))
            else:
                values = np.full(n, p.value)
            draws[name] = p.range.clip(values)
        return draws

    def problem(self, name: str, value: float) -> str | None:
        """Why ``value`` is not allowed for parameter ``name`` (unknown name, not finite,
        outside the range), or None if it is."""
        if name not in self.parameters:
            close = self.closest(name)
            hint = f"did you mean {close!r}?" if close else "see `fmsim params` for the list"
            return f"unknown parameter; {hint}"
        p = self.parameters[name]
        if not math.isfinite(value):
            return f"must be a finite number ({p.unit})"
        if value not in p.range:
            return f"must lie in {p.range} {p.unit} ({p.description})"
        return None

    def closest(self, name: str) -> str | None:
        """The known parameter name closest to ``name``, if any is close."""
        close = difflib.get_close_matches(name, list(self.parameters), n=1, cutoff=0.6)
        return close[0] if close else None

    def table(self) -> list[dict[str, str]]:
        """Rows for a parameter table (name, value, unit, range, CV, description, source)."""
        return [
            {
                "parameter": p.name,
                "value": f"{p.value:.4g}",
                "unit": p.unit,
                "range": str(p.range),
                "cv": f"{p.cv:.0%}" if p.cv else "-",
                "description": p.description,
                "source": p.source,
            }
            for p in self.parameters.values()
        ]


@cache
def shipped_parameters(kind: str) -> ParameterSet:
    """The shipped parameter set ``kind`` ("mouse", "human" or "clinical"), read once."""
    if kind not in SHIPPED_FILES:
        raise KeyError(f"no shipped parameter set {kind!r}; expected one of {list(SHIPPED_FILES)}")
    file = resources.files("fmsim.model.data").joinpath(SHIPPED_FILES[kind])
    return parameter_set_from_mapping(
        yaml.safe_load(file.read_text()), f"fmsim/model/data/{SHIPPED_FILES[kind]}"
    )


def load_parameter_set(path: str | Path | None = None) -> ParameterSet:
    """A parameter set: by default the shipped mouse set; else the shipped file ``path``.

    For files written by users, use :func:`fmsim.config.parameters.load_parameter_file`: it
    reads them with the configuration's hardened YAML reader and validates every entry."""
    if path is None:
        return shipped_parameters("mouse")
    return parameter_set_from_mapping(yaml.safe_load(Path(path).read_text()), str(path))


def parameter_set_from_mapping(raw: dict, origin: str) -> ParameterSet:
    """The parameter set described by the parsed content ``raw`` of a parameter file."""
    parameters = {}
    for name, entry in raw["parameters"].items():
        missing = {"value", "unit", "source", "cv"} - set(entry)
        if missing:
            raise ValueError(f"{origin}: parameter {name!r} lacks {sorted(missing)}")
        fields = dict(entry)
        if "range" in fields:
            fields["range"] = Range.parse(fields["range"])
        parameters[name] = Parameter(name=name, **fields)
    readouts = {
        name: ReadoutSpec(name=name, **entry) for name, entry in raw.get("readouts", {}).items()
    }
    return ParameterSet(
        species=raw["species"],
        parameters=parameters,
        readouts=readouts,
        references=dict(raw.get("references") or {}),
    )
