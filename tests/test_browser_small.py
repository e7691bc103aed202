"""Real-browser checks of small things at 1400 px: the Predict-first boxes tab in layer order, the
Model page's tables fit, the runs table keeps the accuracy in view, gallery captions are two lines.
Screenshots go to tests/artifacts/small-*.png."""

from __future__ import annotations

import re

import pytest

from tests.browser import ARTIFACTS, browser, expect, no_runs_left, open_page, page, server, train_tiny_run  # noqa: F401 (pytest fixtures, found by name)

FOCUSED_LABEL = "() => document.activeElement && document.activeElement.getAttribute('aria-label')"

# For each dataframe on the page: its glide scroller's scrollWidth and clientWidth.
TABLE_WIDTHS = """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].filter(d => d.offsetParent).map(d => {
    const s = d.querySelector('.dvn-scroller'); return [s.scrollWidth, s.clientWidth]; })"""


def view(page, locator, name: str) -> None:
    """Scroll the element into view and take the viewport (the app scrolls inside, not the page)."""
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"small-{name}.png"))


def quiz(page, server) -> None:
    open_page(page, f"{server}/model?model=cnn")
    page.get_by_text("Predict first: hide the counts").click()
    expect(page.get_by_role("button", name="Check")).to_be_visible(timeout=30_000)


def test_predict_first_boxes_tab_in_layer_order(server, page):
    quiz(page, server)
    page.get_by_label(re.compile(r"^#0 Conv2d")).focus()
    order = [page.evaluate(FOCUSED_LABEL)]
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate(FOCUSED_LABEL))
    view(page, page.get_by_role("button", name="Check"), "predict-first")
    assert [(label or "").split(" ")[0] for label in order] == ["#0", "#1", "#4", "#5", "#9", "#12", "#14", "Total"], order


def test_model_page_tables_fit_1400_px(server, page):
    open_page(page, f"{server}/model?model=cnn")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible(timeout=30_000)
    view(page, table, "model-layers")
    widths = page.evaluate(TABLE_WIDTHS)
    assert widths and all(scroll <= client for scroll, client in widths), widths  # nothing (running stats) hidden off the right
    quiz(page, server)
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("of 8 right")).to_be_visible(timeout=30_000)
    view(page, page.get_by_test_id("stDataFrame").last, "model-check")
    widths = page.evaluate(TABLE_WIDTHS)
    assert len(widths) == 2 and all(scroll <= client for scroll, client in widths), widths  # the worked total too
    expect(page.get_by_text(re.compile(r"^Total: 320 \+ 64 \+ .* = 1,475,338\.$"))).to_be_visible()


@pytest.fixture(scope="module")
def trained(server, browser):
    """One tiny finished run in the server's store (the only one: no other test here trains), trained
    from the Train page. The tests that need it ask for it; none relies on a run another test made."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        train_tiny_run(context.new_page(), server, seed=32)
    finally:
        context.close()
    return server


def test_runs_table_keeps_the_accuracy_in_view(trained, page):
    open_page(page, f"{trained}/runs")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible(timeout=30_000)
    view(page, table, "runs")
    headers = page.evaluate("() => [...document.querySelectorAll('[data-testid=stDataFrame] th')].map(t => t.textContent)")
    assert headers[:4] == ["run", "status", "test accuracy", "model"], headers  # first, whatever scrolls off on the right
    ((_scroll, client),) = page.evaluate(TABLE_WIDTHS)
    assert client >= 900  # run, status and accuracy take under 300 px of it


def test_gallery_captions_stay_on_two_lines(trained, page):
    open_page(page, f"{trained}/results")
    page.get_by_role("tab", name="Gallery").click()
    captions = page.get_by_role("tabpanel").get_by_test_id("stImageCaption")
    expect(captions.first).to_be_visible(timeout=30_000)
    view(page, captions.first, "gallery")
    lines = page.evaluate("""() => [...document.querySelectorAll('[role=tabpanel] [data-testid=stImageCaption] p')].filter(p => p.offsetParent)
        .map(p => [p.innerText, p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)])""")
    assert len(lines) >= 12 and all(n < 2.1 for _, n in lines), [x for x in lines if x[1] >= 2.1]


def test_backprop_page_steps_forward_then_backward_and_tables_fit(server, page):
    """Next reveals one quantity at a time, each checked against autograd; All ends with the SGD
    step; the value tables fit their column; leaving the page and coming back keeps the inputs."""
    open_page(page, f"{server}/backprop?bpx=0.5,-1.2;1,0&bpy=1,0")
    checked = page.get_by_test_id("stAlert").filter(has_text="Equals autograd's")
    expect(checked).to_have_count(1, timeout=30_000)
    for n in range(2, 7):
        page.get_by_role("button", name="Next").click()
        expect(checked).to_have_count(n, timeout=30_000)
    expect(page.get_by_role("heading", name="Backward")).to_be_visible()
    view(page, checked.last, "backprop-backward")
    page.get_by_role("button", name="All").click()
    expect(checked).to_have_count(11, timeout=30_000)
    expect(page.get_by_role("heading", name="One SGD step")).to_be_visible()
    widths = page.evaluate(TABLE_WIDTHS)
    assert all(scroll <= client + 1 for scroll, client in widths), [w for w in widths if w[0] > w[1] + 1]
    page.get_by_role("link", name="Toy 2D").click()
    page.wait_for_url(re.compile(r"/toy"), timeout=30_000)
    page.get_by_role("link", name="Backprop by hand").click()
    expect(page.get_by_label("x (samples apart by ;)").and_(page.get_by_role("textbox"))).to_have_value("0.5,-1.2;1,0", timeout=30_000)
    expect(checked).to_have_count(11, timeout=30_000)  # the step it was on, too
    assert page.get_by_test_id("stException").count() == 0
