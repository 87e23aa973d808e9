"""``fmsim power``: simulation-based power curve for a planned passive-transfer study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from tqdm import tqdm

from fmsim.cli.errors import fail
from fmsim.config import ConfigError


def _numbers(text: str, kind=float) -> list:
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}") from None


def power(
    n: str = typer.Option("3,4,5,6,8,10,12", help="Mice per group to try, comma-separated."),
    titre: str = typer.Option("0.003,0.005", help="Donor anti-SGC fractions, comma-separated."),
    dose: str = typer.Option("8 mg", help="IgG per injection, e.g. '8 mg' or '200 mg/kg'."),
    endpoint: str = typer.Option("paw_pressure_threshold", help="Primary endpoint (readout)."),
    test_days: str = typer.Option("0,1,2,3,5,7", help="Test days; day 0 is baseline."),
    replicates: int = typer.Option(200, min=20, help="Simulated experiments per design."),
    seed: int = typer.Option(1, help="Random seed."),
    target: float = typer.Option(0.8, min=0.05, max=0.99, help="Target power."),
    out: Path = typer.Option(Path("results/power"), help="Output folder."),
) -> None:
    """Power curve over mice per group and donor titre; smallest n reaching the target."""
    from fmsim.experiments.power import PowerDesign, estimate_power, smallest_n
    from fmsim.io.store import write_table
    from fmsim.report.figures import power_curves

    sizes, fractions = _numbers(n, int), _numbers(titre)
    days = tuple(_numbers(test_days))
    rows, summary = [], []
    try:
        with tqdm(total=len(sizes) * len(fractions), desc="designs", unit="design") as bar:
            for fraction in fractions:
                estimates = []
                for size in sizes:
                    design = PowerDesign(size, dose, fraction, endpoint, days)
                    estimate = estimate_power(design, replicates, seed + size)
                    estimates.append(estimate)
                    rows.append(
                        {
                            "mice_per_group": size,
                            "anti_sgc_fraction": fraction,
                            "power": estimate.power,
                            "ci_low": estimate.ci_low,
                            "ci_high": estimate.ci_high,
                            "replicates": replicates,
                            "mean_difference_percent": estimate.mean_difference_percent,
                        }
                    )
                    bar.update()
                summary.append((fraction, smallest_n(estimates, target)))
    except ConfigError as error:
        fail(str(error))
    table = pd.DataFrame(rows)
    write_table(table, out, "power")
    figure = power_curves(table, target)
    figure.savefig(out / "power_curve.png", dpi=150)
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for fraction, size in summary:
        answer = f"{size} mice per group" if size else f"not reached with n <= {max(sizes)}"
        typer.echo(
            f"anti-SGC fraction {fraction:g}: {target:.0%} power at {answer} "
            f"({endpoint}, Welch t-test on mean % change, days "
            f"{', '.join(f'{d:g}' for d in days[1:])})"
        )
    typer.echo(f"power curve: {(out / 'power_curve.png').resolve()}")
