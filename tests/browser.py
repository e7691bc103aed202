"""What every real-browser test file shares: Playwright (PyPI) driving Debian's chromium against
`streamlit run` on localhost, over a home holding the tiny Fashion-MNIST.

A test module imports its fixtures and helpers from here: it is skipped where playwright or
/usr/bin/chromium is missing, unless PLAYGROUND_REQUIRE_BROWSER=1 (CI, where .ci/run installs
both) makes that a failure. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

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


SERVER_HOMES: dict[str, Path] = {}  # each server's home, by its URL (filled by `server`, read by store_of)
SERVER_START_SECONDS = 90


@contextlib.contextmanager
def streamlit_app(home: Path, log_path: Path, port: int | None = None, extra: tuple[str, ...] = ()):
    """`streamlit run` of the app over home on a localhost port (a free one unless given), its URL
    yielded once healthy. Its output goes to a log file (a pipe nobody reads would block the server
    once full), whose end is shown if it does not start."""
    port = port or _free_port()
    env = dict(os.environ, PLAYGROUND_HOME=str(home), PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        *extra,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                why = f"exited with code {proc.returncode}" if proc.poll() is not None else f"not healthy after {SERVER_START_SECONDS} s"
                proc.kill()
                proc.wait(10)
                raise RuntimeError(f"streamlit did not start ({why}): " + log_path.read_bytes().decode(errors="replace")[-2000:]) from None
            time.sleep(0.5)
    SERVER_HOMES[url] = home
    try:
        yield url
    finally:
        SERVER_HOMES.pop(url, None)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free localhost port, over a home holding the tiny Fashion-MNIST."""
    from tests.conftest import write_tiny_fashion

    home = tmp_path_factory.mktemp("browser-home")
    write_tiny_fashion(home / "data" / "FashionMNIST" / "raw")
    with streamlit_app(home, tmp_path_factory.mktemp("browser-log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(autouse=True)
def no_runs_left(request):
    """After each test that used a server: none of the server's runs is still queued or running
    (waited for up to 30 s), so that the next test's runs do not queue behind this one's."""
    url = request.getfixturevalue("server") if "server" in request.fixturenames else None
    yield
    if url is None or url not in SERVER_HOMES:
        return
    from playground.runs import ACTIVE

    store = store_of(url)
    going = lambda: [(r.id, r.status, r.config.model) for r in store.list_runs(limit=2000) if r.status in ACTIVE]  # noqa: E731
    deadline = time.monotonic() + 30
    while going():
        if time.monotonic() > deadline:
            raise AssertionError(f"the test left runs queued or running after 30 s: {going()}")
        time.sleep(0.5)


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


def nav(page, title: str, settle_ms: int = 1_000) -> None:
    """A real page switch: the sidebar's navigation link (not page.goto)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_timeout(settle_ms)


def slider(page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label).get_by_role("slider")


def number(page, label: str):
    return page.get_by_label(label, exact=True).and_(page.get_by_test_id("stNumberInputField"))


def spec_box(page):
    return page.get_by_label("Layer spec", exact=True).and_(page.get_by_test_id("stTextInputField"))


def link(page) -> dict[str, str]:
    """The settings in the address bar, as the app wrote them."""
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def no_traceback(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator("[data-testid='stException']").first.inner_text()


def wait_for_trainer(page, url: str, seconds: float = 60) -> None:
    """Open url and reload it until the sidebar says the trainer (the worker process) is warm: a
    student reads the page first, and a run pressed before then waits for the worker's start."""
    open_page(page, url)
    deadline = time.monotonic() + seconds
    while not page.get_by_text("trainer ready").count():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"waited {seconds:g} s for the sidebar to say 'trainer ready'; it says: "
                + page.get_by_test_id("stSidebar").inner_text()[-300:]
            )
        page.wait_for_timeout(500)
        page.reload()
        page.wait_for_selector("h1", timeout=60_000)


TINY_RUN = "model=fc32+relu&epochs=1&batch=16&train=200"


def train_tiny_run(page, server: str, seed: int) -> int:
    """Train one tiny run (fc32 relu, 1 epoch on 200 images) from the Train page, in this page's
    session, and wait for it to finish (or be served from the cache); its run id."""
    open_page(page, f"{server}/?{TINY_RUN}&seed={seed}")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(
        page.get_by_text(re.compile(r"(Completed|Served from the cache: .*) in [\d.]+ s on ")).first,
        f"the tiny run of seed {seed} to finish",
    ).to_be_visible(timeout=90_000)
    runs = [
        r
        for r in store_of(server).list_runs()
        if r.status == "completed"
        and (r.config.model, r.config.epochs, r.config.batch_size, r.config.train_limit, r.config.seed) == ("fc32 relu", 1, 16, 200, seed)
    ]
    assert len(runs) == 1, [(r.id, r.status) for r in runs]
    return runs[0].id


__all__ = [
    "ARTIFACTS",
    "ROOT",
    "browser",
    "expect",
    "json",
    "link",
    "nav",
    "no_runs_left",
    "no_traceback",
    "number",
    "open_page",
    "page",
    "pytest",
    "re",
    "server",
    "shot",
    "slider",
    "spec_box",
    "store_of",
    "streamlit_app",
    "time",
    "train_tiny_run",
    "wait_for_trainer",
]
