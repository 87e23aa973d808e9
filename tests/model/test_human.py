"""Tests for fmsim.model.human: the human IgG / FcRn / therapy model and its parameter file.

Units: days, mg, mL, mg/mL; FcRn in uM. Reference values: VAL2025 (Valenzuela et al., CPT
Pharmacometrics Syst Pharmacol 2025) kdeg,IgG 0.217/day and IgK 5.08, i.e. net IgG elimination
0.0357/day and recycled fraction 0.836 at baseline; REV2007 (Reverberi, Blood Transfus 2007):
45% of body IgG intravascular.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from fmsim.engine import Infusion, Removal, run
from fmsim.model.drugs import builtin_library
from fmsim.model.human import (
    HUMAN_MODEL,
    N_STATES,
    PLASMA_STATES,
    STATES,
    body_surface_area,
    build_patients,
    free_fcrn,
    initial_state,
    load_human_parameters,
    recycled_fraction,
    typical_values,
)
from fmsim.model.symbolic import FREE_FCRN, symbolic_model

PARAMS = load_human_parameters()
LIBRARY = builtin_library()
FCRN_INHIBITORS = LIBRARY.names("fcrn_inhibitor")
IGG_STATES = [
    HUMAN_MODEL.index(f"{k}_{c}")
    for k in ("igg", "anti_sgc", "ivig")
    for c in ("plasma", "interstitial")
]


def sampled(n=40, seed=3, inhibitor="efgartigimod"):
    rng = np.random.default_rng(seed)
    values = PARAMS.sample(n, rng)
    fraction = np.where(np.arange(n) % 2 == 0, values["anti_sgc_fraction"], 0.0)
    effects = {"fcrn_inhibitor.clearance": rng.standard_normal(n)}
    return build_patients(
        values, fraction, LIBRARY.get(inhibitor), LIBRARY.get("rituximab"), effects
    )


def typical(anti_sgc_fraction=0.005, inhibitor="efgartigimod", **overrides):
    values = typical_values(PARAMS)
    values.update({k: np.full(1, v) for k, v in overrides.items()})
    return build_patients(values, anti_sgc_fraction, LIBRARY.get(inhibitor))


def total_igg_amount(states):
    return states[..., IGG_STATES, :].sum(axis=-2)


def body_equivalent(y, s):
    """Body IgG as plasma-equivalent concentration phi/Vp x amount (mg/mL), the FcRn load."""
    return s.plasma_equivalent * total_igg_amount(y)


# ---------------------------------------------------------------- parameter file


def test_parameter_file_has_a_source_for_every_entry():
    for p in PARAMS.parameters.values():
        assert p.source.strip(), p.name
        assert p.cv >= 0, p.name
    calibrated = [p.name for p in PARAMS.parameters.values() if "calibrated" in p.source]
    assert "igg_endosomal_ratio" in calibrated
    # the patient file holds no agent: drugs and devices are library entries
    assert not [name for name in PARAMS.parameters if name.startswith(tuple(LIBRARY.names()))]


def test_baseline_reproduces_the_sourced_igg_kinetics():
    s = typical()
    y = initial_state(s)
    conc = (
        y[HUMAN_MODEL.index("igg_plasma")] + y[HUMAN_MODEL.index("anti_sgc_plasma")]
    ) / s.plasma_volume
    np.testing.assert_allclose(conc, PARAMS["igg_baseline"].value)
    # recycled fraction at baseline = IgK / (1 + IgK) (VAL2025)
    free = free_fcrn(conc, 0.0, 1.0, s)
    ratio = PARAMS["igg_recycling_ratio"].value
    np.testing.assert_allclose(
        recycled_fraction(free, s.fcrn_kd_igg), ratio / (1 + ratio), rtol=1e-10
    )
    # 45% of body IgG in plasma (REV2007)
    plasma = y[HUMAN_MODEL.index("igg_plasma")] + y[HUMAN_MODEL.index("anti_sgc_plasma")]
    np.testing.assert_allclose(plasma / total_igg_amount(y), 0.45, rtol=1e-12)
    # net elimination of body IgG = kdeg,IgG / (1 + IgK) = 0.0357/day (t1/2 19.4 d)
    net = (s.igg_production + s.anti_sgc_production) / total_igg_amount(y)
    np.testing.assert_allclose(net, 0.217 / 6.08, rtol=1e-10)
    np.testing.assert_allclose(s.anti_sgc_baseline, 0.005 * conc)


def test_tracer_half_life_is_the_net_igg_half_life():
    """A trace of IVIG decays with the body-IgG half-life ln2 (1 + IgK)/kdeg = 19.4 days, to
    within 3% (the slow eigenvalue of the two-compartment system: exchange is not instant)."""
    s = typical(0.0)
    times = np.arange(0.0, 61.0, 1.0)
    dose = [Infusion(0.0, 0.01, HUMAN_MODEL.index("ivig_plasma"), 1.0)]
    ivig = run(HUMAN_MODEL, s, initial_state(s), times, dose).state("ivig_plasma")[:, 0]
    window = times >= 10
    slope = np.polyfit(times[window], np.log(ivig[window]), 1)[0]
    assert -np.log(2) / slope == pytest.approx(np.log(2) * 6.08 / 0.217, rel=0.03)


# ---------------------------------------------------------------- steady state and balance


@pytest.mark.parametrize("inhibitor", FCRN_INHIBITORS)
def test_untreated_patients_stay_at_steady_state(inhibitor):
    s = sampled(inhibitor=inhibitor)
    y0 = initial_state(s)
    assert np.max(np.abs(HUMAN_MODEL.rhs(0.0, y0, s)) / (np.abs(y0) + 1e-9)) < 1e-9
    states = run(HUMAN_MODEL, s, y0, [0.0, 180.0, 365.0]).states
    np.testing.assert_allclose(states[-1], y0, rtol=1e-6, atol=1e-9)


def test_exchange_cancels_and_igg_balance_is_production_minus_catabolism():
    s = sampled(seed=5)
    rng = np.random.default_rng(0)
    y = initial_state(s) * rng.uniform(0.3, 2.0, (N_STATES, s.n))
    y[HUMAN_MODEL.index("inhibitor_central")] = rng.uniform(0.0, 2000.0, s.n)
    dy = HUMAN_MODEL.rhs(0.0, y, s)
    kinds = ("igg", "anti_sgc", "ivig")
    cp = sum(y[HUMAN_MODEL.index(f"{k}_plasma")] for k in kinds) / s.plasma_volume
    ci = sum(y[HUMAN_MODEL.index(f"{k}_interstitial")] for k in kinds) / s.interstitial_volume
    drug = y[HUMAN_MODEL.index("inhibitor_central")] / s.inhibitor_central_volume
    free = free_fcrn(body_equivalent(y, s), drug, y[HUMAN_MODEL.index("fcrn_relative")], s)
    # each compartment's IgG is taken up at kdeg (VAL2025) and recycled with fraction f
    uptake = s.plasma_uptake * cp + s.interstitial_uptake * ci
    catabolism = uptake * (1.0 - recycled_fraction(free, s.fcrn_kd_igg))
    source = y[HUMAN_MODEL.index("b_cell_source")]
    production = s.igg_production * (
        s.igg_short_lived_fraction * source + 1 - s.igg_short_lived_fraction
    ) + s.anti_sgc_production * (
        s.anti_sgc_short_lived_fraction * source + 1 - s.anti_sgc_short_lived_fraction
    )
    np.testing.assert_allclose(dy[IGG_STATES].sum(axis=0), production - catabolism, rtol=1e-9)


def test_drug_mass_balance():
    """Drug leaves only by linear clearance of free drug, with the FcRn complex, or as the
    non-bioavailable part of the s.c. depot."""
    s = sampled(seed=7, inhibitor="nipocalimab")
    rng = np.random.default_rng(1)
    y = initial_state(s)
    y[HUMAN_MODEL.index("inhibitor_depot")] = rng.uniform(0, 500, s.n)
    y[HUMAN_MODEL.index("inhibitor_central")] = rng.uniform(0, 2000, s.n)
    y[HUMAN_MODEL.index("inhibitor_peripheral")] = rng.uniform(0, 300, s.n)
    dy = HUMAN_MODEL.rhs(0.0, y, s)
    conc = y[HUMAN_MODEL.index("inhibitor_central")] / s.inhibitor_central_volume
    bound = recycled_fraction(free_fcrn(body_equivalent(y, s), conc, 1.0, s), s.inhibitor_fcrn_kd)
    losses = (
        (1 - s.inhibitor_sc_bioavailability)
        * s.inhibitor_sc_absorption_rate
        * y[HUMAN_MODEL.index("inhibitor_depot")]
        + s.inhibitor_clearance * conc * (1 - bound)
        + (s.fcrn_turnover_rate + s.inhibitor_complex_excess_degradation)
        * y[HUMAN_MODEL.index("inhibitor_central")]
        * bound
    )
    drug = [
        HUMAN_MODEL.index(n)
        for n in ("inhibitor_depot", "inhibitor_central", "inhibitor_peripheral")
    ]
    np.testing.assert_allclose(dy[drug].sum(axis=0), -losses, rtol=1e-9)


def test_plasma_refills_from_the_interstitium_at_the_lymph_exchange_rate():
    """IgG is made and catabolised in both compartments in proportion to their steady-state
    amounts, so after a plasma-only removal the gap between plasma and interstitial
    concentration (interstitial on the plasma scale, Ci Cp0/Ci0) closes at exactly
    lambda = kdeg (1 - f) + L_in/Vp + L_out/Vi, with f the recycled fraction (nearly constant)."""
    s = typical(0.0)
    times = np.linspace(0.0, 1.0, 11)
    removal = [Removal(0.0, (HUMAN_MODEL.index("igg_plasma"),), 0.4)]
    states = run(HUMAN_MODEL, s, initial_state(s), np.r_[times[0], times[1:]], removal).states
    y0 = initial_state(s)
    u = states[:, HUMAN_MODEL.index("igg_plasma"), 0] / y0[HUMAN_MODEL.index("igg_plasma"), 0]
    w = (
        states[:, HUMAN_MODEL.index("igg_interstitial"), 0]
        / y0[HUMAN_MODEL.index("igg_interstitial"), 0]
    )
    recycled = recycled_fraction(free_fcrn(body_equivalent(states[-1], s), 0.0, 1.0, s), 0.7)[0]
    rate = (
        0.217 * (1 - recycled)
        + s.to_interstitium[0] / s.plasma_volume[0]
        + s.from_interstitium[0] / s.interstitial_volume[0]
    )
    gap = u[1:] - w[1:]
    expected = (gap[0]) * np.exp(-rate * (times[1:] - times[1]))
    np.testing.assert_allclose(gap, expected, rtol=2e-3)


def test_infused_ivig_is_accounted_for_over_time():
    """d(body IgG)/dt integrated over 30 days = infused IVIG + production - catabolism."""
    s = typical(0.0)
    times = np.arange(0.0, 30.0 + 1e-9, 0.02)
    dose = 2000.0 * 75.0  # 2 g/kg, 75 kg, over 5 days
    events = [Infusion(0.0, 5.0, HUMAN_MODEL.index("ivig_plasma"), dose / 5.0)]
    states = run(HUMAN_MODEL, s, initial_state(s), times, events).states
    rates = np.stack([HUMAN_MODEL.rhs(t, y, s) for t, y in zip(times, states, strict=True)])
    net = np.trapezoid(rates[:, IGG_STATES].sum(axis=1), times, axis=0)
    change = total_igg_amount(states[-1]) - total_igg_amount(states[0])
    np.testing.assert_allclose(change, net + dose, rtol=2e-4)


def test_removal_takes_exactly_the_fraction_of_plasma_states():
    s = sampled(n=6, seed=9)
    y0 = initial_state(s)
    y0[HUMAN_MODEL.index("inhibitor_central")] = 100.0
    y0[HUMAN_MODEL.index("anti_cd20_central")] = 50.0
    fraction = 1.0 - np.exp(-1.0)  # one plasma volume exchanged
    result = run(
        HUMAN_MODEL, s, y0, [0.0, 1.0, 1.0 + 1e-9], [Removal(1.0, PLASMA_STATES, fraction)]
    )
    before, after = result.states[1], result.states[2]
    for k in range(N_STATES):
        expected = before[k] * (1 - fraction) if k in PLASMA_STATES else before[k]
        np.testing.assert_allclose(after[k], expected, rtol=1e-6, err_msg=STATES[k])


def test_no_anti_sgc_igg_means_no_sensitisation():
    s = typical(0.0)
    y = initial_state(s)
    assert y[HUMAN_MODEL.index("sensitisation"), 0] == 1.0
    assert y[HUMAN_MODEL.index("drg_anti_sgc"), 0] == 0.0
    assert HUMAN_MODEL.rhs(0.0, y, s)[HUMAN_MODEL.index("sensitisation"), 0] == 0.0


def test_anti_sgc_positive_patients_start_sensitised_at_steady_state():
    s = typical(0.005)
    y = initial_state(s)
    assert y[HUMAN_MODEL.index("sensitisation"), 0] > 1.5
    assert np.max(np.abs(HUMAN_MODEL.rhs(0.0, y, s))) < 1e-9


def test_body_surface_area_mosteller():
    assert body_surface_area(70.0, 170.0) == pytest.approx(np.sqrt(170 * 70 / 3600))


def test_drug_constants_come_from_the_library_entry_per_patient():
    """Allometric scaling (VAL2025: CL x (W/75)^0.75, V x W/75) of the entry's values, and the
    patient's deviate scaled by the entry's CV (nipocalimab CL: 24.1%)."""
    values = typical_values(PARAMS, 3)
    values["body_weight"] = np.array([50.0, 75.0, 100.0])
    eta = np.array([0.0, 1.0, -1.0])
    s = build_patients(
        values, 0.0, LIBRARY.get("nipocalimab"), None, {"fcrn_inhibitor.clearance": eta}
    )
    sigma = np.sqrt(np.log1p(0.241**2))
    expected = 0.655e3 * (values["body_weight"] / 75.0) ** 0.75 * np.exp(sigma * eta)
    np.testing.assert_allclose(s.inhibitor_clearance, expected)
    np.testing.assert_allclose(s.inhibitor_central_volume, 3.23e3 * values["body_weight"] / 75.0)


def test_empty_drug_slots_keep_the_drug_out_of_the_fcrn_pool():
    s = build_patients(typical_values(PARAMS), 0.005)
    assert s.inhibitor_endosomal_ratio[0] == 0.0 and s.anti_cd20_emax[0] == 0.0
    y = initial_state(s)
    y[HUMAN_MODEL.index("inhibitor_central")] = (
        100.0  # even a dose leaves IgG, FcRn and S at steady state
    )
    rates = HUMAN_MODEL.rhs(0.0, y, s)
    drug = [
        HUMAN_MODEL.index(n)
        for n in ("inhibitor_depot", "inhibitor_central", "inhibitor_peripheral")
    ]
    others = np.delete(np.arange(N_STATES), drug)
    assert np.max(np.abs(rates[others] / (np.abs(y[others]) + 1e-9))) < 1e-9


# ---------------------------------------------------------------- symbolic form


def test_symbolic_model_matches_the_numeric_right_hand_side():
    sm = symbolic_model(HUMAN_MODEL)
    assert len(sm.rates) == N_STATES
    assert len(sm.fcrn.ligands) == 2  # all IgG kinds share one ligand; the drug is the other
    s = sampled(n=3, seed=11, inhibitor="nipocalimab")
    y = initial_state(s) * np.random.default_rng(2).uniform(0.5, 1.5, (N_STATES, s.n))
    y[HUMAN_MODEL.index("inhibitor_central")] = [10.0, 300.0, 3000.0]
    y[HUMAN_MODEL.index("anti_cd20_central")] = [0.0, 100.0, 1000.0]
    numeric = HUMAN_MODEL.rhs(0.0, y, s)
    functions = sympy.lambdify([*sm.states, *sm.constants, FREE_FCRN], sm.rates)
    free = free_fcrn(
        body_equivalent(y, s),
        y[HUMAN_MODEL.index("inhibitor_central")] / s.inhibitor_central_volume,
        y[HUMAN_MODEL.index("fcrn_relative")],
        s,
    )
    for i in range(s.n):
        constants = [getattr(s, name)[i] for name in HUMAN_MODEL.constants]
        rates = np.array(functions(*y[:, i], *constants, free[i]), dtype=float)
        np.testing.assert_allclose(rates, numeric[:, i], rtol=1e-10, atol=1e-12)
