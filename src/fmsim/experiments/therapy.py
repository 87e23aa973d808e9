"""IgG-lowering therapy courses in virtual fibromyalgia patients (the human model).

A protocol (:class:`fmsim.config.therapy.TherapyProtocol`, whose blocks name drug-library
entries) becomes engine events per patient:

* drugs given i.v. (FcRn inhibitors, anti-CD20 antibodies, IVIG) are zero-order infusions of
  ``amount / length`` into the drug's plasma state; s.c. doses are boluses into the s.c. depot.
  Amounts are per patient: mg, mg/kg x body weight, or mg/m2 x body surface area, capped at
  ``max_dose``;
* a plasma-exchange (TPE) session removes the fraction f = 1 - exp(-V) of every plasma state, V
  the plasma volumes exchanged (``plasma_volumes``, or ``volume`` / the patient's plasma
  volume): one-compartment washout with continuous replacement (removal from plasma is first
  order, Balogun et al., J Clin Apher 2010, doi:10.1002/jca.20249; clearance = exchanged
  volume, Hanafusa 2014, Springer chapter "Determination of dosage and frequency of therapy").
  A replacement fluid containing IgG (plasma) returns C_fluid x Vp x f of donor IgG, which
  joins the IVIG state (pooled normal IgG);
* an immunoadsorption (IA) session removes 1 - exp(-E V), V the plasma volumes processed and E
  the fraction of passing IgG the column retains (its library entry; clearance = E x processed
  volume, Hanafusa 2014). The session is instantaneous; the rebound from the interstitium
  follows in the model.

:func:`simulate_course` integrates a population with :func:`fmsim.engine.run` and returns arrays
per day and patient; :func:`course_summary` gives the pharmacodynamic metrics used in
``docs/validation.md`` (nadir, time to nadir, return towards baseline). The calibrated constants
are re-derived by :mod:`fmsim.experiments.therapy_calibration`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fmsim.config.quantities import parse_dose
from fmsim.config.therapy import TherapyBlock, TherapyProtocol, parse_protocol
from fmsim.engine import Bolus, Event, Infusion, Removal, SimulationResult, run
from fmsim.model.drugs import random_effect_names
from fmsim.model.human import (
    HUMAN_MODEL,
    PLASMA_STATES,
    Patients,
    body_surface_area,
    build_patients,
    free_fcrn,
    initial_state,
    load_human_parameters,
    typical_values,
)
from fmsim.model.parameters import ParameterSet

IGG_COMPARTMENTS = ("plasma", "interstitial")
# state receiving an i.v. infusion, by therapy type (s.c. doses go to inhibitor_depot)
_INFUSED_STATE = {
    "fcrn_inhibitor": "inhibitor_central",
    "anti_cd20": "anti_cd20_central",
    "ivig": "ivig_plasma",
}


@dataclass(frozen=True)
class Population:
    """Virtual patients before a protocol is chosen: sampled parameter values (arrays of shape
    (n,)), each patient's anti-SGC fraction of IgG and status, the parameter set used, and the
    patients' standard-normal deviates for drug constants (``random_effects``, keyed as in
    :func:`fmsim.model.drugs.random_effect_names`; empty = typical drug constants)."""

    values: dict[str, np.ndarray]
    anti_sgc_fraction: np.ndarray
    parameters: ParameterSet
    random_effects: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.anti_sgc_fraction.shape[0]

    @property
    def anti_sgc_positive(self) -> np.ndarray:
        return self.anti_sgc_fraction > 0

    def patients(self, protocol: TherapyProtocol | None = None) -> Patients:
        """Model constants, with the protocol's FcRn inhibitor and anti-CD20 antibody (library
        entries) in the drug slots (empty slots without a protocol)."""
        return build_patients(
            self.values,
            self.anti_sgc_fraction,
            protocol.fcrn_inhibitor() if protocol else None,
            protocol.anti_cd20() if protocol else None,
            self.random_effects,
        )

    def select(self, index) -> Population:
        """The patients at ``index`` (mask, slice or integer array)."""
        return Population(
            {k: v[index] for k, v in self.values.items()},
            self.anti_sgc_fraction[index],
            self.parameters,
            {k: v[index] for k, v in self.random_effects.items()},
        )

    def covariates(self) -> pd.DataFrame:
        """One row per patient: body weight (kg), baseline IgG (mg/mL), anti-SGC fraction and
        concentration (mg/mL), status."""
        igg = self.values["igg_baseline"]
        return pd.DataFrame(
            {
                "patient": np.arange(self.n),
                "body_weight": self.values["body_weight"],
                "igg_baseline": igg,
                "anti_sgc_fraction": self.anti_sgc_fraction,
                "anti_sgc_baseline": self.anti_sgc_fraction * igg,
                "anti_sgc_positive": self.anti_sgc_positive,
            }
        )


def concatenate_populations(parts: list[Population]) -> Population:
    """All patients of ``parts`` (sampled from the same parameter set), in order."""
    return Population(
        {k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values},
        np.concatenate([p.anti_sgc_fraction for p in parts]),
        parts[0].parameters,
        {k: np.concatenate([p.random_effects[k] for p in parts]) for k in parts[0].random_effects},
    )


def sample_population(
    n: int,
    rng: np.random.Generator,
    anti_sgc_positive_fraction: float | None = None,
    parameters: ParameterSet | None = None,
) -> Population:
    """Draw ``n`` virtual patients: lognormal parameters around human.yaml (its CVs); each is
    anti-SGC positive with probability ``anti_sgc_positive_fraction`` (default: the parameter
    file's, 0.37 after Seefried 2025) and then carries a lognormal anti-SGC fraction of IgG;
    each has a standard-normal deviate per drug constant (the entries' CVs scale them)."""
    parameters = parameters or load_human_parameters()
    if anti_sgc_positive_fraction is None:
        anti_sgc_positive_fraction = parameters["anti_sgc_positive_fraction"].value
    if not 0.0 <= anti_sgc_positive_fraction <= 1.0:
        raise ValueError(
            f"anti_sgc_positive_fraction must lie in [0, 1], got {anti_sgc_positive_fraction}"
        )
    values = parameters.sample(n, rng)
    positive = rng.random(n) < anti_sgc_positive_fraction
    effects = {name: rng.standard_normal(n) for name in random_effect_names()}
    fraction = np.where(positive, values["anti_sgc_fraction"], 0.0)
    return Population(values, fraction, parameters, effects)


def typical_population(
    anti_sgc_fraction: float | None = None,
    parameters: ParameterSet | None = None,
    **overrides: float,
) -> Population:
    """One typical patient (every parameter at its median), optionally with some values
    replaced; anti-SGC positive at the typical fraction unless ``anti_sgc_fraction`` is given."""
    parameters = parameters or load_human_parameters()
    values = typical_values(parameters)
    for name, value in overrides.items():
        if name not in values:
            raise KeyError(f"unknown parameter {name!r}")
        values[name] = np.full(1, float(value))
    if anti_sgc_fraction is None:
        anti_sgc_fraction = parameters["anti_sgc_fraction"].value
    return Population(values, np.full(1, float(anti_sgc_fraction)), parameters)


# ---------------------------------------------------------------- protocol -> events


def per_patient_amount(block: TherapyBlock, population: Population) -> np.ndarray:
    """Dose per administration (mg) for each patient, shape (n,)."""
    value, unit = block.dose_quantity()
    weight = population.values["body_weight"]
    if unit == "mg/kg":
        amount = value * weight
    elif unit == "mg/m2":
        amount = value * body_surface_area(weight, population.values["height"])
    else:
        amount = np.full(population.n, value)
    if block.max_dose is not None:
        amount = np.minimum(amount, parse_dose(block.max_dose)[0])
    return np.asarray(amount, dtype=float)


def session_plasma_volumes(block: TherapyBlock, population: Population) -> np.ndarray:
    """Plasma volumes exchanged or processed per session, for each patient, shape (n,)."""
    volume = block.volume_ml()
    if volume is None:
        return np.full(population.n, float(block.plasma_volumes))
    weight = population.values["body_weight"]
    return volume / (population.values["plasma_volume_per_kg"] * weight)


def session_fraction(block: TherapyBlock, population: Population) -> np.ndarray:
    """Fraction of each plasma state removed by one exchange or adsorption session, per
    patient: 1 - exp(-V) (exchange) or 1 - exp(-E V) (adsorption)."""
    volumes = session_plasma_volumes(block, population)
    if block.type == "plasma_exchange":
        return 1.0 - np.exp(-volumes)
    if block.column_efficiency is not None:
        efficiency = np.full(population.n, block.column_efficiency)
    else:
        column = block.entry.per_patient(population.n, population.random_effects)
        efficiency = column["igg_extraction"]
    return 1.0 - np.exp(-efficiency * volumes)


def _session_events(block: TherapyBlock, population: Population) -> list[Event]:
    fraction = session_fraction(block, population)
    events: list[Event] = [Removal(day, PLASMA_STATES, fraction) for day in block.schedule()]
    fluid = block.replacement_fluid
    if fluid is not None and fluid.value("igg_concentration") > 0:
        concentration = fluid.per_patient(population.n, population.random_effects)
        plasma = population.values["plasma_volume_per_kg"] * population.values["body_weight"]
        returned = concentration["igg_concentration"] * plasma * fraction  # mg of donor IgG
        ivig = HUMAN_MODEL.index("ivig_plasma")
        events += [Bolus(day, ivig, returned) for day in block.schedule()]
    return events


def protocol_events(protocol: TherapyProtocol, population: Population) -> list[Event]:
    """Engine events of ``protocol`` for every patient of ``population``."""
    events: list[Event] = []
    for block in protocol.therapies:
        days = block.schedule()
        if block.type in ("plasma_exchange", "immunoadsorption"):
            events += _session_events(block, population)
        elif block.type != "placebo":
            amount = per_patient_amount(block, population)
            if block.route_of() == "iv":
                state = HUMAN_MODEL.index(_INFUSED_STATE[block.type])
                length = block.hours() / 24.0
                events += [Infusion(day, day + length, state, amount / length) for day in days]
            else:
                events += [Bolus(day, HUMAN_MODEL.index("inhibitor_depot"), amount) for day in days]
    return events


# ---------------------------------------------------------------- simulation


@dataclass(frozen=True)
class CourseResult:
    """A simulated course: arrays of shape (n_times, n_patients) unless stated.

    Concentrations in plasma: ``total_igg`` (patient IgG + anti-SGC + IVIG or donor IgG, mg/mL;
    the drugs are not counted), ``anti_sgc`` and ``ivig`` (mg/mL), ``inhibitor`` and
    ``anti_cd20`` (ug/mL, total drug); ``fcrn_free`` free endosomal FcRn relative to baseline;
    ``b_cells`` B-cell-dependent plasma-cell source (1 = baseline); ``sensitisation`` S (1 =
    none)."""

    protocol: TherapyProtocol
    days: np.ndarray  # (n_times,)
    total_igg: np.ndarray
    anti_sgc: np.ndarray
    ivig: np.ndarray
    inhibitor: np.ndarray
    anti_cd20: np.ndarray
    fcrn_free: np.ndarray
    b_cells: np.ndarray
    sensitisation: np.ndarray
    anti_sgc_positive: np.ndarray  # (n_patients,)

    @property
    def n(self) -> int:
        return self.total_igg.shape[1]

    def percent_change(self, name: str = "total_igg") -> np.ndarray:
        """100 (x / x(day 0) - 1) of an output; NaN where the day-0 value is 0."""
        values = getattr(self, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 100.0 * (values / values[0] - 1.0)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per patient and output day."""
        n_times = self.days.size
        columns = ("total_igg", "anti_sgc", "ivig", "inhibitor", "anti_cd20", "sensitisation")
        frame = pd.DataFrame(
            {
                "patient": np.tile(np.arange(self.n), n_times),
                "day": np.repeat(self.days, self.n),
                **{c: getattr(self, c).ravel() for c in columns},
            }
        )
        frame["anti_sgc_positive"] = np.tile(self.anti_sgc_positive, n_times)
        return frame


def simulate_course(
    patients: Population,
    protocol: TherapyProtocol | dict,
    days: float,
    *,
    step: float = 1.0,
    times=None,
    events: list[Event] | None = None,
) -> CourseResult:
    """Simulate ``protocol`` (a TherapyProtocol or its YAML mapping) in every patient for
    ``days`` days from treatment start, outputs every ``step`` days (or at ``times``, days,
    starting at 0). Vectorised over patients; outputs at an event time are pre-event. Given
    ``events`` (e.g. per-patient records), they are what the patients receive instead of the
    protocol's, which then only gives the drug constants."""
    if isinstance(protocol, dict):
        protocol = parse_protocol(protocol)
    constants = patients.patients(protocol)
    if times is None:
        times = np.arange(0.0, days + step / 2.0, step)
    times = np.asarray(times, dtype=float)
    if events is None:
        events = protocol_events(protocol, patients)
    result = run(HUMAN_MODEL, constants, initial_state(constants), times, events)
    return _course(protocol, result, constants, patients.anti_sgc_positive)


def _course(protocol, result: SimulationResult, s: Patients, positive) -> CourseResult:
    def plasma(name):
        return result.state(name) / s.plasma_volume

    igg, anti_sgc, ivig = plasma("igg_plasma"), plasma("anti_sgc_plasma"), plasma("ivig_plasma")
    drug = result.state("inhibitor_central") / s.inhibitor_central_volume
    amounts = [
        result.state(f"{k}_{c}") for k in ("igg", "anti_sgc", "ivig") for c in IGG_COMPARTMENTS
    ]
    body = s.plasma_equivalent * sum(amounts)  # body IgG as plasma-equivalent mg/mL
    free = _free_fcrn_relative(body, drug, result.state("fcrn_relative"), s)
    return CourseResult(
        protocol=protocol,
        days=result.times,
        total_igg=igg + anti_sgc + ivig,
        anti_sgc=anti_sgc,
        ivig=ivig,
        inhibitor=1e3 * drug,
        anti_cd20=1e3 * result.state("anti_cd20_central") / s.anti_cd20_central_volume,
        fcrn_free=free,
        b_cells=result.state("b_cell_source"),
        sensitisation=result.state("sensitisation"),
        anti_sgc_positive=np.asarray(positive, dtype=bool),
    )


def _free_fcrn_relative(igg, drug, fcrn, s: Patients) -> np.ndarray:
    baseline = free_fcrn(igg[0], np.zeros_like(igg[0]), np.ones_like(igg[0]), s)
    return free_fcrn(igg, drug, fcrn, s) / baseline


# ---------------------------------------------------------------- pharmacodynamic summary


def course_summary(result: CourseResult, recovery_level: float = 0.9) -> pd.DataFrame:
    """Per patient: baseline total IgG (mg/mL); largest fall and largest rise of total IgG (% of
    baseline) with their days; the same fall for anti-SGC IgG (NaN if negative); total IgG on
    the last day (% change); the first day after the nadir with total IgG back to
    ``recovery_level`` x baseline (NaN if it never fell below that level or never came back);
    sensitisation at baseline and its minimum."""
    change = result.percent_change("total_igg")
    threshold = 100.0 * (recovery_level - 1.0)
    nadir = np.argmin(change, axis=0)
    peak = np.argmax(change, axis=0)
    patients = np.arange(result.n)
    auto = result.percent_change("anti_sgc")
    positive = result.anti_sgc_positive
    auto_nadir = np.argmin(np.where(positive, auto, 0.0), axis=0)
    after_nadir = np.arange(result.days.size)[:, None] > nadir[None, :]
    recovered = (change >= threshold) & after_nadir
    fell = change[nadir, patients] < threshold
    first = np.argmax(recovered, axis=0)
    return pd.DataFrame(
        {
            "patient": patients,
            "igg_baseline": result.total_igg[0],
            "igg_nadir_reduction_pct": -change[nadir, patients],
            "igg_nadir_day": result.days[nadir],
            "igg_peak_rise_pct": change[peak, patients],
            "igg_peak_day": result.days[peak],
            "igg_end_change_pct": change[-1],
            "igg_recovery_day": np.where(fell & recovered.any(axis=0), result.days[first], np.nan),
            "anti_sgc_nadir_reduction_pct": np.where(positive, -auto[auto_nadir, patients], np.nan),
            "anti_sgc_nadir_day": np.where(positive, result.days[auto_nadir], np.nan),
            "sensitisation_baseline": result.sensitisation[0],
            "sensitisation_min": result.sensitisation.min(axis=0),
        }
    )


def monthly_decline_pct(days: np.ndarray, values: np.ndarray, months: float = 6.0) -> np.ndarray:
    """Decline per month (%) from a log-linear least-squares slope over the first ``months``
    (month = 365.25/12 days) of ``values`` (shape (n_times, n)), as in slope-per-month reports."""
    month = 365.25 / 12.0
    window = days <= months * month + 1e-9
    slope = np.polyfit(days[window] / month, np.log(values[window]), 1)[0]
    return 100.0 * (1.0 - np.exp(slope))
