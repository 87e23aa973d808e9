"""`fmsim serve`: a bad or busy port ends with one line and exit code 2 (the app itself is
tested in a browser in tests/app)."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from fmsim.cli.main import app

runner = CliRunner()


def test_port_out_of_range_is_refused():
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "70000" in result.output


def test_busy_port_is_named():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: --port: port {port} on 127.0.0.1 is in use; choose another with --port"
    )
