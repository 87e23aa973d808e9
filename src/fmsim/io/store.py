"""The results store: tables, run folders written atomically, and verified chunks.

Three parts, each with one job:

* :func:`write_table` writes a tidy table as Parquet (for tools; text kept as it is) and CSV (for
  people; text that a spreadsheet would execute is neutralised, see :func:`neutralise_formula`).
* :class:`RunFolder` is one run's output folder. Everything is written into a temporary folder
  next to the target and moved into place only when the run is complete, with ``manifest.json``
  (kind of run, command line, config hash, fmsim version, every file with its SHA-256, status).
  Before any computation it refuses targets that would lose data (see :meth:`RunFolder.check`),
  and a lock file keeps two runs out of one folder.
* :class:`ChunkStore` keeps the finished chunks of a long job (e.g. replicate trials) so that a
  rerun resumes; every chunk is verified (checksum, job, config hash, fmsim version) before reuse.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fmsim import __version__
from fmsim.io.errors import OutputError

MANIFEST = "manifest.json"
#: Version of the manifest layout written by this module.
MANIFEST_FORMAT = 1
#: First characters that make a spreadsheet evaluate a cell (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------------- tables


def neutralise_formula(text: str) -> str:
    """``text`` made inert for spreadsheets: a cell starting with ``= + - @``, tab or carriage
    return gets a leading single quote (OWASP CSV-injection guidance); numbers such as ``-1.5``
    are left as they are."""
    if not text.startswith(FORMULA_START):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised for spreadsheets
    (numeric columns untouched)."""
    safe = frame.copy()
    safe.columns = [neutralise_formula(c) if isinstance(c, str) else c for c in frame.columns]
    for position, dtype in enumerate(frame.dtypes):
        if _holds_text(dtype):
            values = frame.iloc[:, position].astype(object)
            safe.isetitem(
                position, values.map(lambda v: neutralise_formula(v) if isinstance(v, str) else v)
            )
    return safe


def _holds_text(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(
        dtype, pd.StringDtype | pd.CategoricalDtype
    )


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write ``frame`` as ``stem.parquet`` (text as it is) and ``stem.csv`` (text neutralised
    for spreadsheets) in ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    frame.to_parquet(parquet, index=False)
    csv_safe(frame).to_csv(csv, index=False)
    return [parquet, csv]


# ------------------------------------------------------------------------------ file helpers


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so
    that ``path`` holds either its old or its new content, never a part."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None if it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _files_below(folder: Path, skip: Iterable[str] = ()) -> Iterator[str]:
    """Relative POSIX paths of the files below ``folder``, leaving out top-level ``skip``."""
    skip = set(skip)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in skip or path.is_dir():
            continue
        yield relative.as_posix()


@dataclass(frozen=True)
class OutputFile:
    """A single file a command writes (e.g. an SBML export): never one of ``inputs``, never an
    existing file unless ``overwrite``; :meth:`check` it before computing, then :meth:`write`
    it atomically. Raises :class:`OutputError`."""

    path: Path
    inputs: tuple[Path, ...] = ()
    overwrite: bool = False

    def check(self) -> None:
        path = self.path
        for source in self.inputs:
            if _same_file(path, Path(source)):
                raise OutputError(f"{path}: is the input file {source}; give another output file")
        if path.is_dir():
            raise OutputError(f"{path}: is a folder; give a file name")
        if path.exists() and not self.overwrite:
            raise OutputError(f"{path}: file exists; choose another name or pass --overwrite")
        if not path.parent.is_dir():
            raise OutputError(f"{path}: cannot write: folder {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise OutputError(f"{path}: cannot write in {path.parent} (permission denied)")

    def write(self, text: str) -> None:
        self.check()
        try:
            _write_atomically(self.path, text.encode())
        except OSError as error:
            raise OutputError(f"{self.path}: cannot write: {error.strerror}") from None


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (same resolved path, or same device and inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# ------------------------------------------------------------------------------- run folder


@dataclass
class RunFolder:
    """One run's output folder, written atomically and never at the cost of other data.

    ``kind`` names the kind of run (e.g. ``"passive_transfer"``); ``inputs`` are the files the
    run reads (never written over, and never inside the target); ``stores`` are sub-folders
    kept across runs (e.g. ``"chunks"``, see :meth:`store`). Use it as a context manager::

        with RunFolder(Path("results/x"), "passive_transfer") as run:
            write_table(frame, run.path, "measurements")   # into the temporary folder
        # complete: results/x/ holds the tables and manifest.json

    Rules (checked by :meth:`check` before any computation, raising :class:`OutputError`):
    the target is absent, an empty folder, or holds a run of the same kind and no other files;
    with ``overwrite`` it may also hold a run of another kind or files fmsim did not write.
    Files that fmsim did not write (or that were changed since) are never deleted or replaced:
    one that has the name of a new output is renamed to ``NAME.~N~`` (reported in ``kept``).
    Files of the replaced run that the new run does not write are removed.
    """

    target: Path
    kind: str
    inputs: Sequence[Path] = ()
    overwrite: bool = False
    command: str = ""
    config_hash: str = ""
    stores: Sequence[str] = ()
    kept: list[tuple[str, str]] = field(default_factory=list)  # (file, renamed to)
    _staging: Path | None = field(default=None, repr=False)
    _lock: _FolderLock | None = field(default=None, repr=False)
    _created: bool = field(default=False, repr=False)  # the target did not exist at the start

    def __post_init__(self) -> None:
        self.shown = str(self.target)  # as the user wrote it, for messages
        self.target = Path(os.path.abspath(self.target))  # "." and ".." resolved to names

    @property
    def path(self) -> Path:
        """The temporary folder to write into while the run is open."""
        if self._staging is None:
            raise RuntimeError("the run folder is not open (use it in a `with` block)")
        return self._staging

    # -- before the computation ----------------------------------------------------------

    def check(self) -> None:
        """Refuse a target that cannot hold this run without losing data (see the class)."""
        target, shown = self.target, self.shown
        if target.exists() and not target.is_dir():
            raise OutputError(f"{shown}: is an existing file; --out must be a folder")
        for source in self.inputs:
            if _inside(Path(source), target):
                raise OutputError(
                    f"{shown}: holds the input file {source}; choose another output folder "
                    "(a run never writes next to its own inputs)"
                )
        ancestor = next(p for p in target.parents if p.exists())
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputError(f"{shown}: cannot write in {ancestor} (permission denied)")
        if not target.is_dir():
            return
        self._check_inputs_not_linked()
        contents = self._contents()
        if contents.kind not in (None, self.kind) and not self.overwrite:
            raise OutputError(
                f"{shown}: holds a {contents.kind!r} run; choose another output folder or pass "
                f"--overwrite to replace it"
            )
        unknown = contents.foreign + contents.changed
        if unknown and not self.overwrite:
            listed = ", ".join(unknown[:3]) + (
                f" and {len(unknown) - 3} more" if unknown[3:] else ""
            )
            raise OutputError(
                f"{shown}: holds files fmsim did not write ({listed}); choose another output "
                "folder or pass --overwrite (they are kept)"
            )

    def _check_inputs_not_linked(self) -> None:
        """An input hard-linked (or otherwise the same file) into the target is refused."""
        identities = {}
        for source in self.inputs:
            try:
                stat = Path(source).stat()
            except OSError:
                continue
            identities[(stat.st_dev, stat.st_ino)] = source
        if not identities:
            return
        for path in self.target.rglob("*"):
            try:
                stat = path.stat()
            except OSError:  # e.g. a broken symbolic link
                continue
            if (stat.st_dev, stat.st_ino) in identities:
                raise OutputError(
                    f"{self.shown}: {path.name} is the input file "
                    f"{identities[(stat.st_dev, stat.st_ino)]}; choose another output folder"
                )

    def _contents(self) -> _Contents:
        """What the existing target holds: the kind of run, its files, foreign files."""
        manifest = _read_json(self.target / MANIFEST)
        if manifest is not None and manifest.get("fmsim_run_manifest") is None:
            manifest = None  # a JSON file of the user's that happens to be called manifest.json
        recorded: dict[str, set[str]] = {}
        stores = set(self.stores)  # managed (and verified) by their own store
        if manifest is not None:
            for part in ("files", "replacing"):
                for name, digest in (manifest.get(part) or {}).items():
                    recorded.setdefault(name, set()).add(digest)
            stores |= set(manifest.get("stores") or ())
        ours, changed, foreign = [], [], []
        skip = [*stores, *([MANIFEST] if manifest is not None else [])]
        for name in _files_below(self.target, skip):
            if name not in recorded:
                foreign.append(name)
            elif sha256_file(self.target / name) in recorded[name]:
                ours.append(name)
            else:
                changed.append(name)
        kind = manifest.get("kind") if manifest is not None else None
        return _Contents(kind, ours, changed, foreign)

    # -- during the run --------------------------------------------------------------------

    def __enter__(self) -> RunFolder:
        self.check()
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"{self.shown}: cannot create {parent}: {error.strerror}") from None
        self._lock = _FolderLock(self.target, self.shown, self.command)
        self._lock.acquire()
        try:
            self.check()  # again: another run may have finished while we waited for nothing
            for stale in parent.glob(f".{self.target.name}.partial-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed run
            self._created = not self.target.exists()
            self._staging = Path(
                tempfile.mkdtemp(prefix=f".{self.target.name}.partial-", dir=parent)
            )
        except BaseException:
            self._lock.release()
            raise
        return self

    def store(self, name: str) -> Path:
        """The sub-folder ``name`` (one of ``stores``) of the target, kept across runs (e.g.
        resumable chunks); whoever writes it creates it."""
        if name not in self.stores:
            raise ValueError(f"{name!r} is not one of this run's stores {list(self.stores)}")
        return self.target / name

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is None:
                self._commit()
            else:
                self._leave_no_empty_folders()
        finally:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def _leave_no_empty_folders(self) -> None:
        """After a failed run: remove empty store folders, and the target if this run created
        it and it is empty."""
        for name in self.stores:
            folder = self.target / name
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if self._created and self.target.is_dir() and not any(self.target.iterdir()):
            self.target.rmdir()

    # -- completion ------------------------------------------------------------------------

    def _manifest(self, files: dict[str, str], status: str, replacing=None) -> bytes:
        manifest = {
            "fmsim_run_manifest": MANIFEST_FORMAT,
            "kind": self.kind,
            "status": status,
            "command": self.command,
            "config_hash": self.config_hash,
            "fmsim_version": __version__,
            "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": {str(p): sha256_file(Path(p)) for p in self.inputs if Path(p).is_file()},
            "stores": list(self.stores),
            "files": files,
        }
        if replacing:
            manifest["replacing"] = replacing
        return (json.dumps(manifest, indent=2) + "\n").encode()

    def _commit(self) -> None:
        """Move the finished run into place (see the class docstring for the rules)."""
        staging = self.path
        files = {}
        for name in _files_below(staging):
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
            files[name] = sha256_file(staging / name)
        target = self.target
        if not target.exists() or (target.is_dir() and not any(target.iterdir())):
            (staging / MANIFEST).write_bytes(self._manifest(files, "complete"))
            os.replace(staging, target)  # one atomic step (an empty target is replaced)
            self._staging = None
            return
        contents = self._contents()
        old = {n: sha256_file(target / n) for n in contents.ours}
        # From here until the final manifest the folder is marked incomplete; a run killed in
        # between leaves a folder that says so, whose files are all recorded as fmsim's.
        _write_atomically(target / MANIFEST, self._manifest(files, "incomplete", old))
        unknown = set(contents.foreign) | set(contents.changed)
        for name in files:
            destination = target / name
            for parent in reversed(destination.relative_to(target).parents[:-1]):
                if (target / parent).is_file():  # a user's file where a folder must go
                    self.kept.append((parent.as_posix(), _set_aside(target / parent)))
            if name in unknown or destination.is_dir():
                self.kept.append((name, _set_aside(destination)))
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, destination)
        for name in sorted(set(old) - set(files)):
            (target / name).unlink(missing_ok=True)
            _remove_empty_parents(target / name, target)
        _write_atomically(target / MANIFEST, self._manifest(files, "complete"))


@dataclass(frozen=True)
class _Contents:
    kind: str | None  # kind of the run recorded in the folder's manifest, if any
    ours: list[str]  # files recorded in the manifest, unchanged
    changed: list[str]  # files recorded in the manifest but changed since
    foreign: list[str]  # files fmsim did not write


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _set_aside(path: Path) -> str:
    """Rename ``path`` to the first free ``NAME.~N~``; return the new name."""
    n = 1
    while (candidate := path.with_name(f"{path.name}.~{n}~")).exists():
        n += 1
    os.replace(path, candidate)
    return candidate.name


def _remove_empty_parents(path: Path, top: Path) -> None:
    """Remove the folders between ``path`` and ``top`` that are left empty."""
    for folder in path.parents:
        if folder == top or any(folder.iterdir()):
            return
        folder.rmdir()


class _FolderLock:
    """An exclusive lock on a run folder: a lock file next to it, held with ``flock``.

    The kernel drops a ``flock`` when its process dies, so a lock file left by a killed run is
    stale by construction and taken over; the file records the holder's pid and command for the
    message another run prints."""

    def __init__(self, folder: Path, shown: str, command: str) -> None:
        self.shown, self.command, self.handle = shown, command, None
        self.path = folder.parent / f".{folder.name}.lock"

    def acquire(self) -> None:
        while True:
            handle = open(self.path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                if error.errno in (errno.EAGAIN, errno.EACCES):
                    raise OutputError(
                        f"{self.shown}: another fmsim run is writing this folder ({holder}); "
                        "wait for it to finish or choose another output folder"
                    ) from None
                raise
            # The holder before us may have removed the file after we opened it: retry then.
            if os.path.exists(self.path) and os.path.samefile(self.path, handle.fileno()):
                break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}: {self.command or 'fmsim'}\n")
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            self.path.unlink(missing_ok=True)
            self.handle.close()  # closing drops the flock
            self.handle = None


# ------------------------------------------------------------------------------ chunk store


class ChunkStore:
    """Finished chunks of one chunked job, reused on a rerun only after verification.

    A chunk is a table of results for one ``job`` (a string naming the unit of work, e.g. a
    population and sample size) computed under one ``config_hash``. Each chunk is written
    atomically (temporary name, then rename) as Parquet carrying its job, config hash and fmsim
    version in its metadata, and recorded in ``manifest.json`` with its SHA-256 and size.
    :meth:`read_verified_chunk` returns a chunk only if all of these match; otherwise the
    problem is recorded in ``problems`` and the caller recomputes it.
    """

    def __init__(self, folder: Path, config_hash: str) -> None:
        self.folder = Path(folder)
        self.config_hash = config_hash
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp-*"):  # a chunk write cut short by a kill
            stale.unlink(missing_ok=True)
        recorded = _read_json(self.folder / MANIFEST)
        self._chunks: dict[str, dict] = dict((recorded or {}).get("chunks") or {})
        self.reused = 0
        self.written = 0
        self.problems: list[str] = []

    def chunk_path(self, job: str) -> Path:
        """Where the chunk of ``job`` under this config lives."""
        digest = hashlib.sha256(job.encode()).hexdigest()[:16]
        return self.folder / f"{self.config_hash[:12]}_{digest}.parquet"

    def manifest(self) -> dict:
        """The store's manifest: file name -> job, config hash, fmsim version, sha256, bytes."""
        return {"fmsim_chunk_manifest": MANIFEST_FORMAT, "chunks": dict(self._chunks)}

    def write_chunk(self, job: str, frame: pd.DataFrame) -> Path:
        """Store ``frame`` as the chunk of ``job`` (atomically) and record it."""
        path = self.chunk_path(job)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        metadata = {**(table.schema.metadata or {}), **self._identity(job)}
        table = table.replace_schema_metadata(metadata)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
        _write_atomically(path, data)
        self._chunks[path.name] = {
            "job": job,
            "config_hash": self.config_hash,
            "fmsim_version": __version__,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        _write_atomically(self.folder / MANIFEST, json.dumps(self.manifest(), indent=2).encode())
        self.written += 1
        return path

    def read_verified_chunk(self, job: str) -> pd.DataFrame | None:
        """The stored chunk of ``job`` if it exists and passes every check, else None (with the
        reason in ``problems`` when a file was there but could not be trusted)."""
        path = self.chunk_path(job)
        entry = self._chunks.get(path.name)
        if not path.exists():
            if entry is not None:
                self.problems.append(f"{path.name}: recorded but missing")
            return None
        table, problem = self._verified(path, job, entry)
        if problem is not None:
            self.problems.append(f"{path.name} ({job}): {problem}")
            return None
        self.reused += 1
        return table.to_pandas()

    def _verified(self, path: Path, job: str, entry: dict | None) -> tuple[pa.Table, str | None]:
        """The chunk's table and None, or None and what is wrong with it."""
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as error:
            table, unreadable = None, str(error).splitlines()[0]
        else:
            unreadable = None
        identity = (table.schema.metadata or {}) if table is not None else {}
        if table is not None and any(identity.get(k) != v for k, v in self._identity(job).items()):
            owner = identity.get(b"fmsim.job", b"?").decode(errors="replace")
            return None, f"holds the chunk of another job or configuration ({owner!r})"
        if entry is None:
            return None, "not in the chunk manifest (unverified)"
        if entry.get("job") != job or entry.get("config_hash") != self.config_hash:
            return None, "recorded for another job or configuration"
        if entry.get("fmsim_version") != __version__:
            return None, f"written by fmsim {entry.get('fmsim_version')}, this is {__version__}"
        size = path.stat().st_size
        if size != entry.get("bytes"):
            return None, f"{size} bytes, recorded {entry.get('bytes')} (truncated or replaced)"
        if sha256_file(path) != entry.get("sha256"):
            return None, "checksum differs from the manifest (corrupted or replaced)"
        if unreadable is not None:
            return None, f"unreadable ({unreadable})"
        return table, None

    def _identity(self, job: str) -> dict[bytes, bytes]:
        return {
            b"fmsim.job": job.encode(),
            b"fmsim.config_hash": self.config_hash.encode(),
            b"fmsim.version": __version__.encode(),
        }


# ---------------------------------------------------------------------------------- run log


#: Name of the log file a command writes into its run folder.
RUN_LOG = "run.log"


@contextmanager
def run_log(folder: Path, logger: str = "fmsim") -> Iterator[Path]:
    """Copy the ``logger`` messages (INFO and above: what runs, chunks reused, progress
    summaries) into ``folder/run.log`` while the block runs; the file is closed at its end,
    before the run folder is completed (so the manifest records its final checksum)."""
    path = Path(folder) / RUN_LOG
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    target = logging.getLogger(logger)
    previous = target.level
    target.addHandler(handler)
    if target.level == logging.NOTSET or target.level > logging.INFO:
        target.setLevel(logging.INFO)
    try:
        yield path
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
        handler.close()
