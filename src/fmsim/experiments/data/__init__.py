"""Package data: validation targets and standard therapy protocols (read by
:mod:`fmsim.experiments.reference` through the configuration schemas)."""

__all__: list[str] = []
