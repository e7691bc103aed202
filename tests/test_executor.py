"""The executor: runs train in a worker process (never in the caller's), a queued run's Stop is
immediate, a dead worker fails its run and is replaced, and a worker whose parent dies ends its
run 'interrupted' and exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from playground import executor, executors, jobs, process_executor
from playground.config import TrainConfig
from playground.events import EndEvent, StartEvent, StepEvent


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc32 relu", "lr": 0.1, "epochs": 2, "batch_size": 16, **kw})


def long_run(**kw) -> TrainConfig:
    return cfg(epochs=500, batch_size=1, **kw)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_runs_train_in_a_worker_process_and_their_events_come_back(tiny_home):
    manager = jobs.manager()
    assert isinstance(manager.executor, process_executor.ProcessExecutor)
    seen = []
    job = manager.submit(cfg(), on_event=seen.append)
    assert job.wait(120) and job.status == "completed"
    worker = manager.executor.pid
    assert worker is not None and worker != os.getpid()
    assert isinstance(seen[0], StartEvent) and isinstance(seen[-1], EndEvent)
    assert [e.step for e in seen if isinstance(e, StepEvent)] == list(range(1, 51))  # every step, in order
    assert len(manager.store.steps(job.run_id)) == 50 and manager.store.get(job.run_id).status == "completed"


def test_stop_on_a_queued_run_takes_it_off_the_queue_at_once(tiny_home):
    manager = jobs.manager()
    first = manager.submit(long_run(seed=1))
    queued = manager.submit(long_run(seed=2))
    wait_for(lambda: first.status == "running")
    queued.stop()
    assert queued.done and queued.status == "stopped"  # no waiting for the run ahead
    run = manager.store.get(queued.run_id)
    assert run.status == "stopped" and "never started" in run.message and run.started is None
    assert not first.done  # the run ahead goes on
    first.stop()
    assert first.wait(30) and first.status == "stopped"


def test_a_killed_worker_fails_its_run_and_a_new_worker_takes_the_next(tiny_home):
    manager = jobs.manager()
    job = manager.submit(long_run(seed=3))
    wait_for(lambda: job.step > 0)
    old = manager.executor.pid
    os.kill(old, signal.SIGKILL)
    assert job.wait(30) and job.status == "failed"
    run = manager.store.get(job.run_id)
    assert run.status == "failed" and "ended unexpectedly (killed by signal 9)" in run.message
    after = manager.submit(cfg(seed=4))
    assert after.wait(120) and after.status == "completed"
    assert manager.executor.pid not in (None, old)


PARENT = """
import sys
import threading
from playground import jobs
from playground.config import TrainConfig

if __name__ == "__main__":
    manager = jobs.manager()
    job = manager.submit(TrainConfig(model="fc32 relu", epochs=500, batch_size=1))
    while job.step == 0:
        job.wait(0.05)
    print(job.run_id, manager.executor.pid, flush=True)
    job.wait()
"""


def test_a_worker_whose_parent_dies_ends_the_run_interrupted_and_exits(tiny_home, subprocess_env, tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = dict(subprocess_env, PLAYGROUND_EXECUTOR="process")
    parent = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    run_id, worker = map(int, parent.stdout.readline().split())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    store = jobs.manager().store
    wait_for(lambda: store.get(run_id).status == "interrupted", 30)
    assert store.steps(run_id)  # its curve so far is kept

    def gone() -> bool:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return True
        try:  # a zombie (its parent is gone, nobody reaped it) counts as gone
            with open(f"/proc/{worker}/stat") as f:
                return f.read().split(")")[-1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    wait_for(gone, 30)


def test_the_worker_starts_whatever_the_current_folder(tiny_home, tmp_path, monkeypatch):
    """`streamlit run /elsewhere/streamlit_app.py` from another folder: the worker still finds the package."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    fresh = process_executor.ProcessExecutor()
    manager = jobs.JobManager(jobs.manager().store, fresh)
    job = manager.submit(cfg(seed=9))
    assert job.wait(120) and job.status == "completed" and fresh.ready


def test_an_unknown_executor_kind_is_a_clear_error(monkeypatch):
    from playground.errors import PlaygroundError

    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "gpu-farm")
    with pytest.raises(PlaygroundError, match="PLAYGROUND_EXECUTOR = 'gpu-farm' is not allowed: use one of process, thread"):
        executors.get()


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_a_stop_while_the_trainer_starts_is_not_lost(tiny_home, monkeypatch, kind):
    """Stop pressed after the run left the queue but before its trainer had it (the worker still
    warming up): the run still ends 'stopped', not trained to the end."""
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", kind)
    ex = process_executor.ProcessExecutor() if kind == "process" else executor.ThreadExecutor()
    manager = jobs.JobManager(jobs.manager().store, ex)
    if kind == "thread":  # hold the task between leaving the queue and reaching its trainer
        gate = threading.Event()
        original = executor.ThreadExecutor._run
        monkeypatch.setattr(executor.ThreadExecutor, "_run", lambda self, *a: (gate.wait(30), original(self, *a)))
    job = manager.submit(long_run(seed=5))
    wait_for(lambda: ex._running, 30)  # out of the queue: a stop now goes to the current task
    assert kind == "thread" or not ex.ready  # the worker is still starting
    job.stop()
    if kind == "thread":
        gate.set()
    assert job.wait(120), "the stopped run did not end within 120 s"
    assert job.status == "stopped", job.message
    assert manager.store.get(job.run_id).status == "stopped"
