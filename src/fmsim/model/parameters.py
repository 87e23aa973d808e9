"""Sourced parameter sets and virtual-animal sampling.

A parameter file (YAML) lists every parameter with ``value``, ``unit``, ``source`` (paper and
table/figure, or "assumed" / "calibrated") and ``cv``, the between-animal coefficient of
variation. Virtual animals draw each parameter from a lognormal distribution whose median is the
file value and whose CV is ``cv`` (CV 0 means the parameter is shared by all animals).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

# Parameters that are fractions and must stay in [0, 1] after sampling.
_FRACTIONS = {"ip_bioavailability", "vascular_reflection", "lymph_reflection"}


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its provenance."""

    name: str
    value: float
    unit: str
    source: str
    cv: float = 0.0
    note: str = ""


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
        """Draw ``n`` virtual animals: lognormal around each value with the parameter's CV."""
        draws = {}
        for name, p in self.parameters.items():
            if p.cv > 0 and p.value > 0:
                sigma = np.sqrt(np.log1p(p.cv**2))
                values = p.value * np.exp(sigma * rng.standard_normal(n))
            else:
                values = np.full(n, p.value)
            if name in _FRACTIONS:
                values = np.minimum(values, 1.0)
            draws[name] = values
        return draws

    def table(self) -> list[dict[str, str]]:
        """Rows for a parameter table (name, value, unit, CV, source)."""
        return [
            {
                "parameter": p.name,
                "value": f"{p.value:.4g}",
                "unit": p.unit,
                "cv": f"{p.cv:.0%}" if p.cv else "-",
                "source": p.source,
            }
            for p in self.parameters.values()
        ]


def load_parameter_set(path: str | Path | None = None) -> ParameterSet:
    """Load a shipped parameter file (by default the mouse set).

    For files written by users, use :func:`fmsim.config.parameters.load_parameter_file`: it
    reads them with the configuration's hardened YAML reader and validates every entry."""
    if path is None:
        text = resources.files("fmsim.model.data").joinpath("mouse.yaml").read_text()
        origin = "fmsim/model/data/mouse.yaml"
    else:
        text = Path(path).read_text()
        origin = str(path)
    return parameter_set_from_mapping(yaml.safe_load(text), origin)


def parameter_set_from_mapping(raw: dict, origin: str) -> ParameterSet:
    """The parameter set described by the parsed content ``raw`` of a parameter file."""
    parameters = {}
    for name, entry in raw["parameters"].items():
        missing = {"value", "unit", "source", "cv"} - set(entry)
        if missing:
            raise ValueError(f"{origin}: parameter {name!r} lacks {sorted(missing)}")
        parameters[name] = Parameter(name=name, **entry)
    readouts = {
        name: ReadoutSpec(name=name, **entry) for name, entry in raw.get("readouts", {}).items()
    }
    return ParameterSet(species=raw["species"], parameters=parameters, readouts=readouts)
