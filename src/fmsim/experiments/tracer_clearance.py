"""Calibrate the mouse FcRn capacity to the tracer clearances of Hansen & Balthasar 2002 (HB2002).

HB2002 measured the clearance of a murine IgG1 (7E3, 8 mg/kg i.v.): 71.5 mL/day/kg in FcRn-/-
mice (no recycling, so this is the pinocytic uptake clearance), 5.2 mL/day/kg in wild-type mice,
and 14.4 mL/day/kg in wild-type mice given IVIG 1 g/kg (FcRn saturated by human IgG).

With the tracer's clearance ``CLup * (1 - f_host)``, the wild-type value fixes the free FcRn at the
host IgG steady state; the IVIG value fixes how strongly endosomal IgG loads the receptor
(``endosomal_ratio``). Total FcRn then follows from the steady state. Assumption: the IVIG
clearance is the mean over the 7 days after an i.v. bolus of 1 g/kg human IgG (HB2002's sampling
window was not readable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from fmsim.engine import run
from fmsim.model.equations import MODEL, build_subjects, initial_state, recycled_fractions
from fmsim.model.parameters import ParameterSet

WILD_TYPE_CLEARANCE = 5.2  # mL/day/kg, HB2002
IVIG_CLEARANCE = 14.4  # mL/day/kg, HB2002, IVIG 1 g/kg
IVIG_DOSE = 1000.0  # mg/kg
IVIG_WINDOW = 7.0  # days (assumed)


@dataclass(frozen=True)
class FcRnCalibration:
    fcrn_total: float  # uM
    endosomal_ratio: float  # uM per mg/mL


def host_tracer_clearance(params: ParameterSet, human_dose_mg_per_kg: float = 0.0) -> float:
    """Mean clearance (mL/day/kg) of a tracer of host IgG over ``IVIG_WINDOW`` days after an
    i.v. bolus of human IgG (mg/kg) into a typical mouse; without a dose, the steady-state value."""
    values = {k: np.array([v]) for k, v in params.typical().items()}
    subjects = build_subjects(values, pathogenic_fraction=np.zeros(1))
    times = np.linspace(0.0, IVIG_WINDOW, 141)
    start = initial_state(subjects)  # i.v. bolus of human IgG at t = 0
    start[MODEL.index("human_plasma")] += human_dose_mg_per_kg * values["body_weight"] / 1000.0
    result = run(MODEL, subjects, start, times)
    volume = subjects.plasma_volume
    host = result.state("host_plasma")[:, 0] / volume
    human = result.state("human_plasma")[:, 0] / volume
    recycled_host = recycled_fractions(host, human, subjects)[0]  # broadcasts over time
    per_kg = params["pinocytic_clearance_per_kg"].value
    return float(np.trapezoid(per_kg * (1.0 - recycled_host), times) / IVIG_WINDOW)


def calibrate_fcrn(params: ParameterSet) -> FcRnCalibration:
    """FcRn total and endosomal loading reproducing both HB2002 clearances."""
    uptake = params["pinocytic_clearance_per_kg"].value
    kd_host = params["fcrn_kd_host"].value
    host = params["host_igg_plasma"].value
    recycled = 1.0 - WILD_TYPE_CLEARANCE / uptake
    free = kd_host * recycled / (1.0 - recycled)

    def candidate(ratio: float) -> ParameterSet:
        total = free + ratio * host * recycled
        return params.with_values(fcrn_total=total, endosomal_ratio=ratio)

    def mismatch(log_ratio: float) -> float:
        return host_tracer_clearance(candidate(np.exp(log_ratio)), IVIG_DOSE) - IVIG_CLEARANCE

    ratio = float(np.exp(brentq(mismatch, np.log(1e-3), np.log(1e3), xtol=1e-6)))
    calibrated = candidate(ratio)
    return FcRnCalibration(calibrated["fcrn_total"].value, ratio)


if __name__ == "__main__":  # pragma: no cover - prints the values for the parameter file
    from fmsim.model.parameters import load_parameter_set

    result = calibrate_fcrn(load_parameter_set())
    print(f"fcrn_total: {result.fcrn_total:.8g} uM; endosomal_ratio: {result.endosomal_ratio:.8g}")
