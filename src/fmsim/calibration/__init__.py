"""Calibration in pyPESTO's stage order: problem (data, observables, noise, parameters) ->
objective on the engine -> optimise, profile, sample -> sensitivity; reference data with
provenance (:mod:`fmsim.calibration.reference`)."""
