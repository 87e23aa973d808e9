"""fmsim's command line. User mistakes end with one clear line and exit code 2."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from fmsim.cli.analyze import analyze
from fmsim.cli.errors import fail
from fmsim.cli.export import export_app
from fmsim.cli.power import power
from fmsim.cli.therapies import therapies
from fmsim.cli.trial import trial
from fmsim.config import ConfigError, PassiveTransferConfig, default_config, load_config

app = typer.Typer(
    help="fmsim: autoantibody-mediated fibromyalgia, mouse passive transfer to virtual trials.",
    no_args_is_help=True,
    add_completion=False,
)


def run_experiment(config: PassiveTransferConfig, out: Path) -> Path:
    """Simulate, analyse, store and report one passive-transfer experiment; return the report."""
    from fmsim.experiments.analysis import analyze_passive_transfer
    from fmsim.experiments.passive_transfer import run_passive_transfer
    from fmsim.io.store import write_table
    from fmsim.report.html import write_report

    started = time.perf_counter()
    typer.echo(f"simulating {config.name!r} (seed {config.seed}) ...")
    result = run_passive_transfer(config)
    typer.echo(f"  {len(result.cohort)} mice, {len(result.measurements)} measurements")
    files = write_table(result.measurements, out, "measurements")
    files += write_table(result.trajectories, out, "trajectories")
    (out / "config.yaml").write_text(_yaml(config))
    files.append(out / "config.yaml")
    typer.echo("analysing (mixed models, post-hoc tests, donors) ...")
    analysis = analyze_passive_transfer(
        result.measurements, control=config.control_group, disease_group=config.disease_group
    )
    files += write_table(analysis.time_course, out, "time_course_summary")
    files += write_table(analysis.donors, out, "donor_effects")
    files += write_table(analysis.auc, out, "auc_versus_control")
    report = write_report(result, analysis, out, config.disease_group, files)
    typer.echo(f"done in {time.perf_counter() - started:.1f} s")
    return report


def _yaml(config: PassiveTransferConfig) -> str:
    import yaml

    return yaml.safe_dump(config.model_dump(), sort_keys=False)


@app.command()
def reproduce(
    out: Path = typer.Option(Path("results/passive_transfer"), help="Output folder."),
    seed: int = typer.Option(2021, help="Random seed (same seed, same results)."),
    mice_per_donor: int = typer.Option(4, min=1, help="Mice per donor in the IgG groups."),
) -> None:
    """Reproduce Goebel et al. 2021 in silico with defaults and write the HTML report."""
    base = default_config()
    groups = [
        g.model_copy(update={"mice_per_donor": mice_per_donor}) if g.mice_per_donor else g
        for g in base.groups
    ]
    config = base.model_copy(update={"seed": seed, "groups": groups})
    report = run_experiment(config, out)
    typer.echo(f"report: {report.resolve()}")


@app.command()
def simulate(
    config_file: Path = typer.Argument(..., help="Scenario YAML (see examples/)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>)."),
) -> None:
    """Run any passive-transfer scenario described in a YAML file."""
    try:
        config = load_config(config_file)
        report = run_experiment(config, out or Path("results") / config_file.stem)
    except ConfigError as error:
        fail(str(error))
    typer.echo(f"report: {report.resolve()}")


@app.command()
def params(
    file: Path = typer.Option(
        None, help="Parameter YAML (default: the mouse set; see also src/fmsim/model/data/)."
    ),
) -> None:
    """Print model parameters with value, unit, between-subject CV and source."""
    from fmsim.config.parameters import load_parameter_file
    from fmsim.model.parameters import load_parameter_set

    try:
        parameter_set = load_parameter_set() if file is None else load_parameter_file(file)
    except ConfigError as error:
        fail(str(error))
    rows = parameter_set.table()
    width = max(len(r["parameter"]) for r in rows)
    typer.echo(f"Parameters ({parameter_set.species})")
    typer.echo(
        f"{'parameter':<{width}}  {'value':>9}  {'unit':<14} {'range':<14} {'CV':>4}  source"
    )
    for r in rows:
        typer.echo(
            f"{r['parameter']:<{width}}  {r['value']:>9}  {r['unit']:<14} {r['range']:<14} "
            f"{r['cv']:>4}  {r['source']}"
        )
        if r["description"]:
            typer.echo(f"{'':<{width}}  {r['description']}")


app.command()(power)


app.command()(analyze)


app.add_typer(export_app, name="export")


app.command()(trial)


app.command()(therapies)


def main() -> None:  # pragma: no cover
    sys.exit(app())
