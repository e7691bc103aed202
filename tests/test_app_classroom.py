"""Class mode in the app (AppTest): the sign-in page until a join link is opened, the link's token
gone from the address bar, a bad link named, each student's Runs page their own, and the teacher's
Class page with the roster and the class's results."""

from __future__ import annotations

from playground import jobs
from playground.classroom import config as class_config
from playground.classroom import roster
from playground.classroom.access import OwnJobs, Viewer
from playground.config import TrainConfig
from tests.apptest import app, wait_for_job


def _class(tiny_home) -> dict[str, str]:
    class_config.write(class_config.ClassConfig(name="DL 101"))
    store = jobs.manager().store
    made = roster.add(store, ["Ann", "Bob"]) + roster.add(store, ["Tess"], "teacher")
    return {p.name: t for p, t in made}


def _text(at) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.info, *at.error, *at.warning, *at.caption, *at.title])


def test_without_a_link_the_class_server_shows_only_the_sign_in_page(tiny_home):
    _class(tiny_home)
    at = app()
    assert "DL 101" in _text(at) and "Open the personal join link your teacher gave you" in _text(at)
    assert not [b for b in at.button if b.key == "train"]


def test_a_join_link_signs_in_and_leaves_the_address_bar(tiny_home):
    tokens = _class(tiny_home)
    at = app(query={"join": tokens["Ann"], "lr": "0.05"})
    assert "join" not in at.query_params and at.query_params["lr"] == "0.05"
    assert "Signed in as **Ann** (student)" in _text(at)
    assert "runs stored in" not in _text(at)  # the server's folders are the teacher's business
    assert not at.exception


def test_a_bad_link_is_named_and_signs_nobody_in(tiny_home):
    _class(tiny_home)
    at = app(query={"join": "not-a-real-token-at-all"})
    assert "That join link is not (or no longer) valid" in _text(at) and "join" not in at.query_params


def test_each_students_runs_page_lists_only_their_own_runs(tiny_home):
    tokens = _class(tiny_home)
    manager = jobs.manager()
    ann = roster.by_token(manager.store, tokens["Ann"])
    config = TrainConfig(model="fc8 relu", epochs=1, batch_size=64, train_limit=200)
    run_id = wait_for_job(OwnJobs(manager, Viewer(ann.owner, ann.name, False)).submit(config)).run_id
    mine = app("app_pages/runs.py", query={"join": tokens["Ann"]})
    assert "1 of 1 runs." in _text(mine)
    theirs = app("app_pages/runs.py", query={"join": tokens["Bob"]})
    assert "No runs yet" in _text(theirs)
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    assert not teacher.exception
    roster_table = teacher.dataframe[0].value
    assert sorted(roster_table.name) == ["Ann", "Bob", "Tess"] and int(roster_table.set_index("name").runs["Ann"]) == 1
    results = teacher.dataframe[1].value
    assert list(results.student) == ["Ann"] and list(results.run) == [run_id]
    runs = app("app_pages/runs.py", query={"join": tokens["Tess"]}).dataframe[0].value
    assert list(runs.student) == ["Ann"] and list(runs.run) == [run_id]  # the teacher sees whose run it is


def test_the_teacher_sets_a_challenge_and_a_student_enters_from_the_train_page(tiny_home):
    tokens = _class(tiny_home)
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    teacher.text_input(key="challenge_title").input("Smallest net wins").run()
    teacher.number_input(key="challenge_epochs").set_value(1).run()
    teacher.button(key="challenge_start").click().run()
    assert "Smallest net wins" in _text(teacher) and not teacher.exception
    student = app(query={"join": tokens["Ann"], "model": "fc8 relu", "epochs": "2"})
    student.button(key="challenge_enter").click().run()
    assert "2 epochs; the challenge's budget is 1" in _text(student)
    board = app("app_pages/challenge.py", query={"join": tokens["Ann"]})
    assert "Your teacher shows the leaderboard later." in _text(board) and "Smallest net wins" in _text(board)


def test_a_bad_link_opened_while_signed_in_keeps_the_sign_in(tiny_home):
    tokens = _class(tiny_home)
    at = app(query={"join": tokens["Ann"]})
    at.query_params["join"] = "an-old-link-that-no-longer-works"
    at.run()
    assert "you are still signed in as Ann" in _text(at) and "Signed in as **Ann** (student)" in _text(at)
    assert "join" not in at.query_params and not at.exception


def test_a_run_queued_behind_another_students_run_says_so_and_sign_out_leaves_the_sign_in_page(tiny_home):
    tokens = _class(tiny_home)
    manager = jobs.manager()
    ann = roster.by_token(manager.store, tokens["Ann"])
    ann_jobs = OwnJobs(manager, Viewer(ann.owner, ann.name, False))
    long = ann_jobs.submit(TrainConfig(model="fc8 relu", epochs=50, batch_size=1, train_limit=200))
    bob = app(query={"join": tokens["Bob"], "model": "fc8 relu", "epochs": "1", "train": "200"})
    next(b for b in bob.button if b.label == "Train").click().run()
    assert "Queued: 1 run(s) of the class go before it" in _text(bob)  # not "Starting", while Ann's run trains
    ann_jobs.stop(long)
    bob.button(key="sign_out").click().run()
    assert "You are signed out" in " ".join(str(s.value) for s in bob.success) and "Signed in as" not in _text(bob)
    assert not [b for b in bob.button if b.label == "Train"]
