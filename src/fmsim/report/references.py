"""The reference list of a report: every citation key (``SB2012``, ``VAL2025``, ``LABEL`` ...)
that the report's text uses, expanded to the full reference stored with it.

Keys come from the ``references:`` maps of the shipped parameter files (mouse, human, clinical)
and of the drug library's entries, plus those of entries a user's protocol defines. A key that
two sources expand differently (``LABEL`` is each drug's own prescribing information) is listed
with each text and where it comes from.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser

from fmsim.model.drugs import DrugEntry, builtin_library
from fmsim.model.parameters import SHIPPED_FILES, shipped_parameters

#: What looks like a citation key in a report's text: a capitalised word ending in a year
#: (``SB2012``, ``Zhou2003``) or a PubMed Central id (``PMC5769505``).
CITATION_KEY = re.compile(r"\b(?:[A-Z][A-Za-z_]*(?:19|20)\d\d|PMC\d{5,})\b")


@dataclass(frozen=True)
class Reference:
    """One stored reference: its ``key``, the full ``text`` as stored (authors, journal, year,
    volume, pages, DOI or PMID where given) and its ``origin`` (a parameter file or a drug)."""

    key: str
    text: str
    origin: str


@cache
def shipped_references() -> tuple[Reference, ...]:
    """The references of the shipped parameter files and of the built-in drug library."""
    found = [
        Reference(key, text, f"{kind} parameters")
        for kind in SHIPPED_FILES
        for key, text in shipped_parameters(kind).references.items()
    ]
    found += entry_references(builtin_library().entries.values())
    return tuple(found)


def entry_references(entries: Iterable[DrugEntry]) -> list[Reference]:
    """The references of drug-library entries (e.g. those a protocol file defines)."""
    return [
        Reference(key, text, entry.name)
        for entry in entries
        for key, text in entry.references.items()
    ]


def cited(text: str, extra: Iterable[Reference] = ()) -> list[dict]:
    """The keys used in ``text`` (plain text), sorted, each with its full references:
    ``{"key", "references": [(text, origin or "")]}``. Texts of one key that cite the same
    article (same year;volume:page) are one reference (the longest text); texts of different
    works (``LABEL``) are each listed with their origin."""
    known: dict[str, dict[str, str]] = {}
    for reference in (*shipped_references(), *extra):
        known.setdefault(reference.key, {}).setdefault(reference.text, reference.origin)
    rows = []
    for key in sorted(known, key=str.lower):
        if re.search(rf"(?<![\w.]){re.escape(key)}(?!\w)", text):
            texts = _distinct_works(known[key])
            shown = [(t, origin if len(texts) > 1 else "") for t, origin in texts.items()]
            rows.append({"key": key, "references": shown})
    return rows


#: An article's year;volume:first page (e.g. ``2012;39:67``), which tells two texts of one
#: key that cite the same article apart from texts citing different works.
ARTICLE = re.compile(r"(?:19|20)\d\d;\s*\d+(?:\(\d+\))?:\s*e?\d+")


def _distinct_works(texts: dict[str, str]) -> dict[str, str]:
    """``texts`` (text -> origin) with the texts citing one article merged into the longest."""
    articles = {t: m.group(0).replace(" ", "") if (m := ARTICLE.search(t)) else t for t in texts}
    kept: dict[str, str] = {}
    for article in dict.fromkeys(articles.values()):
        same = [t for t in texts if articles[t] == article]
        longest = max(same, key=len)
        kept[longest] = texts[longest]
    return kept


def reference_list(text: str, extra: Iterable[Reference] = ()) -> str:
    """The HTML section "References" for the keys used in ``text`` (empty if none)."""
    rows = cited(visible_text(text), extra)
    if not rows:
        return ""
    items = []
    for row in rows:
        texts = "; ".join(
            html.escape(f"{origin}: {t}" if origin else t) for t, origin in row["references"]
        )
        items.append(
            f'<li id="ref-{html.escape(row["key"])}"><b>{html.escape(row["key"])}</b>: {texts}</li>'
        )
    return (
        '<h2 id="references">References</h2>\n<p class="small">The citation keys used in this '
        "report (parameter sources, validation targets, assumptions), as stored with fmsim's "
        'parameter files and drug library.</p>\n<ol class="references">' + "".join(items) + "</ol>"
    )


class _Text(HTMLParser):
    """The text a reader sees: no scripts, styles or attribute values (embedded images)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The visible text of an HTML page (plain text is returned as it is)."""
    parser = _Text()
    parser.feed(page)
    parser.close()
    return " ".join(parser.parts)
