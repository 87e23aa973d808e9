"""Benchmark: how long a single-subject update takes in the web app (not a test).

``fmsim serve`` runs in a subprocess; headless Chromium (Debian's ``chromium``, driven by
playwright) opens it. For each scenario a control is changed ``--repeats`` times (alternating
between two values) and the time from the change (the field filled and left with Tab) to the
redrawn figure (Plotly's ``react`` finished: the figure's revision counter advanced) is
measured in the browser's clock, after the page has settled (no redraw for 1.5 s), with the part
spent drawing (inside ``Plotly.react``, summed over the figures). The peer, in the same run
and process as this script: the study call alone (what the server computes for that update,
warm), so that the difference is the app's own cost (figures, reactive graph, JSON, websocket,
drawing).

Scenarios (single subject):

* therapies page: 1 virtual patient, efgartigimod's dose edited; the typical patient and the
  population (of one) with pain are simulated and both figures redrawn (peer:
  ``therapy_study`` for one patient, which simulates the typical patient and the patients' pain
  too);
* passive-transfer page: the Goebel design cut to its FMS-IgG and HC-IgG groups with 1 mouse per
  donor (14 mice), the dose edited; both figures redrawn (peer: ``run_passive_transfer``);
  also, for scale, the default Goebel design (72 mice) before it is cut.

Usage::

    .venv/bin/python benchmarks/app_update.py --repeats 10
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "fmsim"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    for _ in range(600):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("fmsim serve did not start")


def revision(page, plot_id: str) -> int:
    return page.evaluate(f"() => Number(document.getElementById('{plot_id}').dataset.revision||0)")


def settle(page, plots: list[str], quiet: float = 1.5) -> None:
    """Wait until no figure of ``plots`` has been redrawn for ``quiet`` seconds (redraws of an
    earlier change must not end the next measurement)."""
    last, since = None, time.monotonic()
    while time.monotonic() - since < quiet:
        now = [revision(page, p) for p in plots]
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.1)


def watch_drawing(page) -> None:
    """Record how long each ``Plotly.react`` call (parsing excluded) takes in the browser."""
    page.evaluate(
        """() => { window.fmsimDrawing = []; const react = Plotly.react;
        Plotly.react = function (...args) { const t0 = performance.now();
          return react.apply(Plotly, args).then((r) => {
            window.fmsimDrawing.push(performance.now() - t0); return r; }); }; }"""
    )


def timed_change(page, field: str, value: str, plots: list[str]) -> tuple[float, float]:
    """Seconds from changing ``field`` to every figure of ``plots`` redrawn (browser clock),
    and the seconds of it spent in Plotly.react drawing them."""
    settle(page, plots)
    before = {p: revision(page, p) for p in plots}
    page.evaluate("() => { window.fmsimT0 = performance.now(); window.fmsimDrawing = []; }")
    page.fill(f"#{field}", value)
    page.keyboard.press("Tab")
    waited = " && ".join(
        f"Number(document.getElementById('{p}').dataset.revision||0) > {before[p]}" for p in plots
    )
    page.wait_for_function(f"() => {waited}", timeout=120_000)
    return page.evaluate(
        "() => [(performance.now() - window.fmsimT0) / 1000,"
        " window.fmsimDrawing.reduce((a, b) => a + b, 0) / 1000]"
    )


def summary(label: str, seconds: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(seconds):.3f} s, min {min(seconds):.3f} s, "
        f"max {max(seconds):.3f} s (n = {len(seconds)})"
    )


def therapies_scenario(page, repeats: int) -> list[tuple[float, float]]:
    page.click("text=Therapies")
    page.wait_for_function("() => Number(document.getElementById('th_plot').dataset.revision||0)")
    timed_change(page, "th_patients", "1", ["th_plot", "th_typical"])
    return [
        timed_change(
            page, "th_efgartigimod_0_amount", f"{8 + k % 2} mg/kg", ["th_plot", "th_typical"]
        )
        for k in range(repeats)
    ]


def passive_transfer_scenarios(page, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """The default design's update (72 mice), then the single-subject one (14 mice)."""
    plots = ["pt_readouts", "pt_states"]
    page.click("text=Passive transfer")
    page.wait_for_function("() => Number(document.getElementById('pt_states').dataset.revision||0)")
    default = [timed_change(page, "pt_dose", f"{7 + k % 2} mg", plots) for k in range(repeats)]
    for group in ("Saline", "IgG-depleted FMS serum"):
        page.uncheck(f"#pt_groups input[value='{group}']")
    timed_change(page, "pt_mice_per_donor", "1", plots)
    single = [timed_change(page, "pt_dose", f"{7 + k % 2} mg", plots) for k in range(repeats)]
    return {"passive_transfer": single, "passive_transfer_default_design": default}


def peers(repeats: int) -> dict[str, list[float]]:
    """The study calls alone, warm, as the server makes them for one update."""
    from fmsim.app.pages.passive_transfer import form_of, scenario
    from fmsim.config import default_config
    from fmsim.config.therapy import drug_library, regimen_protocol
    from fmsim.experiments.passive_transfer import run_passive_transfer
    from fmsim.experiments.studies import therapy_study

    library = drug_library()
    protocols = {
        a: regimen_protocol(library.get(a), library) for a in ("efgartigimod", "plasma_exchange")
    }
    settings = {"patients": 1, "days": 182.0, "positive_only": True, "seed": 2024}
    base = default_config()
    form = form_of(base)
    small = form.__class__(
        **{**form.__dict__, "mice_per_donor": 1, "groups": ("FMS-IgG", "HC-IgG")}
    )
    config = scenario(base, small)
    names = ("therapies", "passive_transfer", "passive_transfer_default_design")
    out: dict[str, list[float]] = {name: [] for name in names}
    for k in range(repeats + 1):  # the first call of each warms caches; not counted
        started = time.perf_counter()
        therapy_study(protocols, validate=False, **settings)
        middle = time.perf_counter()
        run_passive_transfer(config)
        single = time.perf_counter()
        run_passive_transfer(scenario(base, form))
        if k:
            out["therapies"].append(middle - started)
            out["passive_transfer"].append(single - middle)
            out["passive_transfer_default_design"].append(time.perf_counter() - single)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server, url = start_app()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(180_000)
            page.goto(url)
            page.wait_for_function(
                "() => Number(document.getElementById('pt_states').dataset.revision||0)"
            )
            watch_drawing(page)
            app = {
                "therapies": therapies_scenario(page, args.repeats),
                **passive_transfer_scenarios(page, args.repeats),
            }
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    peer = peers(args.repeats)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; cores: {os.cpu_count()}")
    for name in app:
        print(
            summary(f"{name}: control change -> figures redrawn (app)", [t for t, _ in app[name]])
        )
        print(summary(f"{name}:   of which drawing (Plotly.react)", [d for _, d in app[name]]))
        print(summary(f"{name}: the study calls alone (peer)", peer[name]))


if __name__ == "__main__":
    main()
