"""The trial planner in a browser: the power curve is drawn after a run, an invalid value shows
its message, the downloaded design run by ``fmsim trial`` gives the page's power table, and a
large run shows its chunks done while the form stays usable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download, run_fmsim
from tests.app.test_passive_transfer_page import wait_for_plot

from fmsim.config.trial import load_trial_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_power_curve_and_downloaded_design(page, tmp_path):
    page.click("text=Trial planner")
    page.fill("#tr_sample_sizes", "20, 40")
    page.fill("#tr_replicates", "10")
    page.keyboard.press("Tab")
    page.click("#tr_run")
    wait_for_plot(page, "tr_plot")
    plotted = page.evaluate(
        "() => document.getElementById('tr_plot').data.filter(t => t.fill !== 'toself')"
        ".map(t => ({x: t.x, y: t.y}))"
    )
    page.locator("#tr_tables table").first.wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / "trial_planner.png")
    design = download(page, "tr_download_config", tmp_path)
    shown = pd.read_csv(download(page, "tr_download_results"))
    config = load_trial_config(design)
    assert config.power.sample_sizes == [20, 40] and config.power.replicates == 10
    run_fmsim("trial", design.name, "--out", "run", cwd=tmp_path)
    expected = pd.read_csv(tmp_path / "run" / "power.csv")
    assert list(shown["patients"]) == list(expected["patients"])
    pd.testing.assert_series_equal(shown["power"], expected["power"], check_dtype=False)
    assert [list(curve["x"]) for curve in plotted] == [[20, 40], [20, 40]]
    assert sorted(v for curve in plotted for v in curve["y"]) == sorted(expected["power"])


def test_invalid_value_shows_its_message(page):
    page.click("text=Trial planner")
    page.fill("#tr_positive_fraction", "1.5")
    page.keyboard.press("Tab")
    message = page.locator("#tr_positive_fraction_message")
    message.wait_for(state="visible")
    assert "less than or equal to 1" in message.inner_text()
    page.fill("#tr_sample_sizes", "40, many")
    page.keyboard.press("Tab")
    page.locator("#tr_sample_sizes_message").wait_for(state="visible")
    assert "'many'" in page.locator("#tr_sample_sizes_message").inner_text()


def test_a_large_run_shows_chunks_done_and_the_page_stays_responsive(page):
    page.click("text=Trial planner")
    page.fill("#tr_sample_sizes", "20, 40, 60, 80, 100, 120")
    page.fill("#tr_replicates", "40")
    page.keyboard.press("Tab")
    page.click("#tr_run")
    progress = page.locator("#tr_progress_text")
    progress.filter(has_text="chunks done").wait_for()
    assert "Replicate trials (power)" in progress.inner_text()
    page.fill("#tr_patients", "2")  # while the replicate trials run, the form still answers
    page.keyboard.press("Tab")
    page.locator("#tr_patients_message").wait_for(state="visible")
    assert progress.is_visible()  # ... before the run has finished
    wait_for_plot(page, "tr_plot")
    plotted = page.evaluate(
        "() => document.getElementById('tr_plot').data.filter(t => t.fill !== 'toself')"
        ".map(t => t.x.length)"
    )
    assert plotted == [6, 6]
    page.locator("#tr_progress_done").filter(has_text="Run finished in").wait_for()
    assert page.locator("#tr_progress_text").count() == 0


def test_uploaded_design_keeps_its_scheduler(page, tmp_path):
    """The file's power.scheduler is the form's choice (and so the downloaded design's)."""
    design = tmp_path / "mine.yaml"
    text = (EXAMPLES / "trials" / "efgartigimod_parallel.yaml").read_text()
    design.write_text(text.replace("power:\n", "power:\n  scheduler: tcp://127.0.0.1:8786\n"))
    page.click("text=Trial planner")
    page.set_input_files("#tr_upload", str(design))
    page.wait_for_function(
        "() => document.getElementById('tr_scheduler').value === 'tcp://127.0.0.1:8786'"
    )
    page.keyboard.press("Tab")
    downloaded = load_trial_config(download(page, "tr_download_config", tmp_path))
    assert downloaded.power.scheduler == "tcp://127.0.0.1:8786"
    assert downloaded.power.sample_sizes == [40, 80, 120, 200, 300]
