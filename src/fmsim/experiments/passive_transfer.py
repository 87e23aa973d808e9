"""The passive-transfer experiment of Goebel, Krock et al. (J Clin Invest 2021), in silico.

Mice in each group receive human IgG (or saline, or IgG-depleted serum) i.p. on the injection
days; the model gives each mouse's human IgG, SGC occupancy, sensitisation and IENFD over time;
the assays turn these into the numbers a lab records: paw-pressure thresholds, von Frey 50%
thresholds from a simulated up-down session, cold responses, heat latencies, grip strength,
locomotion and IENFD, each with between-animal variability and measurement noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fmsim.assays.von_frey import simulate_up_down_cohort
from fmsim.config import ConfigError, PassiveTransferConfig
from fmsim.engine import Bolus, Event, SimulationResult, run
from fmsim.io.event_table import EventTable, subject_events
from fmsim.model.equations import MODEL, Subjects, build_subjects, initial_state, sgc_occupancy
from fmsim.model.parameters import ParameterSet, load_parameter_set
from fmsim.model.readouts import IENFD, expected_readout, lognormal_factor

TRAJECTORY_STEP = 0.25  # days between stored model time points


@dataclass(frozen=True)
class PassiveTransferResult:
    config: PassiveTransferConfig
    parameters: ParameterSet
    measurements: pd.DataFrame  # tidy: mouse, group, donor, day, test, value, unit, raw
    trajectories: pd.DataFrame  # mouse, group, donor, day, model states in physical units
    cohort: pd.DataFrame
    doses: tuple[Event, ...] = ()  # the dosing the mice received (engine events)


def build_cohort(config: PassiveTransferConfig) -> pd.DataFrame:
    """One row per mouse: id, group, donor, material, anti-SGC fraction, whether it gets IgG.

    Mice are allocated to donors in blocks (``mice_per_donor``) or in turn (``mice``)."""
    rows = []
    for group in config.groups:
        for k in range(group.n_mice()):
            if group.donors:
                per = group.mice_per_donor
                donor = group.donors[k // per] if per else group.donors[k % len(group.donors)]
            else:
                donor = None
            gets_igg = group.material == "igg"
            rows.append(
                {
                    "mouse": f"{group.name}#{k + 1:03d}",
                    "group": group.name,
                    "donor": donor.id if donor else "none",
                    "material": group.material,
                    "anti_sgc_fraction": donor.anti_sgc_fraction if (donor and gets_igg) else 0.0,
                    "receives_igg": gets_igg,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class VirtualCohort:
    """The simulated animals of an experiment before integration: who they are, their sampled
    parameter values, the derived model constants and the dosing schedule."""

    parameters: ParameterSet
    cohort: pd.DataFrame
    values: dict[str, np.ndarray]
    subjects: Subjects
    doses: list[Event]
    rng: np.random.Generator  # continues the experiment's random stream (measurement noise)


def build_virtual_cohort(
    config: PassiveTransferConfig,
    parameters: ParameterSet | None = None,
    dosing: EventTable | None = None,
) -> VirtualCohort:
    """Allocate mice, draw their parameters and build the dosing schedule (seeded): the
    config's dose on its injection days, or the event table ``dosing`` (per mouse, or for
    every mouse of an IgG group; see :func:`fmsim.io.event_table.subject_events`)."""
    parameters = parameters or load_parameter_set()
    unknown = sorted(set(config.parameters) - set(parameters.parameters))
    if unknown:
        raise ConfigError(
            f"parameters: unknown parameter name(s) {unknown}; see `fmsim params` for the list"
        )
    parameters = parameters.with_values(**config.parameters)
    rng = np.random.default_rng(config.seed)
    cohort = build_cohort(config)
    values = parameters.sample(len(cohort), rng)
    subjects = build_subjects(values, cohort["anti_sgc_fraction"].to_numpy())
    dose_value, dose_unit = config.dose_quantity()
    per_mouse = dose_value * (values["body_weight"] / 1000.0 if dose_unit == "mg/kg" else 1.0)
    amounts = np.where(cohort["receives_igg"].to_numpy(), per_mouse, 0.0)
    doses: list[Event] = [
        Bolus(day, MODEL.index("human_ip_depot"), amounts) for day in config.injection_days
    ]
    if dosing is not None:
        doses = subject_events(dosing, list(cohort["mouse"]), cohort["receives_igg"], "mouse")
    return VirtualCohort(parameters, cohort, values, subjects, doses, rng)


def run_passive_transfer(
    config: PassiveTransferConfig,
    parameters: ParameterSet | None = None,
    dosing: EventTable | None = None,
) -> PassiveTransferResult:
    """Simulate the experiment (dosed as ``config`` says, or by the event table ``dosing``);
    deterministic for a given ``config.seed``."""
    virtual = build_virtual_cohort(config, parameters, dosing)
    subjects = virtual.subjects
    last_day = max(config.test_days[-1], max(config.ienfd_days, default=0.0))
    grid = np.arange(0.0, last_day + TRAJECTORY_STEP / 2, TRAJECTORY_STEP)
    times = np.unique(np.concatenate([grid, config.test_days, config.ienfd_days]))
    solution = run(MODEL, subjects, initial_state(subjects), times, virtual.doses)
    trajectories = _trajectories(virtual.cohort, solution, subjects)
    measurements = _measure(
        config, virtual.parameters, virtual.cohort, trajectories, virtual.values, virtual.rng
    )
    return PassiveTransferResult(
        config, virtual.parameters, measurements, trajectories, virtual.cohort, tuple(virtual.doses)
    )


def _trajectories(cohort, solution: SimulationResult, subjects: Subjects) -> pd.DataFrame:
    n_times, _, n = solution.states.shape
    volume = subjects.plasma_volume
    drg = solution.state("drg_pathogenic")
    frame = pd.DataFrame(
        {
            "mouse": np.tile(cohort["mouse"].to_numpy(), n_times),
            "group": np.tile(cohort["group"].to_numpy(), n_times),
            "donor": np.tile(cohort["donor"].to_numpy(), n_times),
            "day": np.repeat(solution.times, n),
            "human_igg_plasma": (solution.state("human_plasma") / volume).ravel(),
            "host_igg_plasma": (solution.state("host_plasma") / volume).ravel(),
            "drg_pathogenic_igg": drg.ravel(),
            "sgc_occupancy": sgc_occupancy(drg, subjects).ravel(),
            "sensitisation": solution.state("sensitisation").ravel(),
            "ienfd_relative": solution.state("ienfd_relative").ravel(),
        }
    )
    frame["sensitisation_emax"] = np.tile(subjects.sensitisation_emax, n_times)
    return frame


def _measure(config, parameters, cohort, trajectories, values, rng) -> pd.DataFrame:
    """Apply the assays on the test days: one value per mouse, test and day.

    Each test draws its noise (or its up-down sessions) for all its days in one block, days x
    mice: the same random stream, hence the same values, as drawing day by day."""
    n = len(cohort)
    day_of_row = trajectories["day"].to_numpy()
    state = [
        trajectories[column].to_numpy()
        for column in ("sensitisation", "sensitisation_emax", "ienfd_relative")
    ]
    # each column starts empty with its type: a config that measures nothing gives no rows
    columns: dict[str, list[np.ndarray]] = {
        key: [np.empty(0, dtype=float if key in ("day", "value") else object)]
        for key in ("day", "test", "value", "unit", "raw")
    }
    n_sessions = 0  # test days summed over tests: rows per mouse
    for name in [*config.readouts, IENFD]:
        spec = parameters.readouts[name]
        days = np.array(config.ienfd_days if name == IENFD else config.test_days, dtype=float)
        animal_baseline = spec.baseline * lognormal_factor(spec.animal_cv, n, rng)
        if days.size == 0:
            continue
        true_value = np.stack(
            [
                # rows of this day: the same float, an output time
                expected_readout(spec, animal_baseline, *(x[day_of_row == day] for x in state))
                for day in days
            ]
        )
        if name == "von_frey_threshold":
            sessions = simulate_up_down_cohort(true_value, rng)  # one test per mouse and day
            measured, raw = sessions.threshold_g, sessions.pattern
        else:
            measured = true_value * lognormal_factor(spec.measurement_cv, true_value.shape, rng)
            raw = np.full(true_value.shape, "", dtype=object)
        columns["day"].append(np.repeat(days, n))
        columns["test"].append(np.full(measured.size, name, dtype=object))
        columns["value"].append(measured.ravel())
        columns["unit"].append(np.full(measured.size, spec.unit, dtype=object))
        columns["raw"].append(raw.ravel())
        n_sessions += days.size
    animals = {
        key: np.tile(cohort[key].to_numpy(), n_sessions) for key in ("mouse", "group", "donor")
    }
    return pd.DataFrame({**animals, **{key: np.concatenate(v) for key, v in columns.items()}})
