"""Options shared by the commands and their up-front checks.

Every value is checked when the command line is parsed, before any computation; a bad value
ends with one line naming the option, the value and what was expected (exit code 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import typer

#: Largest seed accepted (numpy's SeedSequence takes any non-negative integer; 2**63 - 1 keeps
#: seeds storable as 64-bit integers).
MAX_SEED = 2**63 - 1

OVERWRITE_HELP = (
    "Replace a different kind of run in --out, or write next to files fmsim did not write "
    "(those are kept; one with the name of an output is renamed NAME.~1~)."
)


def seed_option(default: int, help: str = "Random seed (same seed, same results).") -> int:
    return typer.Option(default, min=0, max=MAX_SEED, help=help)


def overwrite_option() -> bool:
    return typer.Option(False, "--overwrite", help=OVERWRITE_HELP)


def finite(value: float | None) -> float | None:
    """A callback refusing NaN and infinity (click's ranges let NaN through)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"got {value}: expected a finite number")
    return value


def number_list(
    kind: type = float,
    *,
    low: float | None = None,
    high: float | None = None,
    increasing: bool = False,
    minimum_count: int = 1,
) -> Callable[[str], list]:
    """A callback parsing a comma-separated list of ``kind`` numbers, each finite and within
    [``low``, ``high``], distinct (and in increasing order if ``increasing``)."""

    def parse(value: str) -> list:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        try:
            numbers = [kind(part) for part in parts]
        except ValueError:
            raise typer.BadParameter(
                f"got {value!r}: expected comma-separated {_kind_name(kind)}s, e.g. '3,4,5'"
            ) from None
        if len(numbers) < minimum_count:
            raise typer.BadParameter(f"got {value!r}: expected at least {minimum_count} value(s)")
        for number in numbers:
            if (
                not math.isfinite(number)
                or (low is not None and number < low)
                or (high is not None and number > high)
            ):
                raise typer.BadParameter(f"got {number:g}: expected {_range(low, high)}")
        if len(set(numbers)) != len(numbers):
            raise typer.BadParameter(f"got {value!r}: a value is repeated")
        if increasing and numbers != sorted(numbers):
            raise typer.BadParameter(f"got {value!r}: expected increasing values")
        return numbers

    return parse


def name_list(value: str | None) -> list[str] | None:
    """A callback parsing comma-separated names (distinct, not empty); None stays None."""
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise typer.BadParameter(f"got {value!r}: expected comma-separated names")
    if len(set(names)) != len(names):
        raise typer.BadParameter(f"got {value!r}: a name is repeated")
    return names


def _kind_name(kind: type) -> str:
    return "whole number" if kind is int else "number"


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"a value from {low:g} to {high:g}"
    return f"a value >= {low:g}" if low is not None else f"a value <= {high:g}"
