"""Power of a planned passive-transfer study over mice per group and donor titre
(:mod:`fmsim.experiments.power` simulates and analyses the replicate experiments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from fmsim.engine.execution import Chunk, Executor, chunk_seed, run_job
from fmsim.experiments.power import (
    PowerDesign,
    experiment_config,
    power_from_table,
    replicate_table,
    smallest_n,
)
from fmsim.experiments.result import Provenance, StudyResult, Table, config_hash
from fmsim.io.store import ChunkStore

#: The run folder's sub-folder holding the designs' chunks (kept across runs).
CHUNKS = "chunks"
#: Alpha of the primary analysis (two-sided Welch t-test).
ALPHA = 0.05


@dataclass(frozen=True)
class PowerStudy(StudyResult):
    """Power per design (``table``) and the smallest number of mice per group reaching
    ``target`` per donor titre (``required``; NaN if not reached)."""

    kind: ClassVar[str] = "power"
    stores: ClassVar[tuple[str, ...]] = (CHUNKS,)
    table: pd.DataFrame
    required: pd.DataFrame
    target: float
    endpoint: str
    test_days: tuple[float, ...]
    provenance: Provenance

    def tables(self) -> dict[str, Table]:
        return {
            "power": Table(
                self.table,
                "per design: fraction of replicate experiments with p < 0.05 (Welch t-test on "
                "the per-mouse mean % change from baseline) and its 95% Wilson interval",
                {"anti_sgc_fraction": "1", "power": "1", "ci_low": "1", "ci_high": "1",
                 "mean_difference_percent": "percentage points"},
            ),
            "required_mice": Table(
                self.required,
                f"per donor titre: smallest mice per group with power >= {self.target:g}",
                {"anti_sgc_fraction": "1"},
            ),
        }  # fmt: skip


def power_study(
    sizes: Sequence[int],
    fractions: Sequence[float],
    *,
    dose: str = "8 mg",
    endpoint: str = "paw_pressure_threshold",
    test_days: Sequence[float] = (0.0, 1.0, 2.0, 3.0, 5.0, 7.0),
    replicates: int = 200,
    seed: int = 1,
    target: float = 0.8,
    progress: bool = False,
    executor: Executor | None = None,
    chunk_folder: Path | None = None,
) -> PowerStudy:
    """Estimate power for every combination of mice per group (``sizes``) and donor anti-SGC
    fraction (``fractions``). Each design is one chunk of ``replicates`` experiments with the
    seed :func:`fmsim.engine.execution.chunk_seed` of ``seed`` and the design's key, run on
    ``executor`` (default: in this process); with ``chunk_folder``, chunks are stored and,
    verified, reused by a rerun of the same settings (resume). Raises
    :class:`fmsim.config.ConfigError` for an invalid dose or endpoint."""
    days = tuple(float(d) for d in test_days)
    for fraction in fractions:  # every design valid before the first simulation
        experiment_config(PowerDesign(max(sizes), dose, fraction, endpoint, days), 1, seed)
    settings = {
        "sizes": list(sizes), "fractions": list(fractions), "dose": dose, "endpoint": endpoint,
        "test_days": list(days), "replicates": replicates, "seed": seed, "target": target,
    }  # fmt: skip
    designs = {
        f"anti-SGC fraction {fraction!r}|{size} mice per group": PowerDesign(
            size, dose, fraction, endpoint, days
        )
        for fraction in fractions
        for size in sizes
    }
    store = None
    if chunk_folder is not None:  # a chunk depends on its key and these settings only
        shared = {k: v for k, v in settings.items() if k not in ("sizes", "fractions", "target")}
        store = ChunkStore(chunk_folder, config_hash(shared))
    chunks = [
        Chunk(
            key,
            replicate_table,
            (design, replicates, chunk_seed(seed, key)),
            {},
            2 * design.mice_per_group * replicates,
        )
        for key, design in designs.items()
    ]
    tables = run_job("designs", chunks, executor, store, progress)
    rows, required = [], []
    for fraction in fractions:
        estimates = []
        for key, design in designs.items():
            if design.anti_sgc_fraction != fraction:
                continue
            estimate = power_from_table(design, tables[key], ALPHA)
            estimates.append(estimate)
            rows.append(
                {
                    "mice_per_group": design.mice_per_group,
                    "anti_sgc_fraction": fraction,
                    "power": estimate.power,
                    "ci_low": estimate.ci_low,
                    "ci_high": estimate.ci_high,
                    "replicates": replicates,
                    "mean_difference_percent": estimate.mean_difference_percent,
                }
            )
        n = smallest_n(estimates, target)
        required.append({"anti_sgc_fraction": fraction, "mice_per_group": n})
    required_table = pd.DataFrame(required, columns=["anti_sgc_fraction", "mice_per_group"])
    required_table["mice_per_group"] = required_table["mice_per_group"].astype("Int64")
    return PowerStudy(
        pd.DataFrame(rows),
        required_table,
        target,
        endpoint,
        days,
        Provenance(config_hash(settings)),
    )
