"""Every report kind leads with its answer (main findings with intervals), speaks to readers
(no test paths, optimiser logs, Python booleans or "day 0.0"), and offers every figure as SVG,
PDF and 300-dpi PNG."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from tests.report.conftest import MESSY

from fmsim.report.references import visible_text

KINDS = ["passive_transfer", "lab_data", "therapies", "trial", "fit", "sensitivity", "power"]

#: What a reader should not see: developer wording and raw program values.
DEVELOPER = {
    "a test path": r"\btests/",
    "a Python file": r"\b\w+\.py\b",
    "a Python boolean": r"\b(True|False)\b",
    "an optimiser log": r"(?i)fit log|lbfgs|ls_trf|converged normally|ABNORMAL_TERMINATION",
    "a day with a decimal zero": r"\bday \d+\.0\b",
    "a missing number": r"\b(nan|NaN|None)\b",
}
#: How each kind states the uncertainty of its answer.
INTERVAL = {
    "passive_transfer": "Hedges' g (95% CI)",
    "lab_data": "Hedges' g (95% CI)",
    "therapies": "5th-95th percentile",
    "trial": "95% CI",
    "fit": "95 % profile-likelihood interval",
    "sensitivity": "95 % CI",
    "power": "95 % CI",
}


def _text(path) -> str:
    """The report's visible text, without the path of the user's own data file."""
    return visible_text(path.read_text()).replace(str(MESSY), "messy_lab_data.csv")


@pytest.mark.parametrize("kind", KINDS)
def test_first_section_is_the_answer_with_its_interval(reports, kind):
    page = reports[kind].read_text()
    sections = re.findall(r"<h2[^>]*>(.*?)</h2>", page)
    assert sections[0] == "Main findings", sections[:3]
    first = page.split("<h2>Main findings</h2>", 1)[1].split("<h2", 1)[0]
    assert INTERVAL[kind] in visible_text(first)
    assert re.search(r"\d", visible_text(first))  # numbers, not only words


@pytest.mark.parametrize("kind", KINDS)
def test_plain_wording(reports, kind):
    text = _text(reports[kind])
    found = {
        what: [text[max(0, m.start() - 40) : m.end() + 20] for m in re.finditer(pattern, text)]
        for what, pattern in DEVELOPER.items()
    }
    assert not {what: hits for what, hits in found.items() if hits}


@pytest.mark.parametrize("kind", KINDS)
def test_every_figure_downloads_as_svg_pdf_and_300_dpi_png(reports, kind):
    report = reports[kind]
    page = report.read_text()
    # static figures, and interactive ones (their static fallback is an <img src=...>)
    figures = page.count('<img alt="') + page.count('class="interactive-figure"')
    links = re.findall(r'<p class="downloads">(.*?)</p>', page)
    assert figures >= 1 and len(links) == figures
    for link in links:
        files = re.findall(r'href="([^"]+)"', link)
        assert [f.rsplit(".", 1)[1] for f in files] == ["svg", "pdf", "png"]
        for name in files:
            assert (report.parent / name).stat().st_size > 0
        with Image.open(report.parent / files[2]) as png:
            assert png.info["dpi"][0] == pytest.approx(300, abs=0.5)
