import os
import subprocess
import sys

import pytest

from playground import jobs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import EndEvent, EpochEvent, StartEvent, StepEvent
from playground.home import runs_db_path
from playground.runs import RunStore


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc32 relu", "lr": 0.1, "epochs": 2, "batch_size": 16, **kw})


def test_store_round_trip(home):
    store = RunStore(runs_db_path())
    run_id = store.create(cfg())
    assert store.get(run_id).status == "queued" and store.find_reusable(cfg()) is None
    store.start(run_id, StartEvent(100, "cpu", 25, 50, 400, 100))
    store.add_steps(run_id, [StepEvent(1, 1, 2.3, 0.01, 0.02), StepEvent(2, 1, float("nan"))])
    store.add_epoch(run_id, EpochEvent(1, 1.0, 0.5, 1.1, 0.45, 2.0))
    store.finish(run_id, "completed", "done", {"test_accuracy": 0.45})
    run = RunStore(runs_db_path()).get(run_id)  # a new store object: survives a restart
    assert run.status == "completed" and run.params == 100 and run.config == cfg() and run.final == {"test_accuracy": 0.45}
    assert store.steps(run_id)[0] == {"step": 1, "epoch": 1, "loss": 2.3, "grad_mean": 0.01, "grad_abs_mean": 0.02}
    assert store.epochs(run_id)[0]["test_accuracy"] == 0.45
    assert store.find_reusable(cfg()).id == run_id
    assert store.find_reusable(cfg(seed=1)) is None
    store.delete(run_id)
    assert store.get(run_id) is None and store.steps(run_id) == []


@pytest.mark.parametrize(
    "config",
    [
        cfg(),
        cfg(dataset="spiral", model="fc8 tanh", toy_features="x2, x1,x1sq", augment="", batch_size=10),
        cfg(dataset="plane", model="fc8 relu", augment=""),  # a regression: its loss made mse
        cfg(augment="flip,crop", optimizer="adam", momentum=0.0, reg="l2", reg_rate=0.001, bf16=True),
    ],
)
def test_a_stored_config_reads_back_equal_without_being_checked_again(home, config, monkeypatch):
    store = RunStore(runs_db_path())
    run_id = store.create(config)
    monkeypatch.setattr(TrainConfig, "validate", lambda self: pytest.fail("a stored config was checked again"))
    run = RunStore(runs_db_path()).get(run_id)
    assert run.config == config and run.config.key == config.key and hash(run.config) == hash(config)
    assert run.config.sizes == config.sizes and run.config.input_shape == config.input_shape


def test_a_stored_config_from_an_older_or_newer_version_reads_with_defaults(home):
    old = {k: v for k, v in cfg().to_dict().items() if k not in ("bf16", "toy_features")} | {"gone_setting": 3}
    assert TrainConfig.stored(old) == cfg()  # a field added since: its default; a field dropped since: ignored
    with pytest.raises(PlaygroundError):
        cfg(epochs=5000)  # a rule a stored run may predate: the run still lists
    assert TrainConfig.stored(cfg().to_dict() | {"epochs": 5000}).epochs == 5000


def test_snapshot_ends_are_the_first_and_the_latest_snapshot(home):
    import numpy as np

    store = RunStore(runs_db_path())
    run_id, other = store.create(cfg()), store.create(cfg(seed=1))
    assert store.snapshot_ends(run_id) == []
    store.add_snapshot(run_id, 1, np.full(4, 0.1, dtype=np.float32))
    assert [e for e, _ in store.snapshot_ends(run_id)] == [1]  # one snapshot is both ends, given once
    for epoch in (2, 3):
        store.add_snapshot(run_id, epoch, np.full(4, epoch / 10, dtype=np.float32))
    store.add_snapshot(other, 9, np.zeros(4, dtype=np.float32))
    ends = store.snapshot_ends(run_id)
    assert [e for e, _ in ends] == [1, 3] and np.allclose(ends[1][1], 0.3)
    every = store.snapshots(run_id)
    assert [e for e, _ in ends] == [every[0][0], every[-1][0]] and np.array_equal(ends[0][1], every[0][1])


def test_orphaned_runs_are_marked_interrupted(home):
    store = RunStore(runs_db_path())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=False)
    run_id = store.create(cfg())
    store._write("UPDATE runs SET status='running', pid=? WHERE id=?", (int(dead.stdout), run_id))
    mine = store.create(cfg(seed=5))  # this process is alive: its run is left alone
    assert store.mark_orphans_interrupted() == 1
    assert store.get(run_id).status == "interrupted" and store.get(mine).status == "queued"


def test_unwritable_home_is_a_clear_error(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        path = blocker / "runs.sqlite"  # a file where the folder should be
    else:
        tmp_path.chmod(0o500)
        path = tmp_path / "sub" / "runs.sqlite"
    with pytest.raises(Exception, match=r"cannot open the run store .* PLAYGROUND_HOME"):
        RunStore(path)


def test_submit_trains_in_the_background_then_serves_the_cache(tiny_home):
    manager = jobs.manager()
    job = manager.submit(cfg())
    assert manager.submit(cfg()) is job  # the same config while it runs: joined, not queued twice
    assert job.wait(60) and job.status == "completed" and not job.cached
    run = manager.store.get(job.run_id)
    assert run.status == "completed" and len(manager.store.epochs(job.run_id)) == 2
    assert len(manager.store.steps(job.run_id)) == 50
    again = manager.submit(cfg(device="cpu"))
    assert again.cached and again.done and again.run_id == job.run_id
    assert manager.submit(cfg(seed=3)).run_id != job.run_id


def test_stop_a_running_job(tiny_home):
    manager = jobs.manager()
    seen = []
    job = manager.submit(cfg(epochs=200, batch_size=4), on_event=seen.append)
    while not any(isinstance(e, StepEvent) for e in seen):
        job.wait(0.05)
    job.stop()
    assert job.wait(60)
    run = manager.store.get(job.run_id)
    assert run.status == "stopped" and 0 < len(manager.store.steps(run.id)) < 200 * 100
    assert isinstance(seen[-1], EndEvent)
    assert manager.submit(cfg(epochs=200, batch_size=4)).cached is False  # a stopped run is not reused
    manager.stop_all()


def test_a_user_mistake_fails_the_run_with_its_message(tiny_home):
    job = jobs.manager().submit(cfg(batch_size=5000))
    assert job.wait(60) and job.status == "failed"
    assert "batch_size = 5000 is larger than the 400 training images" in jobs.manager().store.get(job.run_id).message
