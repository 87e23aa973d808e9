"""The reports' first screens in a browser: the main findings come first, the interactive figure
replaces its static fallback, and the screenshots for the README are taken."""

from __future__ import annotations

from tests.app.conftest import SCREENSHOTS
from tests.app.test_fields import FORM

from fmsim.app.pages.trial import DEFAULT_TRIAL, trial_config
from fmsim.config import default_config
from fmsim.config.therapy import drug_library, regimen_protocol
from fmsim.experiments.studies import passive_transfer_study, therapy_study, trial_study
from fmsim.report import render


def open_report(browser, path):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.goto(path.as_uri())
    return context, tab


def test_therapy_report_leads_with_the_answer(browser, tmp_path):
    library = drug_library()
    protocols = {
        name: regimen_protocol(library.get(name), library) for name in ("efgartigimod", "protein_a")
    }
    study = therapy_study(protocols, patients=8, days=91)
    report = render(study, tmp_path / "therapies")
    context, tab = open_report(browser, report)
    headings = tab.locator("h2").all_inner_texts()
    assert headings[0] == "Main findings"
    tab.locator("#figure-therapy_courses .main-svg").first.wait_for()
    assert tab.locator("#figure-therapy_courses img").count() == 0  # the fallback was replaced
    tab.screenshot(path=SCREENSHOTS / "report_therapies.png")
    context.close()


def test_trial_report_leads_with_the_answer(browser, tmp_path):
    small = {**FORM, "sample_sizes": "20, 40", "replicates": 10}
    study = trial_study(trial_config(DEFAULT_TRIAL, small))
    report = render(study, tmp_path / "trial")
    context, tab = open_report(browser, report)
    assert tab.locator("h2").first.inner_text() == "Main findings"
    assert "95% CI" in tab.locator("ul").first.inner_text()
    tab.locator("#figure-power .main-svg").first.wait_for()
    tab.screenshot(path=SCREENSHOTS / "report_trial.png")
    context.close()


def test_passive_transfer_report_leads_with_the_answer(browser, tmp_path):
    """The report of ``fmsim reproduce``'s design (Goebel 2021): findings with Hedges' g and
    its interval first; the behaviour figure drawn interactively."""
    study = passive_transfer_study(default_config())
    report = render(study, tmp_path / "passive_transfer")
    context, tab = open_report(browser, report)
    assert tab.locator("h2").first.inner_text() == "Main findings"
    assert "95% CI" in tab.locator("main, body").first.inner_text()
    tab.locator("#figure-behaviour .main-svg").first.wait_for()
    assert tab.locator("#figure-behaviour img").count() == 0  # the fallback was replaced
    tab.screenshot(path=SCREENSHOTS / "report_passive_transfer.png")
    context.close()
