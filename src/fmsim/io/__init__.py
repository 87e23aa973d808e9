"""Files in and out: the results store, lab data, and the field's exchange formats.

* :mod:`fmsim.io.store` -- tables as Parquet and spreadsheet-safe CSV, run folders written
  atomically with ``manifest.json``, a lock, and verified chunks for resumable jobs.
* :mod:`fmsim.io.lab_data` -- a lab's behavioural data (CSV or Excel, tidy or Prism-style wide)
  read and validated row by row.
* :mod:`fmsim.io.sbml` (export, with :mod:`~fmsim.io.sbml_units`, :mod:`~fmsim.io.sbml_fcrn`,
  :mod:`~fmsim.io.sbml_math`) and :mod:`fmsim.io.sbml_import` -- SBML Level 3 Version 2.
* :mod:`fmsim.io.petab` -- PEtab problem files and their linter.
* :mod:`fmsim.io.event_table` -- NONMEM / mrgsolve dosing event tables.
* :mod:`fmsim.io.adam` -- virtual-trial data sets in a CDISC ADaM-like layout.
* :mod:`fmsim.io.errors` -- the user's mistakes this layer reports (no pandas to catch them).
"""

__all__ = [
    "adam",
    "errors",
    "event_table",
    "lab_data",
    "petab",
    "sbml",
    "sbml_fcrn",
    "sbml_import",
    "sbml_math",
    "sbml_units",
    "store",
]
