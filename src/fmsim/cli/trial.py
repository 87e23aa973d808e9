"""``fmsim trial``: simulate, analyse and report a virtual clinical trial."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.cli.execution import open_executor, scheduler_option, workers_option
from fmsim.cli.nonmem_cmt import cmt_style, nonmem_cmt_option, with_cmt
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
        metavar="[ARM=]FILE",
        help="A NONMEM/mrgsolve event table (docs/event_tables.md): ARM=FILE gives an arm's "
        "therapies for every patient of the arm (e.g. 'efgartigimod=doses.csv'), or with an "
        "ID column the records of the arm's patients it names; FILE alone gives records per "
        "patient of the whole trial (ID n = the n-th randomised patient, e.g. the nonmem.csv "
        "of a run; needs --no-power). Repeatable.",
    ),
    nonmem: bool = typer.Option(
        False,
        "--nonmem",
        help="Also write the trial's patients as a NONMEM-style data set (nonmem.csv): doses, "
        "sessions, daily IgG and sensitisation, weekly outcomes.",
    ),
    nonmem_cmt: str | None = nonmem_cmt_option(),
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
    style = cmt_style(nonmem_cmt, nonmem)
    config, fields = trial_file(config_file)
    tables, files = arm_event_tables(events or [])
    given, tables = per_patient_tables(config, tables, files, power)
    if tables:
        config = with_arm_tables(config, tables, f"{config_file} with --events")
    if nonmem:
        check_nonmem_size(config)
    if replicates is not None:  # validated again: the power chunks must fit in memory
        config = config.with_replicates(replicates, f"{config_file} with --replicates")
    # the simulation's imports are heavy: only after the config is known to be valid
    from fmsim.experiments.studies import TrialStudy, trial_study
    from fmsim.experiments.studies.trial import CHUNKS
    from fmsim.io.event_table import EventTableError
    from fmsim.model.human import HUMAN_MODEL

    out = out or Path("results") / config_file.stem
    scheduler = scheduler or config.power.scheduler
    inputs = (config_file, *fields, *tables.values(), *dict.fromkeys(files))

    def compute(run) -> TrialStudy:
        with open_executor(scheduler if power else None, workers if power else None) as chunks:
            try:
                study = trial_study(
                    config,
                    power=power,
                    chunk_folder=run.store(CHUNKS) if power else None,
                    source=str(config_file),
                    inputs=inputs,
                    log=typer.echo,
                    progress=True,
                    executor=chunks,
                    given=given,
                    nonmem=nonmem,
                )
            except EventTableError:  # names the table, its row and the patient
                raise
            except ValueError as error:  # e.g. inclusion criteria no screened patient meets
                fail(f"{config_file}: {error}")
        return with_cmt(study, style, HUMAN_MODEL)

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


def arm_event_tables(options: list[str]) -> tuple[dict[str, Path], list[Path]]:
    """``--events ARM=FILE`` options as {arm: file}, and the files of ``--events FILE``
    options (per-patient tables of the whole trial); one line (exit 2) for a malformed one."""
    tables: dict[str, Path] = {}
    files: list[Path] = []
    for option in options:
        arm, separator, file = option.partition("=")
        if not separator:
            if not option.strip():
                fail(f"--events: got {option!r}: expected [ARM=]FILE, e.g. 'placebo=doses.csv'")
            files.append(Path(option.strip()))
            continue
        if not arm.strip() or not file.strip():
            fail(f"--events: got {option!r}: expected ARM=FILE, e.g. 'efgartigimod=doses.csv'")
        if arm.strip() in tables:
            fail(f"--events: arm {arm.strip()!r} is given two tables")
        tables[arm.strip()] = Path(file.strip())
    return tables, files


def per_patient_tables(config, tables: dict[str, Path], files: list[Path], power: bool):
    """The per-patient courses of ``--events`` (each with the arm it is restricted to, or
    None) and the remaining {arm: table for every patient of the arm}; one line (exit 2) or
    EventTableError (file, row, ID) for what the trial cannot take."""
    from fmsim.config.therapy import drug_library
    from fmsim.experiments.patient_courses import patient_course
    from fmsim.io.nonmem_patients import is_per_patient, read_patient_tables
    from fmsim.model.human import HUMAN_MODEL

    arms = [arm.name for arm in config.arms]
    for name in tables:
        if name not in arms:
            fail(f"--events: got arm {name!r}: expected one of the trial's arms {arms}")
    for file in files:
        if not is_per_patient(file):
            fail(
                f"--events {file}: without ARM= a table gives records per patient (an ID "
                "column: ID n = the n-th randomised patient); for every patient of an arm "
                "give ARM=FILE"
            )
    per_patient = {arm: path for arm, path in tables.items() if is_per_patient(path)}
    if per_patient and config.design == "crossover":
        arm = next(iter(per_patient))
        fail(
            f"--events {arm}={per_patient[arm]}: in a crossover trial an arm is a period; give "
            "the records per patient for the whole trial (--events FILE, TIME from day 0 of "
            "period 1)"
        )
    sources = [(file, None) for file in files] + [(p, a) for a, p in per_patient.items()]
    if sources and power:
        fail(
            f"--events {sources[0][0]}: per-patient records apply to the patients of the one "
            "detailed trial; the replicate trials of the power curves sample other patients: "
            "add --no-power"
        )
    library = drug_library([])
    given = []
    for path, arm in sources:
        for table in read_patient_tables(path, HUMAN_MODEL):
            table.check_patients(config.patients, "randomised patient of the trial")
            given.append((patient_course(table, library), arm))
    return given, {a: p for a, p in tables.items() if a not in per_patient}


def check_nonmem_size(config) -> None:
    """One line (exit 2) if the --nonmem data set of the trial would be too large to write."""
    from fmsim.io.nonmem_patients import check_dataset_size

    days = 7 * config.total_weeks + 1
    try:
        check_dataset_size(
            float(config.patients) * days * 3,
            f"{config.patients:,} patients x {days} days x 3 outputs",
            "simulate fewer patients (patients:) or weeks per run",
        )
    except ValueError as error:
        fail(f"--nonmem: {error}")


def with_arm_tables(config, tables: dict[str, Path], origin: str):
    """``config`` with each named arm's therapies replaced by its event table's blocks,
    validated again (ConfigError naming ``origin``, or the table's file, row and column)."""
    from fmsim.config.trial import parse_trial_config
    from fmsim.io.event_table import therapy_protocol_data
    from fmsim.model.human import HUMAN_MODEL

    data = config.model_dump()
    arms = [arm["name"] for arm in data["arms"]]
    for name, path in tables.items():
        blocks = therapy_protocol_data(path, HUMAN_MODEL, "--events FILE")["therapies"]
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
            blocks = therapy_protocol_data(table, HUMAN_MODEL, "--events FILE")["therapies"]
            arm["therapies"] = [*therapies, *blocks] if isinstance(therapies, list) else therapies
            tables.append(table)
    return parse_trial_config(data, str(path)), tables
