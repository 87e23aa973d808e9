"""Reports: figures and HTML drawn from a study's result object; no computation of their own.

:func:`render` draws any :class:`fmsim.experiments.result.StudyResult` (the renderer is chosen by
the result's type)::

    from fmsim.config import default_config
    from fmsim.experiments.studies import passive_transfer_study
    from fmsim.report import render

    study = passive_transfer_study(default_config())
    report = render(study, "results/passive_transfer")   # tables, figures, report.html
"""

from __future__ import annotations

from pathlib import Path

from fmsim.calibration.fit import FitResult
from fmsim.calibration.sensitivity import SensitivityResult
from fmsim.experiments.result import StudyResult
from fmsim.experiments.studies import (
    LabDataStudy,
    PassiveTransferStudy,
    PowerStudy,
    TherapyStudy,
    TrialStudy,
)
from fmsim.io.store import RunFolder
from fmsim.report.analysis_html import render_lab_data
from fmsim.report.fit_html import render_fit
from fmsim.report.html import render_passive_transfer
from fmsim.report.power import render_power
from fmsim.report.sensitivity_html import render_sensitivity
from fmsim.report.therapy_html import render_therapies
from fmsim.report.trial_html import render_trial

#: The renderer of each kind of result: (result, folder) -> name of the main file written.
RENDERERS = {
    PassiveTransferStudy: render_passive_transfer,
    LabDataStudy: render_lab_data,
    PowerStudy: render_power,
    TherapyStudy: render_therapies,
    TrialStudy: render_trial,
    FitResult: render_fit,
    SensitivityResult: render_sensitivity,
}


def render(result: StudyResult, out: Path | str | RunFolder, *, overwrite: bool = False) -> Path:
    """Draw ``result``'s figures and report; return the path of the report (or main figure).

    ``out`` is an open :class:`RunFolder` (the report joins the files already written there),
    or a folder: then the result is saved there too (:meth:`StudyResult.save`) and the folder
    is written atomically, with ``manifest.json``."""
    renderer = next((r for kind, r in RENDERERS.items() if isinstance(result, kind)), None)
    if renderer is None:
        raise TypeError(f"no report for a {type(result).__name__}")
    if isinstance(out, RunFolder):
        return out.target / renderer(result, out.path)
    with result.run_folder(out, inputs=result.provenance.inputs, overwrite=overwrite) as run:
        result.save(run)
        name = renderer(result, run.path)
    return run.target / name


__all__ = ["RENDERERS", "render"]
