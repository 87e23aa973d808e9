"""One clear line per configuration mistake: file, field, value, what was expected.

:func:`read_yaml` is the one reader of user YAML files (scenarios, protocols, trials, parameter
files). Besides YAML syntax it refuses, in one line naming the file: an empty file or one whose
top level is not a mapping, a duplicate key (with both line numbers), nesting deeper than
:data:`MAX_DEPTH`, aliases that expand to more than :data:`MAX_NODES` values (a "billion laughs"
file is refused in milliseconds, before anything walks the expanded data) or refer to
themselves, and everything :func:`fmsim.config.text.read_text_file` refuses (folders, binary
files, unknown encodings, files above :data:`MAX_YAML_BYTES`).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.cyaml import CParser  # libyaml, part of the PyYAML wheels
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from fmsim.config.text import TextFileError, read_text_file

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_YAML_BYTES",
    "ConfigError",
    "format_validation_error",
    "read_yaml",
]

#: Largest configuration file read (bytes); the shipped examples are a few kB.
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (the deepest shipped config nests 5 levels).
MAX_DEPTH = 50
#: Most values (scalars, lists, mappings) a file may hold once its aliases are expanded.
MAX_NODES = 50_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class ConfigError(ValueError):
    """A user's configuration is invalid. ``str(error)`` is meant to be shown as is."""


def format_validation_error(origin: str, error: ValidationError) -> ConfigError:
    """Turn pydantic's error list into ``origin: field: got value: expected ...`` lines."""
    lines = []
    for item in error.errors():
        field = ".".join(_part(part) for part in item["loc"]) or "(top level)"
        message = _one_line(item["msg"].removeprefix("Value error, "))
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see examples/ for valid fields)"
        value = item.get("input")
        shown = f": got {value!r}" if _short(value) else ""
        lines.append(f"{origin}: {field}{shown}: {message}")
    return ConfigError("\n".join(lines))


def _part(part: str | int) -> str:
    """One element of a field's location; odd names (empty, spaces, control characters) are
    quoted so that the line stays one line and the name stays visible."""
    text = str(part)
    simple = text and text.isprintable() and not text.isspace() and text.strip() == text
    return text if simple else repr(text)


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _short(value: object) -> bool:
    """Whether ``value`` is shown in a message: short scalars and short lists only."""
    if isinstance(value, dict):
        return False
    if isinstance(value, list | tuple) and len(value) > 20:
        return False
    return len(repr(value)) <= 80


def read_yaml(path: Path) -> dict:
    """The mapping at the top level of the YAML file ``path``.

    Raises :class:`ConfigError` in one line naming the file (and, where it applies, the line
    and column) for everything listed in the module docstring."""
    path = Path(path)
    try:
        text = read_text_file(path, "YAML file", MAX_YAML_BYTES)
    except TextFileError as error:
        raise ConfigError(str(error)) from None
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node)
        data = loader.construct_document(node) if node is not None else None
    except _LimitError as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigError(
            f"{path}: not valid YAML (line {line}): character #x{error.character:04x} is not "
            "allowed in YAML text"
        ) from None
    except yaml.YAMLError as error:  # one line: where and what (str(error) spans lines)
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context", None)
        if context and problem.startswith("but "):
            problem = f"{context}, {problem}"  # "expected ..., but found ..."
        if mark and text[mark.index : mark.index + 1] == "\t":
            problem += " (a tab: YAML indents with spaces only)"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError(
            f"{path}: the file is empty (or holds only comments); expected a mapping of "
            "fields such as 'name: ...' (see examples/)"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of fields ('name: value' lines) at the top level, "
            f"got a {_kind(data)}"
        )
    return data


def _kind(value: object) -> str:
    kinds = {list: "list", str: "single text value", bool: "true/false value"}
    return kinds.get(type(value), "number" if isinstance(value, int | float) else "date")


class _LimitError(ValueError):
    """A YAML file exceeds one of the reader's limits; the message says which."""


class _BoundedLoader(Composer, CParser, SafeConstructor, Resolver):
    """PyYAML's safe loader with libyaml's event parser (C; linear time even on deeply nested
    flow collections, where PyYAML's Python scanner slows down quadratically) and PyYAML's
    composer, so that the nesting and size limits apply before anything recurses; with
    duplicate-key detection."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:
        # Checked before PyYAML recurses, so deep nesting never reaches Python's recursion limit.
        self._depth += 1
        self._nodes += 1
        try:
            mark = self.peek_event().start_mark
            if self._depth > MAX_DEPTH:
                raise _LimitError(
                    f"nested more than {MAX_DEPTH} levels deep (line {mark.line + 1}); "
                    "a configuration never needs that"
                )
            if self._nodes > MAX_NODES:
                raise _LimitError(
                    f"holds more than {MAX_NODES:,} values (line {mark.line + 1}); "
                    "a configuration never needs that many"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        first_line: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # '<<: *base' merges keys; the mapping's own keys override them
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key {key!r} (first given on line "
                        f"{first_line[key]}); give each field once",
                        problem_mark=key_node.start_mark,
                    )
            except TypeError:
                continue  # unhashable key: PyYAML reports it below
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: Node) -> None:
    """Refuse aliases that contain themselves, or whose expansion holds more than
    :data:`MAX_NODES` values or nests deeper than :data:`MAX_DEPTH` levels.

    Counts each node once per use (what a consumer walking the data sees), memoised per node,
    so the check is linear in the file's size however large the expansion."""
    measured: dict[int, tuple[int, int]] = {}  # node id -> (values, depth) once expanded
    in_progress: set[int] = set()

    def measure(node: Node, level: int) -> tuple[int, int]:
        line = node.start_mark.line + 1
        key = id(node)
        values, depth = measured.get(key, (0, 1))
        if level + depth - 1 > MAX_DEPTH:
            raise _LimitError(
                f"nested more than {MAX_DEPTH} levels deep once its aliases (*name) are "
                f"expanded (line {line})"
            )
        if key in measured:
            return values, depth
        if key in in_progress:
            raise _LimitError(f"an alias refers to the value that contains it (line {line})")
        in_progress.add(key)
        values, depth = 1, 1
        for child in _children(node):
            child_values, child_depth = measure(child, level + 1)
            values, depth = values + child_values, max(depth, child_depth + 1)
            if values > MAX_NODES:
                raise _LimitError(
                    f"holds more than {MAX_NODES:,} values once its aliases (*name) are "
                    f"expanded (from line {line}); this looks like a 'billion laughs' file"
                )
        in_progress.discard(key)
        measured[key] = values, depth
        return values, depth

    measure(root, 1)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    assert isinstance(node, ScalarNode)
    return []
