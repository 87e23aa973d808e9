"""How every fmsim command ends when something goes wrong.

* A user's mistake (bad argument, config, data file or output folder) ends with one line on
  stderr, ``error: ...``, and exit code 2.
* Anything unexpected (a bug, a full disk) ends with one line naming the problem and a log file
  holding the full traceback, exit code 1; ``fmsim --debug`` (or ``FMSIM_DEBUG=1``) prints the
  traceback instead.

:class:`FmsimGroup` applies this around every command; commands only raise.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
import typer
from typer.core import TyperGroup

from fmsim import __version__
from fmsim.config.errors import ConfigError
from fmsim.experiments.errors import StudyError
from fmsim.io.errors import LabDataError, OutputError

#: Exceptions whose message is a complete one-line (or one line per problem) user message.
USER_ERRORS = (ConfigError, LabDataError, StudyError, OutputError)
#: Exit codes: a user's mistake, an unexpected failure.
USER_MISTAKE, INTERNAL_ERROR = 2, 1

_invocation = {"command": "fmsim", "debug": False}


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with code 2 (no traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=USER_MISTAKE)


def command_line() -> str:
    """The command line of the running invocation, as typed (for manifests and logs)."""
    return _invocation["command"]


def set_debug(debug: bool) -> None:
    """Print tracebacks of unexpected errors instead of logging them (``fmsim --debug``)."""
    _invocation["debug"] = _invocation["debug"] or debug


class FmsimGroup(TyperGroup):
    """The ``fmsim`` command group: every command runs inside :meth:`main`'s error handling."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,  # always "fmsim" (also under test runners)
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        _invocation["command"] = shlex.join(["fmsim", *arguments])
        _invocation["debug"] = os.environ.get("FMSIM_DEBUG", "") not in ("", "0")
        code = _run(super().main, arguments, "fmsim", complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code


def _run(main, arguments, prog_name, complete_var, extra) -> int:
    """Run click's ``main`` without its own error handling; return the exit code."""
    try:
        returned = main(arguments, prog_name, complete_var, standalone_mode=False, **extra)
    except click.exceptions.NoArgsIsHelpError as error:  # `fmsim`, `fmsim export`: the help
        if error.format_message():  # plain help text (rich help is printed already)
            typer.echo(error.format_message())
        return 0
    except click.ClickException as error:  # usage errors: bad option, missing argument ...
        typer.echo(f"error: {_usage_line(error)}", err=True)
        return error.exit_code
    except click.Abort:
        typer.echo("error: aborted", err=True)
        return INTERNAL_ERROR
    except USER_ERRORS as error:
        typer.echo(f"error: {error}", err=True)
        return USER_MISTAKE
    except Exception as error:
        return _unexpected(error)
    # click returns the exit code of typer.Exit in this mode, a command's result otherwise
    return returned if isinstance(returned, int) else 0


def _usage_line(error: click.ClickException) -> str:
    """``fmsim CMD: message (see 'fmsim CMD --help')`` on one line."""
    message = " ".join(error.format_message().split())
    message = message.replace(" (env var: 'None')", "")  # click 8.2 names absent env vars
    context = getattr(error, "ctx", None)
    if context is None:
        return message
    return f"{context.command_path}: {message} (see '{context.command_path} --help')"


def _unexpected(error: Exception) -> int:
    """Report an unexpected exception in one line and log its traceback (or print it)."""
    text = "".join(traceback.format_exception(error))
    if _invocation["debug"]:
        typer.echo(text, err=True, nl=False)
        return INTERNAL_ERROR
    summary = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    try:
        log = _write_log(text)
    except OSError:
        where = "rerun with --debug to see the traceback"
    else:
        where = f"full traceback in {log} (or rerun with --debug)"
    typer.echo(f"error: unexpected failure ({summary.rstrip(': ')}); {where}", err=True)
    return INTERNAL_ERROR


def _write_log(text: str) -> Path:
    """Write the traceback with the command and versions to a new log file; return it."""
    folder = log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"fmsim-{stamp}-{os.getpid()}.log"
    path.write_text(
        f"command: {_invocation['command']}\nfmsim {__version__}, Python "
        f"{platform.python_version()}, {platform.platform()}\n\n{text}"
    )
    return path


def log_folder() -> Path:
    """Where logs of unexpected failures go: ``$FMSIM_LOG_DIR``, else
    ``$XDG_STATE_HOME/fmsim/logs`` (default ``~/.local/state/fmsim/logs``), else the temporary
    folder."""
    if os.environ.get("FMSIM_LOG_DIR"):
        return Path(os.environ["FMSIM_LOG_DIR"])
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    folder = Path(state) / "fmsim" / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(tempfile.gettempdir()) / "fmsim-logs"
    return folder
