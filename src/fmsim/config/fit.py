"""Configuration of a fit (``fmsim fit DATA CONFIG``): design, parameters, data level, starts.

```yaml
scenario: default              # passive-transfer design of the data (YAML path or 'default')
estimate:                      # model or readout parameters (``fmsim params``; baseline_<test>,
  - sensitisation_turnover     #   max_change_<test>); bounds default to the parameter file's CV
  - {name: sensitisation_occupancy50, lower: 0.05, upper: 0.9}
level: group                   # group (means +- SEM, normal) | individual (log-normal per mouse)
method: ml                     # ml | map (log-normal priors from the parameter file's CVs)
tests: [paw_pressure_threshold, cold_response]   # observables to fit (default: all in the data)
starts: 20
seed: 0
optimizer: ls_trf              # ls_trf | L-BFGS-B | Powell
profile: true                  # profile likelihoods and identifiability per parameter
scheduler: local               # where the starts run (default: this process): local (a Dask
                               #   cluster here) or tcp://HOST:PORT; --scheduler overrides
sample:                        # optional posterior sampling (pyPESTO MCMC) from the best fit
  sampler: adaptive_metropolis #   adaptive_metropolis | adaptive_parallel_tempering
  samples: 2000                #   iterations (burn-in by the Geweke test, then ESS)
  seed: 0
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from fmsim.config.base import Strict
from fmsim.config.errors import format_validation_error, read_yaml
from fmsim.config.trial import SCHEDULER


class ParameterBounds(Strict):
    """One estimated parameter with optional bounds (natural units)."""

    name: str = Field(min_length=1)
    lower: float | None = None
    upper: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParameterBounds:
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError(f"bounds [{self.lower:g}, {self.upper:g}]: expected lower < upper")
        return self


class SamplingSettings(Strict):
    """Posterior sampling after the fit (:mod:`fmsim.calibration.sample`)."""

    sampler: Literal["adaptive_metropolis", "adaptive_parallel_tempering"] = "adaptive_metropolis"
    samples: int = Field(default=2000, ge=100, le=1_000_000)
    seed: int = Field(default=0, ge=0)


class FitConfig(Strict):
    scenario: str = "default"
    estimate: list[ParameterBounds] = Field(min_length=1)
    level: Literal["group", "individual"] = "group"
    method: Literal["ml", "map"] = "ml"
    tests: list[str] | None = None
    starts: int = Field(default=20, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0)
    optimizer: Literal["ls_trf", "L-BFGS-B", "Powell"] = "ls_trf"
    profile: bool = True
    sample: SamplingSettings | None = None
    scheduler: str | None = Field(default=None, pattern=SCHEDULER)

    @field_validator("estimate", mode="before")
    @classmethod
    def _names(cls, entries: object) -> object:
        """A bare name stands for the parameter with default bounds."""
        if isinstance(entries, list):
            return [{"name": e} if isinstance(e, str) else e for e in entries]
        return entries


def load_fit_config(path: Path) -> FitConfig:
    """Read and validate a fit YAML; raises ConfigError with one line per problem."""
    raw = read_yaml(path)
    try:
        return FitConfig(**raw)
    except ValidationError as error:
        raise format_validation_error(str(path), error) from None
