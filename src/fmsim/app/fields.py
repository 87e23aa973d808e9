"""From form fields to configurations: parse the text a user typed, and turn a configuration's
validation errors into one message per form field (shown beside it, never a traceback)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import ValidationError

from fmsim.config.errors import format_validation_error


class FieldError(ValueError):
    """Invalid form input: ``messages`` maps a field's input id to its one-line message."""

    def __init__(self, messages: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in messages.items()))
        self.messages = dict(messages)


def numbers(text: str, field: str, *, integer: bool = False) -> list[float] | list[int]:
    """The comma- or space-separated numbers in ``text`` (e.g. ``"0, 1, 2"``); raises
    :class:`FieldError` for ``field`` naming the first item that is not a number."""
    items = [item for item in text.replace(",", " ").split() if item]
    values = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise FieldError({field: f"got {item!r}: expected numbers such as '0, 1, 2'"}) from None
        if integer:
            if value != int(value):
                raise FieldError({field: f"got {item!r}: expected whole numbers"})
            value = int(value)
        values.append(value)
    if not values:
        raise FieldError({field: "give at least one number, e.g. '0, 1, 2'"})
    return values


def field_messages(
    error: ValidationError, fields: Mapping[str, str], fallback: str, origin: str = "value"
) -> dict[str, str]:
    """One message per input id for a configuration's validation ``error``: the error's location
    (dotted, e.g. ``groups.0.donors.1.anti_sgc_fraction``) is matched against the prefixes in
    ``fields`` (location prefix -> input id; the longest match wins); unmatched errors go to
    ``fallback``. The text is the configuration's own one-line message without the origin."""
    lines = str(format_validation_error(origin, error)).splitlines()
    messages: dict[str, str] = {}
    for item, line in zip(error.errors(), lines, strict=True):
        location = ".".join(str(part) for part in item["loc"])
        matches = [p for p in fields if location == p or location.startswith(f"{p}.")]
        target = fields[max(matches, key=len)] if matches else fallback
        text = line.removeprefix(f"{origin}: ")
        messages[target] = f"{messages[target]}; {text}" if target in messages else text
    return messages


def whole_number(value: float | None) -> int | None:
    """A numeric input's value as a whole number; None if empty, not a number or not whole."""
    if value is None or not math.isfinite(value) or int(value) != value:
        return None
    return int(value)
