"""``fmsim params``: the model's parameters with value, unit, variability and source."""

from __future__ import annotations

from pathlib import Path

import typer


def params(
    file: Path = typer.Option(
        None, help="Parameter YAML (default: the mouse set; see also src/fmsim/model/data/)."
    ),
) -> None:
    """Print model parameters with value, unit, physical range, between-subject CV, source and
    description."""
    from fmsim.config.parameters import load_parameter_file
    from fmsim.model.parameters import load_parameter_set

    parameter_set = load_parameter_set() if file is None else load_parameter_file(file)
    rows = parameter_set.table()
    width = max(len(r["parameter"]) for r in rows)
    typer.echo(f"Parameters ({parameter_set.species})")
    typer.echo(
        f"{'parameter':<{width}}  {'value':>9}  {'unit':<14} {'range':<14} {'CV':>4}  source"
    )
    for r in rows:
        typer.echo(
            f"{r['parameter']:<{width}}  {r['value']:>9}  {r['unit']:<14} {r['range']:<14} "
            f"{r['cv']:>4}  {r['source']}"
        )
        if r["description"]:
            typer.echo(f"{'':<{width}}  {r['description']}")
    if parameter_set.references:
        typer.echo("References")
        for tag, citation in parameter_set.references.items():
            typer.echo(f"  [{tag}] {citation}")
