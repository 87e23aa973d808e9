"""``fmsim power``: simulation-based power curve for a planned passive-transfer study."""

from __future__ import annotations

from pathlib import Path

import typer

from fmsim.cli.errors import fail
from fmsim.cli.execution import open_executor, scheduler_option, workers_option
from fmsim.cli.options import finite, number_list, overwrite_option, seed_option
from fmsim.cli.study_run import run_study

#: Mice per group and replicate experiments accepted (memory: mice x replicates per design).
MAX_MICE_PER_GROUP, MAX_REPLICATES = 1000, 100_000


def power(
    n: str = typer.Option(
        "3,4,5,6,8,10,12",
        callback=number_list(int, low=2, high=MAX_MICE_PER_GROUP),
        help="Mice per group to try, comma-separated (at least 2 each).",
    ),
    titre: str = typer.Option(
        "0.003,0.005",
        callback=number_list(float, low=0.0, high=1.0),
        help="Donor anti-SGC fractions of IgG, comma-separated (0 to 1).",
    ),
    dose: str = typer.Option("8 mg", help="IgG per injection, e.g. '8 mg' or '200 mg/kg'."),
    endpoint: str = typer.Option("paw_pressure_threshold", help="Primary endpoint (readout)."),
    test_days: str = typer.Option(
        "0,1,2,3,5,7",
        callback=number_list(float, low=0.0, high=365.0, increasing=True, minimum_count=2),
        help="Test days, increasing; day 0 is baseline.",
    ),
    replicates: int = typer.Option(
        200, min=20, max=MAX_REPLICATES, help="Simulated experiments per design."
    ),
    seed: int = seed_option(1),
    target: float = typer.Option(0.8, min=0.05, max=0.99, callback=finite, help="Target power."),
    out: Path = typer.Option(Path("results/power"), help="Output folder."),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
    overwrite: bool = overwrite_option(),
) -> None:
    """Power curve over mice per group and donor titre; smallest n reaching the target. Each
    design is a chunk, kept in OUT/chunks and, verified, reused by the same command (resume);
    chunks run in this process or on Dask (--scheduler). OUT/run.log records what ran."""
    import pandas as pd

    from fmsim.experiments.studies import PowerStudy, power_study
    from fmsim.experiments.studies.power import CHUNKS

    if test_days[0] != 0.0:
        raise typer.BadParameter(
            f"got {test_days[0]:g} first: the first test day must be 0 (baseline)",
            param_hint="--test-days",
        )
    _check_design(dose, endpoint, titre, test_days, seed)

    def compute(run) -> PowerStudy:
        with open_executor(scheduler, workers) as chunks:
            return power_study(
                n, titre, dose=dose, endpoint=endpoint, test_days=test_days,
                replicates=replicates, seed=seed, target=target, progress=True,
                executor=chunks, chunk_folder=run.store(CHUNKS),
            )  # fmt: skip

    study, report = run_study(PowerStudy, out, compute, overwrite=overwrite, logged=True)
    typer.echo(study.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for row in study.required.itertuples():
        reached = not pd.isna(row.mice_per_group)
        answer = (
            f"{row.mice_per_group} mice per group" if reached else f"not reached with n <= {max(n)}"
        )
        typer.echo(
            f"anti-SGC fraction {row.anti_sgc_fraction:g}: {target:.0%} power at {answer} "
            f"({endpoint}, Welch t-test on mean % change, days "
            f"{', '.join(f'{d:g}' for d in test_days[1:])})"
        )
    typer.echo(f"report: {report}")


#: The command-line option of each field of the experiment a design becomes.
_OPTION_OF_FIELD = {"dose": "--dose", "readouts": "--endpoint", "test_days": "--test-days"}


def _check_design(
    dose: str, endpoint: str, fractions: list[float], test_days: list[float], seed: int
) -> None:
    """Refuse a dose or endpoint the experiment schema rejects, naming the option."""
    from fmsim.config import ConfigError
    from fmsim.experiments.power import PowerDesign, experiment_config

    for fraction in fractions:
        design = PowerDesign(2, dose, fraction, endpoint, tuple(test_days))
        try:
            experiment_config(design, 1, seed)
        except ConfigError as error:
            lines = []
            for line in str(error).splitlines():
                field, _, detail = line.removeprefix("power design: ").partition(": ")
                option = _OPTION_OF_FIELD.get(field.split(".")[0], field)
                lines.append(f"{option}: {detail}")
            fail("\n".join(dict.fromkeys(lines)))
