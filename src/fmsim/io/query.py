"""SQL over a run folder's tables with DuckDB, without loading them into memory.

Every ``NAME.parquet`` at the top of a run folder is a view ``NAME`` (``visits``, ``power``,
``measurements`` ...); the verified chunks of a chunked job (``chunks/*.parquet``) together are
the view ``chunks``, with the chunk's file name in the column ``chunk_file``. DuckDB reads the
Parquet files as a query needs them (column and row-group pruning), so a query over a run of
10^6 patients needs memory for its result, not for the tables.

    from fmsim.io.query import query
    query("results/trial", "SELECT week, avg(pain_nrs) FROM visits GROUP BY week ORDER BY week")

Views are read-only: the run folder is never written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from fmsim.io.store import MANIFEST

#: The view over a run's stored chunks.
CHUNK_VIEW = "chunks"


class QueryError(Exception):
    """A query that cannot run (one line: the folder or the SQL, and what is wrong)."""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_tables(folder: Path) -> dict[str, Path]:
    """The views of a run folder: view name -> Parquet file, or chunk folder for ``chunks``;
    raises :class:`QueryError` if ``folder`` is not a folder or holds no Parquet table."""
    folder = Path(folder)
    if not folder.is_dir():
        raise QueryError(f"{folder}: no such run folder")
    tables = {path.stem: path for path in sorted(folder.glob("*.parquet")) if path.is_file()}
    chunks = folder / CHUNK_VIEW
    if CHUNK_VIEW not in tables and any(chunks.glob("*.parquet")):
        tables[CHUNK_VIEW] = chunks
    if not tables:
        hint = "" if (folder / MANIFEST).exists() else " (no manifest.json: not an fmsim run)"
        raise QueryError(f"{folder}: holds no Parquet tables to query{hint}")
    return tables


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of the run ``folder`` (see the
    module docstring)."""
    connection = duckdb.connect(":memory:")
    for name, path in run_tables(folder).items():
        if path.is_dir():
            source = (
                f"read_parquet({_literal(path / '*.parquet')}, union_by_name = true, "
                "filename = 'chunk_file')"
            )
        else:
            source = f"read_parquet({_literal(path)})"
        connection.execute(f"CREATE VIEW {_quoted(name)} AS SELECT * FROM {source}")
    return connection


def query(folder: Path, sql: str) -> pd.DataFrame:
    """The result of ``sql`` over the run ``folder``'s views, as a data frame; raises
    :class:`QueryError` with DuckDB's message (first line) for SQL that cannot run."""
    if not sql.strip():
        raise QueryError("empty SQL query")
    connection = connect(folder)
    try:
        return connection.execute(sql).fetchdf()
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        views = ", ".join(run_tables(folder))
        raise QueryError(f"SQL: {first} (views: {views})") from None
    finally:
        connection.close()
