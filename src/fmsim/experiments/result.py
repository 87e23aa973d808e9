"""What every study returns: named tables with units and descriptions, the configuration that
was run and its provenance, and a way to save all of it as a run folder.

A study function (e.g. :func:`fmsim.experiments.studies.passive_transfer_study`) computes and
returns a :class:`StudyResult`; :meth:`StudyResult.save` stores it (atomically, with
``manifest.json``, see :class:`fmsim.io.store.RunFolder`); :func:`fmsim.report.render` draws
its figures and report. Computing, storing and rendering stay separate, as in pyPESTO
(``minimize(...) -> Result``, then ``store`` and ``visualize``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path
from typing import ClassVar

import pandas as pd
import yaml
from pydantic import BaseModel

from fmsim import __version__
from fmsim.experiments.errors import StudyError as StudyError  # re-exported for the studies
from fmsim.io.store import RunFolder, write_table

#: The data dictionary written next to the tables of every saved study.
TABLES_FILE = "tables.json"


@dataclass(frozen=True)
class Table:
    """One result table: the data, what one row is, and the unit of each numeric column
    (``"1"`` for dimensionless; columns without an entry are labels or counts)."""

    frame: pd.DataFrame
    description: str
    units: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: fmsim version, configuration hash, input files, time."""

    config_hash: str
    inputs: tuple[Path, ...] = ()
    fmsim_version: str = __version__
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def config_hash(config: BaseModel | Mapping | Sequence | None) -> str:
    """SHA-256 of a configuration's canonical JSON (the same config, the same hash)."""
    if isinstance(config, BaseModel):
        text = config.model_dump_json()
    else:
        text = json.dumps(_plain(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value):
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class StudyResult:
    """Base of the studies' results. A subclass sets ``kind`` (the run folder's kind), has a
    ``provenance`` attribute and implements :meth:`tables`; it may add files with
    :meth:`extra_files` (e.g. the configuration as YAML) and name sub-folders kept across runs
    in ``stores``."""

    kind: ClassVar[str]
    stores: ClassVar[tuple[str, ...]] = ()
    provenance: Provenance

    def tables(self) -> dict[str, Table]:
        """The result's tables by name (file stem)."""
        raise NotImplementedError

    def extra_files(self) -> dict[str, str]:
        """Further text files to save, by file name (default: none)."""
        return {}

    def to_frame(self, name: str | None = None) -> pd.DataFrame:
        """The table ``name`` (default: the first of :meth:`tables`, the study's main table)
        as a data frame; ``.attrs`` holds its ``description`` and ``units``."""
        tables = self.tables()
        if name is None:
            name = next(iter(tables))
        if name not in tables:
            raise KeyError(f"no table {name!r}; tables: {list(tables)}")
        table = tables[name]
        frame = table.frame.copy()
        frame.attrs.update(name=name, description=table.description, units=dict(table.units))
        return frame

    def plot(self):
        """The study's main figure (a matplotlib Figure), drawn by the report layer
        (:func:`fmsim.report.main_figure.main_figure`); :func:`fmsim.report.render` draws all
        figures and the report.

        The report layer sits above the experiments, so it is found by name at call time, as
        pandas finds its plotting backend (listed in tests/test_layers.py)."""
        return import_module("fmsim.report.main_figure").main_figure(self)

    @classmethod
    def run_folder(
        cls,
        out: Path | str,
        *,
        inputs: Sequence[Path] = (),
        overwrite: bool = False,
        command: str = "",
    ) -> RunFolder:
        """The run folder this kind of result is saved in. Opening it (``with``) checks ``out``,
        locks it and starts a temporary folder, so open it before computing."""
        return RunFolder(
            Path(out),
            cls.kind,
            inputs=tuple(inputs),
            overwrite=overwrite,
            command=command,
            stores=cls.stores,
        )

    def save(self, out: Path | str | RunFolder, *, overwrite: bool = False) -> Path:
        """Write the tables (Parquet and spreadsheet-safe CSV), their data dictionary
        (``tables.json``) and the extra files; return the folder. ``out`` is a folder (written
        atomically with ``manifest.json``) or an open :class:`RunFolder`."""
        if isinstance(out, RunFolder):
            out.config_hash = self.provenance.config_hash  # recorded in its manifest
            self.write(out.path)
            return out.target
        with self.run_folder(out, inputs=self.provenance.inputs, overwrite=overwrite) as run:
            self.save(run)
        return run.target

    def write(self, folder: Path) -> list[Path]:
        """Write the result's files into ``folder`` as they are (no run-folder safety); return
        them."""
        files, dictionary = [], {}
        for name, table in self.tables().items():
            files += write_table(table.frame, folder, name)
            dictionary[name] = {
                "description": table.description,
                "rows": len(table.frame),
                "units": dict(table.units),
                "files": [f"{name}.parquet", f"{name}.csv"],
            }
        path = folder / TABLES_FILE
        path.write_text(json.dumps(dictionary, indent=2) + "\n")
        files.append(path)
        for name, text in self.extra_files().items():
            (folder / name).write_text(text)
            files.append(folder / name)
        return files


def config_yaml(config: BaseModel | Sequence[BaseModel]) -> str:
    """A configuration (or a list of them) as YAML, as it was run."""
    if isinstance(config, BaseModel):
        data = config.model_dump(mode="json", exclude_none=True)
    else:
        data = [c.model_dump(mode="json", exclude_none=True) for c in config]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
