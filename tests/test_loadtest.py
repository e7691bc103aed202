"""The load test (python -m playground loadtest): a small class through the real pool loses nothing and
is served in turn; the fairness check finds starts out of turn; bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground import executors, loadtest
from playground.cli import main

ROOT = Path(__file__).parent.parent


def test_a_small_class_on_the_pool_loses_no_run_and_takes_students_in_turn(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, PLAYGROUND_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT), TMPDIR=str(scratch))
    env.pop("PLAYGROUND_EXECUTOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "playground", "loadtest", "--students", "8", "--runs-per-student", "1", "--json"],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["runs_lost"] == 0 and report["lost"] == [] and report["statuses"] == {"completed": 8}
    assert report["integrity"] == "ok" and report["fair"] is True
    assert (report["students"], report["runs_per_student"], report["executor"]) == (8, 1, "local") and report["workers"] >= 1
    for key in ("first_point_seconds", "end_seconds"):
        spread = report[key]
        assert 0 < spread["p50"] <= spread["p95"] <= spread["max"] < 120, (key, spread)
    assert report["first_point_seconds"]["p50"] <= report["end_seconds"]["p50"]
    assert report["peak_rss_mb"] > 10 and report["seconds"] > 0
    assert not list(scratch.glob("playground-loadtest-*"))  # the scratch class is gone
    assert not (tmp_path / "home" / "class.toml").exists()  # the caller's home never became a class


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--students", "0", "--runs-per-student", "2"], "at least 1"),
        (["--students", "3", "--runs-per-student", "-1"], "at least 1"),
        (["--students", "100", "--runs-per-student", "21"], "at most 2000"),
        (["--students", "2", "--runs-per-student", "1", "--workers", "-1"], "--workers -1"),
    ],
)
def test_a_load_test_that_cannot_run_is_one_line_and_exit_2(argv, says, home, capsys):
    assert main(["loadtest", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "argv",
    [
        ["--students", "2", "--runs-per-student", "1", "--executor", "dask"],
        ["--students", "two", "--runs-per-student", "1"],
        ["--runs-per-student", "1"],
    ],
)
def test_bad_flags_are_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(["loadtest", *argv])
    assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def test_without_ray_the_ray_load_test_is_one_line_and_exit_2(home, monkeypatch, capsys):
    monkeypatch.setattr(executors, "_executors", {})
    monkeypatch.setitem(sys.modules, "playground.ray_executor", None)  # import fails as without Ray
    assert main(["loadtest", "--students", "2", "--runs-per-student", "1", "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert "needs Ray" in err and err.count("\n") == 1, err


def test_the_fairness_check_finds_a_second_run_started_before_a_waiting_first_run():
    # (id, owner, created, started, finished); one worker, so each run starts when the one before ended
    in_turn = [(1, "a", 0.0, 0.1, 0.2), (2, "a", 0.0, 0.5, 0.6), (3, "b", 0.05, 0.3, 0.4)]
    assert loadtest.unfair_starts(in_turn) == []
    out_of_turn = [(1, "a", 0.0, 0.1, 0.2), (2, "a", 0.0, 0.3, 0.4), (3, "b", 0.05, 0.5, 0.6)]
    assert loadtest.unfair_starts(out_of_turn) == ["run 2 (a's run 2) started before run 3 (b's run 1), which had been waiting 0.25 s"]
    late = [(1, "a", 0.0, 0.1, 0.2), (2, "a", 0.0, 0.3, 0.4), (3, "b", 0.25, 0.5, 0.6)]  # b came after a's run 2 was handed out
    assert loadtest.unfair_starts(late) == []
    starved = [(1, "a", 0.0, 0.1, 0.2), (2, "a", 0.0, 0.3, 0.4), (3, "b", 0.05, None, None)]  # b's run never started
    assert len(loadtest.unfair_starts(starved)) == 1


def test_spreads_and_the_summary():
    assert loadtest.spread([]) == {"p50": None, "p95": None, "max": None}
    assert loadtest.spread([float(i) for i in range(1, 101)]) == {"p50": 50.0, "p95": 95.0, "max": 100.0}
    report = loadtest.Report(
        students=2, runs_per_student=2, executor="local", workers=1, dataset="digits", runs=4, runs_lost=1,
        lost=["run 4: ended failed (boom)"], statuses={"completed": 3, "failed": 1}, integrity="ok",
        first_point_seconds=loadtest.spread([0.5, 1.0]), end_seconds=loadtest.spread([1.0, 1.5]),
        poll_gap_seconds=loadtest.spread([0.5]), peak_rss_mb=300.0, worker_peak_rss_mb=None, fair=False,
        unfair=["run 3 (p1's run 2) started before run 4 (p2's run 1), which had been waiting 0.30 s"],
    )  # fmt: skip
    from playground.cli.loadtest import summary

    text = summary(report)
    assert "runs lost: 1 of 4" in text and "boom" in text and "fair: NO" in text and "p2's run 1" in text
    assert "p50 0.50 s, p95 1.00 s, max 1.00 s" in text
