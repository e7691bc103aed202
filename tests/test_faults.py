"""Faults: a home that cannot be written, a full disk, a process killed mid-run, several
sessions training at once; and a scan of the source for unsafe calls."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground import jobs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.runs import RunStore

ROOT = Path(__file__).parent.parent


def cli(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "playground", *args], capture_output=True, text=True, check=False, env=env, timeout=timeout
    )


def test_an_unwritable_home_is_one_clear_line(subprocess_env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = dict(subprocess_env, PLAYGROUND_HOME=str(blocker / "home"))  # under a file: nothing can be created
    r = cli(env, "train", "--model", "fc8", "--epochs", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "cannot open the run store" in r.stderr or "cannot write the Fashion-MNIST files" in r.stderr
    r = cli(env, "prepare", "--dataset", "mnist")
    assert r.returncode == 2 and "set PLAYGROUND_HOME to a writable folder" in r.stderr


def test_a_disk_that_fills_up_during_step_writes_fails_the_run(tiny_home, monkeypatch):
    """A real SQLite 'database or disk is full' (the store may not grow past its size when the run
    started) while the loop writes its steps: the run ends 'failed' with the store's message, in the
    store and for whoever waits on it, with its curve up to the failure; not 'running' for ever."""
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # the patch below lives in this process
    connect, start = RunStore._connect, RunStore.start
    limit = {}

    def capped(self):
        db = connect(self)
        if "pages" in limit:
            db.execute(f"PRAGMA max_page_count = {limit['pages']}")
        return db

    def started(self, run_id, event):
        start(self, run_id, event)
        with closing(connect(self)) as db:
            limit["pages"] = db.execute("PRAGMA page_count").fetchone()[0]
        self._db().execute(f"PRAGMA max_page_count = {limit['pages']}")  # the connection this thread keeps, opened before

    monkeypatch.setattr(RunStore, "_connect", capped)
    monkeypatch.setattr(RunStore, "start", started)
    job = jobs.manager().submit(TrainConfig(model="fc8", epochs=2, batch_size=1))  # 800 steps: more rows than the free pages hold
    assert job.wait(120), "the run did not end within 120 s"
    assert job.status == "failed" and "database or disk is full" in job.message, job.message
    run = jobs.manager().store.get(job.run_id)
    assert run.status == "failed" and "cannot be written (database or disk is full)" in run.message
    steps = jobs.manager().store.steps(job.run_id)
    assert 0 < len(steps) < 800, len(steps)  # the curve up to the failure, not the whole run


def test_sqlite_errors_become_playground_errors(home, monkeypatch):
    store = jobs.manager().store

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_db", locked)  # the connection this thread would use
    with pytest.raises(PlaygroundError, match="cannot be written \\(database or disk is full\\)"):
        store.create(TrainConfig())


def test_a_killed_process_leaves_its_run_interrupted_and_others_intact(subprocess_env, tiny_home):
    done = cli(subprocess_env, "train", "--model", "fc8", "--epochs", "1", "--batch-size", "16", "--quiet")
    assert done.returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground", "train", "--model", "fc64 relu", "--epochs", "50", "--batch-size", "1", "--quiet"],
        env=subprocess_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = RunStore(tiny_home / "runs.sqlite")
    deadline = time.time() + 60
    while not any(r.status == "running" for r in store.list_runs()):
        assert time.time() < deadline, "the run did not start"
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store.mark_orphans_interrupted()  # what any new process does on start
    runs = {r.config.model: r for r in store.list_runs()}
    assert runs["fc64 relu"].status == "interrupted" and store.steps(runs["fc64 relu"].id)  # its curve so far is kept
    assert runs["fc8"].status == "completed" and len(store.epochs(runs["fc8"].id)) == 1
    with sqlite3.connect(tiny_home / "runs.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_several_sessions_train_at_once(tiny_home):
    sessions = []
    for seed in (1, 2, 3):
        at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
        at.text_input(key="spec_text").input("fc16 relu").run()
        at.number_input(key="epochs").set_value(2).run()
        at.select_slider(key="batch_size").set_value(16).run()
        at.number_input(key="seed").set_value(seed).run()
        sessions.append(at)
    for at in sessions:  # all three press Train before any run has finished
        at.button[0].click().run()
    ids = [at.session_state.run_id for at in sessions]
    assert len(set(ids)) == 3
    for run_id in ids:
        assert jobs.manager().job(run_id).wait(120)
    store = jobs.manager().store
    assert [store.get(i).config.seed for i in ids] == [1, 2, 3]
    assert all(store.get(i).status == "completed" for i in ids)
    for at, run_id in zip(sessions, ids):
        at.run()
        assert not at.exception and at.session_state.run_id == run_id and any("Completed" in s.value for s in at.success)


def test_the_source_has_no_unsafe_calls():
    """No eval/exec of anything; torch.load only with weights_only=True; pickle only behind an md5 check."""
    for path in list((ROOT / "playground").rglob("*.py")) + list((ROOT / "app_pages").glob("*.py")) + [ROOT / "streamlit_app.py"]:
        text = path.read_text()
        assert not re.search(r"(?<![\w./])(eval|exec)\(", text), path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)
        if "pickle.load" in text:
            assert path.name == "sources.py" and "md5(path) != expected" in text
