"""Page (b): analyse a lab's own data. Upload a CSV or Excel file in fmsim's lab-data layout
(README, "Analyse your own data") or in the lab's own: map its column names to fmsim's, or name
the test and unit of a GraphPad Prism table (the layouts of :mod:`fmsim.io.lab_layouts`, as
``fmsim analyze --columns/--layout/--test/--unit/--tests``; the groups and the Excel sheet as
``--groups/--sheet``); see every excluded or converted
row update as the mapping changes, the group time courses, and the statistics ``fmsim
analyze`` computes; download all tables as a zip and the mapping as the YAML file ``fmsim
analyze --columns`` reads."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from shiny import Inputs, Outputs, Session, reactive, render, req, ui

from fmsim.app.widgets import (
    message_slot,
    plot_slot,
    read_upload,
    show_messages,
    show_plot,
    sidebar_downloads,
    table,
    zipped_result,
)
from fmsim.config import ConfigError
from fmsim.experiments.result import StudyError
from fmsim.experiments.studies import LabData, LabDataStudy, lab_data_study, load_lab_data
from fmsim.io.lab_data import LabDataError, issues_frame, read_table_cells
from fmsim.io.lab_layouts import TARGETS, LabFormat, lab_format
from fmsim.model.parameters import shipped_parameters
from fmsim.report.interactive import individual_time_courses, readout_time_courses

PAGE = "lab"


class _Failure:
    """A file, mapping or analysis that could not be used: its one-line message and the field
    it belongs beside."""

    def __init__(self, message: str, field: str = "lab_upload"):
        self.message = message
        self.field = field


#: The command-line options of ``fmsim analyze`` named in messages -> this page's fields and
#: their labels (longest option first: ``--tests`` before ``--test``).
OPTIONS = {
    "--columns": ("lab_columns", "Column names"),
    "--layout": ("lab_layout", "Layout"),
    "--tests": ("lab_tests", "Tests of your own"),
    "--test": ("lab_test", "Test"),
    "--unit": ("lab_unit", "Unit"),
    "--groups": ("lab_groups", "Groups"),
    "--sheet": ("lab_sheet", "Excel sheet"),
}


def page_words(message: str) -> str:
    """A message of ``fmsim analyze``'s reading (:func:`lab_format`, :func:`load_lab_data`, a
    row's issue) in the page's words: the field's label for each command-line option."""
    message = re.sub(r"--test (\S+) --unit ([^\s,)]+)", r"Test '\1', Unit '\2'", message)
    for option, (_, label) in OPTIONS.items():
        message = message.replace(f"{option}: ", "").replace(option, f"'{label}'")
    return message


def field_message(message: str, default: str = "lab_upload") -> _Failure:
    """A message of :func:`lab_format` or :func:`load_lab_data` beside the field its option
    belongs to, in the page's words (:func:`page_words`)."""
    field = next((f for option, (f, _) in OPTIONS.items() if option in message), default)
    return _Failure(page_words(message), field)


def group_list(text: str) -> list[str] | None:
    """The groups typed as 'HC, FMS' (None when blank: any group), as ``--groups`` reads."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return names or None


def file_format(columns: str, layout: str, test: str, unit: str, tests: str) -> LabFormat:
    """The layout the page's fields describe (blank fields: fmsim's defaults), as
    ``fmsim analyze`` reads its options; ConfigError in one line."""
    if columns.strip().lower().endswith((".yaml", ".yml")):
        raise ConfigError(f"--columns: got {columns.strip()!r}: expected NAME=VALUE pairs")
    return lab_format(
        columns.strip() or None,
        layout=layout or None,
        test=test.strip() or None,
        unit=unit.strip() or None,
        tests=tests.strip() or None,
    )


def mapping_yaml(fmt: LabFormat) -> str:
    """``fmt`` as the YAML file ``fmsim analyze --columns FILE`` reads (blank parts left
    out)."""
    settings = {
        "columns": fmt.columns or None,
        "layout": fmt.layout if fmt.layout != "auto" else None,
        "test": fmt.test,
        "unit": fmt.unit,
        "tests": fmt.tests or None,
    }
    return yaml.safe_dump({k: v for k, v in settings.items() if v is not None}, sort_keys=False)


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
        ui.output_ui("lab_header"),
        ui.input_text(
            "lab_columns",
            "Column names: yours = fmsim's",
            placeholder="Mouse ID=mouse, Timepoint=day",
        ),
        message_slot(PAGE, "lab_columns"),
        ui.input_select(
            "lab_layout",
            "Layout",
            {
                "auto": "detect",
                "tidy": "one row per mouse, test and day",
                "grouped": "Prism grouped table (replicate columns per group)",
                "per_mouse": "one column per mouse (group row)",
            },
        ),
        message_slot(PAGE, "lab_layout"),
        ui.layout_columns(
            ui.input_text("lab_test", "Test", placeholder="paw_pressure_threshold"),
            ui.input_text("lab_unit", "Unit", placeholder="g"),
        ),
        message_slot(PAGE, "lab_test"),
        message_slot(PAGE, "lab_unit"),
        ui.input_text("lab_tests", "Tests of your own: name = unit", placeholder="burrowing=g"),
        message_slot(PAGE, "lab_tests"),
        ui.layout_columns(
            ui.input_text("lab_groups", "Groups", placeholder="HC, FMS (others: errors)"),
            ui.input_text("lab_sheet", "Excel sheet", placeholder="the one with data"),
        ),
        message_slot(PAGE, "lab_groups"),
        message_slot(PAGE, "lab_sheet"),
        ui.input_select("lab_control", "Control group", []),
        ui.input_select("lab_disease", "Group to summarise", []),
        message_slot(PAGE, "lab_control"),
        sidebar_downloads(
            ("lab_download", "All tables (zip of CSV and Parquet)"),
            ("lab_mapping", "Column mapping (YAML for fmsim analyze --columns)"),
        ),
        ui.p(
            "fmsim's layout: one row per mouse, test and day with columns mouse, group, day, "
            f"test, value, unit (optional: sex, donor, filaments, responses). Map other column "
            f"names to these ({', '.join(TARGETS)}); a Prism table holds one test: give its "
            "name and unit.",
            class_="fmsim-note",
        ),
        width=360,
    )
    return ui.nav_panel(
        "Analyse my data",
        ui.layout_sidebar(
            controls,
            ui.output_ui("lab_quality"),
            ui.h5("Group time courses (mean, band: ± SEM over mice)"),
            plot_slot("lab_plot", 640),
            ui.h5("Individual mice (one line per mouse; click a group to hide it)"),
            plot_slot("lab_individual", 640),
            ui.output_ui("lab_statistics"),
        ),
        value="lab_data",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fmsim-app-"))
    session.on_ended(lambda: shutil.rmtree(folder, ignore_errors=True))

    @reactive.calc
    def upload() -> dict[str, str]:
        files = input.lab_upload()
        req(files)
        return files[0]

    def sheet() -> str | None:
        return input.lab_sheet().strip() or None

    @reactive.calc
    def layout() -> LabFormat | _Failure:
        try:
            return file_format(
                input.lab_columns(),
                input.lab_layout(),
                input.lab_test(),
                input.lab_unit(),
                input.lab_tests(),
            )
        except ConfigError as error:
            return field_message(str(error), "lab_columns")

    @reactive.calc
    def data() -> LabData | _Failure:
        fmt, groups = layout(), group_list(input.lab_groups())
        if isinstance(fmt, _Failure):
            return fmt
        loaded, problem = read_upload(
            upload(),
            lambda path: load_lab_data(Path(path), groups, sheet=sheet(), fmt=fmt),
            (LabDataError, ConfigError),
            folder,  # the issues and the study name the file as the user knows it
        )
        return field_message(problem) if problem else loaded

    @reactive.effect
    async def _groups() -> None:
        loaded = data()
        if isinstance(loaded, _Failure):
            await show_messages(session, PAGE, {loaded.field: loaded.message})
            return
        await show_messages(session, PAGE, {})
        groups = list(pd.unique(loaded.clean["group"])) if not loaded.clean.empty else []
        req(groups)
        control = guess_control(groups)
        others = [g for g in groups if g != control]
        ui.update_select("lab_control", choices=groups, selected=control)
        ui.update_select("lab_disease", choices=others, selected=others[0] if others else None)

    @render.ui
    def lab_header():
        cells, problem = read_upload(
            upload(),
            lambda path: read_table_cells(Path(path), sheet())[0],
            (LabDataError, ConfigError),
            folder,
        )
        if problem:
            return None
        names = ", ".join(str(c) for c in cells.columns if not str(c).startswith("unnamed: "))
        return ui.p(f"Columns in your file: {names}.", class_="fmsim-note")

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
        await show_plot(session, "lab_individual", individual_time_courses(loaded.clean, specs))

    @render.ui
    def lab_quality():
        loaded = data()
        req(not isinstance(loaded, _Failure))
        issues = issues_frame(loaded.issues).assign(
            file=lambda f: f["file"].map(_name), message=lambda f: f["message"].map(page_words)
        )
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

    @render.download_button(filename="lab_mapping.yaml")
    def lab_mapping():
        fmt = layout()
        req(not isinstance(fmt, _Failure))
        yield mapping_yaml(fmt)

    @render.download_button(filename="lab_data_analysis.zip")
    def lab_download():
        result = study()
        req(not isinstance(result, _Failure))
        yield zipped_result(result)


def _name(path) -> str:
    return Path(str(path)).name
