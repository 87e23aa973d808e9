"""One clear line per configuration mistake: file, field, value, what was expected."""

from __future__ import annotations

from pydantic import ValidationError


class ConfigError(ValueError):
    """A user's configuration is invalid. ``str(error)`` is meant to be shown as is."""


def format_validation_error(origin: str, error: ValidationError) -> ConfigError:
    """Turn pydantic's error list into ``origin: field: got value: expected ...`` lines."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see examples/ for valid fields)"
        value = item.get("input")
        shown = f": got {value!r}" if len(repr(value)) <= 80 and not isinstance(value, dict) else ""
        lines.append(f"{origin}: {field}{shown}: {message}")
    return ConfigError("\n".join(lines))
