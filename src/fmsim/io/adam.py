"""Virtual-trial data sets in a CDISC ADaM-like layout.

Two data sets, documented column by column in :data:`ADSL_COLUMNS` and :data:`ADEFF_COLUMNS`
(and in docs/adam.md), for statisticians who analyse trials in that layout:

* **ADSL**, subject level: one row per randomised virtual patient.
* **ADEFF**, a basic data structure (BDS): one row per patient, parameter and visit, for every
  outcome of the visits table (weekly mean diary pain, BPI-SF interference, FIQR, ACR 2016
  WPI and SSS), with the baseline (week 0) flagged and repeated on every row with the change
  from it.

"ADaM-like": the variable names, roles and derivations follow ADaM (ADSL, BDS), but these
are simulated patients: there is no SDTM source, no define.xml, and dates are study days.
A crossover trial's TRT01P is the treatment sequence and TRTP the arm of the period the visit
falls in (WASHOUT between periods).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: ADSL variables: name -> label.
ADSL_COLUMNS = {
    "STUDYID": "Study identifier (the trial configuration's name)",
    "USUBJID": "Unique subject identifier (STUDYID-replicate-patient)",
    "SUBJID": "Subject identifier within the study (the patient number)",
    "REPLICATE": "Replicate trial (0 for a single trial)",
    "TRT01P": "Planned treatment (arm; for a crossover, the treatment sequence)",
    "ARMCD": "Planned arm code (TRT01P)",
    "ITTFL": "Intent-to-treat population flag (Y: every randomised patient)",
    "WEIGHTBL": "Body weight at baseline (kg)",
    "IGGBL": "Total IgG at baseline (mg/mL)",
    "ASGCBL": "Anti-SGC IgG at baseline (mg/mL)",
    "ASGCPOS": "Anti-SGC IgG positive (Y/N)",
    "SENSBL": "Nociceptor sensitisation at baseline (1 = none)",
    "DCSDY": "Study day of discontinuation (dropout; empty if completed)",
    "EOSSTT": "End of study status (COMPLETED / DISCONTINUED)",
}
#: ADEFF (BDS) variables: name -> label.
ADEFF_COLUMNS = {
    "STUDYID": ADSL_COLUMNS["STUDYID"],
    "USUBJID": ADSL_COLUMNS["USUBJID"],
    "TRT01P": ADSL_COLUMNS["TRT01P"],
    "TRTP": "Planned treatment of the record (the period's treatment for a crossover)",
    "PARAMCD": "Parameter code",
    "PARAM": "Parameter (with unit)",
    "AVISIT": "Analysis visit (Baseline, Week 1, ...)",
    "AVISITN": "Analysis visit number (week; 0 = baseline)",
    "ADY": "Analysis study day of the visit (7 x week)",
    "AVAL": "Analysis value",
    "BASE": "Baseline value (week 0)",
    "CHG": "Change from baseline (AVAL - BASE)",
    "ABLFL": "Baseline record flag (Y)",
}
#: Outcome column of the visits table -> (PARAMCD, PARAM).
PARAMETERS = {
    "pain_nrs": ("PAINNRS", "Weekly mean diary pain intensity (NRS 0-10)"),
    "bpi_interference": ("BPIINTF", "BPI-SF pain interference (0-10)"),
    "fiqr": ("FIQR", "FIQR total score (0-100)"),
    "wpi": ("WPI", "ACR 2016 widespread pain index (0-19)"),
    "sss": ("SSS", "ACR 2016 symptom severity scale (0-12)"),
}


def adsl(simulation) -> pd.DataFrame:
    """The subject-level data set of a :class:`~fmsim.experiments.trial.TrialSimulation`."""
    patients = simulation.patients
    study = simulation.config.name
    dropout = patients["dropout_day"].to_numpy(dtype=float)
    completed = ~np.isfinite(dropout)
    frame = pd.DataFrame(
        {
            "STUDYID": study,
            "USUBJID": _usubjid(study, patients["replicate"], patients["patient"]),
            "SUBJID": patients["patient"].astype(int),
            "REPLICATE": patients["replicate"].astype(int),
            "TRT01P": patients["group"].astype(str),
            "ARMCD": patients["group"].astype(str),
            "ITTFL": "Y",
            "WEIGHTBL": patients["body_weight"].astype(float),
            "IGGBL": patients["igg_baseline"].astype(float),
            "ASGCBL": patients["anti_sgc_baseline"].astype(float),
            "ASGCPOS": np.where(patients["anti_sgc_positive"].astype(bool), "Y", "N"),
            "SENSBL": patients["baseline_sensitisation"].astype(float),
            "DCSDY": pd.array(np.where(completed, np.nan, dropout), dtype="Float64"),
            "EOSSTT": np.where(completed, "COMPLETED", "DISCONTINUED"),
        }
    )
    return frame[list(ADSL_COLUMNS)]


def adeff(simulation) -> pd.DataFrame:
    """The BDS of every visit outcome of a :class:`~fmsim.experiments.trial.TrialSimulation`."""
    visits = simulation.visits
    patients = simulation.patients.set_index("patient")
    study = simulation.config.name
    blocks = []
    for outcome, (code, label) in PARAMETERS.items():
        if outcome not in visits:
            continue
        rows = visits[["patient", "replicate", "group", "week", outcome]].dropna(subset=[outcome])
        rows = rows.rename(columns={outcome: "AVAL"})
        base = rows[rows["week"] == 0].set_index("patient")["AVAL"]
        group = rows["group"].astype(str)
        weeks = rows["week"].astype(int)
        blocks.append(
            pd.DataFrame(
                {
                    "STUDYID": study,
                    "USUBJID": _usubjid(study, rows["replicate"], rows["patient"]),
                    "TRT01P": patients.loc[rows["patient"], "group"].astype(str).to_numpy(),
                    "TRTP": [
                        _treatment(simulation.config, g, w)
                        for g, w in zip(group, weeks, strict=True)
                    ],
                    "PARAMCD": code,
                    "PARAM": label,
                    "AVISIT": np.where(weeks == 0, "Baseline", "Week " + weeks.astype(str)),
                    "AVISITN": weeks.to_numpy(),
                    "ADY": 7 * weeks.to_numpy(),
                    "AVAL": rows["AVAL"].astype(float).to_numpy(),
                    "BASE": rows["patient"].map(base).astype(float).to_numpy(),
                }
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    frame["CHG"] = frame["AVAL"] - frame["BASE"]
    frame["ABLFL"] = np.where(frame["AVISITN"] == 0, "Y", "")
    return frame[list(ADEFF_COLUMNS)]


def _usubjid(study: str, replicate: pd.Series, patient: pd.Series) -> np.ndarray:
    return (
        study + "-" + replicate.astype(int).astype(str) + "-" + patient.astype(int).astype(str)
    ).to_numpy()


def _treatment(config, group: str, week: int) -> str:
    """Treatment in ``week`` of ``group``: the arm (parallel), the period's arm or WASHOUT
    (crossover; the baseline week 0 belongs to the first period)."""
    if config.design == "parallel":
        return group
    design = config.crossover
    sequence = next(s for s in design.sequences if s.name == group)
    cycle = design.period_weeks + design.washout_weeks
    period, within = divmod(max(week - 1, 0), cycle)
    if within >= design.period_weeks or period >= len(sequence.periods):
        return "WASHOUT"
    return sequence.periods[period]
