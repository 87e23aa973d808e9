"""The app: one navigation bar, one page per study (see :mod:`fmsim.app.pages`)."""

from __future__ import annotations

from shiny import App, Inputs, Outputs, Session, reactive, ui

from fmsim import __version__
from fmsim.app.pages import fit, lab_data, parameters, passive_transfer, therapies, trial
from fmsim.app.widgets import assets


def app_ui() -> ui.Tag:
    return ui.page_navbar(
        passive_transfer.page(),
        lab_data.page(),
        therapies.page(),
        trial.page(),
        fit.page(),
        parameters.page(),
        title=f"fmsim {__version__}",
        id="page",
        header=ui.TagList(*assets()),
        footer=ui.p(
            "All results are simulations of a model; they are not clinical evidence.",
            class_="fmsim-note",
            style="margin: 1rem",
        ),
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    overrides: reactive.Value[dict] = reactive.value({})
    scenario = passive_transfer.server(input, output, session, overrides)
    lab_data.server(input, output, session)
    therapies.server(input, output, session)
    trial.server(input, output, session)
    fit.server(input, output, session)
    parameters.server(input, output, session, overrides, scenario)


def create_app() -> App:
    """The Shiny app (an ASGI application) serving every page."""
    return App(app_ui(), server)
