"""``fmsim therapies``: IgG-lowering protocols side by side in one virtual population, with the
validation table of the human model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from fmsim.cli.errors import fail
from fmsim.cli.nonmem_cmt import cmt_style, nonmem_cmt_option, with_cmt
from fmsim.cli.options import finite, overwrite_option, seed_option
from fmsim.cli.study_run import run_study
from fmsim.config.errors import ConfigError

if TYPE_CHECKING:
    from fmsim.config.therapy import TherapyProtocol
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
    events: list[Path] | None = typer.Option(
        None,
        "--events",
        help="A course as a NONMEM/mrgsolve event table (CSV or .xlsx; DRUG column names the "
        "entry; EVID 2 records are plasma-exchange or immunoadsorption sessions): for every "
        "patient (no ID column), or per patient (ID n = the n-th patient sampled for --seed, "
        "e.g. the nonmem.csv of a run); docs/event_tables.md; repeatable, named by file stem "
        "(or THERAPY column).",
    ),
    nonmem: bool = typer.Option(
        False,
        "--nonmem",
        help="Also write the simulated patients as a NONMEM-style data set (nonmem.csv): "
        "doses, sessions and total IgG, anti-SGC IgG and sensitisation per patient and day.",
    ),
    nonmem_cmt: str | None = nonmem_cmt_option(),
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
    style = cmt_style(nonmem_cmt, nonmem)
    files = list(protocol_files or [])
    drug_files, tables = list(drugs or []), list(events or [])
    library = drug_library(drug_files)
    protocols, per_patient, source = load_protocols(files, agents, library, tables)
    for course in per_patient.values():  # patient numbers out of range: before simulating
        course.table.check_patients(patients, f"virtual patient sampled with seed {seed}")
    courses = len(protocols or {}) + len(per_patient) or len(standard_protocols(library))
    try:
        check_fits(
            float(patients) * days * courses * BYTES_PER_PATIENT_DAY,
            f"{patients:,} patients x {days:g} days x {courses} protocols",
            "lower --patients or --days, or compare fewer protocols per run",
        )
    except ValueError as error:
        fail(f"--patients: {error}")
    if nonmem:
        check_nonmem_size(patients, days, courses)
    # the simulation's imports are heavy: only after the protocols are known to be valid
    from fmsim.experiments.studies import TherapyStudy, therapy_study
    from fmsim.model.human import HUMAN_MODEL

    inputs = [*files, *tables, *drug_files]
    study, report = run_study(
        TherapyStudy,
        out,
        lambda run: with_cmt(
            therapy_study(
                protocols,
                patients=patients,
                days=days,
                positive_only=positive_only,
                seed=seed,
                source=source,
                inputs=inputs,
                log=typer.echo,
                courses=per_patient,
                nonmem=nonmem,
            ),
            style,
            HUMAN_MODEL,
        ),
        inputs=inputs,
        overwrite=overwrite,
    )
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


def check_nonmem_size(patients: int, days: float, courses: int) -> None:
    """One line (exit 2) if the --nonmem data set of a run would be too large to write."""
    from fmsim.experiments.studies.therapies import OBSERVED
    from fmsim.io.nonmem_patients import check_dataset_size

    try:
        check_dataset_size(
            float(patients) * (int(days) + 1) * len(OBSERVED) * courses,
            f"{patients:,} patients x {int(days) + 1} days x {len(OBSERVED)} outputs x "
            f"{courses} therapies",
            "lower --patients or --days, or write the data set of fewer therapies per run",
        )
    except ValueError as error:
        fail(f"--nonmem: {error}")


def protocol_file(path: Path, library: DrugLibrary | None = None) -> TherapyProtocol:
    """A protocol YAML file; an 'events: FILE' entry adds the blocks of that event table to
    the file's 'therapies' (e.g. a drug as a table after plasma exchange as a block)."""
    from fmsim.config.errors import read_yaml
    from fmsim.config.therapy import load_protocol, parse_protocol
    from fmsim.io.event_table import events_field, therapy_protocol_data
    from fmsim.model.human import HUMAN_MODEL

    data = read_yaml(path)
    table = events_field(data, path)
    if table is None:
        return load_protocol(path, library)
    blocks = therapy_protocol_data(table, HUMAN_MODEL, "--events FILE")["therapies"]
    therapies = data.get("therapies") or []
    data["therapies"] = [*therapies, *blocks] if isinstance(therapies, list) else therapies
    return parse_protocol(data, str(path), library)


def load_protocols(
    paths: list[Path],
    agents: str | None = None,
    library: DrugLibrary | None = None,
    tables: list[Path] = (),
) -> tuple[dict[str, TherapyProtocol] | None, dict, str]:
    """Protocols by name from files, event tables for every patient and library entries'
    standard regimens (None: the standard protocols), the per-patient courses by name (from
    per-patient tables: :class:`fmsim.experiments.patient_courses.PatientCourse`), and where
    they came from; raises :class:`ConfigError` for an invalid file, an unknown entry or two
    protocols with one name."""
    from fmsim.config.therapy import TherapyProtocol, parse_protocol, regimen_protocol
    from fmsim.experiments.patient_courses import patient_course
    from fmsim.io.event_table import therapy_protocol_data
    from fmsim.io.nonmem_patients import is_per_patient, read_patient_tables
    from fmsim.model.human import HUMAN_MODEL

    names = [a.strip() for a in (agents or "").split(",") if a.strip()]
    if not paths and not names and not tables:
        return None, {}, ""
    protocols, origin, courses = {}, {}, {}
    loaded = [(str(path), protocol_file(path, library)) for path in paths]
    for table in tables:
        if is_per_patient(table):
            for part in read_patient_tables(table, HUMAN_MODEL):
                loaded.append((str(table), patient_course(part, library)))
            continue
        data = therapy_protocol_data(table, HUMAN_MODEL)
        loaded.append((str(table), parse_protocol(data, str(table), library)))
    for name in names:
        if library is None or name not in library:
            known = library.names() if library is not None else []
            raise ConfigError(f"--agents: unknown entry {name!r}; known: {known}")
        loaded.append((f"--agents {name}", regimen_protocol(library.get(name), library)))
    for where, protocol in loaded:
        if protocol.name in origin:
            raise ConfigError(
                f"{where}: name: {protocol.name!r} is also the name of "
                f"{origin[protocol.name]}; give each protocol its own 'name'"
            )
        origin[protocol.name] = where
        if isinstance(protocol, TherapyProtocol):
            protocols[protocol.name] = protocol
        else:
            courses[protocol.name] = protocol
    return protocols, courses, ", ".join(dict.fromkeys(where for where, _ in loaded))
