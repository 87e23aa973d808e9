"""``fmsim therapies``: IgG-lowering protocols side by side in one virtual population, with the
validation table of the human model."""

from __future__ import annotations

import math
import time
from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.config import ConfigError

#: Number of standard protocols compared by default (examples/therapies/*.yaml).
STANDARD_PROTOCOLS = 10


def therapies(
    protocol_files: list[Path] | None = typer.Argument(
        None,
        metavar="[PROTOCOL.yaml]...",
        show_default=False,
        help="Protocol YAML files (see examples/therapies/). Default: the standard protocols, "
        "the same as examples/therapies/*.yaml.",
    ),
    patients: int = typer.Option(
        200, min=1, help="Virtual patients (the same for every protocol)."
    ),
    days: float = typer.Option(182.0, min=1.0, help="Days simulated from treatment start."),
    positive_only: bool = typer.Option(
        True,
        "--positive-only/--all",
        help="Only anti-SGC-positive patients, or all (37% positive, human.yaml).",
    ),
    seed: int = typer.Option(2024, help="Random seed (same seed, same patients)."),
    out: Path = typer.Option(Path("results/therapies"), help="Output folder."),
) -> None:
    """Simulate IgG-lowering protocols (PROTOCOL.yaml files; default: the standard protocols,
    equal to examples/therapies/*.yaml) in the same virtual patients; write per-patient and
    median-course tables, the validation table against published pharmacodynamics, and an
    HTML report."""
    import numpy as np
    import yaml

    from fmsim.config.limits import BYTES_PER_PATIENT_DAY, MAX_COURSE_DAYS, check_fits
    from fmsim.config.therapy import load_protocol

    if not math.isfinite(days) or days > MAX_COURSE_DAYS:
        fail(f"--days: got {days:g}: expected a finite number of days, at most {MAX_COURSE_DAYS:g}")
    courses = len(protocol_files or []) or STANDARD_PROTOCOLS
    try:
        check_fits(
            float(patients) * days * courses * BYTES_PER_PATIENT_DAY,
            f"{patients:,} patients x {days:g} days x {courses} protocols",
            "lower --patients or --days, or compare fewer protocols per run",
        )
    except ValueError as error:
        fail(f"--patients: {error}")
    started = time.perf_counter()
    if protocol_files:
        protocols, origin = {}, {}
        for path in protocol_files:
            try:
                protocol = load_protocol(path)
            except ConfigError as error:
                fail(str(error))
            if protocol.name in protocols:
                fail(
                    f"{path}: name: {protocol.name!r} is also the name of {origin[protocol.name]}; "
                    "give each protocol its own 'name'"
                )
            protocols[protocol.name], origin[protocol.name] = protocol, path
        source = ", ".join(str(p) for p in protocol_files)
    # the simulation's imports are heavy: only after the protocols are known to be valid
    from fmsim.experiments import validation
    from fmsim.experiments.therapy import sample_population
    from fmsim.io.store import write_table
    from fmsim.model.human import load_human_parameters
    from fmsim.report.therapy_html import write_therapy_report

    if not protocol_files:
        protocols = {p.name: p for p in validation.standard_protocols().values()}
        source = "the standard protocols (= examples/therapies/*.yaml)"
    parameters = load_human_parameters()
    share = 1.0 if positive_only else parameters["anti_sgc_positive_fraction"].value
    population = sample_population(patients, np.random.default_rng(seed), share, parameters)
    described = (
        "anti-SGC positive only"
        if positive_only
        else f"{int(population.anti_sgc_positive.sum())} anti-SGC positive"
    )
    typer.echo(
        f"simulating {len(protocols)} protocols in {patients} patients ({described}), "
        f"{days:g} days, seed {seed} ..."
    )
    comparison = validation.compare_protocols(population, protocols, days)
    typer.echo(f"validation: {len(validation.TARGETS)} published targets ...")
    table = validation.validation_table(population)
    files = write_table(comparison.patients, out, "therapy_patients")
    files += write_table(comparison.summary, out, "therapy_comparison")
    files += write_table(comparison.courses, out, "therapy_courses")
    files += write_table(population.covariates(), out, "patients")
    files += write_table(table, out, "validation")
    protocols_file = out / "protocols.yaml"
    protocols_file.write_text(
        yaml.safe_dump(
            [p.model_dump(exclude_none=True) for p in protocols.values()], sort_keys=False
        )
    )
    files.append(protocols_file)
    nadirs = comparison.summary[comparison.summary["quantity"] == "igg_nadir_reduction_pct"]
    for row in nadirs.itertuples():
        typer.echo(
            f"  {row.therapy}: total IgG nadir {row.median + 0.0:.1f}% below baseline "
            f"(5-95%: {row.p05 + 0.0:.1f} to {row.p95 + 0.0:.1f})"
        )
    passed = int((table["verdict"] == "PASS").sum())
    typer.echo(f"  validation: {passed} of {len(table)} PASS")
    for row in table[table["verdict"] != table["expected"]].itertuples():
        typer.echo(f"  unexpected {row.verdict}: {row.id} ({row.simulated:.4g}, {row.accepted})")
    report = write_therapy_report(
        comparison,
        table,
        protocols,
        out,
        parameters=parameters,
        population=described,
        n_patients=patients,
        days=days,
        seed=seed,
        source=source,
        files=files,
    )
    typer.echo(f"done in {time.perf_counter() - started:.1f} s; report: {report.resolve()}")
