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
        vertical_spacing=0.18 if rows > 1 else 0.1,
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


def _band(
    fig: go.Figure,
    x,
    middle,
    low,
    high,
    *,
    name: str,
    colour: str,
    row: int,
    col: int,
    first: bool,
    hover: str,
) -> None:
    """A line with a shaded band from ``low`` to ``high``; the legend toggles both."""
    fig.add_trace(
        go.Scatter(
            x=list(x) + list(x)[::-1],
            y=list(high) + list(low)[::-1],
            mode="lines",
            fill="toself",
            fillcolor=_rgba(colour, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            legendgroup=name,
            showlegend=False,
            name=name,
        ),
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=list(x),
            y=list(middle),
            mode="lines+markers",
            marker={"size": 5},
            line={"color": colour, "width": 2},
            name=name,
            legendgroup=name,
            showlegend=first,
            hovertemplate=hover,
        ),
        row=row,
        col=col,
    )


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
    titles = [
        f"{specs[t].label}<br>({specs[t].unit})"
        if t in specs
        else f"{t} ({_unit(measurements, t)})"
        for t in tests
    ]
    fig = _grid(titles or ["no test measured on more than one day"])
    groups = list(pd.unique(measurements["group"]))
    palette = colours(groups)
    for k, test in enumerate(tests):
        row, col = k // 3 + 1, k % 3 + 1
        data = measurements[measurements["test"] == test]
        summary = data.groupby(["group", "day"])["value"].agg(["mean", "sem", "count"])
        for group in groups:
            if group not in summary.index.get_level_values("group"):
                continue
            g = summary.loc[group].fillna({"sem": 0.0})
            _band(
                fig,
                g.index,
                g["mean"],
                g["mean"] - g["sem"],
                g["mean"] + g["sem"],
                name=group,
                colour=palette[group],
                row=row,
                col=col,
                first=k == 0,
                hover=f"{group}: %{{y:.3g}} (mean of %{{customdata}})<extra></extra>",
            )
            fig.data[-1].customdata = [f"{n} animals" for n in g["count"]]
    _injection_lines(fig, injection_days, [(k // 3 + 1, k % 3 + 1) for k in range(len(tests))])
    fig.update_xaxes(title_text="day after first injection")
    return fig


def _injection_lines(
    fig: go.Figure, days: list[float] | None, panels: list[tuple[int, int]]
) -> None:
    """A vertical line at every injection day in every panel (row, col), added in one layout
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


def _unit(measurements: pd.DataFrame, test: str) -> str:
    units = measurements.loc[measurements["test"] == test, "unit"].dropna().unique()
    return str(units[0]) if len(units) else ""


def state_time_courses(
    trajectories: pd.DataFrame, injection_days: list[float] | None = None
) -> go.Figure:
    """Model states per group over time: group median with the 5th-95th percentile band over
    the mice (``trajectories``: one row per mouse and time point, states as columns)."""
    states = [s for s in MOUSE_STATES if s in trajectories.columns]
    fig = _grid([MOUSE_STATES[s] for s in states], columns=2)
    groups = list(pd.unique(trajectories["group"]))
    palette = colours(groups)
    by_group = trajectories.groupby(["group", "day"])
    for k, state in enumerate(states):
        row, col = k // 2 + 1, k % 2 + 1
        median = by_group[state].median()
        low, high = by_group[state].quantile(0.05), by_group[state].quantile(0.95)
        for group in groups:
            _band(
                fig,
                median.loc[group].index,
                median.loc[group],
                low.loc[group],
                high.loc[group],
                name=group,
                colour=palette[group],
                row=row,
                col=col,
                first=k == 0,
                hover=f"{group}: %{{y:.3g}}<extra></extra>",
            )
    _injection_lines(fig, injection_days, [(k // 2 + 1, k % 2 + 1) for k in range(len(states))])
    for trace in fig.data:
        trace.mode = "lines"
    fig.update_xaxes(title_text="day after first injection")
    return fig


def therapy_courses(courses: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Small multiples: one panel per quantity (``labels``: quantity -> title), one line per
    therapy with the median and the 25th-75th percentile band over patients (``courses``: the
    therapy study's per-therapy, day and quantity percentiles q05 ... q95)."""
    quantities = [q for q in labels if q in set(courses["quantity"])]
    fig = _grid([labels[q] for q in quantities], columns=min(3, max(len(quantities), 1)))
    therapies = list(pd.unique(courses["therapy"]))
    palette = colours(therapies)
    for k, quantity in enumerate(quantities):
        row, col = k // 3 + 1, k % 3 + 1
        for therapy in therapies:
            data = courses[(courses["therapy"] == therapy) & (courses["quantity"] == quantity)]
            if data.empty:
                continue
            _band(
                fig,
                data["day"],
                data["q50"],
                data["q25"],
                data["q75"],
                name=therapy,
                colour=palette[therapy],
                row=row,
                col=col,
                first=k == 0,
                hover=f"{therapy}: %{{y:.3g}}<extra></extra>",
            )
    for trace in fig.data:
        trace.mode = "lines"
    fig.update_xaxes(title_text="day from treatment start")
    return fig


def power_curve(power: pd.DataFrame, target: float) -> go.Figure:
    """Power against patients randomised, one curve per population, with its Wilson 95 %
    interval as a band and the target power as a dashed line (``power``: the trial study's
    power table: population, patients, power, ci_low, ci_high)."""
    fig = _grid(["power of the primary endpoint"], columns=1)
    populations = list(pd.unique(power["population"]))
    palette = colours(populations)
    for population in populations:
        p = power[power["population"] == population].sort_values("patients")
        _band(
            fig,
            p["patients"],
            p["power"],
            p["ci_low"],
            p["ci_high"],
            name=str(population),
            colour=palette[population],
            row=1,
            col=1,
            first=True,
            hover=f"{population}: power %{{y:.2f}} at %{{x}} patients<extra></extra>",
        )
    fig.add_hline(y=target, line_dash="dash", line_color="#999")
    fig.update_yaxes(range=[0, 1], title_text="power (share of replicate trials)")
    fig.update_xaxes(title_text="patients randomised")
    fig.update_layout(height=420, hovermode="closest")
    return fig
