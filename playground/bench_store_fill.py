"""A scratch run store the size of a course, for `python -m playground bench --store`
(playground.bench_store): 200 students x 50 runs, tens of millions of steps. Synthetic, in the
shapes the trainer writes: Fashion-MNIST runs of 938 steps an epoch, a few of 100,000 steps, a
loss that decays with noise (float32, as a torch loss), gradient statistics at the steps that have
them, epoch rows, holders, sweeps of 4 runs, layer statistics on a few runs, a roster.

The chunks are packed by step_chunks.pack, as RunStore.add_steps packs them, and written in big
transactions: minutes for 20 million steps on 2 cores, not the hours of one write per flush.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from playground import step_store
from playground.config import TrainConfig
from playground.events import has_grad_stats
from playground.runs import RunStore
from playground.step_chunks import StepColumns

OWNERS = 200
STEPS_PER_EPOCH = 938  # Fashion-MNIST, batch 64
BIG_STEPS = 100_000
CHUNK = step_store.GROW_BELOW  # the chunks a run's flushes leave: the last one grows while smaller than this
SWEEP_EVERY = 10  # every 10th student's last 4 runs are a sweep
LAYERS_EVERY = 50  # every 50th run has layer statistics
MODELS = ("fc512 relu fc512 relu", "fc128 relu", "fc256 relu fc128 relu", "conv16 relu pool2 conv32 relu pool2 fc128 relu", "fc64 tanh")
LRS = (0.001, 0.01, 0.03, 0.1, 0.3, 1.0)
SHORT = (1, 1, 2, 2, 3)  # epochs of the runs that are not 5 epochs long (quick tries, stopped runs)


@dataclass
class Filled:
    """What bench_store measures against."""

    runs: int = 0
    steps: int = 0
    chunks: int = 0
    owners: list[str] = field(default_factory=list)
    big_runs: list[int] = field(default_factory=list)  # the 100,000-step runs
    sweeps: list[list[int]] = field(default_factory=list)  # the 4 run ids of each sweep
    seconds: float = 0.0


def lengths(runs: int, steps: int) -> list[int]:
    """Steps of each run, `steps` in all: runs // 1000 (at least one) of 100,000 steps (a fifth of all,
    if smaller), the rest 5 epochs of 938 steps or 1-3 epochs, as many of them 5 epochs as the total
    allows (20 million steps do not hold 10,000 runs of 5 epochs: about 7% are)."""
    big = max(1, runs // 1000)
    big_steps = min(BIG_STEPS, steps // 5 // big) if runs > big else steps // big
    rest, left = runs - big, steps - big * big_steps
    out = [SHORT[i % len(SHORT)] * STEPS_PER_EPOCH for i in range(rest)]
    if sum(out) > left:  # a small bench: shorter runs
        out = [max(1, left // rest + (i < left % rest)) for i in range(rest)]
    full, spare = 5 * STEPS_PER_EPOCH, left - sum(out)
    for i in np.linspace(0, rest - 1, rest, dtype=int) if rest else []:
        if spare < full - out[i]:
            break
        spare -= full - out[i]
        out[i] = full
    if rest and spare > 0:  # what is left over, in one run that is not 5 epochs
        out[out.index(min(out))] += spare
    return [big_steps] * big + out


def curve(rng: np.random.Generator, n: int, steps_per_epoch: int) -> StepColumns:
    """A run's steps: loss decaying from ln(10) towards a floor with mini-batch noise, float32 values."""
    step = np.arange(1, n + 1, dtype=np.int64)
    floor, tau = rng.uniform(0.2, 0.6), rng.uniform(200, 3000)
    loss = floor + (np.log(10) - floor) * np.exp(-step / tau)
    loss = (loss * (1 + 0.15 * rng.standard_normal(n))).astype(np.float32).astype(np.float64)
    grads = (step <= 100) | (step % 10 == 0)  # events.has_grad_stats
    g_abs = (1e-2 * np.exp(-step / (2 * tau)) + 1e-4) * (1 + 0.1 * rng.standard_normal(n))
    g_mean = (1e-4 * rng.standard_normal(n)).astype(np.float32).astype(np.float64)
    g_abs = g_abs.astype(np.float32).astype(np.float64)
    has = {"loss": np.ones(n, bool), "grad_mean": grads, "grad_abs_mean": grads}
    return StepColumns(step, (step - 1) // steps_per_epoch + 1, loss, np.where(grads, g_mean, np.nan), np.where(grads, g_abs, np.nan), has)


def fill(path: Path, runs: int, steps: int, progress: Callable[[str], None] = lambda s: None) -> Filled:
    """A store at path (created) of `runs` runs holding `steps` steps in all."""
    assert has_grad_stats(100) and not has_grad_stats(101)  # what curve() writes
    store = RunStore(path)
    db = store._db()
    db.execute("PRAGMA synchronous=OFF")  # a scratch store: a crash while filling costs nothing
    t0 = time.perf_counter()
    owners = max(1, min(OWNERS, runs // 4))  # a sweep needs 4 runs of one student
    out = Filled(owners=[f"p{i}" for i in range(1, owners + 1)])
    with db:
        db.executemany("INSERT INTO people (id, name, role, created) VALUES (?, ?, 'student', ?)", [(i, f"Student {i}", 0.0) for i in range(1, owners + 1)])  # fmt: skip
    rng = np.random.default_rng(0)
    plan = lengths(runs, steps)
    big = max(1, runs // 1000)  # plan's first entries
    order = rng.permutation(len(plan))  # the big runs land among everyone's
    for start in range(0, runs, 200):
        with db:
            for i in range(start, min(start + 200, runs)):
                layers = order[i] < big or i % LAYERS_EVERY == 3  # the big runs and a few others record layer statistics
                run_id = _run(db, rng, i, plan[order[i]], out.owners[i % owners], out, layers)  # students' runs interleave
                if order[i] < big:
                    out.big_runs.append(run_id)
        progress(f"  {min(start + 200, runs):,} of {runs:,} runs, {out.steps:,} steps, {time.perf_counter() - t0:.0f} s")
    with db:
        _sweeps(db, out)
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)  # on disk, as a server's store is: the first timed write does not flush the fill's pages
    os.close(fd)
    out.runs, out.seconds = runs, time.perf_counter() - t0
    return out


def _run(db, rng: np.random.Generator, i: int, n: int, owner: str, out: Filled, layers: bool) -> int:
    """One finished run of n steps: runs row, holder(s), steps in chunks, epochs, maybe layer stats."""
    spe = STEPS_PER_EPOCH if n >= STEPS_PER_EPOCH else max(1, n // 5)
    if n == BIG_STEPS:
        spe = 1000
    epochs = -(-n // spe)
    config = TrainConfig(model=MODELS[i % len(MODELS)], lr=LRS[i % len(LRS)], epochs=epochs, seed=i)
    created = 1.7e9 + 60 * i
    status = "diverged" if config.lr == 1.0 and i % 3 == 0 else "completed"
    final = {"test_accuracy": float(rng.uniform(0.7, 0.9)), "test_loss": float(rng.uniform(0.3, 0.6)), "epoch": epochs}
    run_id = db.execute(
        "INSERT INTO runs (key, config, status, message, params, device, steps_per_epoch, total_steps, created, started, finished, pid, final, owner) "
        "VALUES (?, ?, ?, 'done', 669706, 'cpu', ?, ?, ?, ?, ?, 0, ?, ?)",
        (config.key, json.dumps(config.to_dict()), status, spe, n, created, created + 1, created + 1 + n / 200, json.dumps(final), owner),
    ).lastrowid
    db.execute("INSERT INTO holders VALUES (?, ?, ?)", (run_id, owner, created))
    if i % 20 == 7:  # served to another student from the cache
        db.execute("INSERT OR IGNORE INTO holders VALUES (?, ?, ?)", (run_id, out.owners[(i * 7) % len(out.owners)], created + 5))
    cols = curve(rng, n, spe)
    for a in range(0, n, CHUNK):
        step_store.insert(db, run_id, cols.take(slice(a, a + CHUNK)))
        out.chunks += 1
    out.steps += n
    rows = [(run_id, e, *rng.uniform(0.2, 0.9, 4).tolist(), n / 200 / epochs, config.lr) for e in range(1, epochs + 1)]
    db.executemany("INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, test_loss, test_accuracy, seconds, lr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
    if layers:
        _layer_stats(db, rng, run_id, n)
    return run_id


def _layer_stats(db, rng: np.random.Generator, run_id: int, n: int) -> None:
    """Layer statistics as layerstats.due spaces them (every step to 10, every 5th to 100, then about
    2,000 points): 2 Linear and 2 ReLU layers, the ReLUs with a 40-bin histogram."""
    spacing = max(20, -(-n // 2000))
    due = [s for s in range(1, n + 1) if s <= 10 or (s <= 100 and s % 5 == 0) or (s > 100 and s % spacing == 0)]
    rows = []
    for s in due:
        hist = rng.dirichlet(np.ones(40)).astype(np.float32).tobytes()
        for layer in range(4):
            v = rng.random(4).tolist()
            if layer % 2 == 0:
                rows.append((run_id, s, layer, f"#{layer + 1} Linear", *v[:3], None, None, None, None, None))
            else:
                rows.append((run_id, s, layer, f"#{layer + 1} ReLU", None, None, None, *v[:3], None, hist))
    db.executemany("INSERT INTO layer_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _sweeps(db, out: Filled) -> None:
    """A learning-rate sweep of every SWEEP_EVERY-th student's last 4 runs."""
    base = json.dumps(TrainConfig().to_dict())
    for owner in out.owners[::SWEEP_EVERY]:
        ids = [r[0] for r in db.execute("SELECT run_id FROM holders WHERE owner=? ORDER BY run_id DESC LIMIT 4", (owner,))][::-1]
        if len(ids) < 4:
            continue
        members = [{"label": str(lr), "value": lr, "seed": 0, "run_id": run_id} for lr, run_id in zip(LRS, ids)]
        db.execute(
            "INSERT INTO sweeps (created, setting, base, members, owner) VALUES (1.7e9, 'lr', ?, ?, ?)", (base, json.dumps(members), owner)
        )
        out.sweeps.append(ids)
