"""Class mode's engine: the class file, the roster and its join links (only hashes stored), what each
person sees of the store (a student nothing of another's runs, whatever id they guess), the cache
served as one's own run, limits, the teacher's overview, and the migration of a laptop's store."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from playground import jobs
from playground.classroom import config as class_config
from playground.classroom import overview, roster
from playground.classroom.access import OwnJobs, Viewer
from playground.cli import main
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import who_stopped
from playground.executor import ThreadExecutor
from playground.lr_find import MAX_STEPS
from playground.runs import RunStore


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc8 relu", "lr": 0.1, "epochs": 1, "batch_size": 64, "train_limit": 200, **kw})


@pytest.fixture
def school(tiny_home):
    """A class of two students and a teacher, runs trained in this process."""
    class_config.write(class_config.ClassConfig(name="DL 101"))
    manager = jobs.JobManager(RunStore(tiny_home / "runs.sqlite"), ThreadExecutor())
    people = roster.add(manager.store, ["Ann", "Bob"]) + roster.add(manager.store, ["Tess"], "teacher")
    view = {p.name: OwnJobs(manager, Viewer(p.owner, p.name, p.teacher)) for p, _ in people}
    yield manager, view, {p.name: t for p, t in people}
    manager.stop_all()


def done(job):
    assert job.wait(60), job.status
    return job


def training(job):
    """The job, once its first step is done (a stop then ends it 'stopped' at a step, not off the queue)."""
    deadline = time.monotonic() + 60
    while job.step == 0:
        assert time.monotonic() < deadline and not job.done, job.status
        time.sleep(0.02)
    return job


def test_a_join_link_is_a_128_bit_token_of_which_only_the_hash_is_stored(school, tiny_home):
    manager, _, tokens = school
    assert len(tokens["Ann"]) >= 22  # token_urlsafe(16): 16 random bytes
    assert roster.by_token(manager.store, tokens["Ann"]).name == "Ann"
    assert roster.by_token(manager.store, tokens["Ann"][:-1] + ("A" if tokens["Ann"][-1] != "A" else "B")) is None
    assert roster.by_token(manager.store, "") is None and roster.by_token(manager.store, "x" * 1000) is None
    raw = (tiny_home / "runs.sqlite").read_bytes() + (tiny_home / "runs.sqlite-wal").read_bytes()
    assert tokens["Ann"].encode() not in raw and roster.token_hash(tokens["Ann"]).encode() in raw
    ((_, new),) = roster.add(manager.store, ["Ann"])  # a lost link: a new one, and the old one stops working
    assert roster.by_token(manager.store, tokens["Ann"]) is None and roster.by_token(manager.store, new).name == "Ann"


def test_a_student_sees_nothing_of_another_students_run_whatever_id_they_guess(school):
    _, view, _ = school
    ann, bob = view["Ann"], view["Bob"]
    run_id = done(ann.submit(cfg(seed=1))).run_id
    assert [r.id for r in ann.store.list_runs()] == [run_id]
    assert bob.store.get(run_id) is None and bob.store.list_runs() == []
    assert bob.store.steps(run_id) == [] and bob.store.epochs(run_id) == [] and bob.store.layer_stats(run_id) == []
    assert bob.store.first_loss(run_id) is None and bob.job(run_id) is None and bob.store.find_reusable(cfg(seed=1)) is None
    assert bob.store.delete(run_id) is False and ann.store.get(run_id) is not None  # a forged delete does nothing
    assert view["Tess"].store.get(run_id) is not None and run_id in [r.id for r in view["Tess"].store.list_runs()]


def test_a_cached_run_is_served_to_the_next_student_as_their_own(school):
    manager, view, _ = school
    ann, bob = view["Ann"], view["Bob"]
    first = done(ann.submit(cfg(seed=2)))
    again = bob.submit(cfg(seed=2))
    assert again.cached and again.run_id == first.run_id  # trained once
    assert [r.id for r in bob.store.list_runs()] == [first.run_id] and bob.store.epochs(first.run_id)
    assert ann.store.delete(first.run_id)  # Ann's delete takes it out of her list only
    assert ann.store.get(first.run_id) is None and bob.store.get(first.run_id) is not None
    assert bob.store.delete(first.run_id) and manager.store.get(first.run_id) is None  # nobody holds it: gone


def test_a_student_stopping_a_run_another_also_asked_for_leaves_it_training_for_them(school):
    _, view, _ = school
    ann, bob = view["Ann"], view["Bob"]
    long = cfg(seed=3, epochs=300, batch_size=1)
    job = ann.submit(long)
    assert bob.submit(long) is job  # joined, not trained twice
    bob.stop(job)
    assert not job.done and bob.store.get(job.run_id) is None and ann.store.get(job.run_id) is not None
    ann.stop(job)
    assert done(job).status == "stopped"


def test_the_teacher_may_stop_and_delete_any_run(school):
    _, view, _ = school
    job = view["Ann"].submit(cfg(seed=4, epochs=300, batch_size=1))
    view["Tess"].stop(job)
    assert done(job).status == "stopped"
    assert view["Tess"].store.delete(job.run_id) and view["Ann"].store.get(job.run_id) is None


def test_a_run_the_teacher_stops_says_the_teacher_stopped_it_and_a_students_own_stop_reads_as_hers(school):
    _, view, _ = school
    ann, tess = view["Ann"], view["Tess"]
    running = ann.submit(cfg(seed=21, epochs=300, batch_size=1))
    queued = ann.submit(cfg(seed=22, epochs=300, batch_size=1))
    tess.stop(queued)  # off the queue at once
    assert done(queued).message == "stopped while queued by the teacher (Tess): it never started"
    assert ann.store.get(queued.run_id).message == queued.message and who_stopped(queued.message) == "the teacher (Tess)"
    tess.stop(training(running))
    message = ann.store.get(done(running).run_id).message
    assert message.startswith("stopped by the teacher (Tess) at step ") and running.message == message
    own = ann.submit(cfg(seed=23, epochs=300, batch_size=1))
    ann.stop(training(own))
    assert done(own).message.startswith("stopped by the user at step ") and who_stopped(own.message) == ""  # her own Stop
    mine = tess.submit(cfg(seed=24, epochs=300, batch_size=1))
    tess.stop(training(mine))
    assert done(mine).message.startswith("stopped by the user at step ")  # the teacher's own run
    finder = ann.find_lr(cfg(seed=25, model="fc256 relu fc256 relu", batch_size=200), end_lr=1e-3, steps=MAX_STEPS)
    tess.stop(training(finder))
    assert done(finder).message.startswith("stopped by the teacher (Tess) at step ")  # her learning-rate finder too


def test_class_limits_refuse_with_what_to_change(school):
    _, view, _ = school
    class_config.write(class_config.ClassConfig(max_queued_runs=1, max_images_x_epochs=1000, max_params=5000))
    ann = view["Ann"]
    with pytest.raises(
        PlaygroundError, match=r"200 images x 6 epochs = 1,200 image-epochs; your class allows at most 1,000 per run: use at most 5 epochs"
    ):
        ann.submit(cfg(epochs=6))
    with pytest.raises(PlaygroundError, match=r"this model has 6,370 trainable parameters; your class allows at most 5,000 per run"):
        ann.submit(cfg(seed=8, epochs=2))
    class_config.write(class_config.ClassConfig(max_queued_runs=1, max_images_x_epochs=1000))
    running = ann.submit(cfg(seed=5, epochs=4, batch_size=1))
    with pytest.raises(PlaygroundError, match="allows 1 run queued or training at once per student and you have 1"):
        ann.submit(cfg(seed=6))
    assert view["Tess"].submit(cfg(seed=7, epochs=3)).run_id  # no limits for the teacher
    ann.stop(running)


def test_a_request_bigger_than_the_queue_limit_says_no_wait_helps_and_every_lab_step_fits_the_default():
    from playground.classroom import limits
    from playground.labs import deliver
    from playground.labs import format as lab_format

    with pytest.raises(PlaygroundError, match=r"this asks for 4 runs at once, more than the 3 .* raise max_queued_runs in class.toml"):
        limits.check_queue(0, 4, class_config.ClassConfig(max_queued_runs=3))
    labs, problems = lab_format.all_labs()
    largest = max(len(deliver.configs(lab, step, False)) for lab in labs for step in lab.steps)
    assert not problems and largest <= class_config.ClassConfig().max_queued_runs  # a shipped lab step runs under the defaults


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_params = -3", "max_params = -3 is not allowed: it must be a whole number, at least 1"),
        ("colour = 'red'", "'colour' is not a class setting"),
        ("teachers = ['not an address']", "must be a list of e-mail addresses"),
        ("name = [", "not a TOML file"),
    ],
)
def test_the_class_file_names_what_is_wrong(tiny_home, text, message):
    class_config.path().write_text(text + "\n")
    with pytest.raises(PlaygroundError, match=message):
        class_config.current()


def test_names_come_from_a_list_or_a_csv_file(tmp_path):
    assert roster.names_from(" Ann ,Bob  Smith,") == ["Ann", "Bob Smith"]
    csv = tmp_path / "class.csv"
    csv.write_text("email,name\na@x.org,Ann\nb@x.org,Bob\n")
    assert roster.names_from(str(csv)) == ["Ann", "Bob"]
    with pytest.raises(PlaygroundError, match="given twice"):
        roster.names_from("Ann,Ann")
    with pytest.raises(PlaygroundError, match="no names"):
        roster.names_from(" , ")


def test_the_overview_marks_outliers_within_each_value():
    rows = [{"value": 0.1, "test_accuracy": a} for a in (0.80, 0.81, 0.82, 0.83, 0.20)] + [{"value": 1.0, "test_accuracy": 0.1}]
    marked = overview.mark_outliers(rows)
    assert [r["outlier"] for r in marked] == ["", "", "", "", "low", ""]  # one run of lr 1: nothing to compare it with


def test_the_class_results_have_one_row_per_student_run(school):
    _, view, _ = school
    for name, lr in (("Ann", 0.1), ("Bob", 0.05)):
        done(view[name].submit(cfg(lr=lr)))
    done(view["Tess"].submit(cfg(lr=0.2)))  # the teacher's own runs are not the class's results
    rows = overview.results(view["Tess"].manager.store, "lr")
    assert sorted((r["student"], r["value"]) for r in rows) == [("Ann", 0.1), ("Bob", 0.05)]
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows)
    people = {r["name"]: r for r in overview.roster_rows(view["Tess"].manager.store)}
    assert people["Ann"]["runs"] == 1 and people["Tess"]["role"] == "teacher"


def test_the_class_results_say_what_each_accuracy_was_measured_on_and_compare_only_like_ones(school):
    _, view, _ = school
    for name, kw in (("Ann", {}), ("Bob", {"epochs": 2}), ("Ann", {"seed": 9, "test_limit": 50})):
        done(view[name].submit(cfg(**kw)))
    rows = overview.results(view["Tess"].manager.store, "lr")
    assert sorted((r["student"], r["epochs"], r["test_examples"]) for r in rows) == [("Ann", 1, 50), ("Ann", 1, 10_000), ("Bob", 2, 10_000)]
    assert {(r["model"], r["training_images"], r["status"]) for r in rows} == {(cfg().model, cfg().train_limit or "all", "completed")}
    groups = overview.comparable(rows)
    assert sorted(groups) == [
        "after 1 epoch, on all 10,000 test images",
        "after 1 epoch, on the first 50 test images",
        "after 2 epochs, on all 10,000 test images",
    ]  # one accuracy each: nothing compares with anything else
    by_epochs = overview.comparable(overview.results(view["Tess"].manager.store, "epochs"))
    assert {g: sorted(r["value"] for r in rs) for g, rs in by_epochs.items()} == {
        "on all 10,000 test images": [1, 2],  # the epochs are the setting compared: they go on the x axis
        "on the first 50 test images": [1],
    }


def test_outliers_are_marked_only_among_runs_measured_alike():
    rows = [{"value": 0.1, "test_accuracy": a, "measured_on": "after 5 epochs"} for a in (0.80, 0.81, 0.82, 0.83)]
    rows.append({"value": 0.1, "test_accuracy": 0.20, "measured_on": "after 1 epoch"})  # low, but no 5-epoch run to compare with
    assert [r["outlier"] for r in overview.mark_outliers(rows)] == [""] * 5


def test_a_laptop_store_from_before_owners_keeps_every_run(tiny_home):
    path = tiny_home / "runs.sqlite"
    store = RunStore(path)
    ids = [store.create(cfg(seed=s)) for s in range(3)]
    with sqlite3.connect(path) as db:  # as the previous version left it: no holders, no owner columns
        db.execute("DROP TABLE holders")
        db.execute("ALTER TABLE runs DROP COLUMN owner")
        db.execute("PRAGMA user_version=1")
    store = RunStore(path)
    assert [r.id for r in store.list_runs(owner="")] == ids[::-1] and all(store.holders(i) == [""] for i in ids)


def test_the_class_command_prints_links_lists_and_wipes(tiny_home, capsys, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # what main() would set for good in this test process
    assert main(["class", "add-students", "Ann"]) == 2
    assert "class mode is off" in capsys.readouterr().err
    assert main(["class", "init", "--name", "DL", "--teacher", "Tess", "--url", "http://srv:8501"]) == 0
    assert "?join=" in capsys.readouterr().out and class_config.current().name == "DL"
    assert main(["class", "add-students", "Ann,Bob", "--json", "--url", "http://srv:8501/"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert [x["name"] for x in links] == ["Ann", "Bob"] and all(x["link"].startswith("http://srv:8501/?join=") for x in links)
    assert main(["class", "list", "--json"]) == 0
    assert sorted(r["name"] for r in json.loads(capsys.readouterr().out)) == ["Ann", "Bob", "Tess"]
    assert main(["class", "add-students", ""]) == 2 and "no names" in capsys.readouterr().err
    assert main(["class", "wipe"]) == 0 and "would delete" in capsys.readouterr().out
    assert main(["class", "wipe", "--yes"]) == 0 and "3 people" in capsys.readouterr().out
    assert main(["class", "list"]) == 0 and "nobody on the roster" in capsys.readouterr().out


def test_someone_signed_in_with_st_login_is_added_once_and_teachers_come_from_the_class_file(tiny_home):
    store = RunStore(tiny_home / "runs.sqlite")
    first = roster.by_login(store, "Ann@School.edu", "Ann Lee", teacher=False)
    again = roster.by_login(store, "ann@school.edu", "Ann Lee", teacher=False)
    assert first.id == again.id and first.login == "ann@school.edu" and not first.teacher
    other = roster.by_login(store, "ann.lee@other.edu", "Ann Lee", teacher=True)
    assert other.teacher and other.name == "Ann Lee (ann.lee@other.edu)"
    roster.seen(store, other)
    assert roster.by_owner(store, other.owner).last_seen == pytest.approx(time.time(), abs=5)


def test_a_challenge_scores_entries_on_the_hidden_half_that_no_run_evaluates_on(school, monkeypatch):
    import dataclasses

    from playground import insight
    from playground.classroom import challenge

    manager, view, _ = school
    monkeypatch.setattr(challenge.Challenge, "public_size", property(lambda self: 50))  # the tiny test set has 100 images
    ch = challenge.create(manager.store, "Best", "fashion-mnist", max_epochs=2, max_params=10_000)
    with pytest.raises(PlaygroundError, match="3 epochs; the challenge's budget is 2"):
        challenge.enter(view["Ann"], ch, cfg(epochs=3))
    with pytest.raises(PlaygroundError, match="the challenge's budget is 10,000: use a smaller model"):
        challenge.enter(view["Ann"], ch, cfg(model="fc32 relu"))
    entries = [done(challenge.enter(view[n], ch, cfg(seed=s, epochs=2))) for n, s in (("Ann", 1), ("Bob", 2), ("Ann", 3))]
    assert view["Ann"].store.get(entries[0].run_id).config.test_limit == 50  # evaluated on the public half only
    assert challenge.score_pending(manager.store, ch) == 3
    run = manager.store.get(entries[1].run_id)
    full = insight.predict(dataclasses.replace(run, config=dataclasses.replace(run.config, test_limit=0)))
    hidden = float((full.pred[50:] == full.y[50:]).mean())
    bob = next(e for e in challenge.entries(manager.store, ch) if e["run"] == run.id)
    assert bob["hidden_accuracy"] == pytest.approx(hidden) and bob["public_accuracy"] == pytest.approx(
        float((full.pred[:50] == full.y[:50]).mean())
    )
    names = {p.owner: p.name for p in roster.everyone(manager.store) if not p.teacher}
    board = challenge.leaderboard(manager.store, ch, names)
    assert sorted(r["student"] for r in board) == ["Ann", "Bob"] and [r["rank"] for r in board] == [1, 2]  # Ann's best entry only
    assert board[0]["hidden_accuracy"] >= board[1]["hidden_accuracy"]
    challenge.update(manager.store, ch, board_shown=False, is_open=False)
    with pytest.raises(PlaygroundError, match="is closed"):
        challenge.enter(view["Bob"], challenge.current(manager.store), cfg(seed=4))


def test_a_refused_challenge_entry_names_every_rule_it_breaks_at_once(school):
    from playground.classroom import challenge

    manager, view, _ = school
    ch = challenge.create(manager.store, "Best", "fashion-mnist", max_epochs=1, max_params=10_000)
    with pytest.raises(PlaygroundError) as refused:
        challenge.enter(view["Ann"], ch, cfg(dataset="mnist", epochs=3, model="fc32 relu"))
    said = str(refused.value)
    assert said.startswith("this entry breaks 3 of the challenge's rules; change all of them:")
    assert "the challenge is on Fashion-MNIST: choose it in the sidebar first" in said
    assert "this run has 3 epochs; the challenge's budget is 1 epoch: use fewer epochs" in said
    assert "this model has 25,450 trainable parameters; the challenge's budget is 10,000: use a smaller model" in said
    with pytest.raises(PlaygroundError, match=r"^this run has 3 epochs; the challenge's budget is 1 epoch: use fewer epochs$"):
        challenge.enter(view["Ann"], ch, cfg(epochs=3))  # one rule broken: the one line, as before
    assert manager.store.list_runs() == []  # nothing was queued
