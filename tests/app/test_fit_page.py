"""The Fit page in a browser: a fit of the reference data draws the data with the fitted model
and the estimates with their intervals; the downloaded fit YAML and data, run through
``fmsim fit``, give the page's estimates; fewer tests fitted give fewer panels; a running fit
can be cancelled; invalid settings show their messages."""

from __future__ import annotations

import re
import shlex
import zipfile

import pandas as pd
from tests.app.conftest import SCREENSHOTS, download, run_fmsim
from tests.app.test_passive_transfer_page import wait_for_plot


def panels(page) -> list[str]:
    """The observables drawn (one panel each) in the fit figure."""
    return page.evaluate(
        "() => document.getElementById('fit_plot').layout.annotations.map(a => a.text)"
    )


def open_fit_page(page) -> None:
    """The Fit page, once the server has drawn its bounds fields (the session is live)."""
    page.click("text=Fit")
    page.locator("#fit_sensitisation_turnover_lower").wait_for()


def fit(page, revision: int) -> None:
    page.click("#fit_run")
    wait_for_plot(page, "fit_plot", revision)


def test_fit_is_reproduced_by_the_command(page, tmp_path):
    open_fit_page(page)
    page.fill("#fit_starts", "3")
    page.keyboard.press("Tab")
    fit(page, 1)
    assert panels(page) == ["paw_pressure_threshold", "cold_response"]
    names = page.evaluate("() => document.getElementById('fit_plot').data.map(t => t.name)")
    assert any(n.endswith(" data") for n in names) and any(n.endswith(" model") for n in names)
    page.locator("#fit_estimates table").wait_for()
    assert "identifiable" in page.locator("#fit_estimates").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / "fit.png")
    download(page, "fit_download_config", tmp_path)  # data, fit.yaml and command.txt
    shown = pd.read_csv(download(page, "fit_download_results"))
    command = shlex.split((tmp_path / "command.txt").read_text())
    assert command[:2] == ["fmsim", "fit"]
    run_fmsim(*command[1:4], "--out", "run", cwd=tmp_path)
    expected = pd.read_csv(tmp_path / "run" / "estimates.csv")
    assert list(shown["parameter"]) == list(expected["parameter"])
    assert len(shown) == 2 and shown["estimate"].notna().all()
    for column in ("estimate", "ci_low", "ci_high"):
        pd.testing.assert_series_equal(shown[column], expected[column], rtol=1e-6)
    assert list(shown["verdict"]) == list(expected["verdict"])
    # one test fewer: one panel fewer
    page.uncheck("#fit_tests input[value='cold_response']")
    fit(page, 2)
    assert panels(page) == ["paw_pressure_threshold"]


def test_a_running_fit_can_be_cancelled(page):
    open_fit_page(page)
    page.fill("#fit_starts", "500")
    page.keyboard.press("Tab")
    page.click("#fit_run")
    status = page.locator("#fit_status_text")
    # some starts done (several may finish between two status updates), not all of them
    status.filter(has_text=re.compile(r"Optimiser starts: [1-9]\d* of 500 done")).wait_for()
    page.click("#fit_cancel")
    status.filter(has_text="Cancelled").wait_for()
    assert (
        page.evaluate("() => Number(document.getElementById('fit_plot').dataset.revision || 0)")
        == 0
    )


def test_invalid_settings_show_their_messages(page):
    open_fit_page(page)
    page.fill("#fit_sensitisation_turnover_lower", "5")
    page.fill("#fit_sensitisation_turnover_upper", "1")
    page.fill("#fit_starts", "0")
    page.keyboard.press("Tab")
    bounds = page.locator("#fit_sensitisation_turnover_upper_message")
    bounds.wait_for(state="visible")
    assert "expected lower < upper" in bounds.inner_text()
    starts = page.locator("#fit_starts_message")
    starts.wait_for(state="visible")
    assert "greater than or equal to 1" in starts.inner_text()
    page.click("#fit_run")  # refused, and the page says so
    page.locator("#fit_status_text").filter(has_text="Not started: 2 field(s)").wait_for()
    page.check("#fit_source input[value='upload']")
    page.locator("#fit_upload_message").filter(has_text="upload a lab data file").wait_for()
    page.set_input_files(
        "#fit_upload",
        files=[{"name": "mice.csv", "mimeType": "text/csv", "buffer": b"mouse,group\nm1,A\n"}],
    )
    page.locator("#fit_upload_message").filter(has_text="mice.csv").wait_for()
    assert "Traceback" not in page.content()


def test_uploaded_lab_data_are_fitted(page, tmp_path):
    from fmsim.app.pages.fit import reference_data

    mine = tmp_path / "my_mice.csv"
    reference_data().query("test == 'paw_pressure_threshold'").to_csv(mine, index=False)
    open_fit_page(page)
    page.check("#fit_source input[value='upload']")
    page.set_input_files("#fit_upload", str(mine))
    page.get_by_text("Upload complete").wait_for()  # the server has the file
    page.uncheck("#fit_tests input[value='cold_response']")
    page.fill("#fit_starts", "2")
    page.uncheck("#fit_profile")
    page.keyboard.press("Tab")
    fit(page, 1)
    assert panels(page) == ["paw_pressure_threshold"]
    text = page.locator("#fit_estimates").inner_text()
    assert "sensitisation_turnover" in text and "verdict" not in text  # no profiles asked for
    names = zipfile.ZipFile(download(page, "fit_download_config")).namelist()
    assert sorted(names) == ["command.txt", "fit.yaml", "my_mice.csv"]


def test_uploaded_fit_settings_fill_the_form_and_run_on_their_scheduler(page, tmp_path):
    """A fit YAML naming a local Dask cluster: the form takes its settings, the status names
    the cluster, and the estimates are those of the same fit in one process (the command)."""
    settings = tmp_path / "my_fit.yaml"
    settings.write_text(
        "estimate:\n  - {name: sensitisation_turnover, lower: 0.5, upper: 2.5}\n"
        "tests: [paw_pressure_threshold]\nstarts: 2\nseed: 4\nprofile: false\n"
        "scheduler: local\n"
    )
    open_fit_page(page)
    page.set_input_files("#fit_config_upload", str(settings))
    page.wait_for_function("() => document.getElementById('fit_starts').value === '2'")
    assert page.input_value("#fit_seed") == "4" and not page.is_checked("#fit_profile")
    assert page.input_value("#fit_scheduler") == "local"
    assert not page.is_checked("#fit_tests input[value='cold_response']")
    page.wait_for_function(
        "() => document.getElementById('fit_sensitisation_turnover_lower')?.value === '0.5'"
    )
    assert page.input_value("#fit_sensitisation_turnover_upper") == "2.5"
    page.locator("#fit_sensitisation_occupancy50_lower").wait_for(state="detached")  # not listed
    page.click("#fit_run")
    status = page.locator("#fit_status_text")
    wait_for_plot(page, "fit_plot", 1)
    status.filter(has_text="Done: 2 starts on a local Dask cluster").wait_for()
    download(page, "fit_download_config", tmp_path)
    shown = pd.read_csv(download(page, "fit_download_results"))
    downloaded = (tmp_path / "fit.yaml").read_text()
    assert "scheduler: local" in downloaded
    (tmp_path / "fit.yaml").write_text(downloaded.replace("scheduler: local\n", ""))
    run_fmsim("fit", "reference_measurements.csv", "fit.yaml", "--out", "run", cwd=tmp_path)
    expected = pd.read_csv(tmp_path / "run" / "estimates.csv")
    assert list(shown["parameter"]) == ["sensitisation_turnover"]
    assert 0.5 <= shown["estimate"].iloc[0] <= 2.5
    pd.testing.assert_series_equal(shown["estimate"], expected["estimate"], rtol=1e-6)


def test_an_invalid_scheduler_in_a_fit_file_is_shown_beside_the_upload(page, tmp_path):
    settings = tmp_path / "bad_fit.yaml"
    settings.write_text("estimate: [sensitisation_turnover]\nscheduler: dask://nowhere\n")
    open_fit_page(page)
    page.set_input_files("#fit_config_upload", str(settings))
    message = page.locator("#fit_config_upload_message")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert text.startswith("bad_fit.yaml: scheduler: got 'dask://nowhere'"), text
    assert str(tmp_path) not in text and "Traceback" not in page.content()
    assert page.input_value("#fit_scheduler") == ""  # the form is unchanged


def test_a_fit_file_the_page_cannot_run_is_refused_with_its_reason(tmp_path):
    """Another design, an unknown parameter or posterior sampling: the reason, naming the file
    (no browser needed)."""
    from fmsim.app.pages.fit import uploaded_problem
    from fmsim.config.fit import FitConfig

    def reason(**settings) -> str | None:
        return uploaded_problem(
            FitConfig(estimate=["sensitisation_turnover"], **settings), "f.yaml"
        )

    assert reason() is None and reason(scheduler="tcp://10.0.0.2:8786") is None
    assert reason(scenario="other.yaml").startswith("f.yaml: scenario: got 'other.yaml'")
    assert "posterior sampling runs with fmsim fit only" in reason(sample={"samples": 500})
    unknown = uploaded_problem(FitConfig(estimate=["no_such_parameter"]), "f.yaml")
    assert (
        unknown == "f.yaml: estimate: unknown parameter(s) ['no_such_parameter']; see fmsim params"
    )
