"""``fmsim export``: one simulated subject with its dosing, as a file for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from fmsim.cli.errors import fail
from fmsim.cli.options import overwrite_option
from fmsim.cli.study_run import run_study
from fmsim.config.errors import ConfigError

if TYPE_CHECKING:
    from fmsim.config import PassiveTransferConfig
    from fmsim.io.store import OutputFile

DEFAULT_SCENARIO = "default"

export_app = typer.Typer(
    help="Export a model with one subject's dosing to a standard format.",
    no_args_is_help=True,
)


@export_app.command("sbml")
def sbml(
    scenario: str = typer.Argument(
        ...,
        help=f"Passive-transfer scenario YAML, '{DEFAULT_SCENARIO}' for the built-in "
        "Goebel 2021 design, or a therapy protocol YAML (examples/therapies/) for the human model.",
    ),
    out: Path = typer.Argument(..., help="SBML file to write."),
    subject: int = typer.Option(
        1, help="Mouse number within the group, 1-based as in its id (e.g. FMS-IgG#001)."
    ),
    group: str = typer.Option(None, help="Group name (default: the scenario's disease group)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT file."),
) -> None:
    """Write one mouse of a passive-transfer scenario with its injections, or the typical
    anti-SGC-positive patient under a therapy protocol, as SBML L3V2."""
    import numpy as np

    from fmsim.experiments.passive_transfer import build_virtual_cohort
    from fmsim.io.sbml import export_sbml
    from fmsim.io.store import OutputFile
    from fmsim.model.equations import MODEL, initial_state

    inputs = () if scenario == DEFAULT_SCENARIO else (Path(scenario),)
    target = OutputFile(out, inputs, overwrite)
    protocol = None if scenario == DEFAULT_SCENARIO else _therapy_protocol(Path(scenario))
    if protocol is not None:
        _export_therapy(Path(scenario), protocol, target)
        return
    config = _scenario(scenario)
    virtual = build_virtual_cohort(config)
    group = group or config.disease_group
    cohort = virtual.cohort
    names = list(dict.fromkeys(cohort["group"]))
    if group not in names:
        fail(f"--group {group!r}: no such group in {scenario}; groups: {names}")
    positions = np.flatnonzero(cohort["group"].to_numpy() == group)
    if not 1 <= subject <= positions.size:
        fail(f"--subject {subject}: group {group!r} has mice 1 to {positions.size}")
    target.check()  # inputs and options first, then the output, then the computation
    index = int(positions[subject - 1])
    mouse = cohort["mouse"].iloc[index]

    text = export_sbml(
        MODEL,
        virtual.subjects,
        initial_state(virtual.subjects),
        virtual.doses,
        index,
        model_id=f"{MODEL.name}_{mouse}",
    )
    report = _write_validated(text, target)

    n = len(cohort)
    doses = [
        f"day {d.time:g}: {amount:.4g} {MODEL.state_units[d.state]}"
        for d in virtual.doses
        if (amount := float(np.broadcast_to(d.amount, (n,))[index]))
    ]
    typer.echo(f"wrote {out}: SBML Level 3 Version 2, model {MODEL.name}")
    typer.echo(f"  mouse {mouse} (donor {cohort['donor'].iloc[index]}) of {config.name!r}")
    typer.echo(f"  i.p. human IgG: {', '.join(doses) or 'none'}")
    _echo_validation(report)


def _scenario(name: str) -> PassiveTransferConfig:
    """The built-in default scenario or the YAML file ``name``."""
    from fmsim.config import default_config, load_config

    return default_config() if name == DEFAULT_SCENARIO else load_config(Path(name))


def _therapy_protocol(path: Path) -> dict | None:
    """The YAML mapping in ``path`` if it is a therapy protocol (has ``therapies``), else None
    (unreadable files are reported by the scenario loader)."""
    from fmsim.config.errors import read_yaml

    try:
        data = read_yaml(path)
    except ConfigError:
        return None
    return data if isinstance(data, dict) and "therapies" in data else None


def _export_therapy(path: Path, data: dict, out: OutputFile) -> None:
    """The typical anti-SGC-positive patient under the protocol ``data`` read from ``path``."""
    from fmsim.config.therapy import parse_protocol
    from fmsim.experiments.therapy import protocol_events, typical_population
    from fmsim.io.sbml import export_sbml
    from fmsim.model.human import HUMAN_MODEL, initial_state

    protocol = parse_protocol(data, str(path))
    out.check()
    population = typical_population()
    patients = population.patients(protocol)
    events = protocol_events(protocol, population)
    text = export_sbml(HUMAN_MODEL, patients, initial_state(patients), events, 0)
    report = _write_validated(text, out)
    typer.echo(f"wrote {out.path}: SBML Level 3 Version 2, model {HUMAN_MODEL.name}")
    typer.echo(f"  typical anti-SGC-positive patient, protocol {protocol.name!r}")
    typer.echo(f"  {len(events)} therapy events")
    _echo_validation(report)


def _write_validated(text: str, out: OutputFile):
    """Validate ``text`` with libsbml and write it; return the validation report."""
    from fmsim.io.sbml import validate_sbml

    report = validate_sbml(text)
    if report.errors:
        raise RuntimeError(f"the generated SBML does not validate: {report.errors[0]}")
    out.write(text)
    return report


def _echo_validation(report) -> None:
    warnings = sorted({w.split("]")[0].split("[")[1] for w in report.warnings})
    typer.echo(
        f"  validates with libsbml: 0 errors, {len(report.warnings)} warnings"
        + (f" (libsbml ids {', '.join(warnings)})" if warnings else "")
    )


@export_app.command("petab")
def petab(
    data: Path = typer.Argument(..., help="Lab data (CSV or .xlsx, fmsim's format)."),
    config: Path = typer.Argument(..., help="Fit YAML (see examples/fits/passive_transfer.yaml)."),
    out_dir: Path = typer.Argument(..., help="Folder for the PEtab files (a run folder)."),
    overwrite: bool = overwrite_option(),
) -> None:
    """Write the fit problem of DATA and CONFIG as a PEtab problem (SBML, conditions,
    observables, measurements, parameters, problem.yaml), checked with PEtab's linter."""
    from fmsim.calibration.measurements import load_fit_problem

    _, problem = load_fit_problem(data, config)  # before PEtab's imports (seconds of CPU)
    from fmsim.calibration.petab_export import PetabExport, petab_export
    from fmsim.io.petab import YAML_NAME, PetabExportError

    try:
        export = petab_export(problem, inputs=(data, config))
    except PetabExportError as error:
        fail(f"{config}: {error}")
    _, folder = run_study(
        PetabExport,
        out_dir,
        lambda run: export,
        inputs=(data, config),
        overwrite=overwrite,
        report=False,
    )
    typer.echo(
        f"wrote {folder / YAML_NAME}: {len(problem.conditions)} conditions, "
        f"{len(problem.measurements)} measurements, {len(problem.parameters)} estimated "
        "parameter(s); PEtab linter: no errors"
    )
