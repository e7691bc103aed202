"""Real-browser tests of issue 14: the settings a student chose survive page switches through the
sidebar while a run (or a sweep) is live, and reloads of the link; odd share links are kept exactly
or named in a warning, never a traceback; /train opens the Train page."""

from __future__ import annotations

import re

from tests.browser import (  # noqa: F401 (pytest fixtures, found by name)
    browser,
    expect,
    link,
    nav,
    no_runs_left,
    no_traceback,
    number,
    open_page,
    page,
    server,
    shot,
    slider,
    spec_box,
    wait_for_trainer,
)


def expect_train_form(page, lr: str, epochs: str, batch: str) -> None:
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", lr)
    expect(slider(page, "Batch size")).to_have_attribute("aria-valuetext", batch)
    expect(number(page, "Epochs")).to_have_value(epochs)


def test_train_settings_survive_a_page_switch_during_a_live_run_and_a_reload(server, page):
    # the worker warm first, whatever ran before: a Stop sent while it starts is lost (playground/executor.py)
    wait_for_trainer(page, f"{server}/?model=fc64+relu&lr=0.03&epochs=50&batch=1&seed=21")
    number(page, "Epochs").fill("40")  # one setting through its widget, the others through the link
    number(page, "Epochs").press("Enter")
    expect(page).to_have_url(re.compile(r"epochs=40"))
    page.get_by_role("button", name="Train", exact=True).click()
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible(timeout=60_000)  # 40 epochs of 400 one-image steps: live for minutes
    page.wait_for_timeout(2_000)  # the run panel polls (a fragment) while we leave
    nav(page, "Data")
    assert link(page)["lr"] == "0.03" and link(page)["epochs"] == "40" and link(page)["batch"] == "1"
    nav(page, "Train")
    expect_train_form(page, "0.03", "40", "1")
    assert link(page) == {"dataset": "fashion-mnist", "model": "fc64 relu", "lr": "0.03", "epochs": "40", "batch": "1", "seed": "21"}
    page.wait_for_timeout(3_500)  # two more polls of the live panel: the browser does not send back other values
    expect_train_form(page, "0.03", "40", "1")
    number(page, "Seed").fill("22")  # the form now differs from the run on screen: the page says so
    number(page, "Seed").press("Enter")
    expect(page.get_by_text("This run used seed 21; the form above now says seed 22")).to_be_visible(timeout=30_000)
    no_traceback(page)
    shot(page, "settings-after-page-switch")
    stop.click()
    expect(page.get_by_text("Stopped by you at step")).to_be_visible(timeout=60_000)
    page.reload()  # a reload of the same link: a new session, the same settings
    page.wait_for_selector("h1", timeout=60_000)
    expect_train_form(page, "0.03", "40", "1")
    expect(number(page, "Seed")).to_have_value("22")
    # the stopped run, opened again from the Runs page: one button puts its settings back in the form
    nav(page, "Runs")
    page.get_by_test_id("stMultiSelect").filter(has_text="Runs to compare").click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Open in the Train page").click()
    expect(page.get_by_text("This run used seed 21; the form above now says seed 22")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Use this run's settings").click()
    expect(number(page, "Seed")).to_have_value("21", timeout=30_000)
    expect(page.get_by_text("This run used")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"seed=21"))
    no_traceback(page)


def test_the_sweep_survives_a_page_switch_during_a_live_sweep(server, page):
    wait_for_trainer(page, f"{server}/experiments?model=fc32+relu&epochs=50&batch=1&sweep=batch_size&values=1%2C2&seeds=2")
    expect(page.get_by_role("combobox", name="Sweep", exact=True)).to_have_value("batch size")
    values = page.get_by_label("Values, separated by ','", exact=True)
    expect(values).to_have_value("1,2")
    values.fill("1,2,4")
    values.press("Enter")
    expect(page).to_have_url(re.compile(r"values=1%2C2%2C4"))
    page.get_by_role("button", name="Run the sweep", exact=True).click()
    stop = page.get_by_role("button", name="Stop the sweep")
    expect(stop).to_be_visible(timeout=60_000)
    page.wait_for_timeout(2_000)
    nav(page, "Data")
    assert link(page)["sweep"] == "batch_size" and link(page)["values"] == "1,2,4" and link(page)["seeds"] == "2"
    nav(page, "Experiments")
    expect(page.get_by_role("combobox", name="Sweep", exact=True)).to_have_value("batch size")
    expect(values).to_have_value("1,2,4")
    expect(number(page, "Seeds per value")).to_have_value("2")
    assert link(page)["sweep"] == "batch_size" and link(page)["values"] == "1,2,4" and link(page)["seeds"] == "2"
    no_traceback(page)
    shot(page, "settings-sweep-after-page-switch")
    stop.click()
    expect(stop).to_be_hidden(timeout=60_000)


def _bf16_as_the_device_allows(page) -> None:
    """A link asking for bfloat16 products: kept; where this CPU has no bfloat16 units, the box is drawn
    off (as the run will be) and a caption says so."""
    from playground import precision

    box = page.get_by_role("checkbox", name="bfloat16 matrix products")
    if precision.cpu_has_bf16():
        expect(box).to_be_checked()
        return
    expect(page.get_by_text("The link asks for bfloat16 products")).to_be_visible(timeout=30_000)
    expect(box).not_to_be_checked()
    expect(box).to_be_disabled()


ODD_LINKS = [
    ("epochs=999", None, lambda p: expect(number(p, "Epochs")).to_have_value("999")),
    ("lr=0.05", None, lambda p: expect(slider(p, "Learning rate")).to_have_attribute("aria-valuetext", "0.05")),
    ("batch=100", None, lambda p: expect(slider(p, "Batch size")).to_have_attribute("aria-valuetext", "100")),
    ("lr=abc", "lr = 'abc' is not allowed", lambda p: expect(slider(p, "Learning rate")).to_have_attribute("aria-valuetext", "0.1")),
    ("epochs=5000", "epochs must be a whole number from 1 to 1000", lambda p: expect(number(p, "Epochs")).to_have_value("5")),
    ("bf16=maybe", "bf16 must be true or false", lambda p: None),
    ("bf16=1", None, _bf16_as_the_device_allows),
]


def test_odd_share_links_are_kept_or_named_never_a_traceback(server, page):
    for query, warning, check in ODD_LINKS:
        open_page(page, f"{server}/?{query}")
        no_traceback(page)
        check(page)
        alerts = page.get_by_test_id("stAlertContentWarning")
        key, value = query.split("=")
        # the app has written its settings back to the address bar (it adds the dataset and the model)
        expect(page, f"the app to rewrite the link {query}").to_have_url(re.compile(r"dataset=fashion-mnist"))
        if warning:
            expect(alerts.filter(has_text=warning)).to_be_visible()
            expect(alerts.filter(has_text="used ")).to_be_visible()
            assert key not in link(page), page.url  # the refused value is not passed on
        else:
            assert alerts.count() == 0, alerts.all_inner_texts()
            assert link(page)[key] == value, page.url  # kept exactly, in the address bar too
        shot(page, f"settings-link-{query.replace('=', '-')}")


def test_model_and_toy_settings_survive_page_switches(server, page):
    open_page(page, f"{server}/model")
    spec = spec_box(page)
    spec.fill("fc128 relu")
    spec.press("Enter")
    expect(page).to_have_url(re.compile(r"model=fc128\+relu"))
    nav(page, "Data")
    nav(page, "Model")
    expect(spec).to_have_value("fc128 relu")
    expect(page.get_by_role("combobox", name="Preset", exact=True)).to_have_value("(custom)")
    nav(page, "Toy 2D")
    assert link(page)["model"] == "fc128 relu"
    page.goto(f"{server}/toy?points=600&noise=0.2")  # the toy set's settings come from a link too
    page.wait_for_selector("h1", timeout=60_000)
    expect(slider(page, "Points")).to_have_attribute("aria-valuetext", "600")
    expect(slider(page, "Noise")).to_have_attribute("aria-valuetext", "0.20")
    nav(page, "Data")
    nav(page, "Toy 2D")
    expect(slider(page, "Points")).to_have_attribute("aria-valuetext", "600")
    assert link(page)["points"] == "600" and link(page)["noise"] == "0.2"
    no_traceback(page)


def test_an_invalid_spec_keeps_the_training_controls_disabled(server, page):
    open_page(page, f"{server}/?lr=0.3")
    spec = spec_box(page)
    spec.fill("fc64 relu fcx")
    spec.press("Enter")
    expect(page.get_by_text("bad layer 'fcx'")).to_be_visible()
    expect(page.get_by_role("combobox", name="Preset", exact=True)).to_have_value("(custom)")
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.3")
    expect(number(page, "Epochs")).to_be_disabled()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    no_traceback(page)
    shot(page, "settings-invalid-spec")


def test_train_path_opens_the_train_page(server, page):
    open_page(page, f"{server}/train?lr=0.3")
    expect(page.locator("h1").first).to_have_text("Train")
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.3")
    no_traceback(page)
    assert page.get_by_text("Page not found").count() == 0
