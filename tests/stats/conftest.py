"""Shared fixtures of the statistics tests: R's reference outputs (tests/stats/reference/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def r_results() -> dict:
    """What R reported per data set (make_reference.R; versions in reference.json)."""
    return json.loads((REFERENCE / "reference.json").read_text())["results"]


@pytest.fixture(scope="session")
def reference_table() -> Callable[[str], pd.DataFrame]:
    """Reads one of the data sets that R fitted (make_data.py)."""
    return lambda name: pd.read_csv(REFERENCE / "data" / f"{name}.csv")
