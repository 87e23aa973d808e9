"""``fmsim therapies``: IgG-lowering protocols side by side in one virtual population, with the
validation table of the human model."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.options import echo_kept, open_run, overwrite_option, seed_option
from fmsim.config import ConfigError
from fmsim.config.therapy import TherapyProtocol, load_protocol

#: Virtual patients and simulated days accepted on the command line.
MAX_PATIENTS, MAX_DAYS = 100_000, 3650.0


def therapies(
    protocol_files: list[Path] | None = typer.Argument(
        None,
        metavar="[PROTOCOL.yaml]...",
        show_default=False,
        help="Protocol YAML files (see examples/therapies/). Default: the standard protocols, "
        "the same as examples/therapies/*.yaml.",
    ),
    patients: int = typer.Option(
        200, min=1, max=MAX_PATIENTS, help="Virtual patients (the same for every protocol)."
    ),
    days: float = typer.Option(
        182.0, min=1.0, max=MAX_DAYS, help="Days simulated from treatment start."
    ),
    positive_only: bool = typer.Option(
        True,
        "--positive-only/--all",
        help="Only anti-SGC-positive patients, or all (37% positive, human.yaml).",
    ),
    seed: int = seed_option(2024, "Random seed (same seed, same patients)."),
    out: Path = typer.Option(Path("results/therapies"), help="Output folder."),
    overwrite: bool = overwrite_option(),
) -> None:
    """Simulate IgG-lowering protocols (PROTOCOL.yaml files; default: the standard protocols,
    equal to examples/therapies/*.yaml) in the same virtual patients; write per-patient and
    median-course tables, the validation table against published pharmacodynamics, and an
    HTML report."""
    import time

    started = time.perf_counter()
    files = list(protocol_files or [])
    protocols = load_protocols(files) if files else None
    # the simulation's imports are heavy: only after the protocols are known to be valid
    from fmsim.experiments.studies import TherapyStudy, therapy_study
    from fmsim.report import render

    with open_run(TherapyStudy, out, inputs=files, overwrite=overwrite) as run:
        study = therapy_study(
            protocols,
            patients=patients,
            days=days,
            positive_only=positive_only,
            seed=seed,
            source=", ".join(str(p) for p in files),
            inputs=files,
            log=typer.echo,
        )
        study.save(run)
        report = render(study, run)
    echo_kept(run)
    summary = study.comparison.summary
    for row in summary[summary["quantity"] == "igg_nadir_reduction_pct"].itertuples():
        typer.echo(
            f"  {row.therapy}: total IgG nadir {row.median + 0.0:.1f}% below baseline "
            f"(5-95%: {row.p05 + 0.0:.1f} to {row.p95 + 0.0:.1f})"
        )
    table = study.validation
    typer.echo(f"  validation: {int((table['verdict'] == 'PASS').sum())} of {len(table)} PASS")
    for row in table[table["verdict"] != table["expected"]].itertuples():
        typer.echo(f"  unexpected {row.verdict}: {row.id} ({row.simulated:.4g}, {row.accepted})")
    typer.echo(f"done in {time.perf_counter() - started:.1f} s; report: {report}")


def load_protocols(paths: list[Path]) -> dict[str, TherapyProtocol]:
    """Protocol files by protocol name; raises :class:`ConfigError` for an invalid file or
    two files with one name."""
    protocols, origin = {}, {}
    for path in paths:
        protocol = load_protocol(path)
        if protocol.name in protocols:
            raise ConfigError(
                f"{path}: name: {protocol.name!r} is also the name of {origin[protocol.name]}; "
                "give each protocol its own 'name'"
            )
        protocols[protocol.name], origin[protocol.name] = protocol, path
    return protocols
