"""The passive-transfer model: IgG kinetics with FcRn recycling, DRG binding, sensitisation.

All equations of fmsim's mouse model are here. Units: time in days, amounts in mg,
concentrations in mg/mL, volumes in mL, FcRn and endosomal IgG in uM.

Two IgG kinds share one FcRn pool (Ober 2001: mouse FcRn binds IgG of all species tested):
host mouse IgG (at steady state without dosing) and transferred human IgG. A fraction phi of the
human IgG (set per donor) is pathogenic anti-SGC IgG; it has the same kinetics as the rest.

    d depot/dt   = -ka * depot                                         (i.p. depot, mg)
    d Hp/dt      =  F ka depot - CLup Cp_h (1 - f_h) - J_h - k_ada(t) Hp   (human, plasma)
    d Hi/dt      =  J_h                                                 (human, interstitium)
    d Mp/dt      =  P_host - CLup Cp_m (1 - f_m) - J_m                  (host, plasma)
    d Mi/dt      =  J_m                                                 (host, interstitium)
    J_k          =  (1 - sigma_V) L Cp_k - (1 - sigma_IS) L Ci_k        (lymph-driven exchange)
    f_k          =  R / (KD_k + R),  R from fmsim.model.fcrn with E_k = rho * Cp_k
    d Cdrg/dt    =  k_drg (phi Cp_h - Cdrg)                             (DRG, mg/mL)
    theta        =  Cdrg / (Cdrg + KD_sgc)                              (SGC occupancy)
    d S/dt       =  k_out (1 + Emax theta^n / (theta50^n + theta^n)) - k_out S
    d N/dt       =  k_regen (1 - N) - k_loss theta N                    (IENFD, relative)

Host production P_host balances host elimination at the steady state given by the host IgG
level, so the undosed mouse stays at its steady state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from fmsim.model.definition import NUMPY, ModelDefinition, constant
from fmsim.model.parameters import load_parameter_set

STATES = (
    "human_ip_depot",
    "human_plasma",
    "human_interstitial",
    "host_plasma",
    "host_interstitial",
    "drg_pathogenic",
    "sensitisation",
    "ienfd_relative",
)
STATE_UNITS = ("mg", "mg", "mg", "mg", "mg", "mg/mL", "1", "1")
N_STATES = len(STATES)


@dataclass(frozen=True)
class SensitisationConstants:
    """Per-subject constants of the DRG -> SGC occupancy -> sensitisation chain, shared by the
    mouse (:class:`Subjects`) and the human model (:class:`fmsim.model.human.Patients`); each
    is the parameter of the same name (:func:`sensitisation_values`)."""

    drg_equilibration_rate: np.ndarray = constant("1/day", "drg_equilibration_rate")
    sgc_kd: np.ndarray = constant("mg/mL", "sgc_kd")
    sensitisation_turnover: np.ndarray = constant("1/day", "sensitisation_turnover")
    sensitisation_emax: np.ndarray = constant("1", "sensitisation_emax")
    sensitisation_occupancy50: np.ndarray = constant("1", "sensitisation_occupancy50")
    sensitisation_hill: np.ndarray = constant("1", "sensitisation_hill")

    @property
    def n(self) -> int:
        """Number of subjects."""
        return self.drg_equilibration_rate.shape[0]


def sensitisation_values(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The :class:`SensitisationConstants` taken from sampled parameter values."""
    return {f.name: values[f.name] for f in fields(SensitisationConstants)}


@dataclass(frozen=True)
class Subjects(SensitisationConstants):
    """Per-subject derived constants, arrays of shape (n,). Built once per batch."""

    plasma_volume: np.ndarray = constant("mL", "plasma_volume_per_kg", "body_weight")
    interstitial_volume: np.ndarray = constant("mL", "interstitial_volume_per_kg", "body_weight")
    # (1 - sigma_V) * lymph flow
    to_interstitium: np.ndarray = constant(
        "mL/day", "vascular_reflection", "lymph_flow_per_kg", "body_weight"
    )
    # (1 - sigma_IS) * lymph flow
    from_interstitium: np.ndarray = constant(
        "mL/day", "lymph_reflection", "lymph_flow_per_kg", "body_weight"
    )
    pinocytic_clearance: np.ndarray = constant(
        "mL/day", "pinocytic_clearance_per_kg", "body_weight"
    )
    fcrn_total: np.ndarray = constant("uM", "fcrn_total")
    endosomal_ratio: np.ndarray = constant("uM*mL/mg", "endosomal_ratio")
    fcrn_kd_host: np.ndarray = constant("uM", "fcrn_kd_host")
    fcrn_kd_human: np.ndarray = constant("uM", "fcrn_kd_human")
    # balances host IgG elimination at host_igg_plasma
    host_production: np.ndarray = constant(
        "mg/day",
        "host_igg_plasma",
        "pinocytic_clearance_per_kg",
        "body_weight",
        "fcrn_total",
        "endosomal_ratio",
        "fcrn_kd_host",
    )
    host_plasma_steady: np.ndarray = constant("mg/mL", "host_igg_plasma")
    ip_absorption_rate: np.ndarray = constant("1/day", "ip_absorption_rate")
    ip_bioavailability: np.ndarray = constant("1", "ip_bioavailability")
    ada_onset_day: np.ndarray = constant("day", "ada_onset_day")
    ada_clearance_rate: np.ndarray = constant("1/day", "ada_clearance_rate")
    # phi, fraction of human IgG that is anti-SGC: set per donor by the scenario
    pathogenic_fraction: np.ndarray = constant("1")
    ienfd_loss_rate: np.ndarray = constant("1/day", "ienfd_loss_rate")
    ienfd_regeneration_rate: np.ndarray = constant("1/day", "ienfd_regeneration_rate")


def recycled_fractions(host_conc, human_conc, subjects: Subjects, ops=NUMPY) -> tuple:
    """FcRn-recycled fraction of (host, human) IgG for plasma levels in mg/mL."""
    ligands = (subjects.endosomal_ratio * host_conc, subjects.endosomal_ratio * human_conc)
    kds = (subjects.fcrn_kd_host, subjects.fcrn_kd_human)
    free = ops.free_fcrn(subjects.fcrn_total, ligands, kds)
    return tuple(free / (kd + free) for kd in kds)


def build_subjects(values: dict[str, np.ndarray], pathogenic_fraction: np.ndarray) -> Subjects:
    """Derive per-subject constants from sampled parameter values (see the parameter file)."""
    weight_kg = values["body_weight"] / 1000.0
    lymph = values["lymph_flow_per_kg"] * weight_kg
    n = weight_kg.shape[0]
    draft = Subjects(
        plasma_volume=values["plasma_volume_per_kg"] * weight_kg,
        interstitial_volume=values["interstitial_volume_per_kg"] * weight_kg,
        to_interstitium=(1.0 - values["vascular_reflection"]) * lymph,
        from_interstitium=(1.0 - values["lymph_reflection"]) * lymph,
        pinocytic_clearance=values["pinocytic_clearance_per_kg"] * weight_kg,
        fcrn_total=values["fcrn_total"],
        endosomal_ratio=values["endosomal_ratio"],
        fcrn_kd_host=values["fcrn_kd_host"],
        fcrn_kd_human=values["fcrn_kd_human"],
        host_production=np.zeros(n),
        host_plasma_steady=values["host_igg_plasma"],
        ip_absorption_rate=values["ip_absorption_rate"],
        ip_bioavailability=values["ip_bioavailability"],
        ada_onset_day=values["ada_onset_day"],
        ada_clearance_rate=values["ada_clearance_rate"],
        pathogenic_fraction=np.broadcast_to(pathogenic_fraction, (n,)).astype(float),
        **sensitisation_values(values),
        ienfd_loss_rate=values["ienfd_loss_rate"],
        ienfd_regeneration_rate=values["ienfd_regeneration_rate"],
    )
    host = draft.host_plasma_steady
    recycled = recycled_fractions(host, np.zeros(n), draft)[0]
    production = draft.pinocytic_clearance * host * (1.0 - recycled)
    return replace(draft, host_production=production)


def initial_state(subjects: Subjects) -> np.ndarray:
    """Undosed steady state, shape (N_STATES, n)."""
    y = np.zeros((N_STATES, subjects.n))
    host_amount = subjects.host_plasma_steady * subjects.plasma_volume
    y[MODEL.index("host_plasma")] = host_amount
    # interstitial steady state: (1-sigma_V) L Cp = (1-sigma_IS) L Ci
    ratio = subjects.to_interstitium / subjects.from_interstitium
    y[MODEL.index("host_interstitial")] = (
        ratio * subjects.host_plasma_steady * (subjects.interstitial_volume)
    )
    y[MODEL.index("sensitisation")] = 1.0
    y[MODEL.index("ienfd_relative")] = 1.0
    return y


def sgc_occupancy(drg_pathogenic, subjects: Subjects, ops=NUMPY):
    """Fraction of SGC antigen bound by pathogenic IgG (Emax occupancy, 0-1)."""
    c = ops.nonnegative(drg_pathogenic)
    return c / (c + subjects.sgc_kd)


def sensitisation_drive(theta, subjects):
    """Fractional stimulation of nociceptor sensitisation by SGC occupancy ``theta`` (0-1):
    Emax theta^n / (theta50^n + theta^n), the drive of the indirect response
    dS/dt = k_out (1 + drive) - k_out S. Plain arithmetic (numpy arrays or sympy symbols)."""
    theta_n = theta**subjects.sensitisation_hill
    return (
        subjects.sensitisation_emax
        * theta_n
        / (subjects.sensitisation_occupancy50**subjects.sensitisation_hill + theta_n)
    )


def ada_switch(t, onset_day, ops=NUMPY):
    """Smooth 0->1 onset of mouse anti-human-IgG clearance around ``onset_day`` (logistic,
    scale 0.25 day: 10% to 90% within ~1.1 days)."""
    return 1.0 / (1.0 + ops.exp(-(t - onset_day) / 0.25))


def derivatives(t, y, s: Subjects, ops=NUMPY) -> list:
    """Time derivative of each state (list in STATES order) at time ``t`` (days).

    The single definition of the model's dynamics, evaluated with numpy arrays by ``rhs``."""
    depot, hp, hi, mp, mi, drg, sens, ienfd = y
    cp_h = hp / s.plasma_volume
    cp_m = mp / s.plasma_volume
    ci_h = hi / s.interstitial_volume
    ci_m = mi / s.interstitial_volume

    recycled = recycled_fractions(cp_m, cp_h, s, ops)
    elim_m = s.pinocytic_clearance * cp_m * (1.0 - recycled[0])
    elim_h = s.pinocytic_clearance * cp_h * (1.0 - recycled[1])
    exchange_h = s.to_interstitium * cp_h - s.from_interstitium * ci_h
    exchange_m = s.to_interstitium * cp_m - s.from_interstitium * ci_m
    absorption = s.ip_absorption_rate * depot
    ada = s.ada_clearance_rate * ada_switch(t, s.ada_onset_day, ops) * hp

    theta = sgc_occupancy(drg, s, ops)
    drive = sensitisation_drive(theta, s)

    return [
        -absorption,
        s.ip_bioavailability * absorption - elim_h - exchange_h - ada,
        exchange_h,
        s.host_production - elim_m - exchange_m,
        exchange_m,
        s.drg_equilibration_rate * (s.pathogenic_fraction * cp_h - drg),
        s.sensitisation_turnover * (1.0 + drive - sens),
        s.ienfd_regeneration_rate * (1.0 - ienfd) - s.ienfd_loss_rate * theta * ienfd,
    ]


MODEL = ModelDefinition(
    name="mouse_passive_transfer",
    states=STATES,
    state_units=STATE_UNITS,
    subjects_type=Subjects,
    derivatives=derivatives,
    parameter_set=load_parameter_set,
)


def rhs(t: float, y: np.ndarray, s: Subjects) -> np.ndarray:
    """Time derivative of the state, shape (N_STATES, n), at time ``t`` (days)."""
    return MODEL.rhs(t, y, s)
