"""Published facts of the passive-transfer study and the human anti-SGC IgG cohorts.

``data/reference_studies.yaml`` lists each statement with its source, where in the source it was
read and how (text, figure, derived), and - where a fit or check can use it - a constraint in
fmsim's terms. :func:`load_reference` reads and checks it; :func:`constraints` gives the usable
constraints by kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import yaml

HOW = ("text", "figure", "derived")
CONSTRAINT_KINDS = (
    "donors_detected",
    "onset_by",
    "maintained_until",
    "similar_donor_effects",
    "direction",
    "no_effect",
    "positive_association",
    "significant_correlation",
)


@dataclass(frozen=True)
class Fact:
    """One published statement with its provenance."""

    id: str
    statement: str
    value: float | None
    unit: str
    source: str
    read_from: str
    how: str
    constraint: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Reference:
    studies: dict[str, str]
    facts: tuple[Fact, ...]
    not_found: tuple[str, ...]

    def fact(self, fact_id: str) -> Fact:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(f"no reference fact {fact_id!r}")


def load_reference() -> Reference:
    """The shipped reference data, checked: every fact cites a listed study, says how it was
    read, and has a known constraint kind."""
    text = resources.files("fmsim.calibration.data").joinpath("reference_studies.yaml")
    raw = yaml.safe_load(text.read_text())
    facts = tuple(Fact(**entry) for entry in raw["facts"])
    for f in facts:
        if f.source not in raw["studies"]:
            raise ValueError(f"reference fact {f.id}: unknown source {f.source!r}")
        if f.how not in HOW:
            raise ValueError(f"reference fact {f.id}: how {f.how!r}; expected one of {HOW}")
        if f.constraint and f.constraint.get("kind") not in CONSTRAINT_KINDS:
            raise ValueError(f"reference fact {f.id}: unknown constraint {f.constraint}")
    return Reference(raw["studies"], facts, tuple(raw["not_found"]))


def constraints(kind: str) -> list[tuple[Fact, dict]]:
    """Facts with a constraint of ``kind`` (one of :data:`CONSTRAINT_KINDS`)."""
    return [(f, f.constraint) for f in load_reference().facts if f.constraint.get("kind") == kind]
