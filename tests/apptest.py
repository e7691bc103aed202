"""What every AppTest file (tests/test_app_<page>.py) shares: a fresh session of the app, and waits
that give up after a set time with a message saying what they waited for."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from playground import jobs

APP = Path(__file__).parent.parent / "streamlit_app.py"
SCRIPT_SECONDS = 60  # AppTest's default_timeout: the longest one script run (a rerun of a page) may take


def app(page: str | None = None, query: dict | None = None, timeout: float = SCRIPT_SECONDS) -> AppTest:
    """A new browser session: the app run once (the Train page, or `query` as a share link), then
    switched to `page` ("app_pages/<name>.py") if given. Streamlit's caches are emptied first, so
    that no test sees what another test's session computed."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=timeout)
    if query:
        at.query_params.update(query)
    at.run()
    return at.switch_page(page).run() if page else at


def small(at: AppTest) -> AppTest:
    """Settings for quick real runs: fc32 relu, 2 epochs of batch 16 on 200 training images."""
    at.text_input(key="spec_text").input("fc32 relu").run()
    at.number_input(key="epochs").set_value(2).run()
    at.select_slider(key="batch_size").set_value(16).run()
    return at.selectbox(key="train_limit").set_value(200).run()


def wait_until(done: Callable[[], object], seconds: float, what: str | Callable[[], str], poll: float = 0.2) -> None:
    """Poll done() until it is true; fail after `seconds` saying what did not happen (`what` may be
    a function, asked only then: the state at the time of the failure)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:g} s for {what() if callable(what) else what}")
        time.sleep(poll)


def wait_for_job(job: jobs.Job, seconds: float = 120, what: str = "") -> jobs.Job:
    """Wait for a job (a run started by this process) to end."""
    if not job.wait(seconds):
        raise AssertionError(f"waited {seconds:g} s for run {job.run_id} to end{what and ' (' + what + ')'}; it is {job.status}")
    return job


def wait_for_run(at: AppTest, seconds: float = 60) -> AppTest:
    """Wait for the run on the Train page (session_state.run_id) to end, then rerun the page."""
    run_id = at.session_state.run_id
    job = jobs.manager().job(run_id)
    if job is not None:
        wait_for_job(job, seconds, "the run on the Train page")
    return at.run()


def wait_all(at: AppTest, seconds: float = 120) -> AppTest:
    """Wait for every run this process started in the test's home (a sweep) to end, then rerun the page."""
    wait_until(
        lambda: not jobs.manager().active(),
        seconds,
        lambda: "every run of the sweep to end; still going: " + ", ".join(f"run {j.run_id} ({j.status})" for j in jobs.manager().active()),
    )
    return at.run()
