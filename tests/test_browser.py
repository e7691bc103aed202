"""Real-browser tests of every page, a tiny run, the cache, Stop, share links and uploads. Screenshots
of every page go to tests/artifacts/, with the measured latencies of a new run's first curve point
and of a cached run's redraw."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser import (  # noqa: F401 (pytest fixtures, found by name)
    ARTIFACTS,
    browser,
    expect,
    link,
    nav,
    no_runs_left,
    number,
    open_page,
    page,
    server,
    shot,
    slider,
    spec_box,
    train_tiny_run,
    wait_for_trainer,
)

PAGES = [
    ("", "Train"),
    ("data", "Data: Fashion-MNIST"),
    ("model", "Model anatomy"),
    ("results", "Results"),
    ("toy", "Toy 2D"),
    ("experiments", "Experiments"),
    ("runs", "Run history"),
    ("conv", "Convolution arithmetic"),
]


@pytest.mark.parametrize("path, title", PAGES)
def test_every_page_opens_without_an_error(server, page, path, title):
    open_page(page, f"{server}/{path}")
    expect(page.locator("h1").first).to_have_text(title)
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, f"page-{path or 'train'}")


def FIRST_POINT(page):
    """Drawn with the loss chart once it has points: the live readout, or the finished run's status
    (a tiny run may end before the page's first poll)."""
    return page.get_by_text(re.compile(r"^Latest step [\d,]+: loss|^Completed in")).first


def test_train_a_tiny_run_see_the_curve_then_the_cache(server, page):
    # a student reads the page first: the trainer warms up meanwhile (the sidebar says when)
    wait_for_trainer(page, f"{server}/?model=fc32+relu&epochs=3&batch=16&train=200")
    expect(page.get_by_text("trainer ready")).to_be_visible()
    expect(spec_box(page)).to_have_value("fc32 relu")
    t0 = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(FIRST_POINT(page)).to_be_visible(timeout=60_000)
    first_point = time.perf_counter() - t0
    expect(page.get_by_text("Completed in")).to_be_visible(timeout=90_000)
    shot(page, "train-finished")
    t0 = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Served from the cache")).to_be_visible(timeout=30_000)
    cached = time.perf_counter() - t0
    open_page(page, f"{server}/?model=fc32+relu&epochs=3&batch=16&train=200&seed=5")  # a new run in a warm server
    t0 = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(FIRST_POINT(page)).to_be_visible(timeout=60_000)
    warm = time.perf_counter() - t0
    expect(page.get_by_text("Completed in"), "the warm server's run to finish (no run left going for the next test)").to_be_visible(
        timeout=90_000
    )
    ARTIFACTS.mkdir(exist_ok=True)
    latency = {"first_curve_seconds": first_point, "first_curve_seconds_warm_server": warm, "cached_redraw_seconds": cached}
    (ARTIFACTS / "latency.json").write_text(json.dumps(latency, indent=2))
    print(f"first curve point after {first_point:.2f} s ({warm:.2f} s in a warm server); cached run redrawn after {cached:.2f} s")


def test_look_inside_the_network_of_a_live_run_then_stop_it(server, page):
    wait_for_trainer(page, f"{server}/?model=fc64+relu&epochs=50&batch=1&seed=7")
    page.get_by_role("button", name="Train", exact=True).click()
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"^Latest step [\d,]+: loss")).first).to_be_visible(timeout=60_000)
    page.get_by_text("Inside the network (live)").click()
    expect(page.get_by_text("Lines run from the first layer (dark) to the last (light)")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Outputs over time of")).to_be_visible()
    expect(stop).to_be_visible()  # still live
    shot(page, "train-inside-the-network-live")
    stop.click()
    expect(page.get_by_text("Stopped by you at step")).to_be_visible(timeout=60_000)
    shot(page, "train-stopped")


def test_a_share_link_restores_the_settings(server, page):
    open_page(page, f"{server}/?model=conv8k3+relu+pool2+fc32+relu&lr=0.03&epochs=7")
    expect(spec_box(page)).to_have_value("conv8k3 relu pool2 fc32 relu")
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.03")
    expect(number(page, "Epochs")).to_have_value("7")
    expect(page, "the app to write its settings back to the address bar").to_have_url(re.compile(r"dataset=fashion-mnist"))
    assert link(page) == {"dataset": "fashion-mnist", "model": "conv8k3 relu pool2 fc32 relu", "lr": "0.03", "epochs": "7"}, page.url
    open_page(page, f"{server}/model?model=lenet")
    expect(page.get_by_text("44,426").first).to_be_visible()
    shot(page, "share-link-model")


def test_upload_your_own_image_on_the_results_page(server, page, tmp_path):
    import numpy as np
    from PIL import Image

    digit = np.full((64, 64), 255, dtype=np.uint8)
    digit[10:54, 28:36] = 0  # a dark bar on white paper
    path = tmp_path / "mine.png"
    Image.fromarray(digit).save(path)
    run_id = train_tiny_run(page, server, seed=31)  # a run of its own, with weights
    nav(page, "Results")  # in the same session: the Results page opens on the run just trained
    expect(page.get_by_role("combobox", name="Run", exact=True)).to_have_value(re.compile(rf"^#{run_id} fc32 relu "))
    page.get_by_role("tab", name="Your own image").click()
    page.locator("input[type='file']").set_input_files(str(path))
    expect(page.get_by_text("Predicted:")).to_be_visible(timeout=30_000)
    body = page.inner_text("body")
    assert "28x28" in body and "inverted" in body, body[-600:]
    shot(page, "results-upload")
