"""The therapies page in a browser: the courses are drawn (a typical patient and the small
population, each with total and anti-SGC IgG, sensitisation and pain), a lower dose lowers
anti-SGC IgG and the typical patient's pain less, an invalid dose shows its message, and the
downloaded protocols reproduce the page's numbers through the study function with the settings
of the downloaded command."""

from __future__ import annotations

import io
import shlex
import zipfile
from pathlib import Path

import pandas as pd
from tests.app.conftest import SCREENSHOTS
from tests.app.test_passive_transfer_page import wait_for_plot

from fmsim.config.therapy import load_protocol
from fmsim.experiments.studies import therapy_study


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
    with page.expect_download() as protocols:
        page.click("#th_download_config")
    with page.expect_download() as results:
        page.click("#th_download_results")
    zipfile.ZipFile(io.BytesIO(Path(protocols.value.path()).read_bytes())).extractall(tmp_path)
    shown = pd.read_csv(results.value.path())
    command = shlex.split((tmp_path / "command.txt").read_text())
    assert command[:2] == ["fmsim", "therapies"]
    files = [tmp_path / a for a in command[2:] if a.endswith(".yaml")]
    option = {command[k]: command[k + 1] for k in range(len(command) - 1)}
    assert option["--patients"] == "8"
    loaded = {p.name: p for p in map(load_protocol, files)}
    study = therapy_study(
        loaded,
        patients=int(option["--patients"]),
        days=float(option["--days"]),
        positive_only="--positive-only" in command,
        seed=int(option["--seed"]),
        validate=False,
    )
    expected = study.comparison.summary
    assert list(shown["therapy"]) == list(expected["therapy"])
    pd.testing.assert_series_equal(shown["median"], expected["median"], rtol=1e-9)
