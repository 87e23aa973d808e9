"""The therapies page in a browser: the courses are drawn (a typical patient and the small
population, each with total and anti-SGC IgG, sensitisation and pain), a lower dose lowers
anti-SGC IgG and the typical patient's pain less, an invalid dose shows its message, and the
downloaded protocols reproduce the page's numbers (the summary and the typical patient) through
the downloaded ``fmsim therapies`` command."""

from __future__ import annotations

import shlex

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download, run_fmsim
from tests.app.test_passive_transfer_page import wait_for_plot


def nadir(page, plot_id: str = "th_plot", axis: str = "x2") -> float:
    """Lowest plotted median of efgartigimod in the panel of ``axis`` (x2: anti-SGC IgG, % of
    baseline; x4: pain)."""
    return page.evaluate(
        """([id, axis]) => {
            const traces = document.getElementById(id).data;
            const line = traces.find(t => t.xaxis === axis && t.name === 'efgartigimod'
                                          && t.fill !== 'toself');
            return Math.min(...line.y);
        }""",
        [plot_id, axis],
    )


def titles(page, plot_id: str) -> list[str]:
    return page.evaluate(
        f"() => document.getElementById('{plot_id}').layout.annotations.map(a => a.text)"
    )


def test_courses_follow_the_dose(page):
    page.click("text=Therapies")
    wait_for_plot(page, "th_plot")
    wait_for_plot(page, "th_typical")
    page.screenshot(path=SCREENSHOTS / "therapies.png")
    for plot_id in ("th_typical", "th_plot"):
        assert [t.split(" (")[0] for t in titles(page, plot_id)] == [
            "total IgG",
            "anti-SGC IgG",
            "sensitisation S, positive patients",
            "pain",
        ]
    standard = nadir(page)
    typical_pain = nadir(page, "th_typical", "x4")
    page.fill("#th_efgartigimod_0_amount", "2 mg/kg")
    page.keyboard.press("Tab")
    wait_for_plot(page, "th_plot", 2)
    wait_for_plot(page, "th_typical", 2)
    lower = nadir(page)
    assert 0 < standard < lower < 100  # a smaller dose leaves more anti-SGC IgG at the nadir
    assert 0 < typical_pain < nadir(page, "th_typical", "x4") <= 10  # ... and more pain


def test_invalid_dose_shows_its_message(page):
    page.click("text=Therapies")
    wait_for_plot(page, "th_plot")
    page.fill("#th_efgartigimod_0_amount", "10 kg")
    page.keyboard.press("Tab")
    message = page.locator("#th_efgartigimod_0_amount_message")
    message.wait_for(state="visible")
    assert "10 kg" in message.inner_text()
    assert "Traceback" not in page.content()


def test_downloaded_protocols_reproduce_the_summary(page, tmp_path):
    page.click("text=Therapies")
    wait_for_plot(page, "th_plot")
    page.fill("#th_patients", "8")
    page.keyboard.press("Tab")
    wait_for_plot(page, "th_plot", 2)
    download(page, "th_download_config", tmp_path)  # protocol files and command.txt
    shown = pd.read_csv(download(page, "th_download_results"))
    shown_typical = pd.read_csv(download(page, "th_download_typical"))
    command = shlex.split((tmp_path / "command.txt").read_text())
    assert command[:2] == ["fmsim", "therapies"]
    option = {command[k]: command[k + 1] for k in range(len(command) - 1)}
    assert option["--patients"] == "8"
    run_fmsim(*command[1:], "--out", "run", cwd=tmp_path)
    expected = pd.read_csv(tmp_path / "run" / "therapy_comparison.csv")
    assert list(shown["therapy"]) == list(expected["therapy"])
    pd.testing.assert_series_equal(shown["median"], expected["median"], rtol=1e-9)
    # the typical patient of the page is that of the command's table (both typical_courses)
    expected_typical = pd.read_csv(tmp_path / "run" / "typical_patient_courses.csv")
    assert set(shown_typical["quantity"]) == {"total_igg_pct", "anti_sgc_pct", "sensitisation",
                                              "pain_nrs"}  # fmt: skip
    pd.testing.assert_frame_equal(shown_typical, expected_typical, rtol=1e-9)
