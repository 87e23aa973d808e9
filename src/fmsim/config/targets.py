"""Published pharmacodynamic targets (YAML), validated with pydantic.

A target file has ``protocols`` (name -> a protocol mapping in the schema of
:mod:`fmsim.config.therapy`) and ``targets``, one comparison each: which protocol is simulated
for how many ``days``, what is read from the course (``metric``), the published value or range,
the acceptance interval and how it follows from the publication (``tolerance``), the citation,
the library entries whose pharmacodynamics the row tests (``agents``; ``course: single`` for one
dose or session, ``course`` for repeated ones), and, where it applies, the constants calibrated
to it or the reason the model is known to miss it (``known_deviation``: the expected verdict is
then FAIL). fmsim's own targets are ``fmsim/experiments/data/validation_targets.yaml``; users can
add theirs (``fmsim therapies --targets FILE``).

Metrics (``metric: {kind: ..., ...}``; days from the first administration):

=================  =====================================================================
kind               value per patient
=================  =====================================================================
nadir_reduction    largest fall of total IgG (``of: anti_sgc``: anti-SGC IgG), % of baseline
nadir_day          day of that nadir
remaining          total IgG on ``day``, % of baseline (``after_session``: just after a
                   session held that day)
reduction          100 - remaining
rise               total IgG on ``day`` minus baseline, g/L
recovery_weeks     weeks from the last administration until total IgG is back within
                   ``level`` (default 0.9) x baseline
monthly_decline    %/month from the log-linear slope over months 0-``months`` of IgG other
                   than anti-SGC (``of: other_igg``) or anti-SGC IgG (``of: anti_sgc``)
nadir_ratio        anti-SGC nadir reduction / total-IgG nadir reduction
=================  =====================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from fmsim.config.base import Strict
from fmsim.config.errors import ConfigError, format_validation_error, read_yaml
from fmsim.config.therapy import TherapyProtocol, parse_protocol, resolve_drug_paths
from fmsim.model.drugs import DRUG_CLASSES, DrugLibrary

MetricKind = Literal[
    "nadir_reduction",
    "nadir_day",
    "remaining",
    "reduction",
    "rise",
    "recovery_weeks",
    "monthly_decline",
    "nadir_ratio",
]
_NEEDS_DAY = ("remaining", "reduction", "rise")


class MetricSpec(Strict):
    """What is read from a simulated course (see the module docstring)."""

    kind: MetricKind
    of: Literal["total_igg", "anti_sgc", "other_igg"] = "total_igg"
    day: float | None = Field(default=None, ge=0.0, le=3650.0)
    after_session: bool = False
    label: str = ""
    level: float = Field(default=0.9, gt=0.0, lt=1.0)
    months: float = Field(default=3.0, gt=0.0, le=24.0)

    @model_validator(mode="after")
    def _fields(self) -> MetricSpec:
        if (self.day is None) == (self.kind in _NEEDS_DAY):
            raise ValueError(
                f"'day' is {'needed' if self.day is None else 'not used'} by metric {self.kind}"
            )
        if self.kind == "monthly_decline" and self.of == "total_igg":
            raise ValueError("monthly_decline needs 'of: other_igg' or 'of: anti_sgc'")
        return self


class TargetSpec(Strict):
    """One published comparison (see the module docstring)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    group: str
    agents: list[str] = Field(min_length=1)
    course: Literal["single", "course"]
    regimen: str = Field(min_length=3)
    protocol: str
    comparator: str | None = None
    days: float = Field(gt=0.0, le=3650.0)
    metric: MetricSpec
    published: float | tuple[float, float] | None
    statement: str = Field(min_length=3)
    accept: tuple[float | None, float | None]
    tolerance: str = Field(min_length=3)
    citation: str = Field(min_length=3)
    calibrated: str = ""
    known_deviation: str = ""
    typical: dict[str, float] = Field(default_factory=dict)
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> TargetSpec:
        if self.group not in DRUG_CLASSES:
            raise ValueError(f"group {self.group!r} is not a library class {DRUG_CLASSES}")
        low, high = self.accept
        if low is None and high is None:
            raise ValueError("accept needs at least one bound, e.g. [90, null]")
        if low is not None and high is not None and not low < high:
            raise ValueError(f"accept: the lower bound {low} must be below the upper {high}")
        return self

    @property
    def expected(self) -> str:
        """Expected verdict: FAIL for a known deviation, PASS otherwise."""
        return "FAIL" if self.known_deviation else "PASS"


class TargetSet(Strict):
    """Named protocols and the targets that simulate them."""

    drugs: list[str] = Field(default_factory=list)
    protocols: dict[str, TherapyProtocol]
    targets: list[TargetSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> TargetSet:
        ids = [t.id for t in self.targets]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"target ids must be unique, repeated: {duplicated}")
        for target in self.targets:
            for name in filter(None, (target.protocol, target.comparator)):
                if name not in self.protocols:
                    raise ValueError(
                        f"target {target.id!r}: no protocol {name!r}; protocols: "
                        f"{sorted(self.protocols)}"
                    )
        return self


def parse_targets(raw: object, origin: str, library: DrugLibrary | None = None) -> TargetSet:
    """Validate a target set given as a mapping; ConfigError, one line per problem."""
    if not isinstance(raw, dict) or not isinstance(raw.get("protocols"), dict):
        raise ConfigError(f"{origin}: expected a mapping with 'protocols' and 'targets'")
    paths = resolve_drug_paths(raw, origin)
    protocols = {
        name: parse_protocol(
            {**protocol, "drugs": paths} if isinstance(protocol, dict) else protocol,
            f"{origin}: protocols.{name}",
            library,
        )
        for name, protocol in raw["protocols"].items()
    }
    try:
        return TargetSet.model_validate({**raw, "drugs": paths, "protocols": protocols})
    except ValidationError as error:
        raise format_validation_error(origin, error) from None


def load_targets(path: str | Path, library: DrugLibrary | None = None) -> TargetSet:
    """Read and validate a target file; ConfigError naming the file, field and reason."""
    return parse_targets(read_yaml(Path(path)), str(path), library)
