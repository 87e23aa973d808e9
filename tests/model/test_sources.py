"""Every parameter source in the shipped parameter files and the drug library is a literature
reference (a year, a trial number or a tag of the file's ``references``), or says "assumed", or
"calibrated" naming the published target; never an internal note (a team note, a module path,
a design document)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "src" / "fmsim" / "model" / "data"
FILES = sorted([*DATA.glob("*.yaml"), *DATA.glob("drugs/*.yaml")])

#: Internal notes: notes of the team (shared/, *.md), module paths, design documents.
INTERNAL = re.compile(r"\.md\b|\.py\b|\bfmsim\.|shared/|DESIGN|igg_pk|\bTODO\b", re.IGNORECASE)
#: A literature citation without a tag: a year or a registered trial number.
CITED = re.compile(r"\b(19|20)\d\d\b|\bNCT\d{8}\b")


def problem(text: str, tags: set[str], field: str = "source") -> str | None:
    """Why ``text`` (a ``source`` or ``note``) is not acceptable, or None."""
    if match := INTERNAL.search(text):
        return f"names an internal note ({match.group(0)!r})"
    if field != "source":
        return None
    cited = bool(CITED.search(text)) or any(re.search(rf"\b{re.escape(t)}\b", text) for t in tags)
    if text.lower().startswith("calibrated") and not cited:
        return "calibrated, but to no published target"
    if not cited and not text.lower().startswith("assumed"):
        return "neither a literature reference nor 'assumed'"
    return None


def texts(node, path=()):
    """(path, field, text) of every ``source`` and ``note`` below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("source", "note") and isinstance(value, str):
                yield ".".join(path), key, value
            elif key != "references":
                yield from texts(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from texts(value, (*path, str(i)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_every_source_is_literature_or_assumed(path):
    raw = yaml.safe_load(path.read_text())
    references = raw.get("references") or {}
    tags = set(references)
    found = [(where, field, text) for where, field, text in texts(raw)]
    assert any(field == "source" for _, field, _ in found)
    bad = [
        f"{where}.{field}: {reason}: {text[:80]}"
        for where, field, text in found
        if (reason := problem(text, tags, field))
    ]
    bad += [
        f"references.{tag}: {reason}"
        for tag, text in references.items()
        if (reason := problem(text, set(), "reference"))
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SB2012 sum of volumes (DERIVED in igg_pk.md)", "internal note"),
        ("calibrated; written by fmsim.experiments.tracer_clearance", "internal note"),
        ("assumed; off by default (DESIGN.md)", "internal note"),
        ("see /work/shared/reference/passive_transfer", "internal note"),
        ("calibrated to the typical outcome", "no published target"),
        ("lecture note", "neither a literature reference"),
    ],
)
def test_internal_notes_and_unsourced_values_are_caught(text, reason):
    assert reason in problem(text, {"SB2012"})


def test_tags_years_and_assumptions_pass():
    assert problem("SB2012 sigma_IS (nlmixr2lib transcription)", {"SB2012"}) is None
    assert problem("calibrated (to HB2002: WT clearance 5.2 mL/day/kg)", {"HB2002"}) is None
    assert problem("Kuitwaard K et al. Ann Neurol 2009;66:597", set()) is None
    assert problem("assumed (NOT FOUND)", set()) is None
