"""The Ray executor on a real local Ray instance: runs train as Ray tasks and their records come back
to the run store here, with the thread executor's numbers to the last bit; a grouped sweep; Stop
keeps the curve so far; a run that fails in its task, and one whose Ray worker is killed, end
'failed' with the reason while the next run completes."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

ray = pytest.importorskip("ray")

import torch  # noqa: E402 (after the skip: without Ray there is nothing to test)

from playground import executors, insight, jobs  # noqa: E402
from playground.config import TrainConfig  # noqa: E402
from playground.errors import PlaygroundError  # noqa: E402
from playground.events import EndEvent, StartEvent, StepEvent  # noqa: E402
from playground.executor import ThreadExecutor  # noqa: E402
from playground.grouped import groupable  # noqa: E402
from playground.home import weights_path  # noqa: E402
from playground.ray_executor import RayExecutor, _check_answers, _Replay  # noqa: E402
from playground.runs import RunStore  # noqa: E402


@pytest.fixture(scope="module")
def ray_executor():
    executor = RayExecutor(address="", num_cpus=2)  # a local instance, whatever $RAY_ADDRESS says
    starter = threading.Thread(target=executor.connect)  # as a page's thread would: Ray must outlive it
    starter.start()
    starter.join()
    yield executor
    executor.close()


def toy(**kw) -> TrainConfig:
    return TrainConfig(**{"dataset": "circles", "model": "fc8 relu", "lr": 0.1, "epochs": 2, "batch_size": 16, **kw})


def long_toy(**kw) -> TrainConfig:
    return toy(epochs=500, batch_size=1, **kw)


def manager_on(executor, home) -> jobs.JobManager:
    return jobs.JobManager(RunStore(home / "runs.sqlite"), executor=executor)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def outcome(store: RunStore, run_id: int) -> dict:
    run = store.get(run_id)
    return {
        "status": run.status,
        "final": run.final,
        "steps": store.steps(run_id),
        "epochs": [{k: v for k, v in e.items() if k != "seconds"} for e in store.epochs(run_id)],
        "snapshots": [(epoch, p.tolist()) for epoch, p in store.snapshots(run_id)],
        "weights": {k: v.tolist() for k, v in torch.load(weights_path(run_id), weights_only=True).items()},
    }


def test_ray_runs_give_the_thread_executors_numbers(ray_executor, tiny_home, tmp_path, monkeypatch):
    configs = [toy(seed=1), TrainConfig(dataset="digits", model="fc16 relu", epochs=1, batch_size=64, lr=0.05)]
    manager, seen = manager_on(ray_executor, tiny_home), []
    on_ray = [manager.submit(c, on_event=seen.append) for c in configs]
    assert all(job.wait(120) for job in on_ray)
    assert [j.status for j in on_ray] == ["completed", "completed"], [j.message for j in on_ray]
    ray_outcomes = [outcome(manager.store, j.run_id) for j in on_ray]
    assert isinstance(seen[0], StartEvent) and isinstance(seen[-1], EndEvent)
    steps = [e.step for e in seen[: seen.index(next(e for e in seen if isinstance(e, EndEvent)))] if isinstance(e, StepEvent)]
    assert steps == list(range(1, len(ray_outcomes[0]["steps"]) + 1))  # every step forwarded, in order
    assert len(ray_outcomes[0]["snapshots"]) == 2 and manager.store.network(on_ray[0].run_id) is not None

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "thread"))  # its own weights folder: run ids start at 1 again
    local = manager_on(ThreadExecutor(), tmp_path / "thread")
    in_thread = [local.submit(c) for c in configs]
    assert all(job.wait(120) for job in in_thread)
    assert [outcome(local.store, j.run_id) for j in in_thread] == ray_outcomes


def test_a_grouped_sweep_trains_on_ray(ray_executor, tiny_home):
    twins = [toy(lr=0.1, seed=1), toy(lr=0.05, seed=2), toy(lr=0.2, seed=3)]
    assert groupable(twins) is None
    manager = manager_on(ray_executor, tiny_home)
    group = manager.submit_group(twins)
    assert all(job.wait(120) for job in group)
    for job in group:
        run = manager.store.get(job.run_id)
        assert run.status == "completed" and run.final["grouped_with"] == 3
        assert len(manager.store.steps(job.run_id)) == run.total_steps > 0
        assert [e["epoch"] for e in manager.store.epochs(job.run_id)] == [1, 2]
        assert insight.has_weights(job.run_id)


def test_the_learning_rate_finder_runs_on_ray_and_writes_no_run(ray_executor, tiny_home):
    manager = manager_on(ray_executor, tiny_home)
    finder = manager.find_lr(toy(seed=4), steps=30)
    assert finder.wait(120) and finder.status == "completed", finder.message
    assert finder.result is not None and len(finder.result.lrs) == 30 and finder.step == 30
    assert manager.store.list_runs() == []


def test_stop_ends_a_ray_run_stopped_with_its_curve_so_far(ray_executor, tiny_home):
    manager = manager_on(ray_executor, tiny_home)
    job = manager.submit(long_toy(seed=5))
    wait_for(lambda: job.step > 0)
    asked = time.monotonic()
    job.stop("the teacher (Tess)")
    assert job.wait(30) and job.status == "stopped"
    assert time.monotonic() - asked < 2
    run = manager.store.get(job.run_id)
    steps = manager.store.steps(job.run_id)
    assert run.status == "stopped" and 0 < len(steps) < run.total_steps
    assert run.message.startswith("stopped by the teacher (Tess) at step ") and job.message == run.message  # who asked
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    assert insight.has_weights(job.run_id)  # a stopped run's weights, as locally


def test_a_run_that_fails_in_its_ray_task_ends_failed_and_the_next_completes(ray_executor, tiny_home):
    """Fashion-MNIST's size is known once its files are read, in the task: the tiny set has 400 images."""
    manager = manager_on(ray_executor, tiny_home)
    job = manager.submit(TrainConfig(model="fc8 relu", epochs=1, batch_size=5000))
    assert job.wait(120) and job.status == "failed"
    assert "batch_size = 5000 is larger than the 400 training images" in manager.store.get(job.run_id).message
    after = manager.submit(toy(seed=6))
    assert after.wait(120) and after.status == "completed"


def test_a_killed_ray_worker_fails_its_run_and_the_next_completes(ray_executor, tiny_home):
    manager = manager_on(ray_executor, tiny_home)
    job = manager.submit(long_toy(seed=7))
    wait_for(lambda: job.step > 0)
    task_pid = next(pid for pid in ray_executor._pids.values())
    os.kill(task_pid, signal.SIGKILL)
    assert job.wait(30) and job.status == "failed"
    run = manager.store.get(job.run_id)
    assert run.status == "failed" and "the Ray worker training it ended unexpectedly" in run.message
    assert manager.store.steps(job.run_id)  # its curve so far is kept
    after = manager.submit(toy(seed=8))
    assert after.wait(120) and after.status == "completed"


def test_a_store_write_that_fails_on_replay_fails_the_run_and_drops_the_rest(home):
    """A full disk on the app's side: the run ends 'failed' with the store's message, the task is
    asked to stop, and its later records (its own 'completed' end) do not overwrite that."""

    class FullStore(RunStore):
        def add_steps(self, run_id, events):
            raise PlaygroundError("the run store is full")

    store, stops = FullStore(home / "runs.sqlite"), []
    job = jobs.Job(store.create(toy()), toy())
    replay = _Replay([job], store, lambda: stops.append(1))
    replay("start", (job.run_id, StartEvent(10, "cpu", 5, 10, 80, 20)))
    replay("deliver", (0, [StartEvent(10, "cpu", 5, 10, 80, 20)]))
    replay("add_steps", (job.run_id, [StepEvent(1, 1, 0.7)]))
    replay("finish", (job.run_id, "completed", "trained 2 epoch(s)", {}))
    replay("deliver", (0, [EndEvent("completed", "trained 2 epoch(s)")]))
    assert job.done and job.status == "failed" and stops == [1]
    run = store.get(job.run_id)
    assert run.status == "failed" and run.message == "the run store is full"


def test_the_ray_executor_is_chosen_by_name_and_needs_ray(monkeypatch):
    monkeypatch.setitem(executors._executors, "ray", None)
    monkeypatch.delitem(executors._executors, "ray")
    assert isinstance(executors.get("ray"), RayExecutor) and not executors.get("ray").ready  # Ray starts on demand
    monkeypatch.delitem(executors._executors, "ray")
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without Ray installed
    monkeypatch.delitem(sys.modules, "playground.ray_executor")
    with pytest.raises(PlaygroundError, match="PLAYGROUND_EXECUTOR=ray needs Ray: pip install ray"):
        executors.get("ray")


def test_a_cluster_address_nobody_answers_at_is_one_clear_line_at_once():
    """ray.init itself would try for minutes."""
    asked = time.monotonic()
    with pytest.raises(PlaygroundError, match=r"nothing answers at RAY_ADDRESS=127.0.0.1:1 \(Connection refused\)"):
        _check_answers("127.0.0.1:1")
    assert time.monotonic() - asked < 5
