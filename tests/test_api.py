"""The top-level namespace (``fmsim/__init__.py``): every public name resolves to the object of
the module that defines it, and ``import fmsim`` imports none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

import fmsim


@pytest.mark.parametrize("name", fmsim.API)
def test_every_public_name_is_the_defining_modules_object(name):
    assert getattr(fmsim, name) is getattr(import_module(fmsim.API[name]), name)
    assert name in fmsim.__all__ and name in dir(fmsim)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'simulate_everything'"):
        fmsim.simulate_everything  # noqa: B018


def test_import_fmsim_stays_light():
    code = (
        "import sys, fmsim; heavy = {'numpy', 'pandas', 'scipy', 'numba', 'matplotlib'}; "
        "print(fmsim.__version__, sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, loaded = done.stdout.split(" ", 1)
    assert version == fmsim.__version__ and loaded.strip() == "[]"
