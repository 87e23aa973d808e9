"""Building blocks shared by the pages: a field with its message slot, a Plotly figure slot
drawn from the server, and the messages that fill them (see ``www/fmsim.js``)."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TypeVar

import pandas as pd
from htmltools import HTMLDependency, Tag, TagChild
from shiny import Session, ui

from fmsim.config import ConfigError
from fmsim.experiments.result import StudyResult
from fmsim.io.store import csv_safe
from fmsim.report.interactive import TOOLBAR, Figure, figure_json

WWW = Path(str(resources.files("fmsim.app").joinpath("www")))
#: Where a page's chunked job runs (a configuration's ``scheduler``): the choices of its select.
SCHEDULERS = {"": "in this process", "local": "on a local Dask cluster (a worker per core)"}
Loaded = TypeVar("Loaded")


def assets() -> list[TagChild]:
    """The page head: Plotly's JavaScript (shipped with the plotly package), fmsim's handlers
    and styles."""
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data"
    return [
        HTMLDependency(
            "plotly",
            plotly.__version__,
            source={"subdir": str(plotly_js)},
            script={"src": "plotly.min.js"},
        ),
        HTMLDependency(
            "fmsim",
            "1",
            source={"subdir": str(WWW)},
            script={"src": "fmsim.js"},
            stylesheet={"href": "fmsim.css"},
        ),
    ]


def message_slot(page: str, input_id: str) -> Tag:
    """Where the message of field ``input_id`` appears (empty and hidden when it is valid)."""
    return ui.div(
        class_="fmsim-field-error",
        id=f"{input_id}_message",
        role="alert",
        **{"data-page": page, "data-for": input_id},
    )


def with_message(page: str, input_id: str, field: Tag) -> Tag:
    """A form field (input id ``input_id``) followed by its message slot."""
    return ui.div(field, message_slot(page, input_id))


def sidebar_downloads(*buttons: tuple[str, str]) -> Tag:
    """The page's downloads at the foot of its sidebar, under one heading: a button per
    (input id, label), the configuration the command line reads first, then the results."""
    return ui.div(
        ui.h6("Download"),
        *(ui.download_button(button, label) for button, label in buttons),
        class_="fmsim-downloads",
    )


def select_scheduler(input_id: str, scheduler: str | None) -> None:
    """Choose an uploaded configuration's ``scheduler`` in the select ``input_id`` (of
    :data:`SCHEDULERS`; a cluster's address tcp://HOST:PORT joins the choices)."""
    chosen = scheduler or ""
    ui.update_select(input_id, choices={chosen: chosen, **SCHEDULERS}, selected=chosen)


def plot_slot(plot_id: str, height: int = 420) -> Tag:
    """Where the server draws figure ``plot_id``."""
    return ui.div(id=plot_id, class_="fmsim-plot", style=f"min-height: {height}px")


async def show_plot(session: Session, plot_id: str, figure: Figure) -> None:
    """Draw (or update in place) ``figure`` in the slot ``plot_id``."""
    await session.send_custom_message(
        "fmsim-plot", {"id": plot_id, "figure": figure_json(figure), "config": TOOLBAR}
    )


async def show_messages(session: Session, page: str, messages: Mapping[str, str]) -> None:
    """Show ``messages`` (input id -> text) beside the fields of ``page``; clear the others."""
    await session.send_custom_message("fmsim-fields", {"page": page, "messages": dict(messages)})


def table(frame: pd.DataFrame, digits: int = 3) -> ui.HTML:
    """A readable HTML table: numbers to ``digits`` significant digits, sticky header."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
        elif pd.api.types.is_bool_dtype(shown[column]):
            shown[column] = shown[column].map({True: "yes", False: "no"})
    html = shown.to_html(index=False, border=0, classes="table table-sm table-striped")
    return ui.HTML(f'<div class="fmsim-table">{html}</div>')


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as spreadsheet-safe CSV text (see :func:`fmsim.io.store.csv_safe`)."""
    return csv_safe(frame).to_csv(index=False)


def zipped_result(result: StudyResult) -> bytes:
    """A study's tables (CSV and Parquet), data dictionary and configuration, as a zip."""
    with tempfile.TemporaryDirectory() as folder:
        files = result.write(Path(folder))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
    return buffer.getvalue()


def read_upload(
    upload: Mapping[str, str],
    load: Callable[[str], Loaded],
    errors: tuple[type[Exception], ...] = (ConfigError,),
    folder: Path | None = None,
) -> tuple[Loaded | None, str | None]:
    """``load`` an uploaded file (``upload``: one entry of a file input's value, with the
    browser's ``name`` and the server's ``datapath``): (the loaded value, None), or (None, the
    loader's one-line message naming the file as the user knows it) for one of ``errors``.
    With ``folder``, ``load`` reads a copy there under the browser's name, so that what it keeps
    (issue tables, the file a study names) names the file as the user knows it too."""
    path = upload["datapath"]
    if folder is not None:
        path = str(folder / Path(upload["name"]).name)
        shutil.copyfile(upload["datapath"], path)
    try:
        return load(path), None
    except errors as error:
        return None, str(error).replace(path, upload["name"])
