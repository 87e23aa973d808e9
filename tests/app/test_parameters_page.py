"""The parameters page in a browser: the table lists units, ranges and sources; a valid edit
changes the passive-transfer page's plotted data and its downloaded scenario, which ``fmsim
simulate`` runs to the page's measurements; an out-of-range value is refused with its
message."""

from __future__ import annotations

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download, run_fmsim
from tests.app.test_passive_transfer_page import line, wait_for_plot

from fmsim.config import load_config
from fmsim.model.parameters import shipped_parameters


def edit(page, parameter: str, text: str) -> None:
    row = page.locator("#par_table tbody tr", has_text=parameter).first
    row.locator("td").nth(1).dblclick()
    editor = row.locator("textarea")
    editor.fill(text)
    editor.press("Enter")


def test_edited_value_reaches_the_scenario(page, tmp_path):
    wait_for_plot(page, "pt_states")
    before = line(page, "pt_states", 3, "FMS-IgG")
    page.click("text=Parameters")
    table = page.locator("#par_table")
    table.locator("tbody tr").first.wait_for()
    emax = shipped_parameters("mouse")["sensitisation_emax"]
    row_text = table.locator("tbody tr", has_text="sensitisation_emax").first.inner_text()
    assert emax.unit in row_text and str(emax.range) in row_text
    page.screenshot(path=SCREENSHOTS / "parameters.png")
    edit(page, "sensitisation_emax", "3")
    page.locator("#par_overrides table").wait_for()
    scenario = download(page, "par_download_config", tmp_path)
    assert load_config(scenario).parameters == {"sensitisation_emax": 3.0}
    page.click("text=Passive transfer")
    wait_for_plot(page, "pt_states", 2)
    after = line(page, "pt_states", 3, "FMS-IgG")
    # panel 3 is sensitisation S: the FMS-IgG mice's median peak rises with its maximum
    s_before, s_after = max(before), max(after)
    assert s_after > s_before > 1.0
    # the command line runs the downloaded scenario to the page's measurements
    shown = pd.read_csv(download(page, "pt_download_results"))
    run_fmsim("simulate", scenario.name, "--out", "run", cwd=tmp_path)
    command = pd.read_csv(tmp_path / "run" / "measurements.csv")
    assert list(command["mouse"]) == list(shown["mouse"])
    pd.testing.assert_series_equal(command["value"], shown["value"], rtol=1e-9)


def test_out_of_range_value_is_refused_with_its_message(page):
    page.click("text=Parameters")
    page.locator("#par_table tbody tr").first.wait_for()
    edit(page, "ip_bioavailability", "2")
    message = page.locator("#par_table_message")
    message.wait_for(state="visible")
    assert "ip_bioavailability" in message.inner_text() and "(0, 1]" in message.inner_text()
    # ... and at the refused cell itself: marked, with the message as its tooltip
    cell = page.locator("#par_table td.cell-edit-failure")
    cell.wait_for()
    assert "(0, 1]" in cell.get_attribute("title")
    assert page.locator("#par_overrides").inner_text().startswith("All values as shipped")
