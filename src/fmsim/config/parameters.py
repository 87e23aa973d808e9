"""Parameter files written by users (``fmsim params --file``), validated like every config.

A parameter file has the layout of the shipped ones (``src/fmsim/model/data/*.yaml``):
``species``, ``parameters`` (each with ``value``, ``unit``, ``source``, ``cv`` and optional
``range``, ``description`` and ``note``; see :mod:`fmsim.model.parameters`) and, for the mouse,
``readouts``. :func:`load_parameter_file` reads it with
:func:`fmsim.config.errors.read_yaml` and reports every mistake in one line naming the file and
the entry.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator

from fmsim.config.base import Strict
from fmsim.config.errors import format_validation_error, read_yaml
from fmsim.model.parameters import ParameterSet, Range, parameter_set_from_mapping

__all__ = ["ParameterFile", "load_parameter_file"]


class ParameterEntry(Strict):
    """One parameter: value in ``unit``; ``cv`` the between-subject coefficient of variation
    (dimensionless, lognormal; 0 = shared by all subjects)."""

    value: float
    unit: str = Field(min_length=1)
    source: str = Field(min_length=1)
    cv: float = Field(ge=0.0, le=10.0)
    range: str = "(-inf, inf)"
    description: str = ""
    note: str = ""

    @field_validator("range")
    @classmethod
    def _interval(cls, text: str) -> str:
        Range.parse(text)
        return text

    @model_validator(mode="after")
    def _value_in_range(self) -> ParameterEntry:
        if self.value not in Range.parse(self.range):
            raise ValueError(f"value {self.value:g} lies outside its range {self.range}")
        return self


class ReadoutEntry(Strict):
    """A behavioural readout: baseline (in ``unit``), the relative change at full
    sensitisation and the between-animal and measurement CVs."""

    label: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    baseline: float = Field(gt=0.0)
    max_change: float = Field(gt=-1.0)
    animal_cv: float = Field(ge=0.0, le=10.0)
    measurement_cv: float = Field(ge=0.0, le=10.0)
    source: str = Field(min_length=1)


class ParameterFile(Strict):
    """The content of a parameter file."""

    species: str = Field(min_length=1)
    parameters: dict[str, ParameterEntry] = Field(min_length=1)
    readouts: dict[str, ReadoutEntry] = Field(default_factory=dict)
    references: dict[str, str] = Field(default_factory=dict)


def load_parameter_file(path: str | Path) -> ParameterSet:
    """Read and validate a parameter file; raises :class:`ConfigError`, one line per mistake."""
    path = Path(path)
    try:
        content = ParameterFile.model_validate(read_yaml(path))
    except ValidationError as error:
        raise format_validation_error(str(path), error) from None
    return parameter_set_from_mapping(content.model_dump(), str(path))
