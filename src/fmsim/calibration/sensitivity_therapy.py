"""Sensitivity analysis ``therapy``: IgG reduction by a therapy in patients.

Inputs: every human parameter with a between-patient CV and every constant of the therapy's
FcRn inhibitor with a CV in its library file (lognormal). For an anti-SGC-positive patient
under a standard protocol (default ``efgartigimod_iv``: 10 mg/kg i.v. weekly x4, as in ADAPT),
over :data:`THERAPY_DAYS` days:

* ``igg_nadir_reduction_percent``: largest fall of total plasma IgG (% of baseline);
* ``anti_sgc_mean_reduction_percent``: mean fall of anti-SGC IgG over the course (%).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from fmsim.calibration.sensitivity import Analysis, lognormal_input, uncertain_parameters
from fmsim.config.therapy import TherapyProtocol
from fmsim.experiments import therapy
from fmsim.experiments.reference import standard_protocols
from fmsim.model.human import load_human_parameters, typical_values
from fmsim.model.parameters import ParameterSet

THERAPY = "efgartigimod_iv"
THERAPY_DAYS = 56.0
THERAPY_STEP = 0.5
THERAPY_OUTPUTS = {
    "igg_nadir_reduction_percent": ("%", "largest fall of total plasma IgG from baseline"),
    "anti_sgc_mean_reduction_percent": (
        "%",
        "mean fall of plasma anti-SGC IgG from baseline over the course",
    ),
}


def therapy_analysis(protocol: str = THERAPY, days: float = THERAPY_DAYS) -> Analysis:
    """IgG reduction by a standard protocol (:func:`standard_protocols` key) over the human
    parameters' and the FcRn inhibitor's stated between-patient CVs."""
    protocols = standard_protocols()
    if protocol not in protocols:
        raise ValueError(f"therapy {protocol!r}: expected one of {sorted(protocols)}")
    chosen = protocols[protocol]
    human = load_human_parameters()
    entry = chosen.fcrn_inhibitor()
    names = uncertain_parameters(human)
    inputs = [lognormal_input(human[n].value, human[n].cv) for n in names]
    sources = {n: human[n].source for n in names}
    drug = {}  # input name -> (random-effect key, typical value, log-SD)
    if entry is not None:
        for constant in entry.constants():
            cv, typical = entry.cv(constant), entry.value(constant)
            if cv > 0 and typical > 0:
                name = f"{entry.name}.{constant}"
                bounds, dist = lognormal_input(typical, cv)
                names.append(name)
                inputs.append((bounds, dist))
                drug[name] = (f"{entry.kind}.{constant}", typical, bounds[1])
                sources[name] = f"drug library entry {entry.name} (between-patient CV)"
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [b for b, _ in inputs],
        "dists": [d for _, d in inputs],
    }

    return Analysis(
        "therapy",
        f"anti-SGC-positive patient, {chosen.name}, {days:g} days",
        problem,
        THERAPY_OUTPUTS,
        partial(therapy_outputs, protocol=chosen, human=human, days=days, drug=drug),
        sources,
        chunk_sets=4096,
    )


def therapy_outputs(
    samples: pd.DataFrame,
    protocol: TherapyProtocol,
    human: ParameterSet,
    days: float,
    drug: dict[str, tuple[str, float, float]],
) -> pd.DataFrame:
    """The therapy outputs (see module doc) of a typical patient with each row's values of
    human parameters and, for the inputs in ``drug`` (input -> random-effect key, typical
    value, log-SD), of the FcRn inhibitor's constants."""
    n = len(samples)
    values = typical_values(human, n)
    for name in samples.columns:
        if name not in drug:
            values[name] = samples[name].to_numpy(float)
    effects = {
        key: np.log(samples[name].to_numpy(float) / typical) / sigma
        for name, (key, typical, sigma) in drug.items()
    }
    population = therapy.Population(values, values["anti_sgc_fraction"], human, effects)
    course = therapy.simulate_course(population, protocol, days, step=THERAPY_STEP)
    summary = therapy.course_summary(course)
    anti_sgc = -course.percent_change("anti_sgc")
    return pd.DataFrame(
        {
            "igg_nadir_reduction_percent": summary["igg_nadir_reduction_pct"].to_numpy(),
            "anti_sgc_mean_reduction_percent": np.trapezoid(anti_sgc, course.days, axis=0) / days,
        }
    )
