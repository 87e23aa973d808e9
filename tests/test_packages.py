"""Every package of src/fmsim states what it holds: a docstring naming its modules and a
curated ``__all__`` whose every name exists (a re-exported object or a submodule)."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fmsim"
PACKAGES = sorted(
    ".".join(init.parent.relative_to(SOURCE.parent).parts) for init in SOURCE.rglob("__init__.py")
)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_a_docstring_and_a_curated_all(package):
    init = SOURCE.parent.joinpath(*package.split("."), "__init__.py")
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree), f"{package}: no docstring"
    module = import_module(package)
    assert hasattr(module, "__all__"), f"{package}: no __all__"
    for name in module.__all__:
        if not hasattr(module, name):
            import_module(f"{package}.{name}")  # a submodule: importing it must work
    submodules = {p.stem for p in init.parent.glob("*.py") if p.stem != "__init__"}
    listed = {  # the submodules __all__ names (not a function named like its module)
        name
        for name in module.__all__
        if name in submodules and not callable(getattr(module, name, None))
    }
    docstring = ast.get_docstring(tree)
    for name in listed:
        assert name in docstring, f"{package}: the docstring does not mention {name}"
