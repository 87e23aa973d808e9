"""Interactive figures (Plotly): hover values, toggle series in the legend, zoom, and download
as PNG or SVG from the figure's toolbar. The web app (:mod:`fmsim.app`) shows them; every figure
is drawn from a study's tables, with no computation of its own beyond group summaries.

Colours: one colour per group or therapy, in the order the groups are given (the same palette as
the static figures of :mod:`fmsim.report.figures`); bands are 5th-95th percentiles over animals
or patients, or mean +/- SEM for measurements, as each figure's axis title says.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import plotly
import plotly.io as pio
from plotly.io.json import to_json_plotly

from fmsim.model.parameters import ReadoutSpec

GROUP_COLOURS = ("#c0392b", "#2c3e50", "#7f8c8d", "#2980b9", "#27ae60", "#8e44ad", "#d35400")

#: Model states of a passive-transfer simulation shown over time: column -> panel title.
MOUSE_STATES = {
    "human_igg_plasma": "human IgG in mouse plasma (mg/mL)",
    "sgc_occupancy": "SGC antigen occupancy (fraction)",
    "sensitisation": "nociceptor sensitisation S (1 = none)",
    "ienfd_relative": "IENFD (fraction of baseline)",
}

#: Toolbar settings of every figure: the camera button saves a 300-dpi PNG (scale 300/72 of
#: the on-screen size in points); SVG comes from the same button with format svg.
TOOLBAR = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 300 / 72},
}


#: A figure as Plotly's JSON, ``{"data": [trace, ...], "layout": {...}}``, drawn by Plotly.js
#: (``plotly.graph_objects.Figure(figure)`` checks it; the tests do).
Figure = dict[str, Any]

#: Plotly's JavaScript, written once next to a report that has interactive figures.
PLOTLY_JS = "plotly.min.js"


def plotly_script(folder: Path) -> str:
    """Copy Plotly's JavaScript (shipped with the plotly package) into ``folder`` and return the
    HTML that loads it (a report opened without it shows the static figures)."""
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / PLOTLY_JS, folder / PLOTLY_JS)
    return f'<script src="{PLOTLY_JS}"></script>'


def embed(figure: Figure, name: str, fallback_png: str, alt: str) -> str:
    """HTML showing ``figure`` interactively; until (or unless) Plotly runs, the static PNG
    ``fallback_png`` (base64) is shown in its place."""
    element = f"figure-{name}"
    return (
        f'<div id="{element}" class="interactive-figure">'
        f'<img src="data:image/png;base64,{fallback_png}" alt="{html.escape(alt)}"></div>'
        f"<script>if (window.Plotly) {{ const f = {_script_safe(figure_json(figure))}; "
        f'document.getElementById("{element}").innerHTML = ""; '
        f'Plotly.newPlot("{element}", f.data, f.layout, {json.dumps(TOOLBAR)}); }}</script>'
    )


def figure_json(figure: Figure) -> str:
    """``figure`` as the JSON text Plotly.js reads (numpy numbers as numbers, NaN as null)."""
    return to_json_plotly(figure)


def _script_safe(text: str) -> str:
    """JSON text that cannot end the script element it sits in (user-given names included)."""
    return text.replace("</", "<\\/")


def colours(names) -> dict[str, str]:
    """One colour per name, in order."""
    return {n: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, n in enumerate(names)}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


@cache
def _white_template() -> dict:
    """Plotly's ``plotly_white`` template as JSON (Plotly.js knows no templates by name)."""
    return pio.templates["plotly_white"].to_plotly_json()


def panel_axes(k: int) -> dict[str, str]:
    """The axis references of panel ``k`` (0-based, in reading order) for a trace:
    ``{"xaxis": "x", "yaxis": "y"}`` for the first, ``"x2"``/``"y2"`` for the second ..."""
    suffix = "" if k == 0 else str(k + 1)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def layout_axes(k: int) -> tuple[str, str]:
    """The layout keys of panel ``k``'s axes: ``("xaxis", "yaxis")``, ``("xaxis2", "yaxis2")``
    ..."""
    suffix = "" if k == 0 else str(k + 1)
    return f"xaxis{suffix}", f"yaxis{suffix}"


def x_axes(figure: Figure) -> list[dict]:
    """The layout entries of every x axis of ``figure`` (panel order)."""
    return [v for k, v in figure["layout"].items() if k.startswith("xaxis")]


def subplot_grid(
    titles: list[str],
    columns: int = 3,
    *,
    horizontal_spacing: float = 0.07,
    vertical_spacing: float | None = None,
    row_height: int = 300,
) -> Figure:
    """An empty figure of ``len(titles)`` panels in rows of ``columns`` (reading order; panel
    ``k`` is addressed by :func:`panel_axes`), each titled (an empty title shows none). Built
    as Plotly's JSON directly: ``plotly.subplots.make_subplots`` validates every property and
    costs a tenth of a second per figure, which the web app pays at each update."""
    count = max(len(titles), 1)
    rows = -(-count // columns)
    if vertical_spacing is None:
        vertical_spacing = min(0.18, 0.6 / rows) if rows > 1 else 0.1
    width = (1 - horizontal_spacing * (columns - 1)) / columns
    height = (1 - vertical_spacing * (rows - 1)) / rows
    layout: dict = {
        "template": _white_template(),
        "height": row_height * rows + 110,
        "margin": {"l": 50, "r": 20, "t": 50, "b": 80},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2 / rows},
        "hovermode": "x unified",
        "annotations": [],
    }
    for k in range(count):
        row, col = divmod(k, columns)
        left = col * (width + horizontal_spacing)
        top = 1 - row * (height + vertical_spacing)
        axes = panel_axes(k)
        x_key, y_key = layout_axes(k)
        layout[x_key] = {"anchor": axes["yaxis"], "domain": [left, min(left + width, 1.0)]}
        layout[y_key] = {"anchor": axes["xaxis"], "domain": [max(top - height, 0.0), top]}
        if k < len(titles) and titles[k]:
            layout["annotations"].append(
                {
                    "text": titles[k],
                    "x": left + width / 2,
                    "y": top,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "center",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 12},
                }
            )
    return {"data": [], "layout": layout}


@dataclass(frozen=True)
class Series:
    """One line of a panel with its shaded band: ``x``, the line ``middle``, the band from
    ``low`` to ``high``; ``hover`` labels each point (e.g. the number of animals)."""

    name: str
    x: list
    middle: list
    low: list
    high: list
    hover: list | None = None


def _banded_panels(
    titles: list[str],
    panels: list[list[Series]],
    names: list[str],
    *,
    columns: int,
    markers: bool,
    vlines: list[float] = (),
    digits: str = ".3g",
) -> Figure:
    """Small multiples: panel ``k`` (title ``titles[k]``) draws each series of ``panels[k]``
    as a line with its band, one colour and one legend entry per name of ``names`` (clicking
    it toggles that name in every panel); ``vlines`` mark days (injections)."""
    fig = subplot_grid(titles, columns=columns)
    palette = colours(names)
    shown: set[str] = set()
    for k, panel in enumerate(panels):
        axes = panel_axes(k)
        for series in panel:
            colour = palette[series.name]
            fig["data"].append(
                {
                    "type": "scatter",
                    "x": [*series.x, *series.x[::-1]],
                    "y": [*series.high, *series.low[::-1]],
                    "mode": "lines",
                    "fill": "toself",
                    "fillcolor": _rgba(colour, 0.15),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "legendgroup": series.name,
                    "showlegend": False,
                    "name": series.name,
                    **axes,
                }
            )
            extra = " (%{customdata})" if series.hover is not None else ""
            line = {
                "type": "scatter",
                "x": list(series.x),
                "y": list(series.middle),
                "mode": "lines+markers" if markers else "lines",
                "marker": {"size": 5},
                "line": {"color": colour, "width": 2},
                "name": series.name,
                "legendgroup": series.name,
                "showlegend": series.name not in shown,
                "hovertemplate": f"{series.name}: %{{y:{digits}}}{extra}<extra></extra>",
                **axes,
            }
            if series.hover is not None:
                line["customdata"] = list(series.hover)
            fig["data"].append(line)
            shown.add(series.name)
    fig["layout"]["shapes"] = [
        {
            "type": "line",
            "x0": day,
            "x1": day,
            "xref": axes["xaxis"],
            "y0": 0,
            "y1": 1,
            "yref": f"{axes['yaxis']} domain",
            "line": {"color": "#f1c40f"},
            "opacity": 0.6,
        }
        for axes in map(panel_axes, range(len(panels)))
        for day in vlines or []
    ]
    return fig


def _x_title(figure: Figure, text: str) -> None:
    for axis in x_axes(figure):
        axis["title"] = {"text": text}


def readout_time_courses(
    measurements: pd.DataFrame,
    specs: dict[str, ReadoutSpec] | None = None,
    injection_days: list[float] | None = None,
) -> Figure:
    """One panel per test measured on more than one day: group mean with a mean +/- SEM band
    over the animals of each group, by day (``measurements``: tidy mouse, group, day, test,
    value, unit rows as in a lab file or a simulated experiment)."""
    specs = specs or {}
    counts = measurements.groupby("test")["day"].nunique()
    tests = [t for t in pd.unique(measurements["test"]) if counts[t] > 1]
    groups = list(pd.unique(measurements["group"]))
    panels = []
    for test in tests:
        data = measurements[measurements["test"] == test]
        summary = data.groupby(["group", "day"])["value"].agg(["mean", "sem", "count"])
        present = set(summary.index.get_level_values("group"))
        panel = []
        for group in (g for g in groups if g in present):
            g = summary.loc[group].fillna({"sem": 0.0})
            mean = list(g["mean"])
            panel.append(
                Series(
                    group,
                    list(g.index),
                    mean,
                    list(g["mean"] - g["sem"]),
                    list(g["mean"] + g["sem"]),
                    [f"mean of {n} animals" for n in g["count"]],
                )
            )
        panels.append(panel)
    fig = _banded_panels(
        [_readout_title(measurements, specs, t) for t in tests]
        or ["no test measured on more than one day"],
        panels,
        groups,
        columns=3,
        markers=True,
        vlines=injection_days,
    )
    _x_title(fig, "day after first injection")
    return fig


def individual_time_courses(
    measurements: pd.DataFrame, specs: dict[str, ReadoutSpec] | None = None
) -> Figure:
    """One panel per test measured on more than one day: one thin line per animal, coloured by
    its group (clicking a group in the legend hides its animals)."""
    specs = specs or {}
    counts = measurements.groupby("test")["day"].nunique()
    tests = [t for t in pd.unique(measurements["test"]) if counts[t] > 1]
    fig = subplot_grid(
        [_readout_title(measurements, specs, t) for t in tests]
        or ["no test measured on more than one day"]
    )
    groups = list(pd.unique(measurements["group"]))
    palette = colours(groups)
    shown: set[str] = set()
    for k, test in enumerate(tests):
        data = measurements[measurements["test"] == test].sort_values("day")
        for (group, mouse), animal in data.groupby(["group", "mouse"], sort=False):
            fig["data"].append(
                {
                    "type": "scatter",
                    "x": list(animal["day"]),
                    "y": list(animal["value"]),
                    "mode": "lines+markers",
                    "marker": {"size": 3},
                    "line": {"color": _rgba(palette[group], 0.55), "width": 1},
                    "name": str(group),
                    "legendgroup": str(group),
                    "showlegend": group not in shown,
                    "hovertemplate": f"{group}, mouse {mouse}: %{{y:.3g}}<extra></extra>",
                    **panel_axes(k),
                }
            )
            shown.add(group)
    fig["layout"]["hovermode"] = "closest"
    _x_title(fig, "day after first injection")
    return fig


def _readout_title(measurements: pd.DataFrame, specs: dict, test: str) -> str:
    if test in specs:
        return f"{specs[test].label}<br>({specs[test].unit})"
    return f"{test} ({_unit(measurements, test)})"


def _unit(measurements: pd.DataFrame, test: str) -> str:
    units = measurements.loc[measurements["test"] == test, "unit"].dropna().unique()
    return str(units[0]) if len(units) else ""


def state_time_courses(
    trajectories: pd.DataFrame, injection_days: list[float] | None = None
) -> Figure:
    """Model states per group over time: group median with the 5th-95th percentile band over
    the mice (``trajectories``: one row per mouse and time point, states as columns)."""
    states = [s for s in MOUSE_STATES if s in trajectories.columns]
    groups = list(pd.unique(trajectories["group"]))
    # one pass over the table: (group, day) rows, (state, 0.05 / 0.5 / 0.95) columns
    summary = trajectories.groupby(["group", "day"])[states].quantile([0.05, 0.5, 0.95]).unstack()
    by_group = {group: summary.loc[group] for group in groups}
    panels = [
        [
            Series(
                group,
                list(by_group[group].index),
                list(by_group[group][(state, 0.5)]),
                list(by_group[group][(state, 0.05)]),
                list(by_group[group][(state, 0.95)]),
            )
            for group in groups
        ]
        for state in states
    ]
    fig = _banded_panels(
        [MOUSE_STATES[s] for s in states],
        panels,
        groups,
        columns=2,
        markers=False,
        vlines=injection_days,
    )
    _x_title(fig, "day after first injection")
    return fig


#: From this many therapies on, the course figures are small multiples: one row per therapy.
SMALL_MULTIPLES = 5


def therapy_courses(courses: pd.DataFrame, labels: dict[str, str]) -> Figure:
    """One panel per quantity (``labels``: quantity -> title), one line per therapy with the
    median and the 25th-75th percentile band over patients (``courses``: the therapy study's
    per-therapy, day and quantity percentiles q05 ... q95). From :data:`SMALL_MULTIPLES`
    therapies on, small multiples: one row of panels per therapy, the quantities as columns,
    each column on one y range."""
    quantities = [q for q in labels if q in set(courses["quantity"])]
    therapies = list(pd.unique(courses["therapy"]))
    rows = [therapies] if len(therapies) < SMALL_MULTIPLES else [[t] for t in therapies]
    panels, titles = [], []
    for k, shown in enumerate(rows):
        for quantity in quantities:
            titles.append(labels[quantity] if k == 0 else "")
            panel = []
            for therapy in shown:
                data = courses[(courses["therapy"] == therapy) & (courses["quantity"] == quantity)]
                if not data.empty:
                    panel.append(
                        Series(
                            therapy,
                            list(data["day"]),
                            list(data["q50"]),
                            list(data["q25"]),
                            list(data["q75"]),
                        )
                    )
            panels.append(panel)
    columns = max(len(quantities), 1) if len(rows) > 1 else min(3, max(len(quantities), 1))
    fig = _banded_panels(titles, panels, therapies, columns=columns, markers=False)
    layout = fig["layout"]
    if len(rows) == 1:
        _x_title(fig, "day from treatment start")
        return fig
    layout["height"] = 170 * len(rows) + 140
    last_row = (len(rows) - 1) * columns
    for k in range(len(titles)):
        x, y = layout_axes(k)
        if k >= last_row:
            layout[x]["title"] = {"text": "day from treatment start"}
        if k % columns == 0:
            layout[y]["title"] = {"text": rows[k // columns][0], "font": {"size": 10}}
        if k >= columns:  # one y range per quantity: rows compare by eye
            layout[y]["matches"] = panel_axes(k % columns)["yaxis"]
    return fig


def power_curve(power: pd.DataFrame, target: float, x_title: str = "patients randomised") -> Figure:
    """Power against patients randomised, one curve per population, with its Wilson 95 %
    interval as a band and the target power as a dashed line (``power``: the trial study's
    power table: population, patients, power, ci_low, ci_high; ``x_title`` names the
    patients column's meaning)."""
    populations = [str(p) for p in pd.unique(power["population"])]
    panel = []
    for population in populations:
        p = power[power["population"].astype(str) == population].sort_values("patients")
        panel.append(
            Series(
                population,
                list(p["patients"]),
                list(p["power"]),
                list(p["ci_low"]),
                list(p["ci_high"]),
                [f"{n} patients" for n in p["patients"]],
            )
        )
    fig = _banded_panels(
        ["power of the primary endpoint"],
        [panel],
        populations,
        columns=1,
        markers=True,
        digits=".2f",
    )
    layout = fig["layout"]
    layout["shapes"].append(
        {
            "type": "line",
            "xref": "x domain",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": target,
            "y1": target,
            "line": {"dash": "dash", "color": "#999"},
        }
    )
    layout["yaxis"].update(range=[0, 1], title={"text": "power (share of replicate trials)"})
    layout["xaxis"]["title"] = {"text": x_title}
    layout.update(height=420, hovermode="closest")
    return fig
