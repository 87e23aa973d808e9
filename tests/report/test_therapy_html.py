"""The therapies report's reference list expands exactly the citation keys its text uses."""

from __future__ import annotations

from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.model.drugs import builtin_library
from fmsim.report.therapy_html import cited_references


def test_only_cited_keys_are_listed_with_the_library_reference():
    library = drug_library()
    protocols = {"e": regimen_protocol(library.get("efgartigimod"), library)}
    text = "k_out from VAL2025 (Table 3); not a key: VAL20251, XYZ1999"
    rows = cited_references(text, protocols)
    assert rows == [
        {"key": "VAL2025", "reference": builtin_library().get("efgartigimod").references["VAL2025"]}
    ]
    assert cited_references("nothing cited", protocols) == []
