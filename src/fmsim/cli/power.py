"""``fmsim power``: simulation-based power curve for a planned passive-transfer study."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import typer
from tqdm import tqdm

from fmsim.cli.errors import fail
from fmsim.config import ConfigError


def _numbers(text: str, option: str, kind=float) -> list:
    """The comma-separated finite numbers of ``option``; a mistake ends the command."""
    try:
        numbers = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        fail(f"{option}: got {text!r}: expected comma-separated numbers")
    if not numbers or not all(math.isfinite(x) for x in numbers):
        fail(f"{option}: got {text!r}: expected comma-separated finite numbers")
    return numbers


#: Command-line option of each field of a power design's experiment (for error messages).
_OPTION_OF_FIELD = {
    "mice": "--n (x --replicates)",
    "groups": "--n (x --replicates)",
    "anti_sgc_fraction": "--titre",
    "dose": "--dose",
    "readouts": "--endpoint",
    "test_days": "--test-days",
}


def _check_designs(designs: list, replicates: int, seed: int) -> None:
    """Validate every design before the first simulation; one line per bad option."""
    from fmsim.experiments.power import design_config

    lines: dict[str, str] = {}
    for design in designs:
        if design.mice_per_group < 2:
            lines.setdefault("--n", f"--n: got {design.mice_per_group}: {_TWO_PER_GROUP}")
            continue
        try:
            design_config(design, replicates, seed)
        except ConfigError as error:
            for line in str(error).splitlines():
                field, detail = line.removeprefix("power design: ").split(": ", 1)
                parts = field.split(".")
                option = _OPTION_OF_FIELD.get(parts[-1]) or _OPTION_OF_FIELD.get(parts[0], field)
                lines.setdefault(option, f"{option}: {detail}")
    if lines:
        fail("\n".join(lines.values()))


_TWO_PER_GROUP = "at least 2 mice per group (Welch's t-test needs a variance in each group)"


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

    sizes, fractions = _numbers(n, "--n", int), _numbers(titre, "--titre")
    days = tuple(_numbers(test_days, "--test-days"))
    designs = {
        (fraction, size): PowerDesign(size, dose, fraction, endpoint, days)
        for fraction in fractions
        for size in sizes
    }
    _check_designs(list(designs.values()), replicates, seed)
    rows, summary = [], []
    try:
        with tqdm(total=len(designs), desc="designs", unit="design") as bar:
            for fraction in fractions:
                estimates = []
                for size in sizes:
                    design = designs[fraction, size]
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
