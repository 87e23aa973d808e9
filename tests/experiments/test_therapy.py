"""Tests of the human therapy courses (fmsim.experiments.therapy) against independent
expectations: published population PK/PD models re-implemented here from their papers' tables
(transcribed in nlmixr2lib; LG2022 = Lledo-Garcia et al. CPT Pharmacometrics Syst Pharmacol
2022;11:116, rozanolixizumab, first-in-human i.v. data; VAL2025 = Valenzuela et al. CPT
Pharmacometrics Syst Pharmacol 2025;14:2074, nipocalimab), analytic washout formulas, mass
balance and the calibrations. The comparisons with published pharmacodynamics (targets, one per
row of docs/validation.md) are tested in test_validation.py. Typical patient unless stated
(every parameter at its median, 75 kg, IgG 11.4 mg/mL, anti-SGC 0.5% of IgG).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from fmsim.config.therapy import load_protocol, parse_protocol
from fmsim.engine import Bolus, Infusion, Removal
from fmsim.experiments import therapy as th
from fmsim.model.human import HUMAN_MODEL, PLASMA_STATES, body_surface_area

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "therapies").glob("*.yaml"))
EPS = 1e-6  # output just after an instantaneous exchange session
MONTH = 365.25 / 12.0


def protocol(*blocks, name="test"):
    return parse_protocol({"name": name, "therapies": list(blocks)})


def dosing(kind, dose, days, **extra):
    return {"type": kind, "dose": dose, "days": list(days), **extra}


@cache
def typical_course(key, days, extra_times=()):
    """Simulated course of the typical anti-SGC-positive patient for a protocol in CASES."""
    times = np.union1d(np.arange(0.0, days + 0.5, 1.0), extra_times)
    return th.simulate_course(th.typical_population(), CASES[key], days, times=times)


def summary(key, days, extra_times=()):
    return th.course_summary(typical_course(key, days, extra_times)).iloc[0]


def remaining(result, day):
    """Total IgG on ``day`` as a fraction of baseline."""
    return float(result.total_igg[np.isclose(result.days, day), 0][0] / result.total_igg[0, 0])


CASES = {
    "efgartigimod_iv": protocol(dosing("efgartigimod_iv", "10 mg/kg", [0, 7, 14, 21])),
    "nipocalimab_30_15": protocol(
        dosing("nipocalimab", "30 mg/kg", [0]), dosing("nipocalimab", "15 mg/kg", [14, 28])
    ),
    "nipocalimab_60_q2w": protocol(dosing("nipocalimab", "60 mg/kg", [0, 14, 28, 42])),
    "tpe_1pv": protocol({"type": "tpe", "plasma_volumes": 1.0, "days": [0]}),
    "tpe_1_5pv": protocol({"type": "tpe", "plasma_volumes": 1.5, "days": [0]}),
    "ivig": protocol({"type": "ivig", "dose": "0.4 g/kg", "start": 0, "every": 1, "count": 5}),
    "rituximab_2x1g": protocol(dosing("anti_cd20", "1000 mg", [0, 14], drug="rituximab")),
    "rituximab_375x4": protocol(dosing("anti_cd20", "375 mg/m2", [0, 7, 14, 21], drug="rituximab")),
}


# ---------------------------------------------------------------- published models (reference)


def _segments(doses, end, hours):
    """Breakpoints of i.v. infusions ``doses`` [(day, mg)] of ``hours`` length up to ``end``."""
    length = hours / 24.0
    return sorted({0.0, end, *(d for d, _ in doses), *(d + length for d, _ in doses)}), length


def _integrate(rhs, y0, doses, times, hours):
    points, length = _segments(doses, times[-1], hours)
    y, out = np.array(y0, dtype=float), {}
    for a, b in zip(points[:-1], points[1:], strict=True):
        rate = sum(mg / length for d, mg in doses if d <= a < d + length)
        wanted = [t for t in times if a <= t <= b]
        sol = solve_ivp(
            lambda t, x, rate=rate: rhs(x, rate),
            (a, b),
            y,
            t_eval=sorted({*wanted, b}),
            method="LSODA",
            rtol=1e-8,
            atol=1e-10,
        )
        for t, value in zip(sol.t, sol.y[-1], strict=True):
            out.setdefault(t, value)
        y = sol.y[:, -1]
    return np.array([out[t] for t in times])


def _free(ctot, target, kd):
    disc = ctot - target - kd
    return 0.5 * (disc + np.sqrt(disc * disc + 4.0 * kd * ctot))


def lg2022_igg(doses, times):
    """Relative total IgG after i.v. rozanolixizumab doses [(day, mg)] (LG2022 Table 2, FIH)."""
    vc, q, vp, cl, kdeg = 2.7, 0.271, 0.36, 0.968, 0.88
    kd, rtot = 1.0 * 0.148, 147.0 * 0.148  # nM -> mg/L (148 kDa)
    kout, emax, ec50 = 0.0364, 4.24, 0.154

    def rhs(x, rate):
        central, peripheral, igg = x
        ctot = central / vc
        free = _free(ctot, rtot, kd)
        effect = emax * free / (free + ec50)
        return [
            rate - (cl + q) * free - kdeg * vc * (ctot - free) + q / vp * peripheral,
            q * free - q / vp * peripheral,
            kout - kout * igg * (1.0 + effect),
        ]

    return _integrate(rhs, [0.0, 0.0, 1.0], doses, times, hours=1.0)


def val2025_igg(doses, times):
    """Relative total IgG after i.v. nipocalimab doses [(day, mg)], 75 kg (VAL2025 Table 3)."""
    cl, vc, q, vp = 0.655, 3.23, 0.25, 0.622
    accessible = 143.0 * 0.142 * 0.947  # FcRn0 nM -> mg/L (142 kDa) x FRmax
    kss, kint, kdeg = 6.05, 62.4, 1.3
    kdeg_igg, igk = 0.217, 5.08
    krec = kdeg_igg * igk / (1.0 + igk)

    def rhs(x, rate):
        central, peripheral, target, igg = x
        ctot = central / vc
        free = _free(ctot, target, kss)
        bound = target * free / (kss + free)
        free_fcrn = (target - bound) / accessible
        return [
            rate - (cl + q) * free - kint * vc * bound + q / vp * peripheral,
            q * free - q / vp * peripheral,
            kdeg * accessible - kdeg * target - (kint - kdeg) * bound,
            (kdeg_igg - krec) - (kdeg_igg - krec * free_fcrn) * igg,
        ]

    return _integrate(rhs, [0.0, 0.0, accessible, 1.0], doses, times, hours=0.5)


# ---------------------------------------------------------------- FcRn inhibitors


def test_efgartigimod_population_band():
    population = th.sample_population(24, np.random.default_rng(5), anti_sgc_positive_fraction=0.5)
    result = th.simulate_course(population, CASES["efgartigimod_iv"], 35)
    nadir = th.course_summary(result).igg_nadir_reduction_pct
    assert 55.9 <= np.median(nadir) <= 75.0  # ADAPT+ to Ulrichts 2018, the published range
    assert nadir.min() > 40 and nadir.max() < 90


def test_efgartigimod_lowers_anti_sgc_igg_like_total_igg():
    s = summary("efgartigimod_iv", 84)
    assert s.anti_sgc_nadir_reduction_pct == pytest.approx(s.igg_nadir_reduction_pct, abs=0.5)


@pytest.mark.parametrize("mg_per_kg", [1, 7])
def test_rozanolixizumab_iv_matches_the_published_model(mg_per_kg):
    """LG2022 (fitted to first-in-human 1-7 mg/kg i.v.): nadir within 6 percentage points."""
    times = np.arange(0.0, 58.0)
    population = th.typical_population(0.0)
    block = dosing("rozanolixizumab", f"{mg_per_kg} mg/kg", [0], route="iv")
    ours = th.simulate_course(population, protocol(block), 57).total_igg[:, 0]
    ours = ours / ours[0]
    reference = lg2022_igg([(0.0, mg_per_kg * 75.0)], times)
    assert 1 - ours.min() == pytest.approx(1 - reference.min(), abs=0.06)


@pytest.mark.parametrize(
    ("key", "doses", "days"),
    [
        ("nipocalimab_30_15", [(0, 30), (14, 15), (28, 15)], 42),
        ("nipocalimab_60_q2w", [(0, 60), (14, 60), (28, 60), (42, 60)], 56),
    ],
)
def test_nipocalimab_matches_the_published_model(key, doses, days):
    """VAL2025 (fitted to 160 healthy + 68 gMG): nadir within 3 percentage points and the
    course within 0.06 (fraction of baseline) at every day."""
    times = np.arange(0.0, days + 1.0)
    reference = val2025_igg([(d, mg * 75.0) for d, mg in doses], times)
    result = typical_course(key, days)
    ours = result.total_igg[:, 0] / result.total_igg[0, 0]
    assert 1 - ours.min() == pytest.approx(1 - reference.min(), abs=0.03)
    assert np.max(np.abs(ours - reference)) < 0.06


# ---------------------------------------------------------------- plasma exchange, adsorption


def test_tpe_session_removes_one_compartment_washout():
    """One session removes 1 - exp(-V) of plasma IgG (V plasma volumes): 63% at 1 PV."""
    for key, volumes in (("tpe_1pv", 1.0), ("tpe_1_5pv", 1.5)):
        after = remaining(typical_course(key, 3, (EPS,)), EPS)
        assert after == pytest.approx(np.exp(-volumes), rel=1e-4)  # + 1e-6 day of rebound


def test_tpe_rebound_comes_from_the_interstitium():
    """The plasma refills from the extravascular pool (55%, Reverberi 2007) within days."""
    result = typical_course("tpe_1pv", 3, (EPS,))
    assert remaining(result, EPS) < remaining(result, 1) < remaining(result, 3)


def test_fixed_volume_sessions_scale_with_the_patients_plasma_volume():
    """2500 mL processed in a 75 kg patient (40 mL/kg plasma: 3000 mL) is 5/6 plasma volume."""
    population = th.typical_population(0.0).select(np.zeros(2, dtype=int))
    population.values["body_weight"][:] = [75.0, 50.0]
    fixed = protocol({"type": "plasma_exchange", "volume": "2.5 L", "days": [0]})
    fraction = th.session_fraction(fixed.therapies[0], population)
    np.testing.assert_allclose(fraction, 1 - np.exp(-np.array([2500 / 3000, 2500 / 2000])))


def test_plasma_replacement_returns_donor_igg():
    """With plasma as replacement fluid the donor IgG stays: f Vp x 10 mg/mL is returned."""
    albumin = protocol({"type": "plasma_exchange", "plasma_volumes": 1.0, "days": [0]})
    plasma = protocol(
        {
            "type": "plasma_exchange",
            "fluid": "fresh_frozen_plasma",
            "plasma_volumes": 1.0,
            "days": [0],
        }
    )
    times = [0.0, EPS]
    population = th.typical_population(0.0)
    after_albumin = th.simulate_course(population, albumin, EPS, times=times).total_igg[-1, 0]
    result = th.simulate_course(population, plasma, EPS, times=times)
    returned = 10.0 * (1 - np.exp(-1.0))  # mg/mL of donor IgG in plasma
    assert result.total_igg[-1, 0] == pytest.approx(after_albumin + returned, rel=1e-4)
    assert result.ivig[-1, 0] == pytest.approx(returned, rel=1e-4)


# ---------------------------------------------------------------- IVIG


def test_ivig_peaks_at_the_end_of_the_infusion():
    assert summary("ivig", 120).igg_peak_day <= 6


def test_ivig_saturates_fcrn_and_shortens_its_own_half_life():
    result = typical_course("ivig", 120)
    window = (result.days >= 7) & (result.days <= 21)
    slope = np.polyfit(result.days[window], np.log(result.ivig[window, 0]), 1)[0]
    tracer = np.log(2) * 6.08 / 0.217  # 19.4 days, see tests/model/test_human.py
    assert -np.log(2) / slope < 0.85 * tracer
    assert result.fcrn_free[5, 0] < 0.8


# ---------------------------------------------------------------- rituximab


@pytest.mark.parametrize("key", ["rituximab_2x1g", "rituximab_375x4"])
def test_rituximab_depletes_and_b_cells_return(key):
    result = typical_course(key, 270)
    assert result.b_cells[14, 0] < 0.05  # B cells depleted within two weeks
    assert result.b_cells[-1, 0] > 0.5  # and largely repleted by 9 months


# ---------------------------------------------------------------- anti-SGC-negative patients


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_without_anti_sgc_igg_sensitisation_stays_one(path):
    population = th.typical_population(0.0)
    result = th.simulate_course(population, load_protocol(path), 60, step=2.0)
    assert np.all(result.sensitisation == 1.0)
    assert np.all(result.anti_sgc == 0.0)


def test_anti_sgc_positive_patients_improve_with_igg_lowering():
    s = summary("efgartigimod_iv", 84)
    assert s.sensitisation_min < s.sensitisation_baseline - 0.3


# ---------------------------------------------------------------- events and outputs


def test_events_are_per_patient():
    population = th.typical_population().select(np.zeros(3, dtype=int))
    population.values["body_weight"][:] = [50.0, 100.0, 150.0]
    events = th.protocol_events(
        protocol(
            dosing("efgartigimod_iv", "10 mg/kg", [0], max_dose="1200 mg"),
            dosing("anti_cd20", "375 mg/m2", [1], drug="rituximab"),
            dosing("efgartigimod_sc", "1000 mg", [2]),
            {"type": "tpe", "plasma_volumes": 1.5, "days": [3]},
            {
                "type": "immunoadsorption",
                "plasma_volumes": 2.0,
                "column_efficiency": 0.5,
                "days": [4],
            },
            {"type": "placebo", "days": [5]},
        ),
        population,
    )
    efg, rtx, sc, tpe, ia = events
    assert isinstance(efg, Infusion) and efg.state == HUMAN_MODEL.index("inhibitor_central")
    np.testing.assert_allclose(efg.rate * (efg.stop - efg.start), [500.0, 1000.0, 1200.0])
    bsa = body_surface_area(population.values["body_weight"], population.values["height"])
    np.testing.assert_allclose(rtx.rate * (rtx.stop - rtx.start), 375.0 * bsa)
    rtx_state = HUMAN_MODEL.index("anti_cd20_central")
    assert rtx.state == rtx_state and rtx.stop - rtx.start == pytest.approx(4 / 24)
    assert isinstance(sc, Bolus) and sc.state == HUMAN_MODEL.index("inhibitor_depot")
    assert isinstance(tpe, Removal) and tpe.states == PLASMA_STATES
    assert tpe.fraction == pytest.approx(1 - np.exp(-1.5))
    assert ia.fraction == pytest.approx(1 - np.exp(-1.0))


def test_simulate_course_outputs():
    population = th.sample_population(5, np.random.default_rng(2), anti_sgc_positive_fraction=0.6)
    result = th.simulate_course(population, CASES["efgartigimod_iv"], 28, step=7.0)
    assert result.days.tolist() == [0, 7, 14, 21, 28]
    for name in ("total_igg", "anti_sgc", "inhibitor", "anti_cd20", "sensitisation"):
        assert getattr(result, name).shape == (5, 5)
    np.testing.assert_allclose(result.total_igg[0], population.values["igg_baseline"])
    frame = result.to_frame()
    assert len(frame) == 25
    assert {"patient", "day", "total_igg", "anti_sgc", "inhibitor", "sensitisation"} <= set(frame)
    covariates = population.covariates()
    assert covariates.anti_sgc_positive.tolist() == result.anti_sgc_positive.tolist()


def test_sampled_positive_fraction():
    population = th.sample_population(4000, np.random.default_rng(1))
    assert population.anti_sgc_positive.mean() == pytest.approx(0.37, abs=0.03)
    assert np.all(population.anti_sgc_fraction[~population.anti_sgc_positive] == 0.0)
    with pytest.raises(ValueError, match="anti_sgc_positive_fraction"):
        th.sample_population(3, np.random.default_rng(1), anti_sgc_positive_fraction=1.5)


def test_placebo_has_no_effect_and_no_recovery_day():
    population = th.typical_population()
    result = th.simulate_course(
        population, load_protocol(EXAMPLES[[p.stem for p in EXAMPLES].index("placebo")]), 30
    )
    s = th.course_summary(result).iloc[0]
    assert abs(s.igg_nadir_reduction_pct) < 1e-3 and np.isnan(s.igg_recovery_day)
