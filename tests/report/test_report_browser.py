"""Reports in a browser (Debian's Chromium, driven by playwright; skipped where it is missing),
opened from disk with no network: tables have sticky headers, sort when a header is clicked,
right-align numbers and wrap text; the lab-data figures are interactive and every figure links
its SVG, PDF and 300-dpi PNG files."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.app.conftest import browser  # noqa: F401  (the shared Chromium fixture)


@pytest.fixture
def lab_report(browser, reports):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    tab = context.new_page()
    tab.goto(reports["lab_data"].as_uri())
    yield tab, reports["lab_data"]
    context.close()


def test_tables_sort_keep_their_header_and_align_numbers(lab_report):
    tab, path = lab_report
    table = tab.locator("table", has=tab.locator("th", has_text="p adjusted")).first
    header = table.locator("thead th", has_text="p value").first
    assert header.evaluate("h => getComputedStyle(h).position") == "sticky"
    column = header.evaluate("h => h.cellIndex")
    cells = table.locator(f"tbody tr td:nth-child({column + 1})")
    assert cells.first.evaluate("c => getComputedStyle(c).textAlign") == "right"
    header.click()
    shown = [float(x) for x in cells.all_inner_texts()]
    assert shown == sorted(shown) or shown == sorted(shown, reverse=True)
    header.click()
    again = [float(x) for x in cells.all_inner_texts()]
    assert again == shown[::-1] and again != shown
    # the numbers are the first test's post hoc p-values (posthoc.csv beside the report)
    posthoc = pd.read_csv(path.parent / "posthoc.csv")
    first = posthoc[posthoc["test"] == posthoc["test"].iloc[0]]
    assert sorted(shown) == pytest.approx(sorted(float(f"{v:.3g}") for v in first["p_value"]))
    group = table.locator("tbody td", has_text="FMS-IgG").first
    assert group.evaluate("c => getComputedStyle(c).textAlign") == "left"


def test_lab_figures_are_interactive_with_static_downloads(lab_report):
    tab, path = lab_report
    for name in ("behaviour", "individual_mice"):
        tab.locator(f"#figure-{name} .main-svg").first.wait_for()
        assert tab.locator(f"#figure-{name} img").count() == 0  # the fallback was replaced
    links = tab.locator("p.downloads a").evaluate_all("links => links.map(a => a.href)")
    assert len(links) == 6
    for link in links:
        assert (path.parent / link.split(path.parent.name + "/", 1)[1]).is_file()
