"""The run store's per-step curves in chunks (playground.step_store, step_chunks): every step comes
back exactly as written, and a store of one row per step (user_version 2) converts in place."""

from __future__ import annotations

import itertools
import math
import shutil
import sqlite3

import numpy as np
import pytest

from playground import run_schema, step_chunks, step_store
from playground.config import TrainConfig
from playground.events import EpochEvent, LayerStat, StepEvent, has_grad_stats
from playground.runs import RunStore
from tests.data import make_store_v2 as v2

FIXTURE = v2.__file__.replace("make_store_v2.py", "store_v2.sqlite")


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc32 relu", "lr": 0.1, "epochs": 3, "batch_size": 16, **kw})


def same(a, b) -> bool:
    """Equal, a NaN equal to a NaN (and None only to None)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def same_rows(got: list[dict], want: list[dict]) -> bool:
    return len(got) == len(want) and all(g.keys() == w.keys() and all(same(g[k], w[k]) for k in g) for g, w in zip(got, want))


def events(first: int, last: int, steps_per_epoch: int = 40) -> list[StepEvent]:
    """Steps first..last: float64 losses (not float32-exact) with NaN and inf among them, gradient
    statistics only where the loop records them, one of them a NaN."""
    rng = np.random.default_rng(first)
    out = []
    for step in range(first, last + 1):
        loss = [float(rng.random()), float("nan"), float("inf"), float(np.float32(rng.random()))][step % 4 if step % 7 == 0 else 0]
        grads = (float(rng.normal()), float("nan") if step == 30 else float(abs(rng.normal()))) if has_grad_stats(step) else (None, None)
        out.append(StepEvent(step, (step - 1) // steps_per_epoch + 1, loss, *grads))
    return out


def rows(evs: list[StepEvent]) -> list[dict]:
    return [{"step": e.step, "epoch": e.epoch, "loss": e.loss, "grad_mean": e.grad_mean, "grad_abs_mean": e.grad_abs_mean} for e in evs]


def test_steps_come_back_exactly_as_written_across_chunks_and_epochs(home, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create(cfg())
    written = events(1, 2600)
    for i in range(0, 2600, 37):  # flushes of 37 steps: the small ones grow the last chunk
        store.add_steps(run_id, written[i : i + 37])
    assert same_rows(store.steps(run_id), rows(written))
    chunks = store.query("SELECT first_step, last_step, n FROM step_chunks WHERE run_id=? ORDER BY first_step", (run_id,))
    assert len(chunks) > 1 and sum(c["n"] for c in chunks) == 2600
    assert all(a["last_step"] < b["first_step"] for a, b in itertools.pairwise(chunks))  # chunks never overlap
    assert store.step_count(run_id) == 2600 and store.last_step(run_id) == 2600 and store.first_loss(run_id) == written[0].loss


def test_a_step_written_again_replaces_the_old_one(home, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create(cfg())
    written = events(1, 1500)
    for i in range(0, 1500, 250):
        store.add_steps(run_id, written[i : i + 250])
    store.add_steps(run_id, written[900:1100])  # a flush replayed (the Ray executor's records)
    assert same_rows(store.steps(run_id), rows(written))
    again = [StepEvent(e.step, e.epoch, 9.5) for e in written[990:1010]] + [StepEvent(5, 1, 1.25, None, 0.5)]
    store.add_steps(run_id, again)  # across a chunk's end, out of order, and the first chunk's step 5
    want = rows(written)
    for e in again:
        want[e.step - 1] = rows([e])[0]
    assert same_rows(store.steps(run_id), want) and store.step_count(run_id) == 1500
    store.add_steps(run_id, [StepEvent(7, 1, 3.0), StepEvent(7, 1, 4.0)])  # one step twice in a flush: the later
    assert store.steps(run_id)[6]["loss"] == 4.0


def test_columns_equal_the_rows_and_an_empty_run_reads_empty(home, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id, other = store.create(cfg()), store.create(cfg(seed=1))
    store.add_steps(run_id, events(1, 1234))
    cols = store.step_columns(run_id)
    assert cols.step.dtype == np.int64 and cols.loss.dtype == np.float64
    assert same_rows(cols.rows(), store.steps(run_id))
    frame = cols.frame()
    assert list(frame.columns) == ["step", "epoch", "loss", "grad_mean", "grad_abs_mean"] and len(frame) == 1234
    assert frame["grad_mean"].notna().sum() == sum(has_grad_stats(s) for s in range(1, 1235))
    assert same_rows(cols.rows([0, 99, 1233]), [store.steps(run_id)[i] for i in (0, 99, 1233)])
    assert len(store.step_columns(other)) == 0 and store.steps(other) == [] and store.first_loss(other) is None
    assert store.step_count(other) == 0 and store.last_step(other) == 0


@pytest.mark.parametrize("first", [1, 101])
def test_a_chunk_packs_and_unpacks_exactly(first):
    evs = events(first, first + 300)
    evs = evs[:50] + evs[60:]  # a gap in the steps
    cols = step_chunks.unpack(step_chunks.pack(step_chunks.from_events(evs)))
    assert same_rows(cols.rows(), rows(evs))
    assert same_rows(
        step_chunks.unpack(step_chunks.pack(step_chunks.from_events([StepEvent(3, 1, None)]))).rows(), rows([StepEvent(3, 1, None)])
    )


def test_deleting_a_run_deletes_its_chunks_and_layer_stats(home, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id, kept = store.create(cfg()), store.create(cfg(seed=1))
    layer = LayerStat(1, 0, "#1 Linear 784→32", weight_norm=1.0)
    store.add_steps(run_id, [StepEvent(1, 1, 2.3, layers=[layer]), *events(2, 1500)[1:]])
    store.add_steps(kept, events(1, 10))
    store.delete(run_id)
    assert store.query("SELECT count(*) FROM step_chunks WHERE run_id=?", (run_id,))[0][0] == 0
    assert store.layer_stats(run_id) == [] and store.steps(run_id) == [] and len(store.steps(kept)) == 10


def _open_fixture(tmp_path) -> RunStore:
    path = tmp_path / "runs.sqlite"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2 and db.execute("SELECT count(*) FROM steps").fetchone()[0] == 1530
    return RunStore(path)


def test_a_store_of_one_row_per_step_converts_in_place_and_keeps_everything(home, tmp_path):
    store = _open_fixture(tmp_path)
    assert store.query("PRAGMA user_version")[0][0] == run_schema.CHUNKS_VERSION
    assert not store.query("SELECT 1 FROM sqlite_master WHERE name='steps'")
    ids = {name: i for i, name in enumerate(v2.CONFIGS, 1)}
    for name, run_id in ids.items():
        run = store.get(run_id)
        assert run.config == TrainConfig(**v2.CONFIGS[name]) and run.status == "completed" and run.owner == v2.OWNERS[name]
        # a NaN loss was stored as NULL in rows: it comes back None, as it did
        want = [dict(zip(("step", "epoch", "loss", "grad_mean", "grad_abs_mean"), r)) for r in v2.steps(name)]
        want = [r | {"loss": None} if isinstance(r["loss"], float) and math.isnan(r["loss"]) else r for r in want]
        assert same_rows(store.steps(run_id), want), name
        assert store.epochs(run_id) == v2.epochs(name) and store.first_loss(run_id) == want[0]["loss"]
        assert store.layer_stats(run_id) == v2.layer_stats(name)
        assert store.holders(run_id) == [v2.OWNERS[name]] + ([v2.SHARED[name]] if name in v2.SHARED else [])
    long = store.steps(ids["long"])
    assert long[700]["loss"] == math.inf and long[-1]["loss"] is None and long[100]["grad_mean"] is None
    n = store.query("SELECT n FROM step_chunks WHERE run_id=? ORDER BY first_step", (ids["long"],))
    assert [r["n"] for r in n] == [step_store.MIGRATE_CHUNK, 250]
    assert [e for e, _ in store.snapshots(ids["toy"])] == [1, 2, 3, 4]
    assert [r.id for r in store.list_runs(owner="bob")] == [5, 4, 3, 1] and [r.id for r in store.list_runs(owner="ann")] == [2, 1]
    sweep = store.list_sweeps()[0]
    assert sweep["owner"] == "bob" and [m["run_id"] for m in sweep["members"]] == [ids["sweep_a"], ids["sweep_b"]]
    assert store.lab_progress("first-steps", owner="ann") == {"done": [1, 2]}
    assert store.query("PRAGMA integrity_check")[0][0] == "ok" and store.query("PRAGMA foreign_key_check") == []


def test_converting_is_done_once_and_the_store_works_on(home, tmp_path):
    store = _open_fixture(tmp_path)
    before = [store.steps(i) for i in range(1, 6)]
    again = RunStore(store.path)  # opened a second time: nothing to convert, nothing changes
    assert all(same_rows(again.steps(i), b) for i, b in zip(range(1, 6), before))
    assert again.query("SELECT count(*) FROM step_chunks")[0][0] == 6
    run_id = again.create(cfg())
    again.add_steps(run_id, events(1, 50))
    again.add_epoch(run_id, EpochEvent(1, 0.5, 0.8, 0.6, 0.75, 1.0))
    assert len(again.steps(run_id)) == 50 and again.epochs(run_id)[0]["test_accuracy"] == 0.75
