"""Makes tests/data/store_v2.sqlite: a run store as the code of user_version 2 wrote it (every step
one row of `steps`), for the migration test (tests/test_step_store.py).

It was made with that code, at commit 494a7b7, through the real RunStore API:

    git worktree add /tmp/v2 494a7b7
    cd /tmp/v2 && /work/main/.venv/bin/python /work/main/tests/data/make_store_v2.py /work/main/tests/data/store_v2.sqlite

Run with today's code it would write today's format, so run it only at that commit. `content()` is
what was written, and what the test expects to read back: every value comes from a seeded
random.Random, the same on every machine.
"""

from __future__ import annotations

import math
import random
import sqlite3
import sys
from pathlib import Path

CONFIGS = {  # name -> TrainConfig fields
    "long": {"model": "fc32 relu", "lr": 0.1, "epochs": 3, "batch_size": 160},
    "layers": {"model": "fc16 relu", "lr": 0.05, "epochs": 1, "batch_size": 64, "seed": 1},
    "toy": {"dataset": "moons", "model": "fc8 tanh", "lr": 0.03, "epochs": 4, "batch_size": 32},
    "sweep_a": {"model": "fc32 relu", "lr": 0.1, "epochs": 1, "batch_size": 256, "seed": 2},
    "sweep_b": {"model": "fc32 relu", "lr": 0.01, "epochs": 1, "batch_size": 256, "seed": 2},
}
STEPS = {"long": (1250, 3), "layers": (120, 1), "toy": (40, 4), "sweep_a": (60, 1), "sweep_b": (60, 1)}  # steps, epochs
OWNERS = {"long": "ann", "layers": "ann", "toy": "bob", "sweep_a": "bob", "sweep_b": "bob"}
SHARED = {"long": "bob"}  # a second holder: served to bob from the cache


def steps(name: str) -> list[tuple]:
    """(step, epoch, loss, grad_mean, grad_abs_mean) of a run: grad stats at steps <= 100 and every
    10th after; the long run's last loss NaN (stored as NULL) and one +inf."""
    rng = random.Random(name)
    n, epochs = STEPS[name]
    out = []
    for step in range(1, n + 1):
        loss = 2.3 * math.exp(-step / 400) + rng.random() * 0.1
        grads = (rng.gauss(0, 1e-3), abs(rng.gauss(0, 1e-2))) if step <= 100 or step % 10 == 0 else (None, None)
        out.append((step, (step - 1) * epochs // n + 1, loss, *grads))
    if name == "long":
        out[700] = (*out[700][:2], math.inf, *out[700][3:])
        out[-1] = (*out[-1][:2], math.nan, *out[-1][3:])
    return out


def layer_stats(name: str) -> list[dict]:
    """The 'layers' run's per-layer numbers at steps 1 and 50: a Linear layer's and a ReLU's."""
    if name != "layers":
        return []
    rng = random.Random("layers-stats")
    out = []
    for step in (1, 50):
        out.append({"step": step, "layer": 0, "name": "#1 Linear 784→16", "weight_norm": rng.random(), "grad_norm": rng.random(),
                    "update_ratio": rng.random() * 1e-3, "act_mean": None, "act_std": None, "dead": None, "saturated": None, "hist": None})  # fmt: skip
        out.append({"step": step, "layer": 1, "name": "#2 ReLU", "weight_norm": None, "grad_norm": None, "update_ratio": None,
                    "act_mean": rng.random(), "act_std": rng.random(), "dead": 0.25, "saturated": None, "hist": [0.5, 0.25, 0.25, 0.0]})  # fmt: skip
    return out


def epochs(name: str) -> list[dict]:
    rng = random.Random(f"{name}-epochs")
    return [
        {
            "epoch": e,
            "train_loss": rng.random(),
            "train_accuracy": rng.random(),
            "test_loss": rng.random(),
            "test_accuracy": rng.random(),
            "seconds": rng.random() * 10,
            "lr": 0.1,
            "val_loss": None,
            "val_accuracy": None,
            "penalty": None,
        }
        for e in range(1, STEPS[name][1] + 1)
    ]


def build(path: Path) -> None:
    from playground.config import TrainConfig
    from playground.events import EpochEvent, LayerStat, StartEvent, StepEvent
    from playground.runs import RunStore

    store = RunStore(path)
    ids = {}
    for name, fields in CONFIGS.items():
        run_id = ids[name] = store.create(TrainConfig(**fields), owner=OWNERS[name])
        n, _ = STEPS[name]
        store.start(run_id, StartEvent(1000 + run_id, "cpu", n // STEPS[name][1], n, 5000, 1000))
        by_step = {}
        for s in layer_stats(name):
            by_step.setdefault(s["step"], []).append(LayerStat(**s))
        rows = steps(name)
        for i in range(0, len(rows), 97):  # flushes of 97 steps, as a worker would
            store.add_steps(run_id, [StepEvent(*r, layers=by_step.get(r[0])) for r in rows[i : i + 97]])
        for e in epochs(name):
            store.add_epoch(run_id, EpochEvent(**e))
            if name == "toy":
                store.add_snapshot(run_id, e["epoch"], [e["epoch"] / 10] * 16)
        store.finish(run_id, "completed", "done", {"test_accuracy": epochs(name)[-1]["test_accuracy"]})
        if name in SHARED:
            store.hold(run_id, SHARED[name])
    base = TrainConfig(**CONFIGS["sweep_a"])
    members = [
        {"label": "0.1", "value": 0.1, "seed": 2, "run_id": ids["sweep_a"]},
        {"label": "0.01", "value": 0.01, "seed": 2, "run_id": ids["sweep_b"]},
    ]
    store.create_sweep("lr", base, members, owner="bob")
    store.save_lab_progress("first-steps", {"done": [1, 2]}, owner="ann")
    store._db().close()  # this thread's connection: a WAL file stays while one is open
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")  # one file
        db.execute("VACUUM")


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.unlink(missing_ok=True)
    build(out)
