"""fmsim's reference data for the human model, read through the configuration schemas: the
standard protocols (``fmsim/experiments/data/protocols/*.yaml``; ``examples/therapies/`` links
there) and the published pharmacodynamic targets (``data/validation_targets.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fmsim.config.targets import TargetSet, load_targets
from fmsim.config.therapy import TherapyProtocol, load_protocol
from fmsim.model.drugs import DrugLibrary


def data_path(*parts: str) -> Path:
    """A file or folder of ``fmsim/experiments/data``."""
    with resources.as_file(resources.files("fmsim.experiments.data").joinpath(*parts)) as path:
        return path


def standard_protocols(library: DrugLibrary | None = None) -> dict[str, TherapyProtocol]:
    """The default protocols of ``fmsim therapies``, keyed by file stem."""
    folder = data_path("protocols")
    return {path.stem: load_protocol(path, library) for path in sorted(folder.glob("*.yaml"))}


@cache
def published_target_set() -> TargetSet:
    """fmsim's published targets with their protocols."""
    return load_targets(data_path("validation_targets.yaml"))


def published_value(target_id: str) -> float:
    """The published number of one target (a calibration target, e.g. ``ivig_rise_day14``)."""
    spec = next(t for t in published_target_set().targets if t.id == target_id)
    if not isinstance(spec.published, float | int):
        raise ValueError(f"target {target_id!r} has no single published number")
    return float(spec.published)
