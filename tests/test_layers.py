"""The layer order of the README's Layout section, enforced on every import in src/fmsim.

    model < config < engine < assays, stats < io < experiments < calibration < report < cli, app

A module may import from its own layer and the layers to its left, never to its right. Every
import counts: at module level, inside functions (lazy imports), under TYPE_CHECKING and by name
(``import_module("fmsim...")``). The imports are read from the source with :mod:`ast`, so
nothing is executed. Every package of src/fmsim has a layer, and the README states this order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fmsim"

#: Rank of each package: a module may import packages of the same or a lower rank.
LAYERS = {
    "model": 0,
    "config": 1,
    "engine": 2,
    "assays": 3,
    "stats": 3,
    "io": 4,
    "experiments": 5,
    "calibration": 6,
    "report": 7,
    "cli": 8,
    "app": 8,
}

#: Upward imports tolerated for now, each with the reason; (importing module, imported
#: package). The list may only shrink: an entry that no longer occurs fails the test.
ALLOWED: dict[tuple[str, str], str] = {
    ("fmsim.experiments.result", "report"): "StudyResult.plot() finds the report layer by name "
    "at call time, as pandas finds its plotting backend; the report draws, the result computes",
}


def package_of(module: str) -> str | None:
    """'fmsim.engine.run' -> 'engine'; None for modules outside fmsim or fmsim itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "fmsim" and len(parts) > 1 else None


def imported_modules(path: Path, root: Path = SOURCE) -> list[tuple[str, int]]:
    """Absolute names (with line numbers) of the fmsim modules that ``path``, a file in the
    package tree ``root`` (the fmsim folder), imports."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    package = ".".join(parts[:-1])  # the package a relative import starts from
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if not node.level:
                name = node.module or ""
            else:
                name = f"{base}.{node.module}" if node.module else base
            if name == "fmsim":  # from fmsim import engine
                found += [(f"fmsim.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((name, node.lineno))
        elif _is_import_by_name(node):
            found.append((node.args[0].value, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] == "fmsim"]


def _is_import_by_name(node: ast.AST) -> bool:
    """``import_module("fmsim.x")`` or ``importlib.import_module("fmsim.x")``."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    first = node.args[0]
    return (
        name == "import_module" and isinstance(first, ast.Constant) and isinstance(first.value, str)
    )


def source_files() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if "__pycache__" not in p.parts)


def upward_imports() -> dict[tuple[str, str], list[str]]:
    """(importing module, imported package) -> where, for every import against the order."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in source_files():
        importer = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        own = package_of(importer)
        if own is None:  # fmsim/__init__.py: the package root imports nothing of its layers
            continue
        for name, line in imported_modules(path):
            target = package_of(name)
            if target is not None and LAYERS.get(target, -1) > LAYERS[own]:
                key = (importer.removesuffix(".__init__"), target)
                found.setdefault(key, []).append(f"{path.relative_to(SOURCE.parent)}:{line}")
    return found


def test_every_package_has_a_layer():
    packages = {p.name for p in SOURCE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), f"place {sorted(packages - set(LAYERS))} in LAYERS"
    assert {"model", "engine", "experiments", "calibration", "report", "cli"} <= packages


def test_the_readme_states_this_order():
    readme = (SOURCE.parents[1] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.strip().startswith("model  <"))
    ranks = [[name.strip() for name in rank.split(",")] for rank in line.strip().split("<")]
    assert {name: i for i, rank in enumerate(ranks) for name in rank} == LAYERS


def test_no_module_imports_from_a_layer_to_its_right():
    found = upward_imports()
    violations = {key: where for key, where in found.items() if key not in ALLOWED}
    assert not violations, "imports against the layer order (see README, Layout): " + "; ".join(
        f"{importer} imports fmsim.{target} at {', '.join(where)}"
        for (importer, target), where in sorted(violations.items())
    )
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"allowed upward imports that no longer occur (remove them): {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from fmsim.engine import run", ["fmsim.engine"]),
        ("import fmsim.report.html as html", ["fmsim.report.html"]),
        ("from fmsim import experiments, model", ["fmsim.experiments", "fmsim.model"]),
        ("def f():\n    from fmsim.cli.main import app", ["fmsim.cli.main"]),
        ("from . import events\nfrom .run import run", ["fmsim.engine", "fmsim.engine.run"]),
        ("from ..io.store import save", ["fmsim.io.store"]),
        ("import numpy\nfrom scipy import optimize", []),
        (
            "from importlib import import_module\nimport_module('fmsim.report.x')",
            ["fmsim.report.x"],
        ),
        ("import importlib\nimportlib.import_module('fmsim.cli')", ["fmsim.cli"]),
    ],
)
def test_imports_are_read_in_every_form(source, expected, tmp_path):
    probe = tmp_path / "fmsim" / "engine" / "probe.py"  # a stand-in fmsim/engine/probe.py
    probe.parent.mkdir(parents=True)
    probe.write_text(source)
    names = {name for name, _ in imported_modules(probe, root=tmp_path / "fmsim")}
    assert names == set(expected)
