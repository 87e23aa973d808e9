"""What every report shares: number formatting, figures as PNG, SVG and PDF, the page's style and
table script, the template environment with the reference list, the list of a run's files and
the statistics tables of a passive-transfer analysis."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from jinja2 import Environment, PackageLoader  # noqa: E402

from fmsim.experiments.analysis import PassiveTransferAnalysis  # noqa: E402
from fmsim.report.interactive import embed  # noqa: E402
from fmsim.report.references import Reference, reference_list  # noqa: E402


def fmt(value, digits: int = 3) -> str:
    """A number with ``digits`` significant digits; ``-`` for missing or non-finite values."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def p_text(value: float) -> str:
    """A p-value as reported: ``<0.001`` or three decimals."""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


#: Resolution of the PNG files written next to a report (print quality).
PRINT_DPI = 300


def png(fig: plt.Figure, folder: Path, name: str) -> str:
    """Save ``fig`` as ``folder/name.png`` (300 dpi, for print), ``name.svg`` and ``name.pdf``
    (vector, for editing and journals), and return it as a base64 PNG (110 dpi) for embedding
    in HTML; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=PRINT_DPI)
    # no creation dates: the same result gives byte-identical files (resumed runs, checksums)
    with plt.rc_context({"svg.hashsalt": name}):  # clip-path ids from the name, not random
        fig.savefig(folder / f"{name}.svg", metadata={"Date": None})
    fig.savefig(folder / f"{name}.pdf", metadata={"CreationDate": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def figure_html(
    fig: plt.Figure, folder: Path, name: str, alt: str = "", *, link: str = "figures/"
) -> str:
    """``fig`` as an embedded PNG image (saved as PNG, SVG and PDF in ``folder``, see
    :func:`png`), with links to the three files (``link``: ``folder`` seen from the report)."""
    data = png(fig, folder, name)
    image = f'<img alt="{html.escape(alt or name)}" src="data:image/png;base64,{data}">'
    return image + downloads(link, name)


def interactive_html(
    figure, static: plt.Figure, folder: Path, name: str, alt: str, *, link: str = "figures/"
) -> str:
    """The Plotly ``figure``, shown in place of the static ``static`` once Plotly runs
    (:func:`fmsim.report.interactive.embed`); the static one saved as PNG, SVG and PDF in
    ``folder``, with links to the three files (``link``: ``folder`` seen from the report)."""
    return embed(figure, name, png(static, folder, name), alt) + downloads(link, name)


def downloads(link: str, name: str) -> str:
    """Links to a figure's files (``link``: their folder relative to the report): vector SVG
    and PDF, 300-dpi PNG."""
    links = " · ".join(
        f'<a href="{link}{name}.{ext}" download>{label}</a>'
        for ext, label in (("svg", "SVG"), ("pdf", "PDF"), ("png", "PNG, 300 dpi"))
    )
    return f'<p class="downloads">Download this figure: {links}</p>'


def frame_html(frame, digits: int = 3, *, index: bool = False) -> str:
    """A table as HTML for readers: numbers with ``digits`` significant digits, yes/no for
    booleans (not True/False), column names with spaces (``p_value`` -> ``p value``)."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].dtype == bool:
            shown[column] = shown[column].map({True: "yes", False: "no"})
    shown.columns = [str(c).replace("_", " ") for c in shown.columns]
    if shown.index.name:
        shown.index.name = str(shown.index.name).replace("_", " ")
    return shown.to_html(index=index, float_format=lambda v: f"{v:.{digits}g}", border=0)


#: The scripts and style every report carries inline (it opens offline, from any folder):
#: Tablesort 5.7.1 (MIT, npm package ``tablesort``; licence in ``assets/LICENCE.tablesort``) and
#: its number sort, then fmsim's table set-up, then the shared style sheet.
ASSETS = ("tablesort.min.js", "tablesort.number.min.js", "tables.js")


@cache
def page_head() -> str:
    """The ``<style>`` and ``<script>`` elements of every report: sticky, sortable table
    headers, wrapped text, right-aligned numbers."""
    folder = resources.files("fmsim.report").joinpath("assets")
    scripts = "".join(f"<script>{folder.joinpath(name).read_text()}</script>\n" for name in ASSETS)
    return f"<style>{folder.joinpath('report.css').read_text()}</style>\n{scripts}"


def render_template(
    name: str, folder: Path, output: str, *, extra_references: Iterable[Reference] = (), **context
) -> str:
    """Render template ``name`` into ``folder/output`` (text from user data is escaped), with
    the shared ``head`` and the ``references`` list of the citation keys the page uses;
    return ``output``."""
    environment = Environment(loader=PackageLoader("fmsim.report", "templates"), autoescape=True)
    template = environment.get_template(name)
    draft = template.render(head=page_head(), references="", **context)
    references = reference_list(draft, extra_references)
    (folder / output).write_text(
        template.render(head=page_head(), references=references, **context)
    )
    return output


def write_page(folder: Path, output: str, title: str, body: list[str]) -> str:
    """Write a report built from HTML parts (``body``) into ``folder/output``, with the shared
    head and the reference list; return ``output``."""
    text = "\n".join(body)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>{page_head()}</head><body>\n{text}\n"
        f"{reference_list(text)}</body></html>"
    )
    (folder / output).write_text(page)
    return output


def run_files(folder: Path, *also: str) -> list[str]:
    """The files of a run folder (relative names, sorted) plus ``also`` (written last)."""
    names = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]
    return sorted({*names, *also})


def statistics_rows(analysis: PassiveTransferAnalysis, specs) -> tuple[list[dict], str]:
    """Per test over days: label, unit, omnibus and post hoc tables as HTML, significant cells;
    and the name of the mixed-model method."""
    rows, method = [], ""
    for test, readout in analysis.readouts.items():
        method = readout.method
        rows.append(
            {
                "label": specs[test].label,
                "unit": specs[test].unit,
                "omnibus": frame_html(readout.omnibus, 4, index=True),
                "posthoc": frame_html(readout.posthoc),
                "n_significant": int(readout.posthoc["significant"].sum()),
                "n_rows": len(readout.posthoc),
            }
        )
    return rows, method


def findings_rows(analysis: PassiveTransferAnalysis, specs) -> list[dict]:
    """Per test over days: first and last significant day, largest difference, interaction p,
    and the effect over the whole time course (per-mouse area under the baseline-corrected
    curve versus control: Hedges' g with its approximate 95% CI)."""
    auc = analysis.auc.set_index(["test", "group"]) if len(analysis.auc) else None
    rows = []
    for row in analysis.time_course.itertuples():
        effect = "-"
        if auc is not None and (row.test, row.group) in auc.index:
            a = auc.loc[(row.test, row.group)]
            effect = f"{a['hedges_g']:.2f} ({a['g_ci_low']:.2f} to {a['g_ci_high']:.2f})"
        rows.append(
            {
                "test": specs[row.test].label,
                "first": fmt(row.first_significant_day),
                "last": fmt(row.last_significant_day),
                "largest": f"{fmt(row.largest_difference)} {specs[row.test].unit}",
                "p": p_text(row.p_interaction),
                "effect": effect,
            }
        )
    return rows
