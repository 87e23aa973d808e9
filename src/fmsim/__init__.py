"""fmsim: quantitative systems pharmacology of autoantibody-mediated fibromyalgia.

Packages, lowest layer first: :mod:`fmsim.model` (equations, parameters), :mod:`fmsim.config`
(validated user input), :mod:`fmsim.engine` (batched integration), :mod:`fmsim.assays` and
:mod:`fmsim.stats`, :mod:`fmsim.io` (results store, lab data, SBML), :mod:`fmsim.experiments`
(studies returning result objects), :mod:`fmsim.report` (renders results), :mod:`fmsim.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fmsim")  # one source: the installed package's metadata
except PackageNotFoundError:  # pragma: no cover - running from a source tree not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
