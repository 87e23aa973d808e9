"""``fmsim drugs``: the drug and device library (FcRn inhibitors, anti-CD20 antibodies, IVIG,
plasma exchange and its replacement fluids, immunoadsorption columns) with every constant's
value, unit, between-patient CV and source."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.config.errors import ConfigError

drugs_app = typer.Typer(
    help="The drug and device library: list the entries, show one with its sources.",
    no_args_is_help=True,
)
DRUGS_OPTION = typer.Option(
    None,
    "--drugs",
    help="Your own drug or device files (YAML), or folders of them; repeat for several.",
)


def _library(paths: list[Path] | None):
    from fmsim.config.therapy import drug_library

    try:
        return drug_library(paths or [])
    except ConfigError as error:
        fail(str(error))


@drugs_app.command("list")
def list_entries(drugs: list[Path] | None = DRUGS_OPTION) -> None:
    """List the library by class: name, description, routes, file."""
    from fmsim.model.drugs import CLASS_LABELS, DRUG_CLASSES

    library = _library(drugs)
    width = max(len(name) for name in library.names())
    for kind in DRUG_CLASSES:
        names = library.names(kind)
        if not names:
            continue
        typer.echo(f"{CLASS_LABELS[kind]} ({kind})")
        for name in names:
            entry = library.get(name)
            routes = f" [{', '.join(entry.routes)}]" if entry.routes else ""
            typer.echo(f"  {name:<{width}}  {entry.label}{routes}")
    user = sorted(
        {origin for origin in library.origin.values() if "fmsim/model/data" not in origin}
    )
    if user:
        typer.echo(f"your files: {', '.join(user)}")
    typer.echo("fmsim drugs show NAME: constants with units, CVs and sources")


@drugs_app.command("show")
def show(
    name: str = typer.Argument(..., help="Entry name (see fmsim drugs list)."),
    drugs: list[Path] | None = DRUGS_OPTION,
) -> None:
    """Show one entry: every constant with value, unit, between-patient CV and source."""
    from fmsim.model.drugs import CLASS_LABELS

    library = _library(drugs)
    if name not in library:
        fail(f"drugs show: unknown entry {name!r}; known: {library.names()}")
    entry = library.get(name)
    typer.echo(f"{entry.name}: {entry.label}")
    typer.echo(f"class: {entry.kind} ({CLASS_LABELS[entry.kind]}); file: {library.origin[name]}")
    rows = [(f"parameters.{key}", item) for key, item in entry.parameters.items()]
    rows += [
        (f"routes.{route}.{key}", item)
        for route, items in entry.routes.items()
        for key, item in items.items()
    ]
    for field in ("session_hours", "maximum_dose"):
        if getattr(entry, field) is not None:
            rows.append((field, getattr(entry, field)))
    if entry.default_route:
        typer.echo(f"default route: {entry.default_route}")
    if entry.default_fluid:
        typer.echo(f"default replacement fluid: {entry.default_fluid}")
    width = max((len(key) for key, _ in rows), default=8)
    for key, item in rows:
        cv = f"CV {item.cv:.0%}" if item.cv else "CV -"
        typer.echo(f"  {key:<{width}}  {item.value:>10.6g} {item.unit:<8} {cv:<7}  {item.source}")
        if item.note:
            typer.echo(f"  {'':<{width}}  note: {item.note}")
    for tag, citation in entry.references.items():
        typer.echo(f"  [{tag}] {citation}")
