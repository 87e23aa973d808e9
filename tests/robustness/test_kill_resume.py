"""A trial run killed with SIGKILL, then resumed, gives the same bytes as an uninterrupted run.

The run under test is a real process (``python -c``) in which one function is wrapped so that
the process stops at a chosen point and waits to be killed: in the middle of writing a chunk of
replicate trials (half of its bytes on disk), or while rendering the final report. The test
then kills it with SIGKILL, checks that nothing complete-looking was left behind and that a
second run into the same folder is refused while the first still holds it, and resumes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from fmsim.cli.main import app
from fmsim.io.store import MANIFEST, RUN_LOG

runner = CliRunner()

TRIAL = """\
name: kill test trial
seed: 11
patients: 20
duration_weeks: 4
arms:
  - {name: placebo}
  - name: efgartigimod
    therapies: [{type: efgartigimod_iv, dose: 10 mg/kg, start: 0, every: 7, count: 4}]
control_arm: placebo
primary: {outcome: pain_nrs, week: 4}
power: {sample_sizes: [10, 20], positive_fractions: [0.37, 1.0], replicates: 10}
"""
CHUNKS = 6  # 2 populations x 2 sample sizes + 2 positive shares

# Runs fmsim with one function wrapped to stop at POINT: write MARKER (the pid), then wait.
STOPPING_RUN = """\
import os, sys, time
from pathlib import Path

point, marker, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]


def wait_to_be_killed():
    marker.write_text(str(os.getpid()))
    while True:
        time.sleep(1)


if point == "chunk":  # the third chunk: half of its bytes in the temporary file, then stop
    import fmsim.io.store as store

    write, chunks = store._write_atomically, []

    def half_then_stop(path, data):
        if path.suffix == ".parquet":
            chunks.append(path)
            if len(chunks) == 3:
                temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
                temporary.write_bytes(data[: len(data) // 2])
                wait_to_be_killed()
        write(path, data)

    store._write_atomically = half_then_stop
else:  # the final report
    import fmsim.report.trial_html as trial_html

    trial_html.render_template = lambda *args, **kwargs: wait_to_be_killed()

from fmsim.cli.main import app

app(args=argv)
"""


def killed_at(point: str, argv: list[str], folder: Path, during=None) -> None:
    """Run ``fmsim argv`` in a process that stops at ``point``; call ``during()`` while it
    waits, then kill it with SIGKILL."""
    marker = folder / f"stopped-at-{point}"
    process = subprocess.Popen(
        [sys.executable, "-c", STOPPING_RUN, point, str(marker), *argv],
        cwd=folder,
        env={**os.environ, "MPLBACKEND": "Agg"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 600
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never reached " + point
            time.sleep(0.2)
        if during is not None:
            during()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


def run_ok(argv: list[str]) -> str:
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    return result.stdout


def outputs(folder: Path) -> dict[str, bytes]:
    """Every file of a finished run, except its manifest (time, command line) and log (times,
    chunks reused); the report's generation time masked."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name in (MANIFEST, RUN_LOG):
            continue
        data = path.read_bytes()
        if name == "report.html":
            data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"<time>", data)
        files[name] = data
    return files


def test_killed_during_a_chunk_and_during_the_report_then_resumed(tmp_path):
    config = tmp_path / "trial.yaml"
    config.write_text(TRIAL)
    reference, out = tmp_path / "reference", tmp_path / "out"
    run_ok(["trial", str(config), "--out", str(reference)])

    args = ["trial", str(config), "--out", str(out)]
    killed_at("chunk", args, tmp_path)
    # two chunks stored, the third cut short in its temporary file; no result, no manifest
    assert sorted(p.name for p in out.iterdir()) == ["chunks"]
    chunks = out / "chunks"
    assert len(list(chunks.glob("*.parquet"))) == 2 and len(list(chunks.glob(".*.tmp-*"))) == 1

    def second_run_is_refused():
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "another fmsim run is writing this folder" in result.stderr

    killed_at("report", args, tmp_path, during=second_run_is_refused)
    # every chunk stored; the tables and figures only in the killed run's temporary folder
    assert sorted(p.name for p in out.iterdir()) == ["chunks"]
    assert len(list(chunks.glob("*.parquet"))) == CHUNKS
    assert list(chunks.glob(".*.tmp-*")) == []
    assert [p.name for p in tmp_path.glob(".out.partial-*")] != []

    stdout = run_ok(args)
    assert f"chunks: {CHUNKS} of {CHUNKS} reused after verification" in stdout
    assert list(tmp_path.glob(".out.*")) == []  # temporary folder and lock gone
    assert outputs(out) == outputs(reference)
    assert pd.read_parquet(out / "power.parquet").equals(
        pd.read_parquet(reference / "power.parquet")
    )


def test_truncated_and_foreign_chunks_are_recomputed(tmp_path):
    config = tmp_path / "trial.yaml"
    config.write_text(TRIAL)
    out = tmp_path / "out"
    args = ["trial", str(config), "--out", str(out)]
    run_ok(args)
    expected = outputs(out)
    first, second = sorted((out / "chunks").glob("*.parquet"))[:2]
    first.write_bytes(first.read_bytes()[:100])  # truncated
    second.write_bytes(sorted((out / "chunks").glob("*.parquet"))[2].read_bytes())  # foreign
    stdout = run_ok(args)
    assert f"chunks: {CHUNKS - 2} of {CHUNKS} reused after verification" in stdout
    assert f"chunk recomputed: {first.name} (" in stdout and "truncated" in stdout
    assert f"chunk recomputed: {second.name} (" in stdout
    assert "holds the chunk of another job or configuration" in stdout
    assert outputs(out) == expected
