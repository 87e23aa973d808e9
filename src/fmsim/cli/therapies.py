"""``fmsim therapies``: IgG-lowering protocols side by side in one virtual population, with the
validation table of the human model."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.config import ConfigError


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
    agents: str = typer.Option(
        None,
        help="Library entries to compare with their standard regimens, comma-separated "
        "(fmsim drugs list), e.g. 'efgartigimod,nipocalimab,protein_a'.",
    ),
    drugs: list[Path] | None = typer.Option(
        None, "--drugs", help="Your own drug or device files (YAML) or folders; repeatable."
    ),
    out: Path = typer.Option(Path("results/therapies"), help="Output folder."),
) -> None:
    """Simulate IgG-lowering protocols (PROTOCOL.yaml files and/or library entries' standard
    regimens; default: the standard protocols, equal to examples/therapies/*.yaml) in the same
    virtual patients; write per-patient and median-course tables, the validation table against
    published pharmacodynamics, and an HTML report grouped by therapy class."""
    import numpy as np
    import yaml

    from fmsim.config.therapy import drug_library

    started = time.perf_counter()
    try:
        library = drug_library(drugs or [])
        protocols, source = _protocols(protocol_files or [], agents, library)
    except ConfigError as error:
        fail(str(error))
    # the simulation's imports are heavy: only after the protocols are known to be valid
    from fmsim.experiments import validation
    from fmsim.experiments.therapy import sample_population
    from fmsim.io.store import write_table
    from fmsim.model.human import load_human_parameters
    from fmsim.report.therapy_html import write_therapy_report
    from fmsim.report.validation_md import validation_markdown

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
    targets = validation.published_targets()
    typer.echo(f"validation: {len(targets)} published targets ...")
    table = validation.validation_table(population, targets)
    files = write_table(comparison.patients, out, "therapy_patients")
    files += write_table(comparison.summary, out, "therapy_comparison")
    files += write_table(comparison.courses, out, "therapy_courses")
    files += write_table(population.covariates(), out, "patients")
    files += write_table(table, out, "validation")
    markdown = out / "validation.md"
    markdown.write_text(validation_markdown(table))
    files.append(markdown)
    protocols_file = out / "protocols.yaml"
    protocols_file.write_text(
        yaml.safe_dump(
            [p.model_dump(exclude_none=True) for p in protocols.values()], sort_keys=False
        )
    )
    files.append(protocols_file)
    used = {e.name: e for p in protocols.values() for e in p.entries()}
    drugs_file = out / "drugs.yaml"
    drugs_file.write_text(
        yaml.safe_dump(
            [{"file": e.origin, **e.model_dump(by_alias=True)} for e in used.values()],
            sort_keys=False,
        )
    )
    files.append(drugs_file)
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


def _protocols(paths: list[Path], agents: str | None, library) -> tuple[dict, str]:
    """Protocols by name from files and library entries' standard regimens (default: the
    standard protocols), and where they came from; ConfigError on a bad file or name."""
    from fmsim.config.therapy import load_protocol, regimen_protocol
    from fmsim.experiments.reference import standard_protocols

    names = [a.strip() for a in (agents or "").split(",") if a.strip()]
    if not paths and not names:
        standard = standard_protocols(library)
        return {p.name: p for p in standard.values()}, "the standard protocols"
    protocols, origin = {}, {}
    loaded = [(str(path), load_protocol(path, library)) for path in paths]
    for name in names:
        if name not in library:
            raise ConfigError(f"--agents: unknown entry {name!r}; known: {library.names()}")
        loaded.append((f"--agents {name}", regimen_protocol(library.get(name), library)))
    for where, protocol in loaded:
        if protocol.name in protocols:
            raise ConfigError(
                f"{where}: name: {protocol.name!r} is also the name of "
                f"{origin[protocol.name]}; give each protocol its own 'name'"
            )
        protocols[protocol.name], origin[protocol.name] = protocol, where
    return protocols, ", ".join(where for where, _ in loaded)
