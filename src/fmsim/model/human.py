"""The human model: IgG kinetics with one FcRn pool, IgG-lowering therapies, anti-SGC IgG.

All equations of fmsim's human model are here (parameters with sources in
``fmsim/model/data/human.yaml``). Units: time in days, amounts in mg, concentrations in mg/mL,
volumes in mL, FcRn and endosomal ligands in uM, the B-cell source and FcRn level relative to
baseline. Kinds of IgG (k): the patient's bulk IgG (b), the anti-SGC autoantibody (a) and IVIG
(v); all three bind FcRn with the same KD, so they form one FcRn ligand. One FcRn-inhibitor
drug (d) is the second ligand and one anti-CD20 antibody (r) depletes the B-cell-dependent
plasma-cell source B; their constants come from a drug-library entry (:mod:`fmsim.model.drugs`),
per patient, and the model never reads a drug's name.

    Cp_k = Xp_k / Vp,  Ci_k = Xi_k / Vi,  Cd = Ad / Vd
    R    = free FcRn:  R_T0 F = R + E_igg R/(KD + R) + E_d R/(KD_d + R)   (fmsim.model.fcrn)
           E_igg = rho phi/Vp sum_k (Xp_k + Xi_k),  E_d = rho_d Cd
    f    = R / (KD + R)            (recycled fraction of endosomal IgG)
    beta = R / (KD_d + R)          (fraction of the drug bound to FcRn)
    d Xp_k/dt = phi P_k(t)     - kdeg Vp Cp_k (1 - f) - J_k     J_k = L_in Cp_k - L_out Ci_k
    d Xi_k/dt = (1-phi) P_k(t) - kdeg Vi Ci_k (1 - f) + J_k
    P_k(t)    = P_k0 (sigma_k B + 1 - sigma_k)           (P_v0 = 0: IVIG only by infusion)
    d depot/dt = -ka depot                                (s.c. depot of the drug)
    d Ad/dt   = F ka depot - (CL_d + Q_d) Cd (1 - beta) + Q_d Ap/Vp_d - (k_fcrn + k_x) Ad beta
    d Ap/dt   = Q_d Cd (1 - beta) - Q_d Ap/Vp_d
    d F/dt    = k_fcrn (1 - F) - k_x E_d beta / R_T0      (FcRn relative to baseline)
    d Ar/dt   = -(k10 + k12) Ar + k21 Ap_r;   d Ap_r/dt = k12 Ar - k21 Ap_r   (anti-CD20)
    d B/dt    = k_B (1 - (1 + Emax_r Cr/(EC50_r + Cr)) B)                     (B-cell source)
    d Cdrg/dt = k_drg (Cp_a - Cdrg);  theta = Cdrg/(Cdrg + KD_sgc)
    d S/dt    = k_out (1 + Emax theta^n/(theta50^n + theta^n)) - k_out S

The drug meets FcRn as in its published quasi-steady-state TMDD model (LG2022, VAL2025): its
ligand is scaled so that it binds the pool with its published KD relative to its published FcRn
concentration R_pub (rho_d = R_T0/(R_pub MW), KD_d = KD_pub R_T0/R_pub); bound drug is protected
from linear clearance and leaves with the complex (k_fcrn + k_x; k_x > 0 makes the complex
degrade faster than free FcRn, depleting the pool as nipocalimab does in VAL2025). IgG is made
and catabolised in plasma and interstitium in proportion to the amounts there at steady state
(a fraction phi, REV2007: 45%, intravascular): each compartment's IgG is taken up at kdeg (the
FcRn-free catabolic rate of body IgG, VAL2025) as pinocytosis samples both spaces in the platform
PBPK model (SB2012), and the FcRn load is that of the whole body pool. So, as in the published
serum-level models, an FcRn inhibitor lowers plasma and interstitial IgG alike, while an
exchange or adsorption session, which removes plasma IgG only, is followed by a refill from the
interstitium at the pace of physiological lymph flow (L_out = (1 - sigma_IS) L, L_in = L_out
Ci/Cp at steady state). Productions P_b0, P_a0 put the untreated patient at steady state at the
baseline IgG and anti-SGC levels.
Plasma exchange and immunoadsorption are Removal events on the plasma states (fmsim.experiments
.therapy). The anti-CD20 antibody (rituximab: an IgG1 of ~2 g per course) is left out of the FcRn
pool: its published linear PK already contains its recycling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fmsim.model.definition import NUMPY, ModelDefinition, constant
from fmsim.model.drugs import DrugEntry
from fmsim.model.equations import (
    SensitisationConstants,
    sensitisation_drive,
    sensitisation_values,
    sgc_occupancy,
)
from fmsim.model.parameters import ParameterSet, shipped_parameters

STATES = (
    "igg_plasma",
    "igg_interstitial",
    "anti_sgc_plasma",
    "anti_sgc_interstitial",
    "ivig_plasma",
    "ivig_interstitial",
    "inhibitor_depot",
    "inhibitor_central",
    "inhibitor_peripheral",
    "fcrn_relative",
    "anti_cd20_central",
    "anti_cd20_peripheral",
    "b_cell_source",
    "drg_anti_sgc",
    "sensitisation",
)
STATE_UNITS = ("mg",) * 9 + ("1", "mg", "mg", "1", "mg/mL", "1")
N_STATES = len(STATES)
# States in blood plasma: what an exchange or adsorption session removes from.
PLASMA_STATES = tuple(
    STATES.index(name)
    for name in (
        "igg_plasma",
        "anti_sgc_plasma",
        "ivig_plasma",
        "inhibitor_central",
        "anti_cd20_central",
    )
)
# The drug slots when no agent of the class is given: amounts stay 0, so any finite constants
# do; these keep the right-hand side finite and the drug out of the FcRn pool.
_NO_INHIBITOR = {
    "molecular_weight": 150.0,
    "fcrn_kd": 1.0,
    "fcrn_capacity": 1.0,
    "clearance": 0.0,
    "central_volume": 1.0,
    "peripheral_volume": 1.0,
    "intercompartmental_clearance": 0.0,
    "complex_excess_degradation": 0.0,
    "reference_weight": 75.0,
    "clearance_weight_exponent": 0.0,
    "volume_weight_exponent": 0.0,
}
_NO_ANTI_CD20 = {
    "central_volume": 1.0,
    "reference_bsa": 1.0,
    "elimination_rate": 0.0,
    "distribution_rate": 0.0,
    "redistribution_rate": 0.0,
    "bcell_depletion_emax": 0.0,
    "bcell_depletion_ec50": 1.0,
}


@dataclass(frozen=True)
class Patients(SensitisationConstants):
    """Per-patient constants, arrays of shape (n,), derived by :func:`build_patients`."""

    plasma_volume: np.ndarray = constant("mL", "plasma_volume_per_kg", "body_weight")
    interstitial_volume: np.ndarray = constant("mL", "interstitial_volume_per_kg", "body_weight")
    # L_in, set by the intravascular fraction of body IgG
    to_interstitium: np.ndarray = constant(
        "mL/day",
        "igg_intravascular_fraction",
        "plasma_volume_per_kg",
        "interstitial_volume_per_kg",
        "lymph_reflection",
        "lymph_flow_per_kg",
        "body_weight",
    )
    # L_out = (1 - sigma_IS) L
    from_interstitium: np.ndarray = constant(
        "mL/day", "lymph_reflection", "lymph_flow_per_kg", "body_weight"
    )
    # kdeg Vp and kdeg Vi: pinocytic uptake of plasma and interstitial IgG
    plasma_uptake: np.ndarray = constant(
        "mL/day", "igg_catabolic_rate", "plasma_volume_per_kg", "body_weight"
    )
    interstitial_uptake: np.ndarray = constant(
        "mL/day", "igg_catabolic_rate", "interstitial_volume_per_kg", "body_weight"
    )
    # 1 - phi, share of IgG made into the interstitium
    interstitial_production: np.ndarray = constant("1", "igg_intravascular_fraction")
    # phi / Vp: body IgG (mg) -> plasma-equivalent mg/mL
    plasma_equivalent: np.ndarray = constant(
        "1/mL", "igg_intravascular_fraction", "plasma_volume_per_kg", "body_weight"
    )
    # R_T0, baseline endosomal FcRn
    fcrn_total: np.ndarray = constant(
        "uM", "fcrn_kd_igg", "igg_recycling_ratio", "igg_endosomal_ratio", "igg_baseline"
    )
    fcrn_kd_igg: np.ndarray = constant("uM", "fcrn_kd_igg")
    igg_endosomal_ratio: np.ndarray = constant("uM*mL/mg", "igg_endosomal_ratio")  # rho
    fcrn_turnover_rate: np.ndarray = constant("1/day", "fcrn_turnover_rate")  # k_fcrn
    # P_b0 and P_a0: steady state at the baseline levels
    igg_production: np.ndarray = constant(
        "mg/day", "igg_baseline", "igg_catabolic_rate", "igg_recycling_ratio", "anti_sgc_fraction"
    )
    anti_sgc_production: np.ndarray = constant(
        "mg/day", "igg_baseline", "igg_catabolic_rate", "igg_recycling_ratio", "anti_sgc_fraction"
    )
    igg_short_lived_fraction: np.ndarray = constant("1", "igg_short_lived_fraction")
    anti_sgc_short_lived_fraction: np.ndarray = constant("1", "anti_sgc_short_lived_fraction")
    # the FcRn inhibitor of the batch (a drug-library entry, fmsim.model.drugs): rho_d, KD_d on
    # the pool's scale, PK
    inhibitor_endosomal_ratio: np.ndarray = constant(
        "uM*mL/mg",
        "fcrn_inhibitor.molecular_weight",
        "fcrn_inhibitor.fcrn_capacity",
        "fcrn_kd_igg",
        "igg_recycling_ratio",
        "igg_endosomal_ratio",
        "igg_baseline",
    )
    inhibitor_fcrn_kd: np.ndarray = constant(
        "uM", "fcrn_inhibitor.fcrn_kd", "fcrn_inhibitor.fcrn_capacity"
    )
    inhibitor_clearance: np.ndarray = constant("mL/day", "fcrn_inhibitor.clearance", "body_weight")
    inhibitor_central_volume: np.ndarray = constant(
        "mL", "fcrn_inhibitor.central_volume", "body_weight"
    )
    inhibitor_peripheral_volume: np.ndarray = constant(
        "mL", "fcrn_inhibitor.peripheral_volume", "body_weight"
    )
    inhibitor_intercompartmental_clearance: np.ndarray = constant(
        "mL/day", "fcrn_inhibitor.intercompartmental_clearance", "body_weight"
    )
    inhibitor_complex_excess_degradation: np.ndarray = constant(  # k_x
        "1/day", "fcrn_inhibitor.complex_excess_degradation"
    )
    inhibitor_sc_absorption_rate: np.ndarray = constant(
        "1/day", "fcrn_inhibitor.sc.absorption_rate"
    )
    inhibitor_sc_bioavailability: np.ndarray = constant("1", "fcrn_inhibitor.sc.bioavailability")
    anti_cd20_central_volume: np.ndarray = constant(
        "mL", "anti_cd20.central_volume", "body_weight", "height"
    )
    anti_cd20_elimination_rate: np.ndarray = constant("1/day", "anti_cd20.elimination_rate")
    anti_cd20_distribution_rate: np.ndarray = constant("1/day", "anti_cd20.distribution_rate")
    anti_cd20_redistribution_rate: np.ndarray = constant("1/day", "anti_cd20.redistribution_rate")
    anti_cd20_emax: np.ndarray = constant("1", "anti_cd20.bcell_depletion_emax")
    anti_cd20_ec50: np.ndarray = constant("mg/mL", "anti_cd20.bcell_depletion_ec50")
    bcell_turnover_rate: np.ndarray = constant("1/day", "bcell_turnover_rate")
    # bulk + anti-SGC IgG at steady state
    igg_baseline: np.ndarray = constant("mg/mL", "igg_baseline")
    anti_sgc_baseline: np.ndarray = constant("mg/mL", "igg_baseline", "anti_sgc_fraction")


def load_human_parameters() -> ParameterSet:
    """The shipped human parameter set (``fmsim/model/data/human.yaml``), read once per process
    (parsing it took 0.1 s per call; the web app asked for it several times per update)."""
    return shipped_parameters("human")


def body_surface_area(weight_kg, height_cm):
    """Body surface area (m2), Mosteller RD, N Engl J Med 1987;317:1098: sqrt(h w / 3600)."""
    return np.sqrt(np.asarray(height_cm) * np.asarray(weight_kg) / 3600.0)


def recycled_fraction(free, kd):
    """Fraction of endosomal ligand bound to (recycled with) FcRn: R / (KD + R)."""
    return free / (kd + free)


def free_fcrn(igg_conc, inhibitor_conc, fcrn_relative, s: Patients, ops=NUMPY):
    """Free endosomal FcRn (uM) for the body's IgG as plasma-equivalent concentration
    (``igg_conc`` = phi/Vp x body IgG, mg/mL; the plasma concentration at steady state) and the
    drug's plasma concentration (mg/mL)."""
    ligands = (s.igg_endosomal_ratio * igg_conc, s.inhibitor_endosomal_ratio * inhibitor_conc)
    kds = (s.fcrn_kd_igg, s.inhibitor_fcrn_kd)
    return ops.free_fcrn(s.fcrn_total * fcrn_relative, ligands, kds)


def build_patients(
    values: dict[str, np.ndarray],
    anti_sgc_fraction: np.ndarray | float,
    inhibitor: DrugEntry | None = None,
    anti_cd20: DrugEntry | None = None,
    random_effects: dict[str, np.ndarray] | None = None,
) -> Patients:
    """Derive per-patient constants from sampled parameter values (see human.yaml).

    ``anti_sgc_fraction``: fraction (0-1) of each patient's baseline IgG that is anti-SGC IgG
    (0 for anti-SGC-negative patients). ``inhibitor`` (class fcrn_inhibitor) and ``anti_cd20``
    (class anti_cd20) are the library entries whose constants fill the two drug slots (None:
    the slot stays empty, and dosing it does nothing); ``random_effects`` holds each patient's
    deviates for the drug constants (:meth:`fmsim.model.drugs.DrugEntry.per_patient`; None:
    typical values)."""
    weight = np.asarray(values["body_weight"], dtype=float)
    n = weight.shape[0]
    igg = _igg_constants(values, weight, anti_sgc_fraction)
    drug = _inhibitor_constants(
        _slot(inhibitor, _NO_INHIBITOR, n, random_effects), weight, igg["fcrn_total"]
    )
    if inhibitor is None:
        drug["inhibitor_endosomal_ratio"] = np.zeros(n)
    cd20 = _anti_cd20_constants(
        _slot(anti_cd20, _NO_ANTI_CD20, n, random_effects), weight, values["height"]
    )
    return Patients(
        **igg,
        **drug,
        **cd20,
        bcell_turnover_rate=values["bcell_turnover_rate"],
        **sensitisation_values(values),
    )


def _igg_constants(values, weight, anti_sgc_fraction) -> dict[str, np.ndarray]:
    """Volumes, exchange, FcRn pool and IgG production at the baseline steady state."""
    n = weight.shape[0]
    phi = values["igg_intravascular_fraction"]
    plasma = values["plasma_volume_per_kg"] * weight
    interstitial = values["interstitial_volume_per_kg"] * weight
    from_interstitium = (1.0 - values["lymph_reflection"]) * values["lymph_flow_per_kg"] * weight
    # steady state Ci/Cp = L_in/L_out; intravascular fraction phi = Vp / (Vp + Vi Ci/Cp)
    partition = plasma * (1.0 - phi) / (phi * interstitial)
    # body IgG taken up at kdeg (VAL2025 kdeg,IgG) in plasma and interstitium alike
    kdeg = values["igg_catabolic_rate"]
    uptake = kdeg * plasma / phi  # total uptake clearance on the plasma-equivalent scale
    kd = values["fcrn_kd_igg"]
    ratio = values["igg_recycling_ratio"]
    igg = values["igg_baseline"]
    anti_sgc = np.broadcast_to(np.asarray(anti_sgc_fraction, dtype=float), (n,)) * igg
    recycled = ratio / (1.0 + ratio)  # VAL2025: baseline recycled fraction IgK/(1+IgK)
    return {
        "plasma_volume": plasma,
        "interstitial_volume": interstitial,
        "to_interstitium": partition * from_interstitium,
        "from_interstitium": from_interstitium,
        "plasma_uptake": kdeg * plasma,
        "interstitial_uptake": kdeg * interstitial,
        "interstitial_production": np.broadcast_to(1.0 - phi, (n,)).astype(float),
        "plasma_equivalent": phi / plasma,
        # R0 / KD = IgK; R_T0 = R0 + E0 R0/(KD + R0) with E0 = rho * IgG
        "fcrn_total": kd * ratio + values["igg_endosomal_ratio"] * igg * recycled,
        "fcrn_kd_igg": np.broadcast_to(kd, (n,)).astype(float),
        "igg_endosomal_ratio": np.broadcast_to(values["igg_endosomal_ratio"], (n,)).astype(float),
        "fcrn_turnover_rate": values["fcrn_turnover_rate"],
        "igg_production": uptake * (igg - anti_sgc) * (1.0 - recycled),
        "anti_sgc_production": uptake * anti_sgc * (1.0 - recycled),
        "igg_short_lived_fraction": values["igg_short_lived_fraction"],
        "anti_sgc_short_lived_fraction": values["anti_sgc_short_lived_fraction"],
        "igg_baseline": igg,
        "anti_sgc_baseline": anti_sgc,
    }


def _inhibitor_constants(drug, weight, fcrn_total) -> dict[str, np.ndarray]:
    """The FcRn inhibitor slot: binding on the pool's scale and allometric PK."""
    n = weight.shape[0]
    scale_cl = (weight / drug["reference_weight"]) ** drug["clearance_weight_exponent"]
    scale_v = (weight / drug["reference_weight"]) ** drug["volume_weight_exponent"]
    capacity_um = drug["fcrn_capacity"] * 1e-3
    return {
        # E_d = R_T0 c / R_pub with c the molar drug concentration: mg/mL -> uM is 1e3 / MW(kDa)
        "inhibitor_endosomal_ratio": fcrn_total * 1e3 / (drug["molecular_weight"] * capacity_um),
        "inhibitor_fcrn_kd": drug["fcrn_kd"] * 1e-3 * fcrn_total / capacity_um,
        "inhibitor_clearance": drug["clearance"] * 1e3 * scale_cl,
        "inhibitor_central_volume": drug["central_volume"] * 1e3 * scale_v,
        "inhibitor_peripheral_volume": drug["peripheral_volume"] * 1e3 * scale_v,
        "inhibitor_intercompartmental_clearance": (
            drug["intercompartmental_clearance"] * 1e3 * scale_cl
        ),
        "inhibitor_complex_excess_degradation": drug["complex_excess_degradation"],
        "inhibitor_sc_absorption_rate": drug.get("sc.absorption_rate", np.zeros(n)),
        "inhibitor_sc_bioavailability": drug.get("sc.bioavailability", np.zeros(n)),
    }


def _anti_cd20_constants(cd20, weight, height) -> dict[str, np.ndarray]:
    """The anti-CD20 slot: PK (central volume scaled by body surface area) and B-cell
    depletion."""
    bsa = body_surface_area(weight, height)
    return {
        "anti_cd20_central_volume": cd20["central_volume"] * 1e3 * bsa / cd20["reference_bsa"],
        "anti_cd20_elimination_rate": cd20["elimination_rate"],
        "anti_cd20_distribution_rate": cd20["distribution_rate"],
        "anti_cd20_redistribution_rate": cd20["redistribution_rate"],
        "anti_cd20_emax": cd20["bcell_depletion_emax"],
        "anti_cd20_ec50": cd20["bcell_depletion_ec50"] * 1e-3,
    }


def _slot(entry, empty, n, random_effects) -> dict[str, np.ndarray]:
    """Per-patient constants of a drug slot (arrays of shape (n,))."""
    if entry is None:
        return {name: np.full(n, value) for name, value in empty.items()}
    return entry.per_patient(n, random_effects)


def typical_values(parameters: ParameterSet | None = None, n: int = 1) -> dict[str, np.ndarray]:
    """Every parameter at its typical (median) value, as arrays of length ``n``."""
    parameters = parameters or load_human_parameters()
    return {name: np.full(n, value) for name, value in parameters.typical().items()}


def initial_state(s: Patients) -> np.ndarray:
    """Untreated steady state, shape (N_STATES, n)."""
    y = np.zeros((N_STATES, s.n))
    partition = s.to_interstitium / s.from_interstitium  # Ci/Cp at steady state
    for kind, conc in (
        ("igg", s.igg_baseline - s.anti_sgc_baseline),
        ("anti_sgc", s.anti_sgc_baseline),
    ):
        y[HUMAN_MODEL.index(f"{kind}_plasma")] = conc * s.plasma_volume
        y[HUMAN_MODEL.index(f"{kind}_interstitial")] = partition * conc * s.interstitial_volume
    y[HUMAN_MODEL.index("fcrn_relative")] = 1.0
    y[HUMAN_MODEL.index("b_cell_source")] = 1.0
    y[HUMAN_MODEL.index("drg_anti_sgc")] = s.anti_sgc_baseline
    drive = sensitisation_drive(sgc_occupancy(s.anti_sgc_baseline, s), s)
    y[HUMAN_MODEL.index("sensitisation")] = 1.0 + drive
    return y


def derivatives(t, y, s: Patients, ops=NUMPY) -> list:
    """Time derivative of each state (list in STATES order) at time ``t`` (days).

    The single definition of the human model's dynamics (see the module docstring)."""
    (
        igg_p,
        igg_i,
        auto_p,
        auto_i,
        ivig_p,
        ivig_i,
        depot,
        drug_c,
        drug_p,
        fcrn,
        cd20_c,
        cd20_p,
        source,
        drg,
        sens,
    ) = y
    cp = [x / s.plasma_volume for x in (igg_p, auto_p, ivig_p)]
    ci = [x / s.interstitial_volume for x in (igg_i, auto_i, ivig_i)]
    drug_conc = drug_c / s.inhibitor_central_volume
    body = s.plasma_equivalent * (igg_p + igg_i + auto_p + auto_i + ivig_p + ivig_i)

    free = free_fcrn(body, drug_conc, fcrn, s, ops)
    unrecycled = 1.0 - recycled_fraction(free, s.fcrn_kd_igg)
    bound = recycled_fraction(free, s.inhibitor_fcrn_kd)

    exchange = [
        s.to_interstitium * p - s.from_interstitium * i for p, i in zip(cp, ci, strict=True)
    ]
    production = (
        s.igg_production * (s.igg_short_lived_fraction * source + 1.0 - s.igg_short_lived_fraction),
        s.anti_sgc_production
        * (s.anti_sgc_short_lived_fraction * source + 1.0 - s.anti_sgc_short_lived_fraction),
        0.0,
    )
    to_tissue = s.interstitial_production
    plasma_rates = [
        (1.0 - to_tissue) * production[k] - s.plasma_uptake * cp[k] * unrecycled - exchange[k]
        for k in range(3)
    ]
    tissue_rates = [
        to_tissue * production[k] - s.interstitial_uptake * ci[k] * unrecycled + exchange[k]
        for k in range(3)
    ]

    absorption = s.inhibitor_sc_absorption_rate * depot
    free_drug = drug_conc * (1.0 - bound)
    distribution = (
        s.inhibitor_intercompartmental_clearance * free_drug
        - s.inhibitor_intercompartmental_clearance * drug_p / s.inhibitor_peripheral_volume
    )
    complex_loss = (s.fcrn_turnover_rate + s.inhibitor_complex_excess_degradation) * drug_c * bound
    drug_bound_fcrn = s.inhibitor_endosomal_ratio * drug_conc * bound / s.fcrn_total

    cd20_conc = cd20_c / s.anti_cd20_central_volume
    depletion = s.anti_cd20_emax * cd20_conc / (s.anti_cd20_ec50 + cd20_conc)

    theta = sgc_occupancy(drg, s, ops)
    return [
        plasma_rates[0],
        tissue_rates[0],
        plasma_rates[1],
        tissue_rates[1],
        plasma_rates[2],
        tissue_rates[2],
        -absorption,
        s.inhibitor_sc_bioavailability * absorption
        - s.inhibitor_clearance * free_drug
        - distribution
        - complex_loss,
        distribution,
        s.fcrn_turnover_rate * (1.0 - fcrn)
        - s.inhibitor_complex_excess_degradation * drug_bound_fcrn,
        -(s.anti_cd20_elimination_rate + s.anti_cd20_distribution_rate) * cd20_c
        + s.anti_cd20_redistribution_rate * cd20_p,
        s.anti_cd20_distribution_rate * cd20_c - s.anti_cd20_redistribution_rate * cd20_p,
        s.bcell_turnover_rate * (1.0 - (1.0 + depletion) * source),
        s.drg_equilibration_rate * (cp[1] - drg),
        s.sensitisation_turnover * (1.0 + sensitisation_drive(theta, s) - sens),
    ]


HUMAN_MODEL = ModelDefinition(
    name="human_fibromyalgia",
    states=STATES,
    state_units=STATE_UNITS,
    subjects_type=Patients,
    derivatives=derivatives,
    parameter_set=load_human_parameters,
)
