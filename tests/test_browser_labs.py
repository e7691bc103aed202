"""A student walks a lab in a real browser: from its first step, with an answer typed and a sweep run,
away to another page and back (the step, the answer and the table are still there), to the last
step and the notebook export, which holds the answer and the filled table."""

from __future__ import annotations

import json
import re

from tests.browser import ARTIFACTS, browser, expect, nav, no_runs_left, no_traceback, open_page, page, server  # noqa: F401 (pytest fixtures)


def answer_box(page, prompt: str):
    return page.get_by_label(prompt, exact=True)


def test_walk_the_fashion_mnist_lab_to_its_export(server, page, tmp_path):
    open_page(page, f"{server}/labs?lab=fashion-mnist")
    expect(page.get_by_text("Step 1 of 6: Look at the data")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stImage")).to_have_count(3, timeout=60_000)  # three classes, with their names
    box = answer_box(page, "What does each of the four numbers of a batch's shape stand for?")
    box.fill("images, channels, height and width")
    box.press("Tab")  # leaving the box sends the answer
    page.wait_for_timeout(800)
    for title in ("Step 2 of 6: Count the parameters", "Step 3 of 6: The learning-rate table"):
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text(title)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name=re.compile(r"Run this step \(4 runs\)")).click()
    table = page.get_by_text("One row per learning rate")
    expect(table).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"\d of 4 runs finished"))).to_have_count(0, timeout=120_000)  # all four trained
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "labs-sweep.png"), full_page=True)
    nav(page, "Train")
    nav(page, "Labs")
    expect(page.get_by_text("Step 3 of 6: The learning-rate table")).to_be_visible(timeout=60_000)  # the step it was on
    expect(table).to_be_visible(timeout=60_000)  # its runs, from the store
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Back").click()
    expect(answer_box(page, "What does each of the four numbers of a batch's shape stand for?")).to_have_value(
        "images, channels, height and width", timeout=60_000
    )
    for _ in range(5):
        page.get_by_role("button", name="Next").click()
        page.wait_for_timeout(600)
    expect(page.get_by_text("Step 6 of 6: A small CNN instead")).to_be_visible(timeout=60_000)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Notebook (.ipynb)").click()
    path = tmp_path / "lab.ipynb"
    download.value.save_as(path)
    nb = json.loads(path.read_text())
    text = json.dumps(nb)
    assert "images, channels, height and width" in text and "Step 6: A small CNN instead" in text
    assert "One row per learning rate" in text  # the sweep's filled table, as the code cell's output
    no_traceback(page)


SLOW_LAB = """\
title = "A slow lab"
[settings]
dataset = "fashion-mnist"
model = "fc256 relu"
batch_size = 1
epochs = 30

[[step]]
title = "Two learning rates"
question = "Sweep the lr."
do = "sweep"
sweep = { setting = "lr", values = "0.01, 0.001" }
"""


def test_leave_a_lab_step_mid_run_come_back_stop_it_and_run_it_again(server, page):
    from tests.browser import SERVER_HOMES

    labs = SERVER_HOMES[server] / "labs"
    labs.mkdir(exist_ok=True)
    (labs / "slow.toml").write_text(SLOW_LAB)  # a teacher's lab: 2 x 12,000 steps, still training when stopped
    open_page(page, f"{server}/labs?lab=slow")
    page.get_by_role("button", name="Run this step (2 runs)").click()
    training = page.get_by_text(re.compile(r"Training: \d of 2 runs finished"))
    expect(training).to_be_visible(timeout=60_000)
    nav(page, "Runs")
    nav(page, "Labs")
    expect(training).to_be_visible(timeout=60_000)  # still its runs, still training
    page.get_by_role("button", name="Stop", exact=True).click()
    again = page.get_by_role("button", name=re.compile(r"Run again \(2 of 2 runs did not finish: stopped\)"))
    expect(again).to_be_visible(timeout=60_000)
    expect(page.get_by_text("One row per learning rate")).to_be_visible()  # what the stopped runs reached is kept
    again.click()
    expect(training).to_be_visible(timeout=60_000)  # the step trains again
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(again).to_be_visible(timeout=60_000)
    no_traceback(page)
