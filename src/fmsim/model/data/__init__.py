"""Package data: the parameter files (``mouse.yaml``, ``human.yaml``, ``clinical.yaml``) and the
drug and device library (``drugs/*.yaml``), read by :mod:`fmsim.model.parameters` and
:mod:`fmsim.model.drugs`."""

__all__: list[str] = []
