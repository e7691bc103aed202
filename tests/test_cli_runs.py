"""python -m playground runs: the stored runs, newest first, filtered, as a table or JSON."""

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from playground.cli import main
from playground.cli.runs import STATUSES
from playground.config import TrainConfig
from playground.home import runs_db_path
from playground.runs import ACTIVE, REUSABLE, RunStore

# id: (dataset, model, status, final, created as local time); ids are given in this order
RUNS = {
    1: ("digits", "fc32 relu", "completed", {"test_accuracy": 0.9123, "epoch": 1}, dt.datetime(2024, 3, 5, 14, 7)),
    2: ("circles", "fc8 tanh", "failed", {}, dt.datetime(2024, 3, 5, 15, 30)),
    3: ("digits", "", "completed", {"test_accuracy": 0.85, "epoch": 1}, dt.datetime(2024, 3, 6, 9, 0)),
    4: ("moons", "fc8 tanh", "queued", {}, dt.datetime(2024, 3, 6, 10, 15)),  # created by this (live) process: stays queued
    5: ("digits", "fc32 relu", "stopped", {"test_accuracy": 0.5, "epoch": 1}, dt.datetime(2024, 3, 7, 8, 0)),
}


@pytest.fixture(autouse=True)
def executor_env(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # main() sets a default: keep it from leaking into other tests


@pytest.fixture
def stored(home):
    store = RunStore(runs_db_path())
    for want, (dataset, model, status, final, created) in RUNS.items():
        run_id = store.create(TrainConfig(dataset=dataset, model=model, epochs=1))
        assert run_id == want
        if status != "queued":
            store.finish(run_id, status, "", final)
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET created=? WHERE id=?", (created.timestamp(), run_id))
    return store


def runs(capsys, *args):
    code = main(["runs", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def ids_of_table(text: str) -> list[int]:
    return [int(line.split()[0]) for line in text.splitlines()[1:]]


def test_table_newest_first_with_blank_accuracy(stored, capsys):
    code, out, err = runs(capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["id", "dataset", "model", "status", "test", "accuracy", "created"]
    assert ids_of_table(out) == [5, 4, 3, 2, 1]
    row = {int(line.split()[0]): line for line in lines[1:]}
    assert row[1].split() == ["1", "digits", "fc32", "relu", "completed", "91.23%", "2024-03-05", "14:07"]
    assert row[3].split() == ["3", "digits", "(linear)", "completed", "85.00%", "2024-03-06", "09:00"]
    assert row[2].split() == ["2", "circles", "fc8", "tanh", "failed", "2024-03-05", "15:30"]  # no epoch ended: blank
    assert row[4].split() == ["4", "moons", "fc8", "tanh", "queued", "2024-03-06", "10:15"]
    # plain aligned text: the status column starts at the same place on every line
    at = lines[0].index("status")
    assert [line[at:].split()[0] for line in lines[1:]] == ["stopped", "queued", "completed", "failed", "completed"]
    assert all(line == line.rstrip() for line in lines)


def test_json_lists_every_run(stored, capsys):
    code, out, _ = runs(capsys, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [5, 4, 3, 2, 1]
    assert all(set(r) == {"id", "dataset", "model", "status", "test_accuracy", "created"} for r in rows)
    by_id = {r["id"]: r for r in rows}
    for run_id, (dataset, model, status, final, created) in RUNS.items():
        r = by_id[run_id]
        assert (r["dataset"], r["model"], r["status"]) == (dataset, model, status)
        assert r["test_accuracy"] == final.get("test_accuracy")
        when = dt.datetime.fromisoformat(r["created"])  # ISO 8601, with the UTC offset
        assert when.utcoffset() is not None and when.timestamp() == created.timestamp()
    assert by_id[2]["test_accuracy"] is None


@pytest.mark.parametrize(
    "args, ids",
    [
        (["--dataset", "digits"], [5, 3, 1]),
        (["--status", "completed"], [3, 1]),
        (["--dataset", "digits", "--status", "stopped"], [5]),
        (["--status", "queued"], [4]),
        (["--limit", "2"], [5, 4]),
        (["--dataset", "digits", "--limit", "2"], [5, 3]),  # the limit applies after the filters
        (["--limit", "99"], [5, 4, 3, 2, 1]),
    ],
)
def test_filters_and_limit(stored, capsys, args, ids):
    code, out, _ = runs(capsys, *args)
    assert code == 0 and ids_of_table(out) == ids
    code, out, _ = runs(capsys, *args, "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ids


def test_no_run_matches(stored, capsys):
    code, out, _ = runs(capsys, "--dataset", "xor", "--status", "failed")
    assert code == 0 and out.startswith("no stored run matches --dataset xor --status failed") and "5 runs stored" in out
    code, out, _ = runs(capsys, "--dataset", "xor", "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("args", [["--status", "done"], ["--limit", "0"], ["--limit", "two"]])
def test_bad_arguments_exit_2_in_one_line(stored, capsys, args):
    with pytest.raises(SystemExit) as e:
        main(["runs", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1
    if args[0] == "--status":
        assert "invalid choice: 'done'" in err and all(f"'{s}'" in err for s in STATUSES)


def test_statuses_are_those_of_the_store():
    assert set(ACTIVE) | set(REUSABLE) <= set(STATUSES)
    assert {"stopped", "failed", "interrupted"} <= set(STATUSES)


def test_empty_store_is_a_friendly_line_and_creates_nothing(home, capsys):
    path = runs_db_path()
    expected = f"no runs stored in {path} yet; train one with python -m playground train\n"
    assert runs(capsys) == (0, expected, "")
    assert runs(capsys, "--status", "failed") == (0, expected, "")
    assert runs(capsys, "--json") == (0, "[]\n", expected)  # stdout stays JSON
    assert not path.exists() and not home.exists()
    RunStore(path)  # a store with no run in it yet
    assert runs(capsys) == (0, expected, "")


def test_a_run_whose_process_died_is_listed_as_interrupted(stored, capsys):
    with sqlite3.connect(stored.path) as db:
        db.execute("UPDATE runs SET pid=? WHERE id=4", (2**22 + 12345,))  # above Linux's pid_max: no such process
    _code, out, _ = runs(capsys, "--json")
    assert {r["id"]: r["status"] for r in json.loads(out)}[4] == "interrupted"


def test_runs_json_end_to_end_after_a_training(home):
    env = dict(os.environ, PLAYGROUND_HOME=str(home), PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    env.pop("PLAYGROUND_EXECUTOR", None)

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "playground", *args], capture_output=True, text=True, check=False, env=env, timeout=300
        )

    trained = cli("train", "--dataset", "circles", "--model", "fc8 tanh", "--epochs", "1", "--quiet", "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    r = cli("runs", "--json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert row["id"] == report["run_id"] and row["status"] == "completed"
    assert (row["dataset"], row["model"]) == ("circles", "fc8 tanh")
    assert row["test_accuracy"] == report["final"]["test_accuracy"] and 0 <= row["test_accuracy"] <= 1
    assert abs(dt.datetime.fromisoformat(row["created"]).timestamp() - dt.datetime.now().timestamp()) < 300
