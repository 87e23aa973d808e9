"""In-silico experiments built on the model and the engine; each command's study is a function
in :mod:`fmsim.experiments.studies` returning a :class:`~fmsim.experiments.result.StudyResult`.

* :mod:`fmsim.experiments.passive_transfer` -- the Goebel 2021 passive-transfer experiment:
  virtual cohort, dosing, simulated assays; :mod:`~fmsim.experiments.analysis` analyses it as a
  lab would; :mod:`~fmsim.experiments.time_course_fit` scans which unmeasured parameters
  reproduce the reported onset and recovery; :mod:`~fmsim.experiments.power` plans a study.
* :mod:`fmsim.experiments.therapy` -- IgG-lowering therapy courses in virtual patients;
  :mod:`~fmsim.experiments.validation` compares them with published pharmacodynamics
  (targets from :mod:`~fmsim.experiments.reference`); :mod:`~fmsim.experiments.therapy_calibration`
  and :mod:`~fmsim.experiments.tracer_clearance` re-derive the calibrated constants.
* :mod:`fmsim.experiments.trial` -- virtual clinical trials: screening, randomisation, visits,
  analysis and power from replicate trials.
* :mod:`fmsim.experiments.result` -- the result objects (tables with units, provenance, save,
  ``to_frame()``, ``plot()``); :mod:`~fmsim.experiments.errors` the user's mistake a study
  reports (:class:`~fmsim.experiments.errors.StudyError`, light to catch).
"""

__all__ = [
    "analysis",
    "errors",
    "passive_transfer",
    "power",
    "reference",
    "result",
    "studies",
    "therapy",
    "therapy_calibration",
    "time_course_fit",
    "tracer_clearance",
    "trial",
    "validation",
]
