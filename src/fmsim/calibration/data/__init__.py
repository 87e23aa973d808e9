"""Package data: reference data sets of the calibration (read by
:mod:`fmsim.calibration.reference`)."""

__all__: list[str] = []
