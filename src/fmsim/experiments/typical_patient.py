"""Therapy courses of a typical patient and the pain of a population, for ``fmsim therapies``
(its report and tables) and the web app's therapies page.

* :func:`typical_courses`: every protocol in one typical patient: every human-model parameter at
  its population median (``human.yaml``), anti-SGC positive at the median anti-SGC fraction; pain
  from the clinical medians of ``baseline_pain`` and ``antibody_pain_gain`` (``clinical.yaml``).
* :func:`course_pain`: pain over time in the patients of a simulated course, each with their own
  baseline pain and gain (:func:`pain_traits`, drawn from ``clinical.yaml``);
  :func:`fmsim.experiments.studies.therapy_study` keeps it for its patients, as
  :func:`population_pain` computes it on its own.

Pain here is ``B + g (S - 1)`` (:func:`fmsim.assays.clinical.antibody_pain`) within the scale's
0-10: what the antibodies add to the pain not driven by them, without the expectation (placebo)
response of a blinded trial and without day-to-day fluctuation (both are in the trial layer).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fmsim.assays.clinical import (
    NRS_MAX,
    PatientTraits,
    antibody_pain,
    load_clinical_parameters,
    sample_patients,
)
from fmsim.config.therapy import TherapyProtocol
from fmsim.experiments.therapy import (
    CourseResult,
    sample_population,
    simulate_course,
    typical_population,
)
from fmsim.experiments.validation import QUANTILES, output_times
from fmsim.model.human import load_human_parameters

#: Pain over time: quantity -> label (joins ``validation.COURSE_QUANTITIES`` in the figures).
PAIN = {"pain_nrs": "pain (0-10 NRS; without placebo response or daily fluctuation)"}
#: Columns of the tables: per therapy, day and quantity, percentiles over patients.
COLUMNS = ("therapy", "day", "quantity", *(f"q{round(100 * p):02d}" for p in QUANTILES))
#: Seed offset of the clinical traits (baseline pain, gain), drawn apart from the model's.
TRAIT_STREAM = 1


def typical_courses(protocols: Mapping[str, TherapyProtocol], days: float) -> pd.DataFrame:
    """Per therapy, day and quantity (total_igg_pct, anti_sgc_pct: % of day 0; sensitisation
    S; pain_nrs) the typical patient's value, in the layout of the therapy study's courses
    (every quantile column q05 ... q95 holds the one patient's value)."""
    patient = typical_population()
    clinical = load_clinical_parameters().parameters
    frames = []
    for label, protocol in protocols.items():
        course = simulate_course(patient, protocol, days, times=output_times(protocol, days))
        values = {
            "total_igg_pct": 100.0 * course.total_igg[:, 0] / course.total_igg[0, 0],
            "anti_sgc_pct": 100.0 * course.anti_sgc[:, 0] / course.anti_sgc[0, 0],
            "sensitisation": course.sensitisation[:, 0],
            "pain_nrs": _on_scale(
                antibody_pain(
                    course.sensitisation[:, 0],
                    clinical["baseline_pain"].value,
                    clinical["antibody_pain_gain"].value,
                )
            ),
        }
        for quantity, series in values.items():
            frames.append(_quantile_frame(label, course.days, quantity, series[:, None]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def population_pain(
    protocols: Mapping[str, TherapyProtocol],
    *,
    patients: int,
    days: float,
    positive_only: bool,
    seed: int,
) -> pd.DataFrame:
    """Per therapy and day, the 5th ... 95th percentiles of pain (quantity pain_nrs) over the
    therapy study's patients (``patients``, ``positive_only`` and ``seed`` as given to
    :func:`~fmsim.experiments.studies.therapy_study`, which keeps the same table as its
    ``pain``); their baseline pain and gain come from :func:`pain_traits`."""
    parameters = load_human_parameters()
    share = 1.0 if positive_only else parameters["anti_sgc_positive_fraction"].value
    population = sample_population(patients, np.random.default_rng(seed), share, parameters)
    traits = pain_traits(patients, seed)
    frames = [
        course_pain(
            label,
            simulate_course(population, protocol, days, times=output_times(protocol, days)),
            traits,
        )
        for label, protocol in protocols.items()
    ]
    return pd.concat(frames, ignore_index=True)


def pain_traits(patients: int, seed: int) -> PatientTraits:
    """The clinical traits (baseline pain, antibody pain gain ...) of a therapy study's
    ``patients`` patients sampled with ``seed``: ``clinical.yaml``'s distributions drawn from a
    second random stream of ``seed`` (:data:`TRAIT_STREAM`), apart from the model's."""
    return sample_patients(
        patients, np.random.default_rng([seed, TRAIT_STREAM]), load_clinical_parameters()
    )


def course_pain(therapy: str, course: CourseResult, traits: PatientTraits) -> pd.DataFrame:
    """Per day of ``course`` (one therapy in the patients of ``traits``), the 5th ... 95th
    percentiles over patients of pain (quantity pain_nrs, 0-10)."""
    pain = _on_scale(
        antibody_pain(course.sensitisation, traits.baseline_pain, traits.antibody_pain_gain)
    )  # (n_times, n_patients)
    return _quantile_frame(therapy, course.days, "pain_nrs", pain)


def _on_scale(pain: np.ndarray) -> np.ndarray:
    """Pain within the NRS's 0-10 (a patient cannot report more than 10)."""
    return np.clip(pain, 0.0, NRS_MAX)


def _quantile_frame(therapy: str, days, quantity: str, values: np.ndarray) -> pd.DataFrame:
    """Quantiles over patients (``values``: (n_times, n_patients)) per day."""
    q = np.quantile(values, QUANTILES, axis=1)
    return pd.DataFrame(
        {
            "therapy": therapy,
            "day": days,
            "quantity": quantity,
            **{f"q{round(100 * p):02d}": q[k] for k, p in enumerate(QUANTILES)},
        }
    )
