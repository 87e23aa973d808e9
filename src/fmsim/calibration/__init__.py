"""Calibration in pyPESTO's stage order: problem (data, observables, noise, parameters) ->
objective on the engine -> optimise, profile, sample -> sensitivity; reference data with
provenance (:mod:`fmsim.calibration.reference`).

* problem: :mod:`~fmsim.calibration.problem`, :mod:`~fmsim.calibration.observables`,
  :mod:`~fmsim.calibration.measurements` (from lab data), :mod:`~fmsim.calibration.petab_export`;
* objective: :mod:`~fmsim.calibration.objective`;
* optimise and profile: :mod:`~fmsim.calibration.optimize`, :mod:`~fmsim.calibration.profile`,
  :mod:`~fmsim.calibration.fit` (the fit study);
* sensitivity: :mod:`~fmsim.calibration.sensitivity`;
* calibrations of the shipped parameters: :mod:`~fmsim.calibration.donor_detection`,
  :mod:`~fmsim.calibration.pain_gain`.
"""

__all__ = [
    "donor_detection",
    "fit",
    "measurements",
    "objective",
    "observables",
    "optimize",
    "pain_gain",
    "petab_export",
    "problem",
    "profile",
    "reference",
    "sensitivity",
]
