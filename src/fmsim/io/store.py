"""Write an experiment's tidy tables to a results folder (Parquet for tools, CSV for people)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MEASUREMENT_COLUMNS = ("mouse", "group", "donor", "day", "test", "value", "unit", "raw")


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write ``frame`` as ``stem.parquet`` and ``stem.csv`` in ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False)
    return [parquet, csv]


def read_measurements(path: str | Path) -> pd.DataFrame:
    """Read a tidy measurement table written by :func:`write_table` (Parquet or CSV)."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = [c for c in MEASUREMENT_COLUMNS if c not in frame.columns and c != "raw"]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {MEASUREMENT_COLUMNS}")
    return frame
