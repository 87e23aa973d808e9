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
from pathlib import Path

import pandas as pd
import plotly
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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


#: Plotly's JavaScript, written once next to a report that has interactive figures.
PLOTLY_JS = "plotly.min.js"


def plotly_script(folder: Path) -> str:
    """Copy Plotly's JavaScript (shipped with the plotly package) into ``folder`` and return the
    HTML that loads it (a report opened without it shows the static figures)."""
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / PLOTLY_JS, folder / PLOTLY_JS)
    return f'<script src="{PLOTLY_JS}"></script>'


def embed(figure: go.Figure, name: str, fallback_png: str, alt: str) -> str:
    """HTML showing ``figure`` interactively; until (or unless) Plotly runs, the static PNG
    ``fallback_png`` (base64) is shown in its place."""
    element = f"figure-{name}"
    return (
        f'<div id="{element}" class="interactive-figure">'
        f'<img src="data:image/png;base64,{fallback_png}" alt="{html.escape(alt)}"></div>'
        f"<script>if (window.Plotly) {{ const f = {_script_safe(figure.to_json())}; "
        f'document.getElementById("{element}").innerHTML = ""; '
        f'Plotly.newPlot("{element}", f.data, f.layout, {json.dumps(TOOLBAR)}); }}</script>'
    )


def _script_safe(text: str) -> str:
    """JSON text that cannot end the script element it sits in (user-given names included)."""
    return text.replace("</", "<\\/")


def colours(names) -> dict[str, str]:
    """One colour per name, in order."""
    return {n: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, n in enumerate(names)}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _grid(titles: list[str], columns: int = 3) -> go.Figure:
    rows = max(-(-len(titles) // columns), 1)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.07,
        vertical_spacing=min(0.18, 0.6 / rows) if rows > 1 else 0.1,
    )
    fig.update_layout(
        height=300 * rows + 110,
        margin={"l": 50, "r": 20, "t": 50, "b": 80},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2 / rows},
        template="plotly_white",
        hovermode="x unified",
    )
    fig.update_annotations(font_size=12)
    return fig


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
) -> go.Figure:
    """Small multiples: panel ``k`` (title ``titles[k]``) draws each series of ``panels[k]``
    as a line with its band, one colour and one legend entry per name of ``names`` (clicking
    it toggles that name in every panel); ``vlines`` mark days (injections)."""
    fig = _grid(titles, columns=columns)
    palette = colours(names)
    shown: set[str] = set()
    for k, panel in enumerate(panels):
        row, col = k // columns + 1, k % columns + 1
        for series in panel:
            colour = palette[series.name]
            fig.add_trace(
                go.Scatter(
                    x=[*series.x, *series.x[::-1]],
                    y=[*series.high, *series.low[::-1]],
                    mode="lines",
                    fill="toself",
                    fillcolor=_rgba(colour, 0.15),
                    line={"width": 0},
                    hoverinfo="skip",
                    legendgroup=series.name,
                    showlegend=False,
                    name=series.name,
                ),
                row=row,
                col=col,
            )
            extra = " (%{customdata})" if series.hover is not None else ""
            fig.add_trace(
                go.Scatter(
                    x=list(series.x),
                    y=list(series.middle),
                    mode="lines+markers" if markers else "lines",
                    marker={"size": 5},
                    line={"color": colour, "width": 2},
                    name=series.name,
                    legendgroup=series.name,
                    showlegend=series.name not in shown,
                    customdata=series.hover,
                    hovertemplate=f"{series.name}: %{{y:{digits}}}{extra}<extra></extra>",
                ),
                row=row,
                col=col,
            )
            shown.add(series.name)
    _day_lines(fig, vlines, [(k // columns + 1, k % columns + 1) for k in range(len(panels))])
    return fig


def _day_lines(fig: go.Figure, days, panels: list[tuple[int, int]]) -> None:
    """A vertical line at every day of ``days`` in every panel (row, col), added in one layout
    update (plotly's ``add_vline`` re-validates every shape at each call: seconds for 24)."""
    shapes = []
    for row, col in panels:
        subplot = fig.get_subplot(row, col)
        x, y = (axis.plotly_name.replace("axis", "") for axis in (subplot.xaxis, subplot.yaxis))
        shapes += [
            {
                "type": "line",
                "x0": day,
                "x1": day,
                "xref": x,
                "y0": 0,
                "y1": 1,
                "yref": f"{y} domain",
                "line": {"color": "#f1c40f"},
                "opacity": 0.6,
            }
            for day in days or []
        ]
    fig.update_layout(shapes=[*fig.layout.shapes, *shapes])


def readout_time_courses(
    measurements: pd.DataFrame,
    specs: dict[str, ReadoutSpec] | None = None,
    injection_days: list[float] | None = None,
) -> go.Figure:
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
    fig.update_xaxes(title_text="day after first injection")
    return fig


def individual_time_courses(
    measurements: pd.DataFrame, specs: dict[str, ReadoutSpec] | None = None
) -> go.Figure:
    """One panel per test measured on more than one day: one thin line per animal, coloured by
    its group (clicking a group in the legend hides its animals)."""
    specs = specs or {}
    counts = measurements.groupby("test")["day"].nunique()
    tests = [t for t in pd.unique(measurements["test"]) if counts[t] > 1]
    fig = _grid(
        [_readout_title(measurements, specs, t) for t in tests]
        or ["no test measured on more than one day"]
    )
    groups = list(pd.unique(measurements["group"]))
    palette = colours(groups)
    shown: set[str] = set()
    for k, test in enumerate(tests):
        data = measurements[measurements["test"] == test].sort_values("day")
        for (group, mouse), animal in data.groupby(["group", "mouse"], sort=False):
            fig.add_trace(
                go.Scatter(
                    x=list(animal["day"]),
                    y=list(animal["value"]),
                    mode="lines+markers",
                    marker={"size": 3},
                    line={"color": _rgba(palette[group], 0.55), "width": 1},
                    name=str(group),
                    legendgroup=str(group),
                    showlegend=group not in shown,
                    hovertemplate=f"{group}, mouse {mouse}: %{{y:.3g}}<extra></extra>",
                ),
                row=k // 3 + 1,
                col=k % 3 + 1,
            )
            shown.add(group)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="day after first injection")
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
) -> go.Figure:
    """Model states per group over time: group median with the 5th-95th percentile band over
    the mice (``trajectories``: one row per mouse and time point, states as columns)."""
    states = [s for s in MOUSE_STATES if s in trajectories.columns]
    groups = list(pd.unique(trajectories["group"]))
    by_group = trajectories.groupby(["group", "day"])
    panels = []
    for state in states:
        median = by_group[state].median()
        low, high = by_group[state].quantile(0.05), by_group[state].quantile(0.95)
        panels.append(
            [
                Series(
                    group,
                    list(median.loc[group].index),
                    list(median.loc[group]),
                    list(low.loc[group]),
                    list(high.loc[group]),
                )
                for group in groups
            ]
        )
    fig = _banded_panels(
        [MOUSE_STATES[s] for s in states],
        panels,
        groups,
        columns=2,
        markers=False,
        vlines=injection_days,
    )
    fig.update_xaxes(title_text="day after first injection")
    return fig


#: From this many therapies on, the course figures are small multiples: one row per therapy.
SMALL_MULTIPLES = 5


def therapy_courses(courses: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
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
    columns = min(3, max(len(quantities), 1))
    fig = _banded_panels(titles, panels, therapies, columns=columns, markers=False)
    fig.update_xaxes(title_text="day from treatment start")
    if len(rows) > 1:
        fig.update_layout(height=170 * len(rows) + 140)
        fig.update_xaxes(title_text="")
        fig.update_xaxes(title_text="day from treatment start", row=len(rows))
        for k, (therapy,) in enumerate(rows):
            fig.update_yaxes(title_text=therapy, title_font_size=10, row=k + 1, col=1)
        for col in range(1, columns + 1):  # one y range per quantity: rows compare by eye
            fig.update_yaxes(matches=f"y{col if col > 1 else ''}", col=col)
    return fig


def power_curve(power: pd.DataFrame, target: float) -> go.Figure:
    """Power against patients randomised, one curve per population, with its Wilson 95 %
    interval as a band and the target power as a dashed line (``power``: the trial study's
    power table: population, patients, power, ci_low, ci_high)."""
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
    fig.add_hline(y=target, line_dash="dash", line_color="#999")
    fig.update_yaxes(range=[0, 1], title_text="power (share of replicate trials)")
    fig.update_xaxes(title_text="patients randomised")
    fig.update_layout(height=420, hovermode="closest")
    return fig
