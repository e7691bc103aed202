"""Real-browser tests of the Toy 2D page as TensorFlow Playground: a teacher's link (hide, task) kept
through a rerun, input features + Train + the network drawing (hover a unit: its map large), the
live maps redrawn while a run trains (measured: tests/artifacts/toy_speed.json), odd links named in
a warning. Screenshots go to tests/artifacts/toy-*.png.

The decision-region maps are drawn on a canvas (no title in the DOM): an init script wraps the
canvas's fillText and keeps the last "After ..." text drawn on each canvas in its data-title."""

from __future__ import annotations

import itertools
import json
import re
import time

from tests.browser import (  # noqa: F401 (pytest fixtures, found by name)
    ARTIFACTS,
    browser,
    expect,
    link,
    no_runs_left,
    no_traceback,
    open_page,
    page,
    server,
    slider,
    wait_for_trainer,
)

# Every Toy control's label, by its link key (playground/ui/toy_controls.py, playground/settings.py TOY_PAGE).
LABELS = {
    "toy": "Toy set",
    "features": "Input features",
    "points": "Points",
    "noise": "Noise",
    "toyshare": "Training share",
    "toyseed": "Data seed",
    "layers": "Hidden layers",
    "units": "Units per layer",
    "act": "Activation",
    "tlr": "Learning rate",
    "tepochs": "Epochs",
    "tbatch": "Batch size",
    "topt": "Optimizer",
    "treg": "Regularisation",
    "tregrate": "Regularisation rate",
    "showtest": "Show test points",
    "discrete": "Discretise output",
}
TASK = "Only the learning rate is yours: find the largest that still learns the circles"

# Keeps the last "After ..." title vega draws on each canvas (the decision-region maps' titles).
TITLE_HOOK = """(() => {
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        if (/^After /.test(String(text))) this.canvas.dataset.title = String(text);
        return fillText.call(this, text, ...rest);
    };
})()"""
# The titles of the maps on the page now: the canvases' (TITLE_HOOK), and any drawn as SVG text.
MAP_TITLES = """() => [
    ...[...document.querySelectorAll('[data-testid=stVegaLiteChart] canvas')].map(c => c.dataset.title || ''),
    ...[...document.querySelectorAll('[data-testid=stVegaLiteChart] svg text')].map(t => t.textContent),
].filter(t => t.startsWith('After '))"""
LIVE_TITLE = re.compile(r"^After epoch (\d+)")


def widget_labels(page) -> list[str]:
    """The labels of the widgets in the main area (checkboxes and toggles included), as shown."""
    return page.get_by_test_id("stMain").get_by_test_id("stWidgetLabel").all_inner_texts()


def view(page, name: str, locator=None) -> None:
    """A screenshot of the viewport (the app scrolls inside it), scrolled to locator if given."""
    if locator is not None:
        for _ in range(3):  # a live panel redraws: the element found may be replaced before the scroll
            try:
                locator.scroll_into_view_if_needed()
                break
            except Exception:  # playwright's Error: the element detached
                page.wait_for_timeout(300)
        page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"toy-{name}.png"))


def success(page, epochs: int):
    return page.get_by_test_id("stAlert").filter(has_text=re.compile(rf"trained {epochs} epochs? in [\d.]+ s: .*test accuracy [\d.]+%"))


def test_a_teachers_link_hides_controls_and_keeps_hide_and_task_through_a_rerun(server, page):
    hidden = [k for k in LABELS if k != "tlr"]
    open_page(page, f"{server}/toy?hide={','.join(hidden)}&task={TASK.replace(' ', '+')}")
    expect(page.get_by_test_id("stAlert").filter(has_text=TASK)).to_be_visible(timeout=30_000)
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.03")
    # the whole page drawn (a loaded machine draws it slowly) before asking what is not on it
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)  # the points, drawn
    labels = widget_labels(page)
    assert "Learning rate" in labels, labels
    assert not {LABELS[k] for k in hidden} & {label.strip() for label in labels}, labels
    assert page.get_by_role("button", name="x1²").count() == 0  # no feature pills
    assert page.get_by_role("button", name="Regenerate").count() == 0  # toyseed hidden: no Regenerate either
    view(page, "teacher-link")
    lr = slider(page, "Learning rate")
    lr.focus()
    lr.press("ArrowRight")  # the next notch: 0.1
    expect(page).to_have_url(re.compile(r"tlr=0\.1(&|$)"), timeout=30_000)
    expect(lr).to_have_attribute("aria-valuetext", "0.1")
    shared = link(page)
    assert shared["tlr"] == "0.1" and shared["hide"] == ",".join(hidden) and shared["task"] == TASK, shared
    expect(page.get_by_test_id("stAlert").filter(has_text=TASK)).to_be_visible()
    assert {label.strip() for label in widget_labels(page)} & set(LABELS.values()) == {"Learning rate"}, widget_labels(page)
    page.reload()  # the same link in a new session: the same page
    page.wait_for_selector("h1", timeout=60_000)
    expect(page.get_by_test_id("stAlert").filter(has_text=TASK)).to_be_visible(timeout=30_000)
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.1")
    assert {label.strip() for label in widget_labels(page)} & set(LABELS.values()) == {"Learning rate"}, widget_labels(page)
    no_traceback(page)


def test_features_train_and_the_network_drawing(server, page):
    wait_for_trainer(page, f"{server}/toy?features=x1sq,x2sq&layers=0&tepochs=40")  # the worker warm: the next test's timing is fair
    for name in ("x1²", "x2²"):
        expect(page.get_by_role("button", name=name, exact=True, pressed=True)).to_be_visible()
    for name in ("x1", "x2"):
        expect(page.get_by_role("button", name=name, exact=True, pressed=False)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^inputs \(x1², x2²\) +-> +\(no hidden layer"))).to_be_visible()  # the network the link asks for
    page.get_by_role("button", name="Train", exact=True).click()
    done = success(page, 40)
    expect(done).to_be_visible(timeout=90_000)
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", done.inner_text()).group(1))
    assert accuracy >= 90, done.inner_text()  # x1² and x2² make the circles linearly separable

    caption = page.get_by_text(re.compile(r"^Inside the network after epoch 40"))
    expect(caption).to_be_visible(timeout=30_000)
    network = page.get_by_test_id("stVegaLiteChart").filter(has=page.locator("svg image")).filter(has_text="P(class 1)")
    expect(network).to_have_count(1)
    tiles = network.locator("svg image")
    expect(tiles).to_have_count(4)  # x1², x2², the output, and the output's map large
    texts = network.locator("svg text")
    named = lambda text: texts.filter(has_text=re.compile(f"^{re.escape(text)}$"))  # noqa: E731
    for text in ("2 features", "Output", "x1²", "x2²"):
        expect(named(text).first).to_be_visible()
    expect(named("P(class 1)")).to_have_count(2)  # under the output's tile, and the large map's title: the output's at first
    view(page, "network", caption)
    tiles.nth(0).hover()  # x1²'s tile: the large map is x1²'s
    expect(named("x1²")).to_have_count(2)
    expect(named("P(class 1)")).to_have_count(1)
    tiles.nth(1).hover()
    expect(named("x2²")).to_have_count(2)
    expect(named("x1²")).to_have_count(1)
    view(page, "network-hover-x2sq", caption)
    no_traceback(page)


def test_the_live_map_is_redrawn_while_a_run_trains(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(TITLE_HOOK)
    page = context.new_page()
    try:
        wait_for_trainer(page, f"{server}/toy?points=500&tepochs=100&tbatch=16")
        no_traceback(page)
        done = success(page, 100)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        changes = []  # (seconds since Train, epoch in the live map's title), each time it changed
        shot_taken = False
        while not done.count():
            if time.perf_counter() - t0 > 120:
                raise AssertionError(f"the run did not finish in 120 s; the live map's titles so far: {changes}")
            epochs = [int(m.group(1)) for t in page.evaluate(MAP_TITLES) if (m := LIVE_TITLE.match(t))]
            if epochs and (not changes or max(epochs) != changes[-1][1]):
                changes.append((round(time.perf_counter() - t0, 2), max(epochs)))
                if len(changes) == 3 and not shot_taken:
                    view(page, "running", page.get_by_test_id("stVegaLiteChart").first)
                    shot_taken = True
            page.wait_for_timeout(100)
        finished = time.perf_counter() - t0
        text = done.inner_text()
        page.wait_for_timeout(1_500)  # the final full redraw
        epochs = [int(m.group(1)) for t in page.evaluate(MAP_TITLES) if (m := LIVE_TITLE.match(t))]
        view(page, "speed-finished", page.get_by_test_id("stVegaLiteChart").first)
        live = [c for c in changes if c[0] < finished]
        active = finished - live[0][0] if live else 0.0
        figures = {
            "link": "/toy?points=500&tepochs=100&tbatch=16",
            "seconds_train_to_success_box": round(finished, 2),
            "run_seconds_reported": float(re.search(r"in ([\d.]+) s", text).group(1)),
            "seconds_to_first_live_map": live[0][0] if live else None,
            "live_map_redraws": len(live),
            "redraws_per_second_train_to_success": round(len(live) / finished, 2),
            "redraws_per_second_first_map_to_success": round((len(live) - 1) / active, 2) if active > 0 else None,
            "longest_gap_between_redraws_s": round(max((b[0] - a[0] for a, b in itertools.pairwise(live)), default=0.0), 2),
            "epochs_in_the_live_title": [c[1] for c in live],
            "final_title_epoch": max(epochs) if epochs else None,
            "sampling_ms": 100,
            "success_box": text,
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "toy_speed.json").write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures, indent=2))
        assert len(live) >= 2, f"the live map was redrawn {len(live)} time(s) while the run trained: {changes}"
        assert epochs and max(epochs) == 100, f"after the run the live map says {epochs}, not epoch 100"
        no_traceback(page)
    finally:
        context.close()


ODD = {
    "features": "x9",
    "hide": "tepochs,bogus",
    "tlr": "abc",
    "task": "a" * 600,
}


def test_odd_toy_links_are_named_once_in_a_warning(server, page):
    open_page(page, f"{server}/toy?" + "&".join(f"{k}={v}" for k, v in ODD.items()))
    warning = page.get_by_test_id("stAlert").filter(has_text="This link has settings the playground cannot use")
    expect(warning).to_be_visible(timeout=30_000)
    items = warning.locator("li").all_inner_texts()
    for key, value in ODD.items():
        named = [i for i in items if i.startswith(f"{key}={value[:50]}")]  # a long value is cut short
        assert len(named) == 1, (key, items)
    assert len(items) == len(ODD), items
    said = dict(zip(ODD, sorted(items, key=lambda i: list(ODD).index(i.split("=")[0]))))
    assert "learning rate = 'abc' is not allowed" in said["tlr"] and "toy_lr" not in said["tlr"], said["tlr"]  # the label's words
    assert said["hide"].endswith("hid tepochs only"), said["hide"]  # the link's good part is kept
    assert said["task"].startswith("task=" + "a" * 59 + "…:") and said["task"].endswith("ignored it"), said["task"]
    assert "Epochs" not in {label.strip() for label in widget_labels(page)}  # hidden, as the link's good part says
    expect(page.locator("h1").first).to_have_text("Toy 2D")
    assert page.get_by_test_id("stAlert").filter(has_text=re.compile(r"^a{500}")).count() == 0  # the long task is not shown as one
    expect(slider(page, "Learning rate")).to_have_attribute("aria-valuetext", "0.03")  # the defaults are used
    expect(page.get_by_role("button", name="x1", exact=True, pressed=True)).to_be_visible()
    no_traceback(page)
    assert not {"features", "tlr", "task"} & set(link(page)), page.url  # the bad values left the address bar
    assert link(page)["hide"] == "tepochs", page.url
    view(page, "odd-link", warning)


def test_every_feature_pill_is_on_the_page_and_clickable(server, page):
    """The seven pills once did not wrap in the Network column: the sine features were cut off."""
    open_page(page, f"{server}/toy")
    pills = page.get_by_test_id("stButtonGroup").first
    expect(pills).to_be_visible(timeout=30_000)
    boxes = page.evaluate("""() => { const g = document.querySelector('[data-testid=stButtonGroup]');
        const col = (g.closest('[data-testid=stColumn]') || document.querySelector('[data-testid=stMain]') || document.body).getBoundingClientRect();
        return [...g.querySelectorAll('button')].filter(b => b.innerText).map(b => { const r = b.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return [b.innerText, r.left >= col.left - 1 && r.right <= col.right + 1, !!hit && b.contains(hit)]; }); }""")
    assert len(boxes) == 7, boxes
    assert all(inside and reachable for _, inside, reachable in boxes), boxes


def test_step_play_pause_and_leaving_the_page(server, page):
    """Step shows one batch worked by hand; Play trains in bursts; Pause holds; leaving the page and
    coming back keeps the stepped network (it lives in the session)."""
    open_page(page, f"{server}/toy?tepochs=200")  # Play must still be playing when Pause is pressed
    step = page.get_by_role("button", name="Step", exact=True)
    expect(step).to_be_visible(timeout=30_000)
    step.click()
    expect(page.get_by_text(re.compile(r"Step 1 \(epoch 1\): a batch of 16 training points"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"equals autograd's: the largest difference is"))).to_be_visible()
    view(page, "step", page.get_by_text(re.compile(r"Step 1 \(epoch 1\)")))
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible(timeout=30_000)
    progress = page.get_by_text(re.compile(r"step (\d+) of \d+ · train loss"))
    expect(progress).to_be_visible(timeout=30_000)
    time.sleep(2)
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
    time.sleep(1)
    paused = int(re.search(r"step (\d+) of", progress.inner_text()).group(1))
    assert paused > 1
    time.sleep(1.5)
    assert int(re.search(r"step (\d+) of", progress.inner_text()).group(1)) == paused  # paused: nothing trains
    page.get_by_role("link", name="Conv arithmetic").click()
    page.wait_for_url(re.compile(r"/conv"), timeout=30_000)
    page.get_by_role("link", name="Toy 2D").click()
    expect(page.get_by_text(re.compile(rf"step {paused} of \d+ · train loss"))).to_be_visible(timeout=30_000)


def test_twin_runs_with_a_bad_then_a_good_value(server, page):
    open_page(page, f"{server}/toy?tepochs=10&twin=lr")
    box = page.get_by_label("Twin's value", exact=True).and_(page.get_by_test_id("stTextInputField"))
    expect(box).to_be_visible(timeout=30_000)
    box.fill("fast")
    box.press("Enter")
    expect(page.get_by_text("learning rate value 'fast' is not a number")).to_be_visible(timeout=30_000)
    box.fill("0.3")
    box.press("Enter")
    page.get_by_role("button", name="Train both").click()
    expect(page.get_by_text(re.compile(r"Run \d+ completed · test accuracy"))).to_have_count(2, timeout=90_000)
    assert link(page)["twinvalue"] == "0.3"
    view(page, "twins", page.get_by_text(re.compile(r"Run \d+ completed")).first)


def test_a_queued_toy_run_stopped_says_it_never_started(server, page):
    """Train, then Train other settings: the second waits; leaving the page and coming back keeps it
    queued; Stop says it never started (no 'regions kept' for a run that drew none)."""
    slow = f"{server}/toy?tepochs=500&points=2000&tbatch=1"  # 700,000 steps: still training at the end
    open_page(page, slow)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_visible(timeout=30_000)
    open_page(page, f"{slow}&tlr=0.1")
    page.get_by_role("button", name="Train", exact=True).click()
    queued = page.get_by_test_id("stAlert").filter(has_text="Queued: it starts when the runs before it finish")
    expect(queued).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Runs").click()
    page.wait_for_url(re.compile(r"/runs"), timeout=30_000)
    page.get_by_role("link", name="Toy 2D").click()
    expect(queued).to_be_visible(timeout=30_000)  # still its run, still waiting
    page.get_by_role("button", name="Stop", exact=True).click()
    stopped = page.get_by_test_id("stAlert").filter(has_text="stopped while queued: it never started")
    expect(stopped).to_be_visible(timeout=30_000)
    assert "regions so far are kept" not in stopped.inner_text()
    open_page(page, slow)  # a new session on the first run's settings: it shows that run, training, with Stop
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("stAlert").filter(has_text="The regions so far are kept")).to_be_visible(timeout=30_000)
    no_traceback(page)
