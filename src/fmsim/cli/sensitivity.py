"""``fmsim sensitivity``: Sobol and local sensitivity of the mouse, therapy and trial outputs."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.execution import open_executor, scheduler_option, workers_option
from fmsim.cli.options import name_list, overwrite_option, seed_option
from fmsim.cli.study_run import run_study

ANALYSES_HELP = "Comma-separated analyses: passive_transfer, therapy, trial (default: all)."


def _power_of_two(value: int) -> int:
    if value & (value - 1):
        raise typer.BadParameter(f"got {value}: expected a power of 2 (Sobol' sequence balance)")
    return value


def sensitivity(
    n: int = typer.Option(
        256, min=4, max=2**16, callback=_power_of_two, help="Sobol base sample (a power of 2)."
    ),
    seed: int = seed_option(0, "Seed of the Sobol' sequence and the bootstrap."),
    analyses: str = typer.Option(None, callback=name_list, help=ANALYSES_HELP),
    therapy: str = typer.Option(
        "efgartigimod_iv", help="Standard protocol of the therapy analysis (fmsim therapies)."
    ),
    trial_config: Path = typer.Option(
        None, "--trial", help="Trial YAML for the trial analysis (default: a 60-patient "
        "efgartigimod vs placebo trial, 6 weeks)."
    ),
    trial_n: int = typer.Option(
        16, min=4, max=1024, callback=_power_of_two,
        help="Sobol base sample of the trial analysis (each set is --trial-replicates trials).",
    ),
    trial_replicates: int = typer.Option(
        20, min=2, max=10_000, help="Replicate trials per parameter set of the trial analysis."
    ),
    out: Path = typer.Option(Path("results/sensitivity"), help="Output folder."),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
    overwrite: bool = overwrite_option(),
) -> None:  # fmt: skip
    """Sobol first/total-order indices (with 95 % CIs), elasticities and tornado of peak
    mechanical hypersensitivity, its duration and per-donor detection probability (mouse),
    IgG reduction by a therapy (patients), and a virtual trial's effect and power. The
    parameter sets run as chunks in this process or on Dask (--scheduler); finished chunks are
    kept in OUT/chunks and, verified, reused by the same command (resume). OUT/run.log records
    what ran."""
    from fmsim.calibration.sensitivity_study import ANALYSES
    from fmsim.cli.errors import fail

    chosen = analyses or list(ANALYSES)
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown:
        fail(f"--analyses {','.join(unknown)}: expected any of {','.join(ANALYSES)}")
    from fmsim.experiments.reference import standard_protocols

    protocols = standard_protocols()
    if therapy not in protocols:
        fail(f"--therapy {therapy!r}: expected one of {', '.join(sorted(protocols))}")
    config = None
    inputs: tuple[Path, ...] = ()
    if trial_config is not None:
        from fmsim.config.trial import load_trial_config

        config = load_trial_config(trial_config)
        inputs = (trial_config,)
    from fmsim.calibration.sensitivity import CHUNKS, SensitivityResult
    from fmsim.calibration.sensitivity_study import sensitivity_study

    def compute(run) -> SensitivityResult:
        with open_executor(scheduler, workers) as chunks:
            return sensitivity_study(
                n,
                seed,
                analyses=chosen,
                trial_n_base=trial_n,
                trial_replicates=trial_replicates,
                therapy_protocol=therapy,
                trial_config=config,
                inputs=inputs,
                log=typer.echo,
                executor=chunks,
                chunk_folder=run.store(CHUNKS),
                progress=True,
            )

    result, report = run_study(
        SensitivityResult, out, compute, inputs=inputs, overwrite=overwrite, logged=True
    )
    for (analysis, output), table in result.sobol.groupby(["analysis", "output"], sort=False):
        top = table.nlargest(3, "ST")
        listed = ", ".join(f"{r.parameter} {r.ST:.2f}" for r in top.itertuples())
        typer.echo(f"  {analysis}/{output}: largest total-order indices {listed}")
    typer.echo(f"{result.n_evaluations} parameter sets; report: {report}")
