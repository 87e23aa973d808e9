"""Page (b): analyse a lab's own data. Upload a CSV or Excel file in fmsim's lab-data layout
(README, "Analyse your own data"); see every excluded or converted row, the group time courses,
and the statistics ``fmsim analyze`` computes; download all tables as a zip."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.widgets import (
    message_slot,
    plot_slot,
    show_messages,
    show_plot,
    table,
    zipped_result,
)
from fmsim.experiments.result import StudyError
from fmsim.experiments.studies import LabData, LabDataStudy, lab_data_study, load_lab_data
from fmsim.io.lab_data import LabDataError, issues_frame
from fmsim.model.parameters import shipped_parameters
from fmsim.report.interactive import readout_time_courses

PAGE = "lab"


class _Failure:
    """A file or analysis that could not be used, with its one-line message."""

    def __init__(self, message: str):
        self.message = message


def guess_control(groups: list[str]) -> str:
    """The group that looks like the control (name holds 'HC', 'control' or 'saline'), else the
    first; the user can change it."""
    for word in ("hc", "control", "saline"):
        for group in groups:
            if word in group.lower():
                return group
    return groups[0]


def page() -> ui.NavPanel:
    controls = ui.sidebar(
        ui.input_file(
            "lab_upload", "Your data (CSV or Excel)", accept=[".csv", ".txt", ".tsv", ".xlsx"]
        ),
        message_slot(PAGE, "lab_upload"),
        ui.input_select("lab_control", "Control group", []),
        ui.input_select("lab_disease", "Group to summarise", []),
        message_slot(PAGE, "lab_control"),
        ui.download_button("lab_download", "All tables (zip of CSV and Parquet)"),
        ui.p(
            "One row per mouse, test and day: columns mouse, group, day, test, value, unit "
            "(optional: sex, donor, von Frey filaments and responses).",
            class_="fmsim-note",
        ),
        width=340,
    )
    return ui.nav_panel(
        "Analyse my data",
        ui.layout_sidebar(
            controls,
            ui.output_ui("lab_quality"),
            ui.h5("Group time courses (mean, band: ± SEM over mice)"),
            plot_slot("lab_plot", 640),
            ui.output_ui("lab_statistics"),
        ),
        value="lab_data",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fmsim-app-"))
    session.on_ended(lambda: shutil.rmtree(folder, ignore_errors=True))

    @reactive.calc
    def data() -> LabData | _Failure:
        upload = input.lab_upload()
        req(upload)
        path = folder / Path(upload[0]["name"]).name  # messages name the user's file
        shutil.copyfile(upload[0]["datapath"], path)
        try:
            return load_lab_data(path)
        except LabDataError as error:
            return _Failure(str(error).replace(f"{folder}/", ""))

    @reactive.effect
    async def _groups() -> None:
        loaded = data()
        if isinstance(loaded, _Failure):
            await show_messages(session, PAGE, {"lab_upload": loaded.message})
            return
        await show_messages(session, PAGE, {})
        groups = list(pd.unique(loaded.clean["group"])) if not loaded.clean.empty else []
        req(groups)
        control = guess_control(groups)
        others = [g for g in groups if g != control]
        ui.update_select("lab_control", choices=groups, selected=control)
        ui.update_select("lab_disease", choices=others, selected=others[0] if others else None)

    @reactive.calc
    def study() -> LabDataStudy | _Failure:
        loaded = data()
        req(not isinstance(loaded, _Failure), input.lab_control(), input.lab_disease())
        try:
            with ui.Progress() as progress:
                progress.set(message="Mixed models and post hoc tests ...", value=0.3)
                return lab_data_study(loaded, input.lab_control(), input.lab_disease())
        except StudyError as error:
            return _Failure(str(error).replace(f"{folder}/", ""))

    @reactive.effect
    async def _plot() -> None:
        req(input.page() == "lab_data")  # computed and drawn while the page is shown
        loaded = data()
        req(not isinstance(loaded, _Failure) and not loaded.clean.empty)
        specs = shipped_parameters("mouse").readouts
        await show_plot(session, "lab_plot", readout_time_courses(loaded.clean, specs))

    @render.ui
    def lab_quality():
        loaded = data()
        req(not isinstance(loaded, _Failure))
        issues = issues_frame(loaded.issues).assign(file=lambda f: f["file"].map(_name))
        counts = issues["action"].value_counts()
        summary = (
            f"{_name(loaded.source)}: {len(loaded.clean):,} rows used from "
            f"{loaded.clean['mouse'].nunique()} mice; "
            + (
                ", ".join(f"{n} row(s) {action}" for action, n in counts.items())
                if len(issues)
                else "no data issues"
            )
            + "."
        )
        parts = [ui.div(summary, class_="fmsim-answer")]
        if len(issues):
            parts += [
                ui.h5("Data quality: every excluded, erroneous or converted row"),
                table(issues),
            ]
        return ui.TagList(*parts)

    @render.ui
    def lab_statistics():
        result = study()
        if isinstance(result, _Failure):
            return ui.div(result.message, class_="fmsim-field-error", style="display: block")
        tables = result.tables()
        parts = []
        for name in ("time_course_summary", "posthoc", "auc_versus_control"):
            parts += [ui.h5(tables[name].description), table(tables[name].frame)]
        return ui.TagList(*parts)

    @render.download(filename="lab_data_analysis.zip")
    def lab_download():
        result = study()
        req(not isinstance(result, _Failure))
        yield zipped_result(result)


def _name(path) -> str:
    return Path(str(path)).name
