"""Real-browser tests of training outside the server: a queued run's page on screen does not slow
the run ahead of it (issue: it made it 54x slower, then stalled it), and Stop on a queued run says
at once that it will not start. The measured speeds go to tests/artifacts/starvation.json."""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import time

from tests.browser import ARTIFACTS, browser, expect, nav, no_runs_left, open_page, page, server, shot, store_of  # noqa: F401 (pytest fixtures, found by name)

SPEC = "fc256+relu+fc256+relu"
WINDOW_SECONDS = 4.0


def _last_step(url: str, run_id: int) -> int:
    with sqlite3.connect(store_of(url).path) as db:
        return db.execute("SELECT coalesce(max(last_step), 0) FROM step_chunks WHERE run_id=?", (run_id,)).fetchone()[0]


def _steps_per_second(url: str, run_id: int, page) -> float:
    page.wait_for_timeout(1000)  # the page switch and its first draw are done
    t0, s0 = time.perf_counter(), _last_step(url, run_id)
    page.wait_for_timeout(WINDOW_SECONDS * 1000)
    return (_last_step(url, run_id) - s0) / (time.perf_counter() - t0)


def _running_run(url: str, seed: int) -> int:
    runs = [r for r in store_of(url).list_runs() if r.config.seed == seed and r.status == "running"]
    assert len(runs) == 1, f"one running run of seed {seed} expected: {[(r.id, r.status) for r in store_of(url).list_runs()]}"
    return runs[0].id


def test_a_queued_runs_page_does_not_slow_the_run_ahead_and_stop_takes_it_off_the_queue(server, page):
    link = f"{server}/?model={SPEC}&epochs=1000&batch=2&lr=0.01"  # 200,000 steps: still running after the measurement
    open_page(page, f"{link}&seed=21")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Latest step [\d,]+: loss")).first).to_be_visible(timeout=60_000)
    ahead = _running_run(server, 21)
    open_page(page, f"{link}&seed=22")  # another seed: a second run, queued behind the first
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Queued: it starts when")).to_be_visible(timeout=30_000)
    queued_shown, data_shown = [], []
    for _ in range(
        6
    ):  # interleaved, so that a drift of the machine's speed hits both alike; 6 pairs: a window's count moves with the store's flushes
        queued_shown.append(_steps_per_second(server, ahead, page))
        nav(page, "Data", settle_ms=0)
        data_shown.append(_steps_per_second(server, ahead, page))
        nav(page, "Train", settle_ms=0)
        expect(page.get_by_text("Queued: it starts when")).to_be_visible(timeout=30_000)
    shot(page, "train-queued")
    ratio = statistics.median(queued_shown) / statistics.median(data_shown)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "starvation.json").write_text(
        json.dumps(
            {"steps_per_second_queued_page_shown": queued_shown, "steps_per_second_data_page_shown": data_shown, "ratio_of_medians": ratio},
            indent=2,
        )
    )
    print(
        f"run ahead: {statistics.median(queued_shown):.0f} steps/s with the queued run's page shown, "
        f"{statistics.median(data_shown):.0f} with the Data page: {ratio:.2f}"
    )
    assert min(queued_shown) > 0, "the run ahead stalled while the queued run's page was shown"
    assert ratio >= 0.8, (queued_shown, data_shown)

    t0 = time.perf_counter()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Stopped before it started")).to_be_visible(timeout=10_000)
    waited = time.perf_counter() - t0
    assert waited < 10, f"Stop on the queued run took {waited:.1f} s"  # no wait for the run ahead
    assert store_of(server).get(ahead).status == "running", store_of(server).get(ahead).status
    shot(page, "train-queued-stopped")
    open_page(page, f"{link}&seed=21")  # the same settings join the running run: its panel, with Stop
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Stopped by you at step")).to_be_visible(timeout=30_000)
