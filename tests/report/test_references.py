"""Every citation key a report shows is expanded in its reference list, with the reference as
stored in the parameter files and the drug library; keys of one article are merged, keys of
different works (each drug's LABEL) are listed with their origin."""

from __future__ import annotations

import re

import pytest
import yaml
from tests.report.conftest import ROOT

from fmsim.model.drugs import builtin_library
from fmsim.report.references import (
    CITATION_KEY,
    Reference,
    cited,
    reference_list,
    shipped_references,
    visible_text,
)

DATA = ROOT / "src" / "fmsim" / "model" / "data"


def test_every_stored_reference_is_known():
    stored = set()
    for path in [*DATA.glob("*.yaml"), *DATA.glob("drugs/*.yaml")]:
        stored |= set((yaml.safe_load(path.read_text()).get("references") or {}).items())
    assert {(r.key, r.text) for r in shipped_references()} == stored


def test_only_keys_in_the_text_are_listed():
    rows = cited("k_out from VAL2025 (Table 3); not keys: VAL20251, XYZ1999, val2025, a.HB2002")
    assert [r["key"] for r in rows] == ["VAL2025"]
    assert "Valenzuela B et al." in rows[0]["references"][0][0]
    assert cited("nothing cited") == []


def test_one_article_is_one_reference_and_different_works_name_their_origin():
    (sb,) = cited("SB2012")
    assert len(sb["references"]) == 1  # mouse.yaml and human.yaml cite the same article
    assert "2012;39:67" in sb["references"][0][0] and sb["references"][0][1] == ""
    (label,) = cited("see LABEL")
    origins = {origin for _, origin in label["references"]}
    assert {"efgartigimod", "nipocalimab", "rozanolixizumab"} <= origins
    efgartigimod = builtin_library().get("efgartigimod").references["LABEL"]
    assert (efgartigimod, "efgartigimod") in label["references"]


def test_a_protocols_own_entry_adds_its_references():
    extra = [Reference("MYLAB2024", "My Lab et al. J Test 2024;1:1", "my_column")]
    assert cited("MYLAB2024", extra)[0]["references"] == [("My Lab et al. J Test 2024;1:1", "")]


def test_keys_in_scripts_and_images_are_not_citations():
    page = '<p>HB2002</p><script>var x = "SB2012";</script><img alt="x" src="data:VAL2025">'
    assert visible_text(page).split() == ["HB2002"]
    assert 'id="ref-HB2002"' in reference_list(page)
    assert "SB2012" not in reference_list(page) and reference_list("<p>none</p>") == ""


def _references_section(page: str) -> tuple[str, set[str]]:
    """(the page's text before its reference list, the keys the list expands)."""
    body, _, listed = page.partition('<h2 id="references">')
    return visible_text(body), set(re.findall(r'id="ref-([^"]+)"', listed))


@pytest.mark.parametrize(
    "kind", ["passive_transfer", "lab_data", "therapies", "trial", "fit", "sensitivity"]
)
def test_every_citation_key_of_a_report_is_expanded(reports, kind):
    text, listed = _references_section(reports[kind].read_text())
    looks_cited = set(CITATION_KEY.findall(text))
    stored_keys = {r.key for r in shipped_references()}
    used = {k for k in stored_keys if re.search(rf"(?<![\w.]){re.escape(k)}(?!\w)", text)}
    assert looks_cited | used <= listed, f"unexpanded: {sorted((looks_cited | used) - listed)}"
    if kind in ("passive_transfer", "therapies"):  # their parameter tables cite sources
        assert listed
