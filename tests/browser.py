"""What every real-browser test file shares: Playwright (PyPI) driving Debian's chromium against
`streamlit run` on localhost, over a home holding the tiny Fashion-MNIST.

A test module does `from tests.browser import *`: it is skipped where playwright or
/usr/bin/chromium is missing, unless PLAYGROUND_REQUIRE_BROWSER=1 (CI, where .ci/run installs
both) makes that a failure. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
ROOT = Path(__file__).parent.parent

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None
if sync_playwright is None or not CHROMIUM.is_file():
    if os.environ.get("PLAYGROUND_REQUIRE_BROWSER") == "1":
        raise RuntimeError("PLAYGROUND_REQUIRE_BROWSER=1 but playwright or /usr/bin/chromium is missing")
    pytest.skip("install playwright (pip) and chromium (apt) to run the browser tests", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_HOMES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run` on a free localhost port, over a home holding the tiny Fashion-MNIST."""
    from tests.conftest import write_tiny_fashion

    home = tmp_path_factory.mktemp("browser-home")
    write_tiny_fashion(home / "data" / "FashionMNIST" / "raw")
    port = _free_port()
    env = dict(os.environ, PLAYGROUND_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    SERVER_HOMES[url] = home
    yield url
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_timeout(500)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)




def store_of(url: str):
    """The run store of the server at url (the browser fixture's home)."""
    from playground.runs import RunStore

    return RunStore(SERVER_HOMES[url] / "runs.sqlite")


__all__ = ["ARTIFACTS", "ROOT", "expect", "server", "browser", "page", "open_page", "shot", "store_of", "pytest", "re", "time", "json"]
