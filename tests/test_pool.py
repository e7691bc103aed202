"""The executor's pool and its fair queue: owners take turns (no student's first run waits behind
another's second), class mode sizes the pool, and a killed worker fails only the run it held."""

from __future__ import annotations

import os
import signal
import threading
import time

from playground import jobs
from playground.classroom import config as class_config
from playground.config import TrainConfig
from playground.executor import ThreadExecutor
from playground.fair_queue import FairQueue
from playground.process_executor import ProcessExecutor


def test_the_fair_queue_takes_owners_in_turn():
    q: FairQueue[str] = FairQueue()
    for item in ["a1", "a2", "a3"]:
        q.push("ann", item)
    q.push("bob", "b1")
    q.push("bob", "b2")
    q.push("cy", "c1")
    assert q.order() == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert [q.pop() for _ in range(3)] == ["a1", "b1", "c1"]
    q.push("cy", "c2")  # cy's first is still training: c2 is cy's second, after ann's and bob's
    assert q.order() == ["a2", "b2", "c2", "a3"]
    assert q.remove(lambda x: x == "b2") == "b2" and q.count("bob") == 0 and len(q) == 3
    assert q.remove(lambda x: x == "zz") is None


def test_a_student_whose_only_run_was_just_handed_out_does_not_jump_ahead_of_a_newcomer():
    q: FairQueue[str] = FairQueue()
    q.push("ann", "a1")
    assert q.pop() == "a1"  # ann's first is training
    q.push("ann", "a2")
    q.push("bob", "b1")  # bob's first came after ann's second, and still goes first
    assert q.order() == ["b1", "a2"] and q.pop() == "b1"
    q.finished("ann")
    q.finished("bob")
    assert q.pop() == "a2"
    q.finished("ann")  # both have nothing queued or training: their counts start again
    q.push("bob", "b2")
    q.push("ann", "a3")
    assert q.order() == ["b2", "a3"]  # first come, first served between equals


def test_a_laptop_queue_is_first_in_first_out():
    q: FairQueue[int] = FairQueue()
    for i in range(5):
        q.push("", i)
    assert [q.pop() for _ in range(5)] == [0, 1, 2, 3, 4]


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc8 relu", "lr": 0.1, "epochs": 1, "batch_size": 64, **kw})


def test_the_executor_hands_out_each_owners_first_run_before_anyones_second(tiny_home, monkeypatch):
    ex = ThreadExecutor()
    gate, started = threading.Event(), []
    original = ThreadExecutor._run

    def held(self, task, jobs_, store):
        started.append(task.owner)
        gate.wait(30)
        original(self, task, jobs_, store)

    monkeypatch.setattr(ThreadExecutor, "_run", held)
    store = jobs.manager().store
    manager = jobs.JobManager(store, ex)
    first = manager.submit(cfg(seed=0), owner="ann")  # holds the one slot
    deadline = time.time() + 30
    while not started:
        assert time.time() < deadline
        time.sleep(0.01)
    later = [manager.submit(cfg(seed=s), owner=o) for s, o in [(1, "ann"), (2, "ann"), (3, "bob"), (4, "cy")]]
    assert [ex.ahead(j.task) for j in later] == [3, 4, 1, 2]  # ann's 2nd and 3rd wait behind bob's and cy's 1st
    gate.set()
    for job in [first, *later]:
        assert job.wait(60) and job.status == "completed", job.message
    assert started == ["ann", "bob", "cy", "ann", "ann"]


def test_class_mode_sizes_the_pool(tiny_home, monkeypatch):
    assert class_config.pool_size() == 1  # laptop mode: one worker
    class_config.write(class_config.ClassConfig(threads_per_run=1))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert class_config.pool_size() == 8
    class_config.write(class_config.ClassConfig(threads_per_run=4))
    assert class_config.pool_size() == 2
    assert class_config.worker_env(1) == {"PLAYGROUND_THREADS": "4"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    assert class_config.pool_size() == 3 and class_config.worker_env(4)["CUDA_VISIBLE_DEVICES"] == "1"  # one run per GPU
    class_config.write(class_config.ClassConfig(workers=5))
    assert class_config.pool_size() == 5


def test_a_killed_worker_of_the_pool_fails_only_its_own_run(tiny_home):
    ex = ProcessExecutor(2)
    manager = jobs.JobManager(jobs.manager().store, ex)
    long = [manager.submit(cfg(epochs=400, batch_size=1, seed=s), owner=o) for s, o in [(1, "ann"), (2, "bob")]]
    deadline = time.time() + 120
    while not all(j.step > 0 for j in long):  # both train at once, one per worker
        assert time.time() < deadline, [j.status for j in long]
        time.sleep(0.05)
    victim = ex.pid_of(long[0].task)
    assert victim is not None and len(set(ex.pids)) == 2
    os.kill(victim, signal.SIGKILL)
    assert long[0].wait(30) and long[0].status == "failed" and "killed by signal 9" in long[0].message
    assert not long[1].done and long[1].status == "running"
    long[1].stop()
    assert long[1].wait(30) and long[1].status == "stopped"
    again = manager.submit(cfg(seed=3), owner="ann")  # the dead worker's slot starts a new one
    assert again.wait(120) and again.status == "completed"
