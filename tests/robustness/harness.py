"""Harness of the robustness corpus: bad or odd inputs fed to the real command line.

A case is data: the command line, the files it reads, and what its one-line error must name::

    from tests.robustness.harness import Case, check_refused

    CASES = [
        Case(
            "simulate:yaml:duplicate key",
            ["simulate", "{in}/scenario.yaml", "--out", "{out}"],
            files={"scenario.yaml": "dose: 8 mg\\ndose: 4 mg\\n"},
            expect=["scenario.yaml", "duplicate key 'dose'"],
        ),
    ]

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_refused(case, tmp_path):
        check_refused(case, tmp_path)

``Case.id`` is ``"command:category:what"`` (the corpus is counted by command and category).
``files`` maps a name under ``{in}`` to its content: ``str`` (written as UTF-8), ``bytes``
(written as is), :data:`FOLDER` (an empty folder of that name) or a function ``write(path)``
(e.g. an Excel workbook). A name starting with ``out/`` is written into ``{out}`` before the
run (a pre-existing output folder). In ``argv``, ``{in}`` and ``{out}`` become the input and
output folders under pytest's ``tmp_path``; the command runs with ``tmp_path`` as its working
directory.

:func:`check_refused` runs the case and asserts what the README promises for a user's mistake:

- exit code 2, and no exception other than the exit escaped (in-process) and no "Traceback"
  anywhere in the output;
- exactly ``case.errors`` error lines on stderr (one per mistake; click's "Usage:"/"Try"
  lines and the box around a usage error count as one line), every one naming one of
  ``case.names`` (default: the input files' names and the ``--options`` on the command line),
  and all ``case.expect`` fragments present in the error text;
- nothing left behind that looks like a result: every file in ``{out}`` is byte-identical to
  before the run (none new, none changed, none removed), and so is every input file;
- within ``case.timeout`` seconds (a hang fails the case instead of stalling the suite).

``run_cli`` runs a command line in-process (typer's ``CliRunner``: fast, the default) or, for
``mode="subprocess"``, as ``python -c "from fmsim.cli.main import main; main()"`` (a real
process: its own signals, memory, exit path). Keep cases to validation: a refused input must
fail before any simulation, so every case runs in milliseconds to a second.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

#: Marker in ``Case.files``: create an empty folder with that name.
FOLDER = object()
FileContent = str | bytes | object | Callable[[Path], None]
_RULE = "─│╭╮╰╯"  # box-drawing characters of rich's error panel


@dataclass(frozen=True)
class Case:
    """One bad or odd input: see the module docstring."""

    id: str
    argv: Sequence[str]
    files: Mapping[str, FileContent] = field(default_factory=dict)
    expect: Sequence[str] = ()
    errors: int = 1
    names: Sequence[str] | None = None
    mode: str = "inprocess"
    timeout: float = 30.0

    def __str__(self) -> str:
        return self.id

    @property
    def command(self) -> str:
        return self.id.split(":")[0]

    @property
    def category(self) -> str:
        return self.id.split(":")[1]


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit code, its two output streams, an escaped exception."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


@dataclass(frozen=True)
class Workspace:
    """A case's folders under ``tmp_path`` and its command line with the folders filled in."""

    root: Path
    inputs: Path
    out: Path
    argv: list[str]


def prepare(case: Case, tmp_path: Path) -> Workspace:
    """Write the case's files and fill ``{in}`` / ``{out}`` into its command line."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        path = out / name.removeprefix("out/") if name.startswith("out/") else inputs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is FOLDER:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            content(path)
    argv = [part.replace("{in}", str(inputs)).replace("{out}", str(out)) for part in case.argv]
    return Workspace(tmp_path, inputs, out, argv)


def run_cli(
    argv: Sequence[str], cwd: Path, mode: str = "inprocess", timeout: float = 30.0
) -> Outcome:
    """Run ``fmsim argv`` in ``cwd``; raise AssertionError if it takes over ``timeout`` s."""
    if mode == "subprocess":
        command = [sys.executable, "-c", "from fmsim.cli.main import main; main()", *argv]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"fmsim {' '.join(argv)} hung (> {timeout:g} s)") from None
        return Outcome(done.returncode, done.stdout, done.stderr)
    from fmsim.cli.main import app

    with _working_directory(cwd), _deadline(timeout, argv):
        result = CliRunner().invoke(app, list(argv))
    if isinstance(result.exception, _Timeout):  # CliRunner catches what the alarm raised
        raise AssertionError(f"fmsim {' '.join(argv)} hung (> {timeout:g} s)")
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


def error_lines(stderr: str) -> list[str]:
    """The error lines of ``stderr``: one per line of fmsim's own errors; a click usage error
    (``Usage:`` and ``Try`` lines, a boxed or ``Error:`` message) counts as one line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("Usage:"):
        return lines
    message = [
        line.strip(_RULE + " ").removeprefix("Error: ")
        for line in lines[1:]
        if not line.startswith("Try ") and line.strip(_RULE + " ")
    ]
    message = [m for m in message if m != "Error"]
    return [" ".join(message)]


def snapshot(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (empty if it is absent)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def check_refused(case: Case, tmp_path: Path) -> Outcome:
    """Run ``case`` and assert that it was refused cleanly (see the module docstring)."""
    workspace = prepare(case, tmp_path)
    inputs_before, out_before = snapshot(workspace.inputs), snapshot(workspace.out)
    outcome = run_cli(workspace.argv, workspace.root, case.mode, case.timeout)
    shown = f"stdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    assert outcome.exception is None, f"{case.id}: raised {outcome.exception!r}\n{shown}"
    assert "Traceback" not in outcome.stdout + outcome.stderr, f"{case.id}: traceback\n{shown}"
    assert outcome.exit_code == 2, f"{case.id}: exit code {outcome.exit_code}\n{shown}"
    lines = error_lines(outcome.stderr)
    assert len(lines) == case.errors, (
        f"{case.id}: {len(lines)} error line(s), expected {case.errors}\n{shown}"
    )
    names = case.names if case.names is not None else _default_names(case)
    for line in lines:
        assert any(name in line for name in names), f"{case.id}: names none of {names}: {line}"
    text = "\n".join(lines)
    for fragment in case.expect:
        assert fragment in text, f"{case.id}: {fragment!r} missing from the error\n{shown}"
    assert snapshot(workspace.out) == out_before, f"{case.id}: output left in {workspace.out}"
    assert snapshot(workspace.inputs) == inputs_before, f"{case.id}: an input file changed"
    return outcome


def _default_names(case: Case) -> list[str]:
    names = [Path(part).name for part in case.argv if part.startswith("{in}/")]
    names += [part.split("=")[0] for part in case.argv if part.startswith("--")]
    return names


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class _Timeout(BaseException):
    """Raised by the deadline; not an Exception, so fmsim's error wrapper lets it through."""


@contextmanager
def _deadline(seconds: float, argv: Sequence[str]) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; pytest runs tests in the main thread)."""

    def interrupt(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Timeout:
        raise AssertionError(f"fmsim {' '.join(argv)} hung (> {seconds:g} s)") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
