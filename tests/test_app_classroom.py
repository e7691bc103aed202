"""Class mode in the app (AppTest): the sign-in page until a join link is opened, the link's token
gone from the address bar, a bad link named, each student's Runs page their own, and the teacher's
Class page with the roster and the class's results."""

from __future__ import annotations

from playground import jobs
from playground.classroom import config as class_config
from playground.classroom import roster
from playground.classroom.access import OwnJobs, Viewer
from playground.config import TrainConfig
from tests.apptest import app, wait_for_job, wait_until


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
    assert "1 of 1 run." in _text(mine)
    theirs = app("app_pages/runs.py", query={"join": tokens["Bob"]})
    assert "No runs yet" in _text(theirs)
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    assert not teacher.exception
    roster_table = teacher.dataframe[0].value
    assert sorted(roster_table.name) == ["Ann", "Bob", "Tess"] and int(roster_table.set_index("name").runs["Ann"]) == 1
    results = teacher.dataframe[1].value
    assert list(results.student) == ["Ann"] and list(results.run) == [run_id]
    page = app("app_pages/runs.py", query={"join": tokens["Tess"]})
    runs = page.dataframe[0].value
    assert list(runs.student) == ["Ann"] and list(runs.run) == [run_id]  # the teacher sees whose run it is
    assert page.multiselect(key="history_pick").options == [f"#{run_id} Ann · fc8 relu · lr 0.1 · completed"]  # and picks by it
    assert mine.multiselect(key="history_pick").options == [f"#{run_id} fc8 relu · lr 0.1 · completed"]


def test_the_teacher_sets_a_challenge_and_a_student_enters_from_the_train_page(tiny_home):
    tokens = _class(tiny_home)
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    teacher.text_input(key="challenge_title").input("Smallest net wins").run()
    teacher.number_input(key="challenge_epochs").set_value(1).run()
    teacher.number_input(key="challenge_params").set_value(1000).run()
    teacher.button(key="challenge_start").click().run()
    assert "Smallest net wins" in _text(teacher) and not teacher.exception
    student = app(query={"join": tokens["Ann"], "model": "fc8 relu", "epochs": "2"})
    student.button(key="challenge_enter").click().run()
    refusal = " ".join(e.value for e in student.error)  # every rule broken at once, as a sentence
    assert refusal.startswith("This entry breaks 2 of the challenge's rules; change all of them:")
    assert "- this run has 2 epochs; the challenge's budget is 1 epoch: use fewer epochs" in refusal
    assert "- this model has 6,370 trainable parameters; the challenge's budget is 1,000: use a smaller model" in refusal
    assert "Budget: 1 epoch, 1,000 parameters." in student.button(key="challenge_enter").help
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
    assert "Queued: 1 run of the class goes before it" in _text(bob)  # not "Starting", while Ann's run trains
    ann_jobs.stop(long)
    bob.button(key="sign_out").click().run()
    assert "You are signed out" in " ".join(str(s.value) for s in bob.success) and "Signed in as" not in _text(bob)
    assert not [b for b in bob.button if b.label == "Train"]


def test_a_run_the_teacher_stops_from_her_train_page_tells_the_student_who_stopped_it(tiny_home):
    tokens = _class(tiny_home)
    manager = jobs.manager()
    ann = roster.by_token(manager.store, tokens["Ann"])
    job = OwnJobs(manager, Viewer(ann.owner, ann.name, False)).submit(
        TrainConfig(model="fc8 relu", epochs=50, batch_size=1, train_limit=200)
    )
    wait_until(lambda: manager.store.first_loss(job.run_id) is not None, 120, f"the first step of run {job.run_id}")
    teacher = app(query={"join": tokens["Tess"]})
    teacher.session_state.run_id = job.run_id  # opened from her Runs page
    teacher.run()
    teacher.button(key=f"stop-{job.run_id}").click().run()
    wait_for_job(job, 30, "the teacher pressed Stop")
    student = app(query={"join": tokens["Ann"]})
    student.session_state.run_id = job.run_id
    student.run()
    said = " ".join(w.value for w in student.warning)
    assert "Stopped by the teacher (Tess) at step " in said and "by the user" not in said
    assert "python -m playground" not in _text(student)  # its Export as code: the server's command line is not hers
    assert "python -m playground export-code" in _text(teacher.run())  # the teacher's is
    own = OwnJobs(manager, Viewer(ann.owner, ann.name, False))
    job = own.submit(TrainConfig(model="fc8 relu", epochs=50, batch_size=1, train_limit=200, seed=2))
    wait_until(lambda: manager.store.first_loss(job.run_id) is not None, 120, f"the first step of run {job.run_id}")
    own.stop(job)  # her own Stop: 'by you' to her, 'by its student' to the teacher
    wait_for_job(job, 30, "the student pressed Stop")
    student.session_state.run_id = teacher.session_state.run_id = job.run_id
    assert any(w.value.startswith("Stopped by you at step ") for w in student.run().warning)
    assert any(w.value.startswith("Stopped by its student at step ") for w in teacher.run().warning)


def test_an_entry_of_the_forms_settings_is_no_settings_differ_notice_and_a_change_names_only_the_change(tiny_home):
    tokens = _class(tiny_home)
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    teacher.number_input(key="challenge_epochs").set_value(2).run()
    teacher.button(key="challenge_start").click().run()
    student = app(query={"join": tokens["Ann"], "model": "fc8 relu", "epochs": "1", "train": "200"})
    student.button(key="challenge_enter").click().run()
    entry = jobs.manager().store.get(student.session_state.run_id)
    assert entry.config.test_limit == 5000  # evaluated on the public half, which the form does not show
    assert "This run used" not in _text(student)  # the student changed nothing
    student.number_input(key="epochs").set_value(2).run()
    notice = next(i.value for i in student.info if "This run used" in i.value)
    assert "epochs 1" in notice and "test" not in notice  # the change, and only it
    wait_for_job(jobs.manager().job(entry.id), 60, "the entry")


def test_the_class_results_compare_only_runs_measured_alike(tiny_home):
    tokens = _class(tiny_home)
    manager = jobs.manager()
    people = {n: roster.by_token(manager.store, tokens[n]) for n in ("Ann", "Bob")}
    view = {n: OwnJobs(manager, Viewer(p.owner, p.name, False)) for n, p in people.items()}
    base = {"model": "fc8 relu", "batch_size": 64, "train_limit": 200}
    runs = [
        wait_for_job(view[name].submit(TrainConfig(**base, **kw))).run_id
        for name, kw in (("Ann", {"epochs": 1}), ("Bob", {"epochs": 1, "lr": 0.05}), ("Bob", {"epochs": 2}))
    ]
    teacher = app("app_pages/classroom.py", query={"join": tokens["Tess"]})
    measured = teacher.selectbox(key="class_measured")
    assert measured.value == "after 1 epoch, on all 10,000 test images"  # the largest group first
    assert list(teacher.dataframe[1].value.run) == runs[:2]  # not the 2-epoch run beside them
    said = _text(teacher)
    assert "2 runs of 2 students, each measured after 1 epoch, on all 10,000 test images." in said
    assert "1 other run measured otherwise: choose them above." in said
    measured.set_value("after 2 epochs, on all 10,000 test images").run()
    assert list(teacher.dataframe[1].value.run) == runs[2:] and "1 run of 1 student, each measured after 2 epochs" in _text(teacher)
    assert not teacher.exception


def test_the_labs_page_shows_no_server_paths_or_commands_to_a_student(tiny_home):
    tokens = _class(tiny_home)
    student = app("app_pages/labs.py", query={"join": tokens["Ann"]})
    said = _text(student)
    assert "Your place and your answers are kept." in said and not student.exception
    assert "python -m playground" not in said and "labs/" not in said and str(tiny_home) not in said
    teacher = app("app_pages/labs.py", query={"join": tokens["Tess"]})
    assert str(tiny_home / "labs") in _text(teacher) and "python -m playground lab run NAME --quick" in _text(teacher)
    assert "python -m playground lab export" in _text(teacher)  # how to export from the server's terminal
