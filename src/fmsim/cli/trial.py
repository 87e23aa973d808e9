"""``fmsim trial``: simulate, analyse and report a virtual clinical trial."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.cli.execution import open_executor, scheduler_option, workers_option
from fmsim.cli.options import overwrite_option
from fmsim.cli.study_run import run_study

#: Replicate trials per chunk accepted on the command line.
MAX_REPLICATES = 100_000


def trial(
    config_file: Path = typer.Argument(..., help="Trial YAML (see examples/trials/)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>)."),
    replicates: int = typer.Option(
        None,
        min=10,
        max=MAX_REPLICATES,
        help="Replicate trials per sample size (default: the config's).",
    ),
    power: bool = typer.Option(True, help="Run the power curves (replicate trials)."),
    events: list[str] | None = typer.Option(
        None,
        "--events",
        metavar="ARM=FILE",
        help="An arm's therapies as a NONMEM/mrgsolve event table for every patient of the arm "
        "(docs/event_tables.md), e.g. 'efgartigimod=doses.csv'; repeatable.",
    ),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
    overwrite: bool = overwrite_option(),
) -> None:
    """Run a virtual trial: one trial in detail, then power curves with and without
    enrichment for anti-SGC-positive patients. Finished chunks of replicate trials are kept
    in OUT/chunks and, verified, reused if the same command is run again (resume); the
    replicate trials run in this process or on Dask (--scheduler, or power.scheduler in the
    config). OUT/run.log records what ran."""
    import time

    started = time.perf_counter()
    config, fields = trial_file(config_file)
    tables = arm_event_tables(events or [])
    if tables:
        config = with_arm_tables(config, tables, f"{config_file} with --events")
    if replicates is not None:  # validated again: the power chunks must fit in memory
        config = config.with_replicates(replicates, f"{config_file} with --replicates")
    # the simulation's imports are heavy: only after the config is known to be valid
    from fmsim.experiments.studies import TrialStudy, trial_study
    from fmsim.experiments.studies.trial import CHUNKS

    out = out or Path("results") / config_file.stem
    scheduler = scheduler or config.power.scheduler
    inputs = (config_file, *fields, *tables.values())

    def compute(run) -> TrialStudy:
        with open_executor(scheduler if power else None, workers if power else None) as chunks:
            try:
                return trial_study(
                    config,
                    power=power,
                    chunk_folder=run.store(CHUNKS) if power else None,
                    source=str(config_file),
                    inputs=inputs,
                    log=typer.echo,
                    progress=True,
                    executor=chunks,
                )
            except ValueError as error:  # e.g. inclusion criteria no screened patient meets
                fail(f"{config_file}: {error}")

    study, report = run_study(
        TrialStudy, out, compute, inputs=inputs, overwrite=overwrite, logged=True
    )
    for row in study.analysis.effects.itertuples():
        typer.echo(
            f"  {row.role}: {row.label}, {row.comparison}: {row.estimate:+.2f} "
            f"(95% CI {row.ci_low:+.2f} to {row.ci_high:+.2f}), p = {row.p_value:.3g}"
        )
    if study.chunks is not None:
        chunks = study.chunks
        typer.echo(f"  chunks: {chunks.reused} of {chunks.total} reused after verification")
        for problem in chunks.problems:
            typer.echo(f"  chunk recomputed: {problem}")
    for row in study.curve.required.itertuples():
        typer.echo(
            f"  {row.population}: mean effect {row.mean_effect:+.2f}; "
            f"{config.power.target:.0%} power at {row.label} patients"
        )
    for row in study.shares.itertuples():
        typer.echo(
            f"  {row.positive_fraction:.0%} anti-SGC positive: power {row.power:.2f} with "
            f"{config.patients} patients (mean effect {row.mean_effect:+.2f})"
        )
    typer.echo(f"done in {time.perf_counter() - started:.1f} s; report: {report}")


def arm_event_tables(options: list[str]) -> dict[str, Path]:
    """``--events ARM=FILE`` options as {arm: file}; one line (exit 2) for a malformed one."""
    tables: dict[str, Path] = {}
    for option in options:
        arm, separator, file = option.partition("=")
        if not separator or not arm.strip() or not file.strip():
            fail(f"--events: got {option!r}: expected ARM=FILE, e.g. 'efgartigimod=doses.csv'")
        if arm.strip() in tables:
            fail(f"--events: arm {arm.strip()!r} is given two tables")
        tables[arm.strip()] = Path(file.strip())
    return tables


def with_arm_tables(config, tables: dict[str, Path], origin: str):
    """``config`` with each named arm's therapies replaced by its event table's blocks,
    validated again (ConfigError naming ``origin``, or the table's file, row and column)."""
    from fmsim.config.trial import parse_trial_config
    from fmsim.io.event_table import therapy_protocol_data
    from fmsim.model.human import HUMAN_MODEL

    data = config.model_dump()
    arms = [arm["name"] for arm in data["arms"]]
    for name, path in tables.items():
        if name not in arms:
            fail(f"--events: got arm {name!r}: expected one of the trial's arms {arms}")
        blocks = therapy_protocol_data(path, HUMAN_MODEL)["therapies"]
        data["arms"][arms.index(name)]["therapies"] = blocks
    return parse_trial_config(data, origin)


def trial_file(path: Path):
    """The trial config of ``path`` and the event tables it names: an arm's 'events: FILE'
    adds the table's blocks to the arm's 'therapies'."""
    from fmsim.config.errors import read_yaml
    from fmsim.config.trial import parse_trial_config
    from fmsim.io.event_table import events_field, therapy_protocol_data
    from fmsim.model.human import HUMAN_MODEL

    data = read_yaml(path)
    tables = []
    arms = data.get("arms")
    for k, arm in enumerate(arms if isinstance(arms, list) else []):
        table = events_field(arm, path, f"arms.{k}.events") if isinstance(arm, dict) else None
        if table is not None:
            therapies = arm.get("therapies") or []
            blocks = therapy_protocol_data(table, HUMAN_MODEL)["therapies"]
            arm["therapies"] = [*therapies, *blocks] if isinstance(therapies, list) else therapies
            tables.append(table)
    return parse_trial_config(data, str(path)), tables
