"""Interactive figures show the study's numbers: bands and lines equal hand-computed summaries
of small tables; the embedded figure keeps its static PNG until Plotly runs, and user text
cannot end its script element."""

from __future__ import annotations

import base64
import json
import re

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from fmsim.report.interactive import (
    PLOTLY_JS,
    embed,
    individual_time_courses,
    layout_axes,
    plotly_script,
    power_curve,
    readout_time_courses,
    state_time_courses,
    subplot_grid,
    therapy_courses,
)
from fmsim.report.therapy_html import course_figure


def traces(figure, name):
    """(line, band) traces of series ``name``, checked by Plotly's own validator first (the
    figures are built as plain JSON, so nothing else checks their property names)."""
    figure = go.Figure(figure)
    found = [t for t in figure.data if t.name == name]
    line = next(t for t in found if t.fill != "toself")
    band = next(t for t in found if t.fill == "toself")
    return line, band


def test_readouts_are_group_means_with_sem_bands():
    measurements = pd.DataFrame(
        {
            "mouse": ["a", "b", "a", "b", "c", "c"],
            "group": ["FMS", "FMS", "FMS", "FMS", "HC", "HC"],
            "day": [0, 0, 1, 1, 0, 1],
            "test": ["grip_strength"] * 6,
            "value": [100.0, 110.0, 80.0, 90.0, 105.0, 104.0],
            "unit": ["g"] * 6,
        }
    )
    figure = readout_time_courses(measurements)
    line, band = traces(figure, "FMS")
    assert list(line.x) == [0, 1] and list(line.y) == [105.0, 85.0]
    # SEM of two values 10 apart: sd 7.071 / sqrt(2) = 5
    assert list(band.y) == pytest.approx([110.0, 90.0, 80.0, 100.0])
    hc_line, hc_band = traces(figure, "HC")
    assert list(hc_line.y) == [105.0, 104.0] and list(hc_band.y) == [105.0, 104.0, 104.0, 105.0]


def test_injection_days_are_lines_in_every_panel():
    measurements = pd.DataFrame(
        {
            "mouse": ["a", "a", "a", "a"],
            "group": ["FMS"] * 4,
            "day": [0, 1, 0, 1],
            "test": ["grip_strength", "grip_strength", "cold_response", "cold_response"],
            "value": [100.0, 80.0, 5.0, 9.0],
            "unit": ["g", "g", "count", "count"],
        }
    )
    figure = go.Figure(readout_time_courses(measurements, injection_days=[0.0, 2.0, 3.0]))
    lines = [(s.xref, s.yref, s.x0, s.x1) for s in figure.layout.shapes]
    assert sorted(lines) == sorted(
        (x, f"{y} domain", day, day) for x, y in (("x", "y"), ("x2", "y2")) for day in (0, 2, 3)
    )


def test_therapy_courses_are_the_tables_percentiles():
    courses = pd.DataFrame(
        {
            "therapy": ["A", "A", "B", "B"],
            "day": [0.0, 1.0, 0.0, 1.0],
            "quantity": ["total_igg_pct"] * 4,
            "q05": [100, 50, 100, 70],
            "q25": [100, 55, 100, 75],
            "q50": [100, 60, 100, 80],
            "q75": [100, 65, 100, 85],
            "q95": [100, 70, 100, 90],
        }
    )
    figure = therapy_courses(courses, {"total_igg_pct": "total IgG (%)", "absent": "x"})
    line, band = traces(figure, "B")
    assert list(line.y) == [100, 80] and list(band.y) == [100, 85, 75, 100]
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["total IgG (%)"]


def test_power_curve_and_target():
    power = pd.DataFrame(
        {"population": ["all"] * 2, "patients": [80, 40], "power": [0.8, 0.5],
         "ci_low": [0.7, 0.4], "ci_high": [0.9, 0.6]}
    )  # fmt: skip
    figure = power_curve(power, 0.9)
    line, _ = traces(figure, "all")
    assert list(line.x) == [40, 80] and list(line.y) == [0.5, 0.8]
    assert go.Figure(figure).layout.shapes[0].y0 == 0.9


def test_embed_keeps_the_static_figure_and_escapes_names(tmp_path):
    power = pd.DataFrame(
        {"population": ["</script><b>x"], "patients": [40], "power": [0.5],
         "ci_low": [0.4], "ci_high": [0.6]}
    )  # fmt: skip
    fallback = base64.b64encode(b"png bytes").decode()
    snippet = embed(power_curve(power, 0.8), "power", fallback, 'a "curve"')
    assert f'<img src="data:image/png;base64,{fallback}" alt="a &quot;curve&quot;">' in snippet
    script = re.search(r"<script>(.*)</script>", snippet, re.S).group(1)
    assert "</script>" not in script
    figure = json.loads(re.search(r"const f = (.*?); document", script, re.S).group(1))
    assert figure["data"][1]["name"] == "</script><b>x"  # the name itself is kept
    assert plotly_script(tmp_path) == f'<script src="{PLOTLY_JS}"></script>'
    assert (tmp_path / PLOTLY_JS).stat().st_size > 1_000_000


def test_many_therapies_are_small_multiples_one_row_each():
    quantities = {"total_igg_pct": "total IgG (%)", "anti_sgc_pct": "anti-SGC IgG (%)"}
    courses = pd.DataFrame(
        [
            {"therapy": f"T{k}", "day": d, "quantity": q, "q05": 0, "q25": k, "q50": 10 + k,
             "q75": 20 + k, "q95": 30}
            for k in range(6) for q in quantities for d in (0.0, 7.0)
        ]
    )  # fmt: skip
    figure = go.Figure(therapy_courses(courses, quantities))
    lines = [t for t in figure.data if t.fill != "toself"]
    assert len(lines) == 6 * 2  # each therapy once per quantity, in its own panel
    axes = {(t.name, t.yaxis) for t in lines}
    assert len({yaxis for _, yaxis in axes}) == 12  # 6 rows x 2 columns
    assert ("T2", "y5") in axes and ("T2", "y6") in axes  # row 3: axes 5 and 6
    assert figure.layout.yaxis5.matches == "y" and figure.layout.yaxis6.matches == "y2"
    assert figure.layout.yaxis5.title.text == "T2"
    assert [a.text for a in figure.layout.annotations] == list(quantities.values())
    assert list(lines[4].y) == [12, 12] and lines[4].name == "T2"
    few = go.Figure(therapy_courses(courses[courses["therapy"].isin(["T0", "T1"])], quantities))
    assert len({t.yaxis for t in few.data}) == 2  # one panel per quantity, therapies overlaid
    static = course_figure(courses)  # the report's three quantities as columns
    assert len(static.axes) == 6 * 3 and static.axes[3].get_ylabel() == "T1"


@pytest.mark.parametrize(("panels", "columns"), [(1, 1), (2, 2), (4, 2), (6, 3), (12, 2)])
def test_subplot_grid_lays_panels_out_as_plotly_make_subplots(panels, columns):
    titles = [f"panel {k}" for k in range(panels)]
    rows = panels // columns
    vertical = min(0.18, 0.6 / rows) if rows > 1 else 0.1
    expected = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.07,
        vertical_spacing=vertical,
    ).layout
    grid = go.Figure(subplot_grid(titles, columns)).layout  # also validates every property
    for k in range(panels):
        x, y = layout_axes(k)
        assert grid[x].domain == pytest.approx(expected[x].domain, abs=1e-12)
        assert grid[y].domain == pytest.approx(expected[y].domain, abs=1e-12)
        assert (grid[x].anchor, grid[y].anchor) == (expected[x].anchor, expected[y].anchor)
    assert [(a.text, a.x, a.y) for a in grid.annotations] == [
        (a.text, pytest.approx(a.x), pytest.approx(a.y)) for a in expected.annotations
    ]


def test_every_figure_is_valid_plotly(tmp_path):
    """Plotly's validator accepts each figure the app and the reports draw (passive transfer
    with individual mice, model states, therapies, power, a fit)."""
    from fmsim.app.pages.fit import fitted_overlay

    measurements = pd.DataFrame(
        {"mouse": ["a", "a", "b", "b"], "group": ["FMS", "FMS", "HC", "HC"], "day": [0, 1, 0, 1],
         "test": ["grip_strength"] * 4, "value": [100.0, 80.0, 101.0, 99.0], "unit": ["g"] * 4}
    )  # fmt: skip
    trajectories = pd.DataFrame(
        {"group": ["FMS"] * 4 + ["HC"] * 4, "day": [0.0, 1.0] * 4,
         "sensitisation": [1.0, 1.5, 1.0, 1.7, 1.0, 1.0, 1.0, 1.01]}
    )  # fmt: skip
    fitted = pd.DataFrame(
        {"observable": ["grip", "grip", "cold"], "condition": ["c_FMS", "c_HC", "c_FMS"],
         "time": [7.0, 7.0, 7.0], "value": [80.0, 100.0, 9.0], "noise": [5.0, 5.0, 1.0],
         "noise_distribution": ["normal", "normal", "laplace"]}
    )  # fmt: skip
    curves = pd.DataFrame(
        {"observable": ["grip", "cold"], "condition": ["c_FMS", "c_FMS"], "time": [7.0, 7.0],
         "model": [82.0, 8.5]}
    )  # fmt: skip
    figures = {
        "individual": individual_time_courses(measurements),
        "states": state_time_courses(trajectories, [0.0]),
        "fit": fitted_overlay(fitted, curves),
    }
    for name, figure in figures.items():
        checked = go.Figure(figure)
        assert checked.data, name
    states = go.Figure(figures["states"])
    median = next(t for t in states.data if t.name == "FMS" and t.fill != "toself")
    assert list(median.y) == [1.0, 1.6]  # median of 1.5 and 1.7 on day 1
    fit = go.Figure(figures["fit"])
    assert [t.error_y.visible for t in fit.data if t.mode == "markers"] == [True, True, False]
    assert {t.xaxis for t in fit.data if t.name.startswith("FMS")} == {"x", "x2"}
