"""``fmsim query``: SQL (DuckDB) over a run folder's Parquet tables."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from fmsim.cli.errors import fail

#: Rows printed as a table before the output is cut (all rows with --format csv or json).
SHOWN_ROWS = 1000


def query(
    run_dir: Path = typer.Argument(..., help="A run folder (e.g. results/trial_nct05643794)."),
    sql: str = typer.Argument(
        ..., help="SQL; each NAME.parquet of the folder is a view NAME, chunks/ the view chunks."
    ),
    output: str = typer.Option(
        "table", "--format", help="table (first 1,000 rows), csv or json (all rows)."
    ),
) -> None:
    """Run SQL over a run's tables with DuckDB, reading the Parquet files as the query needs
    them (e.g. fmsim query results/trial "SELECT week, avg(pain_nrs) FROM visits GROUP BY
    week")."""
    from fmsim.io.query import QueryError
    from fmsim.io.query import query as run_query

    if output not in ("table", "csv", "json"):
        raise typer.BadParameter(
            f"got {output!r}: expected table, csv or json", param_hint="--format"
        )
    try:
        result = run_query(run_dir, sql)
    except QueryError as error:
        fail(str(error))
    if output == "csv":
        result.to_csv(sys.stdout, index=False)
    elif output == "json":
        typer.echo(result.to_json(orient="records", date_format="iso"))
    else:
        typer.echo(result.head(SHOWN_ROWS).to_string(index=False))
        if len(result) > SHOWN_ROWS:
            typer.echo(f"({len(result):,} rows, first {SHOWN_ROWS:,} shown; --format csv for all)")
