"""Parse dose quantities such as ``"8 mg"`` or ``"400 mg/kg"`` into mg per animal or mg/kg,
and check them against the plausible range of IgG doses.

Plausible IgG doses (per injection) reach :data:`PLAUSIBLE_MAX`: 2 g/kg, the high-dose IVIG
regimen (the largest IgG dose given to patients, and the top of the mouse IVIG doses), which for
a 20 g mouse is 40 mg (the passive-transfer study gave 8 mg). A larger dose must be allowed
explicitly (``allow_implausible_dose: true`` in a scenario) and stays below
:data:`ABSOLUTE_MAX` (10 times the plausible maximum, where the model's FcRn and distribution
kinetics are far beyond anything they were calibrated on).
"""

from __future__ import annotations

import math
import re

_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ/]+)\s*$")
_PER_ANIMAL_MG = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "µg": 1e-3}
_PER_KG_MG = {"mg/kg": 1.0, "g/kg": 1000.0}
ALLOWED_UNITS = (*_PER_ANIMAL_MG, *_PER_KG_MG)
#: Largest plausible IgG dose per injection into a mouse: mg per mouse, mg/kg.
PLAUSIBLE_MAX = {"mg": 40.0, "mg/kg": 2000.0}
#: Largest dose accepted even when implausible doses are allowed.
ABSOLUTE_MAX = {unit: 10.0 * value for unit, value in PLAUSIBLE_MAX.items()}


def parse_dose(text: str | float) -> tuple[float, str]:
    """Return ``(value, unit)`` with value converted to mg (per animal) or mg/kg.

    Raises ValueError with the accepted units when the text is not a finite non-negative
    quantity.
    """
    if isinstance(text, int | float) or _is_number(text):
        raise ValueError(f"a dose needs a unit, e.g. '8 mg'; accepted units: {ALLOWED_UNITS}")
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected a non-negative quantity like '8 mg'; units: {ALLOWED_UNITS}")
    number, unit = float(match.group(1)), match.group(2)
    if not math.isfinite(number):
        raise ValueError(f"{match.group(1)} is too large to be a dose")
    if unit in _PER_ANIMAL_MG:
        return number * _PER_ANIMAL_MG[unit], "mg"
    if unit in _PER_KG_MG:
        return number * _PER_KG_MG[unit], "mg/kg"
    raise ValueError(f"unknown dose unit {unit!r}; expected one of {ALLOWED_UNITS}")


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def check_plausible_dose(value: float, unit: str, allow_implausible: bool) -> None:
    """Raise ValueError if a mouse IgG dose of ``value`` ``unit`` ("mg" per mouse or "mg/kg")
    lies above the plausible range (unless allowed) or above the absolute maximum."""
    plausible, absolute = PLAUSIBLE_MAX[unit], ABSOLUTE_MAX[unit]
    if value > absolute:
        raise ValueError(
            f"{value:g} {unit} is more than {absolute:g} {unit}, 10 times the largest plausible "
            "IgG dose; the model says nothing about such doses"
        )
    if value > plausible and not allow_implausible:
        raise ValueError(
            f"{value:g} {unit} is above the plausible range of IgG doses (at most {plausible:g} "
            f"{unit} per injection, = 2 g/kg as in high-dose IVIG); if intended, allow it "
            "explicitly ('allow_implausible_dose: true' in a scenario)"
        )
