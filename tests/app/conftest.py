"""Browser tests of the web app: ``fmsim serve`` in a subprocess on a free port, driven by
playwright with Debian's Chromium (``make`` installs it; nothing is downloaded). Skipped, with
the reason, where Chromium is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Where the tests save their screenshots: a scratch folder, or docs/screenshots with
#: ``make screenshots`` (FMSIM_SCREENSHOTS), so that a test run leaves the repository unchanged.
SCREENSHOTS = Path(
    os.environ.get("FMSIM_SCREENSHOTS") or Path(tempfile.gettempdir()) / "fmsim-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FMSIM = str(Path(sys.executable).parent / "fmsim")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The URL of a running ``fmsim serve`` (stopped after the tests)."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    server = subprocess.Popen(
        [FMSIM, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    first_line = server.stdout.readline()  # printed once the app is built, before serving
    assert f"http://127.0.0.1:{port}" in first_line, first_line
    # keep reading what the server prints: a full pipe (64 kB of logs) would block it
    output: deque[str] = deque(maxlen=200)
    threading.Thread(target=output.extend, args=(server.stdout,), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # until uvicorn accepts connections (at most about two minutes)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if server.poll() is not None:
            time.sleep(0.5)  # the reader thread takes the last lines
            pytest.fail(f"fmsim serve stopped: {''.join(output)}")
        time.sleep(0.2)
    else:
        pytest.fail("fmsim serve did not accept connections")
    yield url
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser tab on the app (one session per test), 1400 x 900."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(180_000)  # the first simulation compiles the engine (cached later)
    tab.goto(app_url)
    yield tab
    context.close()


def download(page, button: str, folder: Path | None = None) -> Path:
    """Click the download button ``button`` (its input id) and return the file: saved into
    ``folder`` under the name the page gives it (a zip is also unpacked there), else where
    playwright keeps it."""
    with page.expect_download() as started:
        page.click(f"#{button}")
    if folder is None:
        return Path(started.value.path())
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    if path.suffix == ".zip":
        zipfile.ZipFile(path).extractall(folder)
    return path


def run_fmsim(*args: str, cwd: Path) -> None:
    """``fmsim ARGS`` run in ``cwd`` as a user runs a downloaded configuration (a separate
    process, matplotlib without a display); the test fails with its error output unless the
    command succeeds."""
    finished = subprocess.run(
        [FMSIM, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr
