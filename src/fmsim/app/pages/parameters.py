"""Page (e): the mouse model's parameters with value, unit, physical range, between-animal CV
and source (as ``fmsim params``). A value edited in the table is checked against the parameter's
range; a valid one becomes a ``parameters:`` override of the passive-transfer scenario (and its
page redraws), an invalid one is refused with its message. The scenario with the overrides
downloads as the YAML ``fmsim simulate`` reads."""

from __future__ import annotations

import math

import pandas as pd
from shiny import Inputs, Outputs, Session, reactive, render, req, ui
from shiny.types import SafeException

from fmsim.app.widgets import (
    csv_text,
    message_slot,
    read_upload,
    show_messages,
    sidebar_downloads,
    table,
)
from fmsim.config import PassiveTransferConfig, load_config
from fmsim.experiments.result import config_yaml
from fmsim.model.parameters import shipped_parameters

PAGE = "par"
COLUMNS = ["parameter", "value", "unit", "range", "cv", "source", "description"]


def parameter_frame(overrides: dict[str, float]) -> pd.DataFrame:
    """The mouse parameters as a table, with ``overrides`` in place of the shipped values."""
    frame = pd.DataFrame(shipped_parameters("mouse").table(), columns=COLUMNS)
    for name, value in overrides.items():
        frame.loc[frame["parameter"] == name, "value"] = f"{value:.4g}"
    return frame


def checked_value(name: str, text: str) -> float:
    """The number typed for parameter ``name``; raises ValueError with the message shown."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{name}: got {text!r}: expected a number") from None
    problem = shipped_parameters("mouse").problem(name, value)
    if problem or not math.isfinite(value):
        raise ValueError(f"{name}: got {text!r}: {problem}")
    return value


def page() -> ui.NavPanel:
    controls = ui.sidebar(
        ui.p(
            "Double-click a value to change it; Enter keeps it. Changed values apply to the "
            "passive-transfer page.",
            class_="fmsim-note",
        ),
        ui.input_file(
            "par_upload", "Upload a scenario (its parameters: block)", accept=[".yaml", ".yml"]
        ),
        message_slot(PAGE, "par_upload"),
        ui.output_ui("par_overrides"),
        ui.input_action_button("par_reset", "Reset to the shipped values"),
        sidebar_downloads(
            ("par_download_config", "Scenario with these values (YAML)"),
            ("par_download_results", "Parameter table (CSV)"),
        ),
        width=340,
    )
    return ui.nav_panel(
        "Parameters",
        ui.layout_sidebar(
            controls,
            message_slot(PAGE, "par_table"),
            ui.output_data_frame("par_table"),
        ),
        value="parameters",
    )


def server(
    input: Inputs,
    output: Outputs,
    session: Session,
    overrides: reactive.Value[dict],
    scenario: reactive.Calc_[tuple[PassiveTransferConfig | None, dict]],
) -> None:
    """``overrides`` are shared with the passive-transfer page, whose checked ``scenario`` is
    downloaded from here."""

    @render.data_frame
    def par_table():
        overrides()  # redrawn after an upload or a reset
        with reactive.isolate():
            frame = parameter_frame(overrides())
        return render.DataGrid(frame, editable=True, width="100%", height="640px")

    @par_table.set_patch_fn
    async def _edit(*, patch) -> str:
        frame = parameter_frame({})
        name = frame.iloc[patch["row_index"]]["parameter"]
        if COLUMNS[patch["column_index"]] != "value":
            message = "only the value column can be changed"
            await show_messages(session, PAGE, {"par_table": message})
            raise SafeException(message)
        try:
            value = checked_value(name, patch["value"])
        except ValueError as error:
            await show_messages(session, PAGE, {"par_table": str(error)})
            raise SafeException(str(error)) from None
        await show_messages(session, PAGE, {})
        with reactive.isolate():
            changed = {**overrides(), name: value}
        if value == shipped_parameters("mouse")[name].value:
            changed.pop(name)
        overrides.set(changed)
        return f"{value:.4g}"

    @reactive.effect
    @reactive.event(input.par_reset)
    def _reset() -> None:
        overrides.set({})

    @reactive.effect
    @reactive.event(input.par_upload)
    async def _upload() -> None:
        config, problem = read_upload(input.par_upload()[0], load_config)
        if problem:
            await show_messages(session, PAGE, {"par_upload": problem})
            return
        await show_messages(session, PAGE, {})
        overrides.set(dict(config.parameters))

    @render.ui
    def par_overrides():
        changed = overrides()
        if not changed:
            return ui.p("All values as shipped.", class_="fmsim-note")
        frame = pd.DataFrame(
            [
                {"parameter": k, "shipped": shipped_parameters("mouse")[k].value, "now": v}
                for k, v in changed.items()
            ]
        )
        return ui.TagList(ui.h6("Changed values"), table(frame))

    @render.download_button(filename="scenario.yaml")
    def par_download_config():
        config = scenario()[0]
        req(config)
        yield config_yaml(config)

    @render.download_button(filename="parameters.csv")
    def par_download_results():
        yield csv_text(parameter_frame(overrides()))
