"""What every report shares: number formatting, figures as PNG, the template environment, the
list of a run's files and the statistics tables of a passive-transfer analysis."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from jinja2 import Environment, PackageLoader  # noqa: E402

from fmsim.experiments.analysis import PassiveTransferAnalysis  # noqa: E402


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


def render_template(name: str, folder: Path, output: str, **context) -> str:
    """Render template ``name`` into ``folder/output`` (text from user data is escaped);
    return ``output``."""
    environment = Environment(loader=PackageLoader("fmsim.report", "templates"), autoescape=True)
    (folder / output).write_text(environment.get_template(name).render(**context))
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
                "omnibus": readout.omnibus.to_html(float_format=lambda v: f"{v:.4g}"),
                "posthoc": readout.posthoc.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
                "n_significant": int(readout.posthoc["significant"].sum()),
                "n_rows": len(readout.posthoc),
            }
        )
    return rows, method


def findings_rows(analysis: PassiveTransferAnalysis, specs) -> list[dict]:
    """Per test over days: first and last significant day, largest difference, interaction p."""
    return [
        {
            "test": specs[row.test].label,
            "first": fmt(row.first_significant_day),
            "last": fmt(row.last_significant_day),
            "largest": f"{fmt(row.largest_difference)} {specs[row.test].unit}",
            "p": p_text(row.p_interaction),
        }
        for row in analysis.time_course.itertuples()
    ]
