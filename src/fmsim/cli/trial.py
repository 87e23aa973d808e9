"""``fmsim trial``: simulate, analyse and report a virtual clinical trial."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.config import ConfigError


def trial(
    config_file: Path = typer.Argument(..., help="Trial YAML (see examples/trials/)."),
    out: Path = typer.Option(None, help="Output folder (default results/<file stem>)."),
    replicates: int = typer.Option(
        None, min=10, help="Replicate trials per sample size (default: the config's)."
    ),
    power: bool = typer.Option(True, help="Run the power curves (replicate trials)."),
) -> None:
    """Run a virtual trial: one trial in detail, then power curves with and without
    enrichment for anti-SGC-positive patients. Finished chunks of replicate trials are kept
    in OUT/chunks and reused if the same command is run again (resume)."""
    from fmsim.config.trial import load_trial_config

    started = time.perf_counter()
    try:
        config = load_trial_config(config_file)
        if replicates is not None:  # validated again: the power chunks must fit in memory
            config = config.with_replicates(replicates, f"{config_file} with --replicates")
    except ConfigError as error:
        fail(str(error))
    # the simulation's imports are heavy: only after the config is known to be valid
    from fmsim.experiments import trial as experiment
    from fmsim.io.store import write_table
    from fmsim.report.trial_html import write_trial_report

    out = out or Path("results") / config_file.stem
    typer.echo(f"simulating {config.name!r}: {config.patients} patients, seed {config.seed} ...")
    try:
        simulation = experiment.simulate_trial(config)
    except ValueError as error:
        fail(f"{config_file}: {error}")
    try:
        analysis = experiment.analyse_trial(simulation)
    except ValueError as error:  # e.g. dropout left too few patients in a small trial
        fail(f"{config_file}: the simulated trial cannot be analysed: {error}; enrol more patients")
    files = []
    files += write_table(simulation.patients, out, "patients")
    files += write_table(simulation.visits, out, "visits")
    files += write_table(simulation.courses, out, "courses")
    files += write_table(analysis.effects, out, "effects")
    files += write_table(analysis.responders, out, "responders")
    for row in analysis.effects.itertuples():
        typer.echo(
            f"  {row.role}: {row.label}, {row.comparison}: {row.estimate:+.2f} "
            f"(95% CI {row.ci_low:+.2f} to {row.ci_high:+.2f}), p = {row.p_value:.3g}"
        )
    if power:
        n_chunks = 2 * len(config.power.sample_sizes) + len(config.power.positive_fractions)
        typer.echo(
            f"power: {n_chunks} chunks of {config.power.replicates} replicate trials "
            f"(chunks kept in {out / 'chunks'}) ..."
        )
        curve = experiment.power_curve(config, chunk_folder=out / "chunks", progress=True)
        shares = experiment.power_by_positive_fraction(
            config, chunk_folder=out / "chunks", progress=True
        )
    else:
        curve = experiment.PowerCurve(*experiment.empty_power_tables())
        shares = experiment.empty_power_tables()[0].assign(positive_fraction=[])
    files += write_table(curve.table, out, "power")
    files += write_table(curve.required, out, "required_sample_size")
    files += write_table(shares, out, "power_by_positive_share")
    for row in curve.required.itertuples():
        typer.echo(
            f"  {row.population}: mean effect {row.mean_effect:+.2f}; "
            f"{config.power.target:.0%} power at {row.label} patients"
        )
    for row in shares.itertuples():
        typer.echo(
            f"  {row.positive_fraction:.0%} anti-SGC positive: power {row.power:.2f} with "
            f"{config.patients} patients (mean effect {row.mean_effect:+.2f})"
        )
    report = write_trial_report(
        simulation,
        analysis,
        curve.table,
        curve.required,
        shares,
        out,
        source=str(config_file),
        files=files,
    )
    typer.echo(f"done in {time.perf_counter() - started:.1f} s; report: {report.resolve()}")
