"""fmsim: quantitative systems pharmacology of autoantibody-mediated fibromyalgia.

The names below are the Python API; each is imported on first use, so ``import fmsim`` stays
light (no numpy, pandas or numba until a name is touched)::

    import fmsim

    study = fmsim.passive_transfer_study(fmsim.default_config())   # Goebel 2021 in silico
    study.to_frame()                       # the main table (measurements), units in .attrs
    study.plot()                           # its main figure (matplotlib), drawn by fmsim.report
    fmsim.render(study, "results/pt")      # tables, figures, report.html, manifest.json

    therapies = fmsim.therapy_study(patients=50)                   # standard protocols compared
    trial = fmsim.trial_study(fmsim.load_trial_config("examples/trials/efgartigimod_parallel.yaml"),
                              power=False)
    lab = fmsim.lab_data_study(fmsim.load_lab_data("my_data.csv"), control="HC-IgG")

=====================  ==============================================================
studies                :func:`passive_transfer_study`, :func:`therapy_study`,
                       :func:`trial_study`, :func:`power_study`,
                       :func:`load_lab_data` + :func:`lab_data_study`
inputs                 :func:`default_config`, :func:`load_config` (scenarios),
                       :func:`load_protocol` (therapies), :func:`load_trial_config`
outputs                :func:`render` (reports), :func:`export_sbml` / :func:`import_sbml`
engine                 :func:`run`, :class:`SolverOptions`, :class:`SimulationResult`
=====================  ==============================================================

Packages, lowest layer first: :mod:`fmsim.model` (equations, parameters, drug library),
:mod:`fmsim.config` (validated user input), :mod:`fmsim.engine` (batched integration),
:mod:`fmsim.assays` and :mod:`fmsim.stats`, :mod:`fmsim.io` (results store, lab data, SBML,
PEtab), :mod:`fmsim.experiments` (studies returning result objects), :mod:`fmsim.calibration`
(fitting, sensitivity), :mod:`fmsim.report` (renders results), :mod:`fmsim.cli` (the ``fmsim``
command).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fmsim")  # one source: the installed package's metadata
except PackageNotFoundError:  # pragma: no cover - running from a source tree not installed
    __version__ = "0+unknown"

#: Public name -> the module that defines it (imported when the name is first used).
API = {
    "passive_transfer_study": "fmsim.experiments.studies",
    "therapy_study": "fmsim.experiments.studies",
    "trial_study": "fmsim.experiments.studies",
    "power_study": "fmsim.experiments.studies",
    "load_lab_data": "fmsim.experiments.studies",
    "lab_data_study": "fmsim.experiments.studies",
    "default_config": "fmsim.config",
    "load_config": "fmsim.config",
    "load_protocol": "fmsim.config.therapy",
    "load_trial_config": "fmsim.config.trial",
    "render": "fmsim.report",
    "export_sbml": "fmsim.io.sbml",
    "import_sbml": "fmsim.io.sbml_import",
    "run": "fmsim.engine",
    "SolverOptions": "fmsim.engine",
    "SimulationResult": "fmsim.engine",
}

__all__ = ["__version__", *API]


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A ``__getattr__`` for ``package`` (PEP 562) that imports each name of ``homes`` (name ->
    the module defining it) on first use and keeps it there, so that importing the package
    imports none of them."""

    def __getattr__(name: str) -> object:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


__getattr__ = lazy_names(__name__, API)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
