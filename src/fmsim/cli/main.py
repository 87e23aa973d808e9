"""fmsim's command line. Each command lives in its own module of this package and only parses
arguments, calls a study (:mod:`fmsim.experiments.studies`), saves and renders its result and
prints a summary. :class:`fmsim.cli.errors.FmsimGroup` turns every failure into one line."""

from __future__ import annotations

import sys

import typer

from fmsim import __version__
from fmsim.cli.analyze import analyze
from fmsim.cli.drugs import drugs_app
from fmsim.cli.errors import FmsimGroup, set_debug
from fmsim.cli.export import export_app
from fmsim.cli.fit import fit
from fmsim.cli.params import params
from fmsim.cli.passive_transfer import reproduce, simulate
from fmsim.cli.power import power
from fmsim.cli.query import query
from fmsim.cli.sensitivity import sensitivity
from fmsim.cli.serve import serve
from fmsim.cli.therapies import therapies
from fmsim.cli.trial import trial

app = typer.Typer(
    cls=FmsimGroup,
    help="fmsim: autoantibody-mediated fibromyalgia, mouse passive transfer to virtual trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"fmsim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback of an unexpected error (else it is logged)."
    ),
) -> None:
    """fmsim: autoantibody-mediated fibromyalgia, mouse passive transfer to virtual trials."""
    set_debug(debug)


app.command()(reproduce)
app.command()(simulate)
app.command()(params)
app.command()(power)
app.command()(analyze)
app.add_typer(export_app, name="export")
app.command()(trial)
app.command()(therapies)
app.command()(fit)
app.command()(sensitivity)
app.add_typer(drugs_app, name="drugs")
app.command()(query)
app.command()(serve)


def main() -> None:  # pragma: no cover
    sys.exit(app())
