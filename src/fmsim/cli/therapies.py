"""``fmsim therapies``: IgG-lowering protocols side by side in one virtual population, with the
validation table of the human model."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.cli.options import echo_kept, finite, open_run, overwrite_option, seed_option
from fmsim.config import ConfigError
from fmsim.config.therapy import TherapyProtocol, load_protocol
from fmsim.model.drugs import DrugLibrary

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
        182.0, min=1.0, max=MAX_DAYS, callback=finite, help="Days simulated from treatment start."
    ),
    positive_only: bool = typer.Option(
        True,
        "--positive-only/--all",
        help="Only anti-SGC-positive patients, or all (37% positive, human.yaml).",
    ),
    seed: int = seed_option(2024, "Random seed (same seed, same patients)."),
    agents: str = typer.Option(
        None,
        help="Library entries to compare with their standard regimens, comma-separated "
        "(fmsim drugs list), e.g. 'efgartigimod,nipocalimab,protein_a'.",
    ),
    drugs: list[Path] | None = typer.Option(
        None, "--drugs", help="Your own drug or device files (YAML) or folders; repeatable."
    ),
    out: Path = typer.Option(Path("results/therapies"), help="Output folder."),
    overwrite: bool = overwrite_option(),
) -> None:
    """Simulate IgG-lowering protocols (PROTOCOL.yaml files and/or library entries' standard
    regimens; default: the standard protocols, equal to examples/therapies/*.yaml) in the same
    virtual patients; write per-patient and median-course tables, the validation table against
    published pharmacodynamics, and an HTML report grouped by therapy class."""
    import time

    from fmsim.config.limits import BYTES_PER_PATIENT_DAY, check_fits
    from fmsim.config.therapy import drug_library
    from fmsim.experiments.reference import standard_protocols

    started = time.perf_counter()
    files = list(protocol_files or [])
    drug_files = list(drugs or [])
    library = drug_library(drug_files)
    protocols, source = load_protocols(files, agents, library)
    courses = len(protocols) if protocols else len(standard_protocols(library))
    try:
        check_fits(
            float(patients) * days * courses * BYTES_PER_PATIENT_DAY,
            f"{patients:,} patients x {days:g} days x {courses} protocols",
            "lower --patients or --days, or compare fewer protocols per run",
        )
    except ValueError as error:
        fail(f"--patients: {error}")
    # the simulation's imports are heavy: only after the protocols are known to be valid
    from fmsim.experiments.studies import TherapyStudy, therapy_study
    from fmsim.report import render

    inputs = [*files, *drug_files]
    with open_run(TherapyStudy, out, inputs=inputs, overwrite=overwrite) as run:
        study = therapy_study(
            protocols,
            patients=patients,
            days=days,
            positive_only=positive_only,
            seed=seed,
            source=source,
            inputs=inputs,
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


def load_protocols(
    paths: list[Path], agents: str | None = None, library: DrugLibrary | None = None
) -> tuple[dict[str, TherapyProtocol] | None, str]:
    """Protocols by name from files and library entries' standard regimens (None: the standard
    protocols), and where they came from; raises :class:`ConfigError` for an invalid file, an
    unknown entry or two protocols with one name."""
    from fmsim.config.therapy import regimen_protocol

    names = [a.strip() for a in (agents or "").split(",") if a.strip()]
    if not paths and not names:
        return None, ""
    protocols, origin = {}, {}
    loaded = [(str(path), load_protocol(path, library)) for path in paths]
    for name in names:
        if library is None or name not in library:
            known = library.names() if library is not None else []
            raise ConfigError(f"--agents: unknown entry {name!r}; known: {known}")
        loaded.append((f"--agents {name}", regimen_protocol(library.get(name), library)))
    for where, protocol in loaded:
        if protocol.name in protocols:
            raise ConfigError(
                f"{where}: name: {protocol.name!r} is also the name of "
                f"{origin[protocol.name]}; give each protocol its own 'name'"
            )
        protocols[protocol.name], origin[protocol.name] = protocol, where
    return protocols, ", ".join(where for where, _ in loaded)
