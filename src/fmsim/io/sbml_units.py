"""Units for SBML documents: fmsim's unit strings, their algebra, and SBML unit definitions.

fmsim writes units as short strings: symbols joined by ``*`` with one or more ``/``, e.g.
``mg``, ``mg/mL``, ``1/day``, ``uM*mL/mg``, ``mL/day/kg`` (``A per B`` is ``A/(B)``); ``1`` is
dimensionless. A
:class:`Unit` is such a unit reduced to a factor times powers of SBML's base units (gram,
litre, mole, second), so units can be multiplied, divided and compared; :class:`UnitBook`
declares them in a libsbml model as unit definitions and hands out their ids.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import libsbml

_KINDS = {
    "gram": libsbml.UNIT_KIND_GRAM,
    "litre": libsbml.UNIT_KIND_LITRE,
    "mole": libsbml.UNIT_KIND_MOLE,
    "second": libsbml.UNIT_KIND_SECOND,
    "metre": libsbml.UNIT_KIND_METRE,
    "dimensionless": libsbml.UNIT_KIND_DIMENSIONLESS,
}
# symbol -> (factor, ((kind, exponent), ...)) with factor relative to the base units
_SYMBOLS: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "1": (1.0, ()),
    "g": (1.0, (("gram", 1),)),
    "kg": (1e3, (("gram", 1),)),
    "mg": (1e-3, (("gram", 1),)),
    "ug": (1e-6, (("gram", 1),)),
    "mol": (1.0, (("mole", 1),)),
    "mmol": (1e-3, (("mole", 1),)),
    "umol": (1e-6, (("mole", 1),)),
    "nmol": (1e-9, (("mole", 1),)),
    "L": (1.0, (("litre", 1),)),
    "dL": (1e-1, (("litre", 1),)),
    "mL": (1e-3, (("litre", 1),)),
    "uL": (1e-6, (("litre", 1),)),
    "s": (1.0, (("second", 1),)),
    "min": (60.0, (("second", 1),)),
    "h": (3600.0, (("second", 1),)),
    "day": (86400.0, (("second", 1),)),
    "M": (1.0, (("mole", 1), ("litre", -1))),
    "mM": (1e-3, (("mole", 1), ("litre", -1))),
    "uM": (1e-6, (("mole", 1), ("litre", -1))),
    "nM": (1e-9, (("mole", 1), ("litre", -1))),
    "m": (1.0, (("metre", 1),)),
    "cm": (1e-2, (("metre", 1),)),
    "kDa": (1e3, (("gram", 1), ("mole", -1))),  # molar mass: 1 kDa = 1 kg/mol
}


class UnitError(ValueError):
    """A unit string fmsim cannot read."""


@dataclass(frozen=True)
class Unit:
    """``factor`` times the product of base units raised to ``powers`` ((kind, exponent), ...,
    sorted by kind, no zero exponents)."""

    factor: float
    powers: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, factor: float, powers: dict[str, float]) -> Unit:
        return cls(factor, tuple(sorted((k, e) for k, e in powers.items() if e != 0)))

    def __mul__(self, other: Unit) -> Unit:
        powers = dict(self.powers)
        for kind, exponent in other.powers:
            powers[kind] = powers.get(kind, 0) + exponent
        return Unit.of(self.factor * other.factor, powers)

    def __truediv__(self, other: Unit) -> Unit:
        return self * other**-1

    def __pow__(self, exponent: float) -> Unit:
        return Unit.of(self.factor**exponent, {k: e * exponent for k, e in self.powers})

    def __str__(self) -> str:
        terms = " ".join(f"{k}^{e:g}" if e != 1 else k for k, e in self.powers)
        return f"{self.factor:g} {terms}".strip() if self.factor != 1 else terms or "1"

    def same_as(self, other: Unit) -> bool:
        return self.powers == other.powers and math.isclose(self.factor, other.factor, rel_tol=1e-9)

    @property
    def is_dimensionless(self) -> bool:
        return not self.powers and math.isclose(self.factor, 1.0, rel_tol=1e-12)


DIMENSIONLESS = Unit(1.0, ())


def parse_unit(text: str) -> Unit:
    """``text`` (e.g. ``'uM*mL/mg'``, or ``'uM per mg/mL'`` as the parameter files write it)
    as a :class:`Unit`; UnitError names an unknown symbol."""
    if " per " in text:
        numerator, denominator = text.split(" per ", 1)
        return parse_unit(numerator) / parse_unit(denominator)
    numerator, *denominators = text.strip().split("/")
    unit = DIMENSIONLESS
    for part, sign in [(numerator, 1), *((d, -1) for d in denominators)]:
        for symbol in part.split("*"):
            symbol = symbol.strip()
            if symbol not in _SYMBOLS:
                raise UnitError(
                    f"unit {text!r}: unknown symbol {symbol!r}; known: {sorted(_SYMBOLS)}"
                )
            factor, powers = _SYMBOLS[symbol]
            unit = unit * Unit.of(factor, dict(powers)) ** sign
    return unit


def unit_id(text: str) -> str:
    """The SBML id fmsim gives the unit ``text``: 'mg/mL' -> 'mg_per_mL'."""
    if text.strip() == "1":
        return "dimensionless"
    name = re.sub(r"\W", "_", text.strip().replace("/", "_per_"), flags=re.ASCII)
    return name.removeprefix("1_")  # '1/day' -> 'per_day'


class UnitBook:
    """The unit definitions of one libsbml model: declared on first use, looked up by value."""

    def __init__(self, model) -> None:
        self.model = model
        self.declared: list[tuple[Unit, str]] = [(DIMENSIONLESS, "dimensionless")]

    def id_for(self, unit: str | Unit) -> str:
        """The id of ``unit`` (a unit string or a :class:`Unit`), declared if new."""
        text = unit if isinstance(unit, str) else None
        value = parse_unit(unit) if isinstance(unit, str) else unit
        for known, identifier in self.declared:
            if known.same_as(value):
                return identifier
        identifier = unit_id(text) if text else self._name(value)
        self._declare(identifier, text or identifier, value)
        self.declared.append((value, identifier))
        return identifier

    def _declare(self, identifier: str, name: str, unit: Unit) -> None:
        definition = self.model.createUnitDefinition()
        definition.setId(identifier)
        definition.setName(name)
        # the factor goes into the first term's multiplier: (m * kind)^e contributes m^e
        powers = unit.powers or (("dimensionless", 1.0),)  # a pure number, e.g. mg/g
        for j, (kind, exponent) in enumerate(powers):
            term = definition.createUnit()
            term.setKind(_KINDS[kind])
            term.setExponent(exponent)
            term.setScale(0)
            term.setMultiplier(unit.factor ** (1.0 / exponent) if j == 0 else 1.0)

    @staticmethod
    def _name(unit: Unit) -> str:
        terms = [f"{kind}_{'m' if e < 0 else ''}{abs(e):g}" for kind, e in unit.powers]
        return re.sub(r"\W", "_", "unit_" + "_".join(terms) + f"_x{unit.factor:.6g}")
