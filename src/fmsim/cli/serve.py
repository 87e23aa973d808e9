"""``fmsim serve``: the web app on this computer (http://127.0.0.1:PORT), for people who would
rather fill in forms than write YAML."""

from __future__ import annotations

import socket

import typer

from fmsim.cli.errors import fail


def serve(
    port: int = typer.Option(8050, min=1, max=65535, help="Port on this computer (127.0.0.1)."),
    launch_browser: bool = typer.Option(
        False, "--open/--no-open", help="Open the app in the default web browser."
    ),
) -> None:
    """Start the web app (passive transfer, your data, therapies, trial planner, parameters) on
    127.0.0.1 only: nobody else on the network can reach it. Stop it with Ctrl+C."""
    import uvicorn

    from fmsim.app import create_app

    with socket.socket() as probe:  # a clear line instead of uvicorn's log if it is taken
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            fail(f"--port: port {port} on 127.0.0.1 is in use; choose another with --port")
    url = f"http://127.0.0.1:{port}"
    typer.echo(f"fmsim app: {url}  (Ctrl+C stops it)")
    if launch_browser:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")
