"""Class mode in a real browser: two students and a teacher in three browser contexts. Each student
signs in with their join link (the token leaves the address bar; a reload stays signed in), trains,
and sees only their own runs; a student's forged run id and the teacher's page give them nothing;
the teacher's Class page shows both students and their results; Sign out holds across a reload. Screenshots: tests/artifacts/class-*.png."""

from __future__ import annotations

import re

from tests.browser import (  # noqa: F401 (pytest fixtures, found by name)
    SERVER_HOMES,
    TINY_RUN,
    browser,
    expect,
    link,
    nav,
    no_runs_left,
    no_traceback,
    open_page,
    server,
    shot,
    store_of,
)


def _class(server: str) -> dict[str, str]:
    """Class mode on the running server (read on each page run): its class file and roster."""
    from playground.classroom import roster

    (SERVER_HOMES[server] / "class.toml").write_text('name = "DL 101"\n')
    store = store_of(server)
    made = roster.add(store, ["Ann", "Bob"]) + roster.add(store, ["Tess"], "teacher")
    return {p.name: t for p, t in made}


def _train(page, server: str, token: str, seed: int) -> None:
    open_page(page, f"{server}/?join={token}&{TINY_RUN}&seed={seed}")
    assert "join" not in link(page)  # never in a link the student copies
    expect(page.get_by_text(re.compile(r"Signed in as .* \(student\)"))).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed in [\d.]+ s on ")).first).to_be_visible(timeout=90_000)


def test_two_students_and_a_teacher_each_see_what_is_theirs(server, browser):
    tokens = _class(server)
    contexts = {name: browser.new_context(viewport={"width": 1400, "height": 1000}) for name in ("Ann", "Bob", "Tess", "nobody")}
    pages = {name: c.new_page() for name, c in contexts.items()}
    try:
        open_page(pages["nobody"], server)
        expect(pages["nobody"].get_by_text("Open the personal join link your teacher gave you")).to_be_visible()
        assert pages["nobody"].get_by_role("button", name="Train", exact=True).count() == 0
        _train(pages["Ann"], server, tokens["Ann"], seed=1)
        _train(pages["Bob"], server, tokens["Bob"], seed=2)
        runs = {r.config.seed: r.id for r in store_of(server).list_runs()}
        for name, mine, theirs in (("Ann", runs[1], runs[2]), ("Bob", runs[2], runs[1])):
            page = pages[name]
            page.reload()  # the cookie keeps them signed in
            page.wait_for_selector("h1", timeout=60_000)
            expect(page.get_by_text(f"Signed in as {name} (student)")).to_be_visible(timeout=30_000)
            nav(page, "Runs")
            expect(page.get_by_text("1 of 1 run.")).to_be_visible(timeout=30_000)
            page.get_by_label("Runs to compare, re-open or delete").click()
            expect(page.get_by_role("option", name=re.compile(f"^#{mine} "))).to_be_visible()
            assert page.get_by_role("option", name=re.compile(f"^#{theirs} ")).count() == 0
            page.keyboard.press("Escape")
        bob = pages["Bob"]
        open_page(bob, f"{server}/runs?run={runs[1]}")  # a forged id in a link: named as no setting, nothing shown
        expect(bob.get_by_text(f"run={runs[1]}").first).to_be_visible(timeout=30_000)
        expect(bob.get_by_text("1 of 1 run.")).to_be_visible()
        open_page(bob, f"{server}/class")  # the teacher's page is not a student's
        assert bob.get_by_text("Roster").count() == 0 and bob.get_by_test_id("stSidebarNav").get_by_role("link", name="Class").count() == 0
        shot(bob, "class-student")
        teacher = pages["Tess"]
        open_page(teacher, f"{server}/?join={tokens['Tess']}")
        nav(teacher, "Class")
        expect(teacher.get_by_text("2 students:")).to_be_visible(timeout=30_000)
        expect(teacher.get_by_text(re.compile(r"2 runs of 2 students"))).to_be_visible(timeout=30_000)
        no_traceback(teacher)
        shot(teacher, "class-teacher")
        nav(teacher, "Runs")
        expect(teacher.get_by_text("2 of 2 runs.")).to_be_visible(timeout=30_000)
        ann = pages["Ann"]  # Sign out on a shared lab computer: the next student must not work as Ann
        ann.get_by_role("button", name="Sign out").click()
        expect(ann.get_by_text("You are signed out")).to_be_visible(timeout=30_000)
        assert not any(c["name"] == "playground_join" for c in contexts["Ann"].cookies())
        ann.reload()
        expect(ann.get_by_text("Open the personal join link your teacher gave you")).to_be_visible(timeout=60_000)
        assert ann.get_by_text("Signed in as Ann").count() == 0
    finally:
        for c in contexts.values():
            c.close()
