"""Comparison of the human therapy model with published pharmacodynamics, and the side-by-side
comparison of protocols that ``fmsim therapies`` reports.

The published targets and the standard protocols are package data read through the
configuration schemas (:mod:`fmsim.config.targets`, :mod:`fmsim.config.therapy`):
``fmsim/experiments/data/validation_targets.yaml`` and ``fmsim/experiments/data/protocols/``
(``examples/therapies/`` links there). This module only evaluates them: :class:`Target` reads
its metric from a simulated course (:func:`metric_values`), :func:`validation_table`
simulates every target in the typical patient (every parameter at its median, anti-SGC
positive) and, given a population, its 5th-95th percentile band; :func:`compare_protocols`
simulates several protocols in one virtual population and summarises them per patient and per
therapy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fmsim.config.targets import MetricSpec, TargetSet, TargetSpec
from fmsim.config.therapy import EXTRACORPOREAL, TherapyProtocol
from fmsim.experiments import therapy as th
from fmsim.experiments.patient_courses import PatientCourse, course_events
from fmsim.experiments.reference import published_target_set
from fmsim.experiments.therapy import CourseResult, Population
from fmsim.io.nonmem_patients import patient_numbers
from fmsim.model.drugs import CLASS_LABELS

EPS = 1e-6  # days: an output just after an instantaneous exchange/adsorption session
MONTH = 365.25 / 12.0  # days
BAND = (5.0, 95.0)  # percentiles of the population band


# ---------------------------------------------------------------- metrics


def _row(result: CourseResult, day: float) -> int:
    """Index of output day ``day`` (it must be an output time)."""
    index = int(np.argmin(np.abs(result.days - day)))
    if not np.isclose(result.days[index], day, rtol=0.0, atol=1e-9):
        raise ValueError(f"day {day:g} is not an output time of the course")
    return index


def metric_times(spec: MetricSpec) -> tuple[float, ...]:
    """Output times (days) the metric needs besides the daily grid."""
    if spec.kind == "monthly_decline":
        return tuple(np.arange(0.0, spec.months * MONTH + 1e-9, MONTH / 4.0).tolist())
    if spec.day is not None:
        return (spec.day + (EPS if spec.after_session else 0.0),)
    return ()


def metric_label(spec: MetricSpec) -> str:
    """The metric in words, e.g. "total IgG nadir, % reduction"."""
    name = {"total_igg": "total IgG", "anti_sgc": "anti-SGC IgG"}.get(spec.of, "IgG")
    when = spec.label or (f"on day {spec.day:g}" if spec.day is not None else "")
    labels = {
        "nadir_reduction": f"{name} nadir, % reduction" + (f" ({when})" if when else ""),
        "nadir_day": f"day of the {name} nadir",
        "remaining": f"total IgG {when}, % of baseline",
        "reduction": f"total IgG reduction {when}, %",
        "rise": f"total IgG rise {when}",
        "recovery_weeks": "weeks from the last dose until total IgG is within "
        f"{100 * (1 - spec.level):.0f}% of baseline",
        "monthly_decline": f"{name if spec.of == 'anti_sgc' else 'IgG other than anti-SGC'} "
        f"decline, months 0-{spec.months:g} (log-linear)",
        "nadir_ratio": "anti-SGC nadir reduction / total IgG nadir reduction",
    }
    return labels[spec.kind]


def metric_unit(spec: MetricSpec) -> str:
    """Unit of the metric's value."""
    return {
        "nadir_day": "day",
        "rise": "g/L",
        "recovery_weeks": "week",
        "monthly_decline": "%/month",
        "nadir_ratio": "ratio",
    }.get(spec.kind, "%")


def metric_values(spec: MetricSpec, result: CourseResult) -> np.ndarray:
    """The metric in every patient of ``result``, shape (n_patients,)."""
    summary = th.course_summary(result, recovery_level=spec.level)
    column = "anti_sgc" if spec.of == "anti_sgc" else "igg"
    if spec.kind == "nadir_reduction":
        return summary[f"{column}_nadir_reduction_pct"].to_numpy(dtype=float)
    if spec.kind == "nadir_day":
        return summary[f"{column}_nadir_day"].to_numpy(dtype=float)
    if spec.kind == "recovery_weeks":
        recovered = summary["igg_recovery_day"].to_numpy(dtype=float)
        return (recovered - result.protocol.last_day()) / 7.0
    if spec.kind == "nadir_ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = summary.anti_sgc_nadir_reduction_pct / summary.igg_nadir_reduction_pct
        return ratio.to_numpy(dtype=float)
    if spec.kind == "monthly_decline":
        times = metric_times(spec)
        rows = [_row(result, t) for t in times]
        values = result.anti_sgc if spec.of == "anti_sgc" else result.total_igg - result.anti_sgc
        decline = np.full(result.n, np.nan)
        has = values[0] > 0  # anti-SGC-negative patients have no anti-SGC decline
        if has.any():
            decline[has] = th.monthly_decline_pct(
                np.asarray(times), values[rows][:, has], spec.months
            )
        return decline
    (day,) = metric_times(spec)
    row = _row(result, day)
    if spec.kind == "rise":
        return result.total_igg[row] - result.total_igg[0]
    remaining = 100.0 * result.total_igg[row] / result.total_igg[0]
    return remaining if spec.kind == "remaining" else 100.0 - remaining


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One published comparison (:class:`fmsim.config.targets.TargetSpec`) with its protocols."""

    spec: TargetSpec
    protocol: TherapyProtocol
    comparator: TherapyProtocol | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return metric_label(self.spec.metric)

    @property
    def unit(self) -> str:
        return metric_unit(self.spec.metric)

    def accepts(self, value: float) -> bool:
        """Whether ``value`` lies in the acceptance interval (bounds included; NaN fails)."""
        low, high = self.spec.accept
        if not np.isfinite(value):
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    def evaluate(self, population: Population) -> np.ndarray:
        """The metric in every patient of ``population``, shape (n,)."""
        days = self.spec.days
        times = np.union1d(output_times(self.protocol, days), metric_times(self.spec.metric))
        course = th.simulate_course(population, self.protocol, days, times=times)
        value = metric_values(self.spec.metric, course)
        if self.comparator is not None:
            reference = th.simulate_course(population, self.comparator, days, times=times)
            value = value - metric_values(self.spec.metric, reference)
        return np.asarray(value, dtype=float)

    def typical_value(self) -> float:
        """The metric in the typical anti-SGC-positive patient."""
        return float(self.evaluate(th.typical_population(**self.spec.typical))[0])


def targets_of(target_set: TargetSet) -> dict[str, Target]:
    """The targets of a :class:`~fmsim.config.targets.TargetSet` with their protocols, by id."""
    protocols = target_set.protocols
    return {
        spec.id: Target(
            spec,
            protocols[spec.protocol],
            protocols[spec.comparator] if spec.comparator else None,
        )
        for spec in target_set.targets
    }


def published_targets() -> dict[str, Target]:
    """fmsim's published targets (``fmsim/experiments/data/validation_targets.yaml``), by id."""
    return targets_of(published_target_set())


# ---------------------------------------------------------------- the validation table


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def published_text(target: Target) -> str:
    """The published number(s) with unit, or "qualitative"."""
    value = target.spec.published
    if value is None:
        return "qualitative / NOT FOUND"
    if isinstance(value, tuple):
        return f"{_number(value[0])}-{_number(value[1])} {target.unit}"
    return f"{_number(value)} {target.unit}"


def accepted_text(target: Target) -> str:
    """The acceptance interval in words, e.g. ">= 90 %" or "55.9 to 75 %"."""
    low, high = target.spec.accept
    if low is None:
        return f"<= {_number(high)} {target.unit}"
    if high is None:
        return f">= {_number(low)} {target.unit}"
    return f"{_number(low)} to {_number(high)} {target.unit}"


def validation_table(
    population: Population | None = None, targets: Mapping[str, Target] | None = None
) -> pd.DataFrame:
    """Simulate every target (default: :func:`published_targets`): one row per target.

    Columns: id, group (library class) and group_label, agents (library entries tested),
    course (single / course), regimen, metric, unit, published (number(s) as published),
    statement (what the source says), accepted (acceptance interval), low/high (its bounds, NaN
    = open), tolerance, simulated (typical anti-SGC-positive patient), band_low/band_high
    (5th/95th percentile over ``population``, NaN without one; anti-SGC metrics over its
    positive patients), verdict (PASS if ``simulated`` is accepted, else FAIL), expected (FAIL
    for known deviations), calibrated, citation, note."""
    rows = []
    for target in (targets if targets is not None else published_targets()).values():
        spec = target.spec
        simulated = target.typical_value()
        band = (np.nan, np.nan)
        if population is not None:
            values = target.evaluate(population)
            if np.isfinite(values).any():
                band = tuple(np.nanpercentile(values, BAND))
        notes = [spec.note] if spec.note else []
        if spec.calibrated:
            notes.append(f"calibrated: {spec.calibrated}")
        if spec.known_deviation:
            notes.append(f"known deviation: {spec.known_deviation}")
        low, high = spec.accept
        rows.append(
            {
                "id": spec.id,
                "group": spec.group,
                "group_label": CLASS_LABELS[spec.group],
                "agents": ", ".join(spec.agents),
                "course": spec.course,
                "regimen": spec.regimen,
                "metric": target.label,
                "unit": target.unit,
                "published": published_text(target),
                "statement": spec.statement,
                "accepted": accepted_text(target),
                "low": np.nan if low is None else low,
                "high": np.nan if high is None else high,
                "tolerance": spec.tolerance,
                "simulated": simulated,
                "band_low": band[0],
                "band_high": band[1],
                "verdict": "PASS" if target.accepts(simulated) else "FAIL",
                "expected": spec.expected,
                "calibrated": spec.calibrated,
                "citation": spec.citation,
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- comparing protocols

COMPARISON_METRICS: dict[str, tuple[str, str]] = {
    "igg_nadir_reduction_pct": ("total IgG nadir, % reduction", "%"),
    "igg_nadir_day": ("day of the total IgG nadir", "day"),
    "anti_sgc_nadir_reduction_pct": ("anti-SGC IgG nadir, % reduction", "%"),
    "anti_sgc_days_below_half": ("days with anti-SGC IgG below 50% of baseline", "days"),
    "sensitisation_baseline": ("sensitisation S at baseline (1 = none)", "1"),
    "sensitisation_min": ("sensitisation S at its nadir", "1"),
    "sensitisation_end": ("sensitisation S on the last day", "1"),
    "igg_end_pct": ("total IgG on the last day, % of baseline", "%"),
    "igg_recovery_day": ("day total IgG is back within 10% of baseline", "day"),
}
"""Per-patient quantities summarised per therapy: column -> (label, unit)."""

COURSE_QUANTITIES: dict[str, str] = {
    "total_igg_pct": "total IgG (% of baseline)",
    "anti_sgc_pct": "anti-SGC IgG (% of baseline, positive patients)",
    "sensitisation": "sensitisation S, positive patients (1 = none)",
}
"""Time courses summarised per therapy and day: column -> label."""

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class ProtocolComparison:
    """Protocols simulated in one population.

    ``patients``: one row per therapy and patient (:func:`patient_summary`); ``courses``: per
    therapy, day and quantity the 5/25/50/75/95th percentiles over patients; ``summary``: per
    therapy and :data:`COMPARISON_METRICS` quantity the median, 5th and 95th percentile and
    the number of patients with a value."""

    patients: pd.DataFrame
    courses: pd.DataFrame
    summary: pd.DataFrame


def output_times(protocol: TherapyProtocol, days: float) -> np.ndarray:
    """Daily output times (days) up to ``days`` plus one just after every exchange or
    adsorption session, so that the post-session fall is seen."""
    sessions = [
        day + EPS
        for block in protocol.therapies
        if block.type in EXTRACORPOREAL
        for day in block.schedule()
        if day + EPS <= days
    ]
    return np.union1d(np.arange(0.0, days + 0.5, 1.0), sessions)


def patient_summary(result: CourseResult) -> pd.DataFrame:
    """:func:`fmsim.experiments.therapy.course_summary` plus, per patient: days with anti-SGC
    IgG below 50% of baseline (trapezoidal in time over the outputs; NaN if negative), S on the
    last day, and total IgG on the last day (% of baseline)."""
    summary = th.course_summary(result)
    positive = result.anti_sgc_positive
    with np.errstate(divide="ignore", invalid="ignore"):
        below = (result.anti_sgc < 0.5 * result.anti_sgc[0]).astype(float)
    time_below = np.trapezoid(below, result.days, axis=0)
    summary["anti_sgc_days_below_half"] = np.where(positive, time_below, np.nan)
    summary["sensitisation_end"] = result.sensitisation[-1]
    summary["igg_end_pct"] = 100.0 + summary["igg_end_change_pct"]
    summary["anti_sgc_positive"] = positive
    return summary


def _course_quantiles(result: CourseResult) -> pd.DataFrame:
    positive = result.anti_sgc_positive
    with np.errstate(divide="ignore", invalid="ignore"):
        series = {
            "total_igg_pct": 100.0 * result.total_igg / result.total_igg[0],
            "anti_sgc_pct": 100.0 * result.anti_sgc[:, positive] / result.anti_sgc[0, positive],
            "sensitisation": result.sensitisation[:, positive],
        }
    frames = []
    for quantity, values in series.items():
        if values.shape[1] == 0:
            continue
        q = np.quantile(values, QUANTILES, axis=1)
        frames.append(
            pd.DataFrame(
                {
                    "day": result.days,
                    "quantity": quantity,
                    **{f"q{round(100 * p):02d}": q[k] for k, p in enumerate(QUANTILES)},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _metric_summary(patients: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for column, (label, unit) in COMPARISON_METRICS.items():
        values = patients[column].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        low, median, high = (
            np.percentile(values, [BAND[0], 50.0, BAND[1]]) if values.size else (np.nan,) * 3
        )
        rows.append(
            {
                "quantity": column,
                "label": label,
                "unit": unit,
                "median": median,
                "p05": low,
                "p95": high,
                "n": int(values.size),
            }
        )
    return pd.DataFrame(rows)


def compare_protocols(
    population: Population,
    protocols: Mapping[str, TherapyProtocol | PatientCourse],
    days: float,
    on_course: Callable[[str, CourseResult], None] | None = None,
) -> ProtocolComparison:
    """Simulate each protocol (keyed by the therapy label used in the tables), or per-patient
    course (patient n = the n-th of ``population``), in every patient of ``population`` for
    ``days`` days (outputs: :func:`output_times`) and summarise; ``on_course`` receives each
    simulated course (e.g. to write it as a NONMEM data set)."""
    patients, courses, summary = [], [], []
    for label, given in protocols.items():
        events = None
        protocol = given
        if isinstance(given, PatientCourse):
            protocol = given.protocol
            events = course_events(given, population, patient_numbers(population.n))
        times = output_times(protocol, days)
        result = th.simulate_course(population, protocol, days, times=times, events=events)
        if on_course is not None:
            on_course(label, result)
        per_patient = patient_summary(result)
        patients.append(per_patient.assign(therapy=label))
        courses.append(_course_quantiles(result).assign(therapy=label))
        summary.append(_metric_summary(per_patient).assign(therapy=label))

    def first(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[["therapy", *[c for c in frame.columns if c != "therapy"]]]

    return ProtocolComparison(
        first(pd.concat(patients, ignore_index=True)),
        first(pd.concat(courses, ignore_index=True)),
        first(pd.concat(summary, ignore_index=True)),
    )
