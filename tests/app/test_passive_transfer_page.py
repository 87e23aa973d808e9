"""The passive-transfer page in a browser: figures drawn, a control changes the plotted data, an
invalid value shows its message, and the downloaded scenario, run by ``fmsim simulate``, gives the
page's measurements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download, run_fmsim

from fmsim.config import load_config


def line(page, plot_id: str, panel: int, name: str) -> list[float]:
    """The plotted y values of series ``name`` (its line, not its band) in panel ``panel``
    (1, 2, ... in reading order) of figure ``plot_id``."""
    axis = "x" if panel == 1 else f"x{panel}"
    return page.evaluate(
        """([id, axis, name]) => document.getElementById(id).data
            .find(t => (t.xaxis || 'x') === axis && t.name === name && t.fill !== 'toself').y""",
        [plot_id, axis, name],
    )


def wait_for_plot(page, plot_id: str, revision: int = 1) -> None:
    page.wait_for_function(
        f"() => Number(document.getElementById('{plot_id}').dataset.revision || 0) >= {revision}"
    )


def test_figures_render_and_follow_the_dose(page):
    wait_for_plot(page, "pt_readouts")
    wait_for_plot(page, "pt_states")
    assert page.locator("#pt_readouts .main-svg").count() > 0
    before = line(page, "pt_states", 1, "FMS-IgG")
    page.screenshot(path=SCREENSHOTS / "passive_transfer.png", full_page=False)
    page.fill("#pt_dose", "2 mg")
    page.keyboard.press("Tab")
    wait_for_plot(page, "pt_states", 2)
    after = line(page, "pt_states", 1, "FMS-IgG")
    # human IgG in plasma (median of the FMS-IgG mice): a quarter of the dose gives a lower
    # peak, but above a quarter of the old one (FcRn is less saturated, IgG lives longer)
    peak_before, peak_after = max(before), max(after)
    assert 0.25 < peak_after / peak_before < 0.5


def test_invalid_value_shows_its_message(page):
    wait_for_plot(page, "pt_readouts")
    page.fill("#pt_dose", "-8 mg")
    page.keyboard.press("Tab")
    message = page.locator("#pt_dose_message")
    message.wait_for(state="visible")
    assert "expected a non-negative quantity" in message.inner_text()
    page.fill("#pt_test_days", "0, 5, x")
    page.keyboard.press("Tab")
    page.locator("#pt_test_days_message").wait_for(state="visible")
    assert "'x'" in page.locator("#pt_test_days_message").inner_text()
    assert "Traceback" not in page.content()


def test_downloaded_scenario_reproduces_the_measurements(page, tmp_path):
    """``fmsim simulate`` runs the downloaded scenario to the page's measurements."""
    wait_for_plot(page, "pt_readouts")
    page.fill("#pt_mice_per_donor", "2")
    page.keyboard.press("Tab")
    wait_for_plot(page, "pt_readouts", 2)
    scenario = download(page, "pt_download_config", tmp_path)
    shown = pd.read_csv(download(page, "pt_download_results"))
    config = load_config(scenario)
    assert config.groups[0].mice_per_donor == 2
    assert shown["mouse"].nunique() == sum(g.n_mice() for g in config.groups)
    run_fmsim("simulate", scenario.name, "--out", "run", cwd=tmp_path)
    command = pd.read_csv(tmp_path / "run" / "measurements.csv")
    assert len(shown) == len(command)
    assert list(command["mouse"]) == list(shown["mouse"])
    assert list(command["test"]) == list(shown["test"])
    pd.testing.assert_series_equal(command["value"], shown["value"], rtol=1e-9)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_uploaded_scenario_fills_the_form(page):
    wait_for_plot(page, "pt_readouts")
    page.set_input_files("#pt_upload", str(EXAMPLES / "low_dose.yaml"))
    expected = load_config(EXAMPLES / "low_dose.yaml")
    page.wait_for_function("() => document.getElementById('pt_dose').value === '4 mg'")
    assert page.input_value("#pt_titres") == "0.008"
    wait_for_plot(page, "pt_readouts", 2)
    names = page.evaluate(
        "() => [...new Set(document.getElementById('pt_readouts').data.map(t => t.name))]"
    )
    assert names == [g.name for g in expected.groups]


def test_invalid_uploaded_scenario_shows_its_lines(page):
    wait_for_plot(page, "pt_readouts")
    page.set_input_files("#pt_upload", str(EXAMPLES / "bad_config.yaml"))
    message = page.locator("#pt_upload_message")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert text.startswith("bad_config.yaml: dose: got '-8 mg'")
    assert "dose_mg: got 8: unknown field" in text
    assert page.input_value("#pt_dose") == "8 mg"  # the form is left as it was
