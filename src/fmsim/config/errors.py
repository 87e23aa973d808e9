"""One clear line per configuration mistake: file, field, value, what was expected."""

from __future__ import annotations

from pathlib import Path

import yaml
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


def read_yaml(path: Path) -> object:
    """The parsed content of a YAML file (None for an empty file); a missing, unreadable or
    malformed file raises :class:`ConfigError` in one line naming the file (and, for YAML
    syntax, the line and column)."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: cannot read file: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read file ({error.strerror})") from None
    except yaml.YAMLError as error:  # one line: where and what (str(error) spans lines)
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
