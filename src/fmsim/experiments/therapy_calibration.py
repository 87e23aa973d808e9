"""The calibrated constants of the human model and the drug library, re-derived from their
targets (``python -m fmsim.experiments.therapy_calibration``; about a minute).

Each calibration is stated in docs/validation.md and in the constant's ``source``; most targets
are rows of the validation table (``fmsim/experiments/data/validation_targets.yaml``, by id), the
efgartigimod PK targets of Jing et al. 2024 are below. All use the typical patient. Order
matters: the IgG load of FcRn first (IVIG), then efgartigimod i.v. (central volume, clearance,
FcRn capacity) and s.c. (bioavailability, absorption rate), batoclimab's s.c. absorption, the
immunoadsorption columns and the short-lived plasma-cell fractions (rituximab).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, least_squares

from fmsim.config.therapy import parse_protocol
from fmsim.experiments.reference import published_target_set
from fmsim.experiments.therapy import CourseResult, simulate_course, typical_population
from fmsim.experiments.validation import metric_times, metric_values, output_times
from fmsim.model.drugs import DrugLibrary, builtin_library
from fmsim.model.human import load_human_parameters
from fmsim.model.parameters import ParameterSet

EFGARTIGIMOD_AUC = 5300.0 / 24.0  # ug day/mL over the week after the 4th 10 mg/kg (JING2024)
EFGARTIGIMOD_CMAX = 194.0  # ug/mL at the end of the 4th 1 h infusion (JING2024)
EFGARTIGIMOD_SC_AUC = 4790.0 / 24.0  # ug day/mL, week after the 4th 1000 mg s.c. (JING2024)
EFGARTIGIMOD_SC_TMAX = 47.74 / 24.0  # days after the 4th 1000 mg s.c. dose (JING2024 median)
EFGARTIGIMOD_SC_CMAX = 42.1  # ug/mL after the 4th 1000 mg s.c. dose (JING2024)
JING2024_WEIGHT = 70.0  # kg, assumed (the abstract gives no weight)


def _weekly(route: str, dose: str) -> dict:
    block = {"type": "fcrn_inhibitor", "drug": "efgartigimod", "route": route, "dose": dose}
    return {"therapies": [{**block, "start": 0, "every": 7, "count": 4}]}


@dataclass(frozen=True)
class Setting:
    """What a calibration step simulates with: the human parameter set and the drug library.
    Constants are named as in human.yaml, or ``entry.constant`` for the library (e.g.
    ``efgartigimod.clearance``, ``efgartigimod.sc.bioavailability``)."""

    parameters: ParameterSet
    library: DrugLibrary

    def value(self, name: str) -> float:
        entry, _, constant = name.partition(".")
        if constant:
            return self.library.get(entry).value(constant)
        return self.parameters[name].value

    def with_values(self, values: dict[str, float]) -> Setting:
        """A copy with the named constants replaced (canonical units)."""
        parameters, library = self.parameters, self.library
        for name, number in values.items():
            entry, _, constant = name.partition(".")
            if constant:
                changed = library.get(entry).with_values(**{constant.replace(".", "__"): number})
                library = library.replaced(changed)
            else:
                parameters = parameters.with_values(**{name: number})
        return Setting(parameters, library)

    def course(self, raw: dict, days: float, times, **typical) -> CourseResult:
        """``raw`` (a protocol mapping) simulated in the typical patient, anti-SGC negative
        unless ``anti_sgc_fraction`` is given, other typical values replaced by ``typical``."""
        fraction = typical.pop("anti_sgc_fraction", 0.0)
        population = typical_population(fraction, self.parameters, **typical)
        protocol = parse_protocol(raw, library=self.library)
        return simulate_course(population, protocol, days, times=times)

    def target(self, target_id: str) -> float:
        """The metric of validation target ``target_id`` in the typical anti-SGC-positive
        patient, simulated with this setting."""
        targets = published_target_set()
        spec = next(t for t in targets.targets if t.id == target_id)
        raw = targets.protocols[spec.protocol].model_dump(exclude_none=True)
        times = np.union1d(
            output_times(targets.protocols[spec.protocol], spec.days), metric_times(spec.metric)
        )
        fraction = self.parameters["anti_sgc_fraction"].value
        course = self.course(raw, spec.days, times, anti_sgc_fraction=fraction, **spec.typical)
        return float(metric_values(spec.metric, course)[0])


def default_setting() -> Setting:
    """The shipped human.yaml and drug library."""
    return Setting(load_human_parameters(), builtin_library())


def published(target_id: str) -> float:
    """The published number of a calibration target."""
    spec = next(t for t in published_target_set().targets if t.id == target_id)
    return float(spec.published)


def efgartigimod_iv_metrics(setting: Setting | None = None) -> tuple[float, float, float]:
    """(IgG reduction % on day 28, AUC ug day/mL days 21-28, Cmax ug/mL after the 4th dose) of
    10 mg/kg i.v. weekly x4 in a typical 70 kg patient."""
    times = np.union1d(np.arange(0.0, 28.001, 0.05), [21.0 + 1.0 / 24.0])
    setting = setting or default_setting()
    result = setting.course(_weekly("iv", "10 mg/kg"), 28.0, times, body_weight=JING2024_WEIGHT)
    week = times >= 21.0
    auc = np.trapezoid(result.inhibitor[week, 0], times[week])
    cmax = float(result.inhibitor[times == 21.0 + 1.0 / 24.0, 0][0])
    return -float(result.percent_change()[-1, 0]), float(auc), cmax


def efgartigimod_sc_metrics(setting: Setting | None = None) -> tuple[float, float, float]:
    """(AUC ug day/mL days 21-28, Tmax days after the 4th dose, Cmax ug/mL) of 1000 mg s.c.
    weekly x4 in a typical 70 kg patient."""
    times = np.arange(0.0, 28.001, 0.01)
    setting = setting or default_setting()
    result = setting.course(_weekly("sc", "1000 mg"), 28.0, times, body_weight=JING2024_WEIGHT)
    week = times >= 21.0
    drug = result.inhibitor[week, 0]
    return (
        float(np.trapezoid(drug, times[week])),
        float(times[week][np.argmax(drug)] - 21.0),
        float(drug.max()),
    )


def _relative_errors(values, targets) -> list[float]:
    return [value / target - 1.0 for value, target in zip(values, targets, strict=True)]


def _solve(setting: Setting, name: str, target_id: str, low: float, high: float) -> float:
    """Value of constant ``name`` in [low, high] at which validation target ``target_id``
    equals its published number."""

    def mismatch(log_value):
        return setting.with_values({name: np.exp(log_value)}).target(target_id) - published(
            target_id
        )

    return float(np.exp(brentq(mismatch, np.log(low), np.log(high), xtol=1e-6)))


def _fit(setting, names, metrics, targets, **options) -> dict[str, float]:
    """Least-squares fit (log scale, from the current values) of ``names`` to relative errors."""

    def residuals(log_values):
        trial = setting.with_values(dict(zip(names, np.exp(log_values), strict=True)))
        return _relative_errors(metrics(trial), targets)

    start = np.log([setting.value(name) for name in names])
    fit = least_squares(residuals, start, **options)
    return dict(zip(names, np.exp(fit.x).tolist(), strict=True))


BATOCLIMAB_SINGLE = ("batoclimab_340_single", "batoclimab_510_single", "batoclimab_680_single")


def calibrate(setting: Setting | None = None) -> dict[str, float]:
    """Re-derive every calibrated constant from its target (see the module docstring)."""
    s = setting or default_setting()
    found: dict[str, float] = {}

    def update(values: dict[str, float]) -> Setting:
        found.update(values)
        return s.with_values(values)

    s = update(
        {"igg_endosomal_ratio": _solve(s, "igg_endosomal_ratio", "ivig_rise_day14", 0.01, 20)}
    )
    names = (
        "efgartigimod.central_volume",
        "efgartigimod.clearance",
        "efgartigimod.fcrn_capacity",
    )
    targets = (published("efgartigimod_iv_calibration"), EFGARTIGIMOD_AUC, EFGARTIGIMOD_CMAX)
    s = update(_fit(s, names, efgartigimod_iv_metrics, targets, xtol=1e-8))
    names = ("efgartigimod.sc.bioavailability", "efgartigimod.sc.absorption_rate")
    targets = (EFGARTIGIMOD_SC_AUC, EFGARTIGIMOD_SC_TMAX, EFGARTIGIMOD_SC_CMAX)
    s = update(_fit(s, names, efgartigimod_sc_metrics, targets, diff_step=0.05))

    def batoclimab(q: Setting) -> list[float]:
        return [q.target(i) for i in BATOCLIMAB_SINGLE]

    targets = [published(i) for i in BATOCLIMAB_SINGLE]
    s = update(_fit(s, ("batoclimab.sc.absorption_rate",), batoclimab, targets, diff_step=0.02))
    for column, target_id in (
        ("protein_a", "ia_calibration"),
        ("peptide_ligand", "ia_peptide_per_treatment"),
        ("tryptophan", "ia_tryptophan_course"),
    ):
        name = f"{column}.igg_extraction"
        s = update({name: _solve(s, name, target_id, 0.05, 1.0)})
    for name, target_id, low in (
        ("igg_short_lived_fraction", "rituximab_igg_decline", 0.01),
        ("anti_sgc_short_lived_fraction", "rituximab_autoantibody_decline", 0.3),
    ):
        s = update({name: _solve(s, name, target_id, low, 0.999)})
    return found


if __name__ == "__main__":  # pragma: no cover - prints the values for human.yaml and the library
    for key, val in calibrate().items():
        print(f"{key}: {val:.6g}")
