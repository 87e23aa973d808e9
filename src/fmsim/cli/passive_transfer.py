"""``fmsim reproduce`` and ``fmsim simulate``: a passive-transfer experiment in silico, analysed
and reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from fmsim.cli.errors import fail
from fmsim.cli.nonmem_cmt import cmt_style, nonmem_cmt_option, with_cmt
from fmsim.cli.options import overwrite_option, seed_option
from fmsim.cli.study_run import run_study

if TYPE_CHECKING:
    from fmsim.config import PassiveTransferConfig

#: Mice per donor accepted on the command line (larger cohorts: a scenario file).
MAX_MICE_PER_DONOR = 1000


def reproduce(
    out: Path = typer.Option(Path("results/passive_transfer"), help="Output folder."),
    seed: int = seed_option(2021),
    mice_per_donor: int = typer.Option(
        4, min=1, max=MAX_MICE_PER_DONOR, help="Mice per donor in the IgG groups."
    ),
    overwrite: bool = overwrite_option(),
) -> None:
    """Reproduce Goebel et al. 2021 in silico with defaults and write the HTML report."""
    from fmsim.config import default_config

    base = default_config()
    groups = [
        g.model_copy(update={"mice_per_donor": mice_per_donor}) if g.mice_per_donor else g
        for g in base.groups
    ]
    config = base.model_copy(update={"seed": seed, "groups": groups})
    run_passive_transfer_command(config, out, inputs=(), overwrite=overwrite)


def simulate(
    config_file: Path = typer.Argument(..., help="Scenario YAML (see examples/)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>)."),
    events: Path = typer.Option(
        None,
        "--events",
        help="Dose the mice by a NONMEM/mrgsolve event table (CSV or .xlsx) instead of the "
        "scenario's dose and injection days: for every mouse of an IgG group (no ID column) "
        "or per mouse (ID = mouse name or number); docs/event_tables.md.",
    ),
    nonmem: bool = typer.Option(
        False, "--nonmem", help="Also write the simulated data as a NONMEM-style data set."
    ),
    nonmem_cmt: str | None = nonmem_cmt_option(),
    overwrite: bool = overwrite_option(),
) -> None:
    """Run any passive-transfer scenario described in a YAML file (its dosing may be an event
    table: 'events: doses.csv' in the file, or --events, which wins)."""
    from fmsim.config.errors import read_yaml
    from fmsim.config.passive_transfer import parse_config
    from fmsim.io.event_table import events_field

    style = cmt_style(nonmem_cmt, nonmem)
    raw = read_yaml(config_file)
    field = events_field(raw, config_file)
    config = parse_config(raw, str(config_file))
    events = events or field
    out = out or Path("results") / config_file.stem
    dosing = None
    if events is not None:
        from fmsim.experiments.passive_transfer import build_cohort
        from fmsim.io.event_table import read_event_table, subject_events
        from fmsim.model.equations import MODEL

        dosing = read_event_table(events, MODEL)
        if not dosing.events:
            fail(f"{events}: no dose records (EVID 1 with AMT > 0); the mice would get nothing")
        cohort = build_cohort(config)  # an unknown mouse ID is an error before simulating
        subject_events(dosing, list(cohort["mouse"]), cohort["receives_igg"], "mouse")
    inputs = (config_file,) if events is None else (config_file, events)
    run_passive_transfer_command(
        config,
        out,
        inputs=inputs,
        overwrite=overwrite,
        dosing=dosing,
        nonmem=nonmem,
        nonmem_cmt=style,
    )


def run_passive_transfer_command(
    config: PassiveTransferConfig,
    out: Path,
    *,
    inputs: Sequence[Path],
    overwrite: bool,
    dosing=None,
    nonmem: bool = False,
    nonmem_cmt: str = "name",
) -> None:
    """Simulate, analyse, save and render into ``out``; print the steps and the report
    (``nonmem_cmt``: CMT of the NONMEM-style data set by ``name`` or ``number``)."""
    import time

    from fmsim.experiments.studies import PassiveTransferStudy, passive_transfer_study
    from fmsim.model.equations import MODEL

    started = time.perf_counter()
    _, report = run_study(
        PassiveTransferStudy,
        out,
        lambda run: with_cmt(
            passive_transfer_study(
                config, dosing=dosing, nonmem=nonmem, inputs=inputs, log=typer.echo
            ),
            nonmem_cmt,
            MODEL,
        ),
        inputs=inputs,
        overwrite=overwrite,
    )
    typer.echo(f"done in {time.perf_counter() - started:.1f} s; report: {report}")
