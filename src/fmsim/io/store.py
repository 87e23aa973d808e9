"""Write an experiment's tidy tables to a results folder (Parquet for tools, CSV for people)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write ``frame`` as ``stem.parquet`` and ``stem.csv`` in ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False)
    return [parquet, csv]
