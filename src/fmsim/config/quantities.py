"""Parse dose quantities such as ``"8 mg"`` or ``"400 mg/kg"`` into mg per animal."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ/]+)\s*$")
_PER_ANIMAL_MG = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "µg": 1e-3}
_PER_KG_MG = {"mg/kg": 1.0, "g/kg": 1000.0}
ALLOWED_UNITS = (*_PER_ANIMAL_MG, *_PER_KG_MG)


def parse_dose(text: str | float) -> tuple[float, str]:
    """Return ``(value, unit)`` with value converted to mg (per animal) or mg/kg.

    Raises ValueError with the accepted units when the text is not a non-negative quantity.
    """
    if isinstance(text, int | float):
        raise ValueError(f"a dose needs a unit, e.g. '8 mg'; accepted units: {ALLOWED_UNITS}")
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected a non-negative quantity like '8 mg'; units: {ALLOWED_UNITS}")
    number, unit = float(match.group(1)), match.group(2)
    if unit in _PER_ANIMAL_MG:
        return number * _PER_ANIMAL_MG[unit], "mg"
    if unit in _PER_KG_MG:
        return number * _PER_KG_MG[unit], "mg/kg"
    raise ValueError(f"unknown dose unit {unit!r}; expected one of {ALLOWED_UNITS}")
