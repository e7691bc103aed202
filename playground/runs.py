"""The run store: every run's config, status, timings and metrics in one SQLite file.

A finished run is found again by its config key; that is what makes the trainer "cached".
Each thread keeps its own connection, so worker threads and page threads never share one; WAL lets
readers draw curves while a worker writes. Every run has holders: whoever's list it is in (the one
who trained it, and in class mode anyone later served it from the cache); playground.classroom.access
shows each person only the runs they hold.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground import layer_store, run_schema, step_chunks, step_store
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import EpochEvent, StartEvent, StepEvent
from playground.step_chunks import StepColumns

ACTIVE = ("queued", "running")
REUSABLE = ("completed", "diverged")  # deterministic outcomes: training again gives the same result
EPOCH_COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "lr", "val_loss", "val_accuracy", "penalty")  # fmt: skip


@dataclass(frozen=True)
class Run:
    id: int
    config: TrainConfig
    status: str
    message: str
    params: int | None
    device: str | None
    steps_per_epoch: int | None
    total_steps: int | None
    created: float
    started: float | None
    finished: float | None
    final: dict
    owner: str = ""  # who asked for it first ('' on a laptop)
    executor: str = "local"  # where it trained: local | ray

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class RunStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=600000")  # another process may be converting an old store: minutes
                db.executescript(run_schema.SCHEMA)
                converted = run_schema.migrate(db)
            if converted:
                db.execute("VACUUM")  # the old rows' pages (about 30 bytes a step) back to the disk
        except (OSError, sqlite3.Error) as e:
            raise PlaygroundError(
                f"cannot open the run store {self.path} ({e}): make its folder writable or set PLAYGROUND_HOME to a writable folder"
            ) from None

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened once: opening one costs more than a small write."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _write(self, sql: str, args: Iterable = ()) -> int:
        """One statement, in its own transaction; the new row's id."""
        with self._transaction() as db:
            return db.execute(sql, tuple(args)).lastrowid

    @contextlib.contextmanager
    def _transaction(self):
        """This thread's connection in a transaction; a write the disk refuses is the user's to fix."""
        try:
            with self._db() as db:
                yield db
        except sqlite3.OperationalError as e:  # disk full, read-only file, locked too long
            raise PlaygroundError(
                f"the run store {self.path} cannot be written ({e}): free some disk space or check its permissions"
            ) from None

    def _read(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        return self._db().execute(sql, tuple(args)).fetchall()

    # the tables of other concepts kept in this file (playground.classroom's people) use these two
    def query(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        return self._read(sql, args)

    def write(self, sql: str, args: Iterable = ()) -> int:
        return self._write(sql, args)

    # --- writing, in the order a run goes through ---

    def create(self, config: TrainConfig, owner: str = "", executor: str = "local") -> int:
        """A queued run of config, held by its owner, to train on an executor (local | ray)."""
        now = time.time()
        with self._transaction() as db:
            run_id = db.execute(
                "INSERT INTO runs (key, config, status, created, pid, owner, executor) VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                (config.key, json.dumps(config.to_dict()), now, os.getpid(), owner, executor),
            ).lastrowid
            db.execute("INSERT INTO holders VALUES (?, ?, ?)", (run_id, owner, now))
        return run_id

    def hold(self, run_id: int, owner: str) -> None:
        """Put a run in someone's list (served to them from the cache, or joined while it trains)."""
        self._write("INSERT OR IGNORE INTO holders VALUES (?, ?, ?)", (run_id, owner, time.time()))

    def holds(self, owner: str, run_id: int) -> bool:
        return bool(self._read("SELECT 1 FROM holders WHERE run_id=? AND owner=?", (run_id, owner)))

    def holders(self, run_id: int) -> list[str]:
        """Whose lists have the run, the first holder (who trained it) first."""
        return [r["owner"] for r in self._read("SELECT owner FROM holders WHERE run_id=? ORDER BY since, owner", (run_id,))]

    def release(self, run_id: int, owner: str) -> bool:
        """Take a run out of someone's list; the run itself goes once nobody holds it. True if it went."""
        self._write("DELETE FROM holders WHERE run_id=? AND owner=?", (run_id, owner))
        if self._read("SELECT 1 FROM holders WHERE run_id=?", (run_id,)):
            return False
        self.delete(run_id)
        return True

    def start(self, run_id: int, e: StartEvent) -> None:
        self._write(
            "UPDATE runs SET status='running', started=?, params=?, device=?, steps_per_epoch=?, total_steps=? WHERE id=?",
            (time.time(), e.params, e.device, e.steps_per_epoch, e.total_steps, run_id),
        )

    def add_steps(self, run_id: int, events: list[StepEvent]) -> None:
        """A flush of steps (one chunk; steps written again replace the old), and their layer stats."""
        if not events:
            return
        cols, layers = step_chunks.from_events(events), layer_store.rows(run_id, events)
        with self._transaction() as db:
            step_store.write(db, run_id, cols)
            layer_store.write(db, layers)

    def add_epoch(self, run_id: int, e: EpochEvent) -> None:
        marks = ", ".join("?" * (len(EPOCH_COLUMNS) + 1))
        sql = f"INSERT OR REPLACE INTO epochs (run_id, {', '.join(EPOCH_COLUMNS)}) VALUES ({marks})"
        self._write(sql, (run_id, *(getattr(e, c) for c in EPOCH_COLUMNS)))

    def add_snapshot(self, run_id: int, epoch: int, probability) -> None:
        """A toy run's decision regions after an epoch: P(class 1) at each grid point."""
        import numpy as np

        blob = np.asarray(probability, dtype=np.float32).tobytes()
        self._write("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)", (run_id, epoch, blob))

    def set_network(self, run_id: int, epoch: int, maps) -> None:
        """A toy run's units' maps and weights after an epoch (unitmaps.NetworkMaps), replacing the last."""
        self._write("INSERT OR REPLACE INTO networks VALUES (?, ?, ?)", (run_id, epoch, maps.to_bytes()))

    def finish(self, run_id: int, status: str, message: str, final: dict) -> None:
        self._write(
            "UPDATE runs SET status=?, message=?, final=?, finished=? WHERE id=?",
            (status, message, json.dumps(final), time.time(), run_id),
        )

    def mark_orphans_interrupted(self) -> int:
        """Runs left queued/running by a process that no longer exists (a crash, a kill)."""
        orphans = [r["id"] for r in self._read("SELECT id, pid FROM runs WHERE status IN ('queued', 'running')") if not _alive(r["pid"])]
        for run_id in orphans:
            self.finish(run_id, "interrupted", "the process running it ended before the run finished", {})
        return len(orphans)

    def delete(self, run_id: int) -> None:
        """The run, its curves, and its stored weights."""
        from playground.home import weights_path

        self._write("DELETE FROM runs WHERE id=?", (run_id,))
        weights_path(run_id).unlink(missing_ok=True)

    def create_sweep(self, setting: str, base: TrainConfig, members: list[dict], owner: str = "") -> int:
        return self._write(
            "INSERT INTO sweeps (created, setting, base, members, owner) VALUES (?, ?, ?, ?, ?)",
            (time.time(), setting, json.dumps(base.to_dict()), json.dumps(members), owner),
        )

    def get_sweep(self, sweep_id: int) -> dict | None:
        rows = self._read("SELECT * FROM sweeps WHERE id=?", (sweep_id,))
        return _sweep(rows[0]) if rows else None

    def list_sweeps(self, limit: int = 50, owner: str | None = None) -> list[dict]:
        """The newest sweeps: everyone's (owner None), or one owner's."""
        if owner is None:
            return [_sweep(r) for r in self._read("SELECT * FROM sweeps ORDER BY id DESC LIMIT ?", (limit,))]
        return [_sweep(r) for r in self._read("SELECT * FROM sweeps WHERE owner=? ORDER BY id DESC LIMIT ?", (owner, limit))]

    def save_lab_progress(self, lab: str, state: dict, owner: str = "") -> None:
        self._write(
            "INSERT OR REPLACE INTO lab_progress (lab, owner, state, updated) VALUES (?, ?, ?, ?)",
            (lab, owner, json.dumps(state), time.time()),
        )

    def lab_progress(self, lab: str, owner: str = "") -> dict | None:
        rows = self._read("SELECT state FROM lab_progress WHERE lab=? AND owner=?", (lab, owner))
        return json.loads(rows[0]["state"]) if rows else None

    # --- reading ---

    def get(self, run_id: int) -> Run | None:
        rows = self._read("SELECT * FROM runs WHERE id=?", (run_id,))
        return _run(rows[0]) if rows else None

    def find_reusable(self, config: TrainConfig) -> Run | None:
        """The newest finished run of this exact config (seed included) whose result still holds."""
        marks = ",".join("?" * len(REUSABLE))
        rows = self._read(f"SELECT * FROM runs WHERE key=? AND status IN ({marks}) ORDER BY id DESC LIMIT 1", (config.key, *REUSABLE))
        return _run(rows[0]) if rows else None

    def list_runs(self, limit: int = 100, owner: str | None = None) -> list[Run]:
        """The newest runs: everyone's (owner None), or those one owner holds."""
        if owner is None:
            return [_run(r) for r in self._read("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))]
        sql = "SELECT runs.* FROM holders JOIN runs ON runs.id = holders.run_id WHERE holders.owner=? ORDER BY holders.run_id DESC LIMIT ?"
        return [_run(r) for r in self._read(sql, (owner, limit))]

    def steps(self, run_id: int) -> list[dict]:
        """Every step: {step, epoch, loss, grad_mean, grad_abs_mean}, None where the step has no value."""
        return self.step_columns(run_id).rows()

    def step_columns(self, run_id: int) -> StepColumns:
        """Every step as numpy columns: what the charts read (a 100,000-step run in milliseconds)."""
        return step_store.read(self._db(), run_id)

    def step_count(self, run_id: int) -> int:
        return step_store.count(self._db(), run_id)

    def last_step(self, run_id: int) -> int:
        """The run's latest stored step, 0 before any."""
        return step_store.last_step(self._db(), run_id)

    def layer_stats(self, run_id: int) -> list[dict]:
        """The run's per-layer statistics, by step then layer; hist as a list of floats (or None)."""
        return layer_store.read(self._db(), run_id)

    def first_loss(self, run_id: int) -> float | None:
        return step_store.first_loss(self._db(), run_id)

    def snapshots(self, run_id: int) -> list[tuple[int, Any]]:
        """(epoch, P(class 1) per grid point) of a toy run, in epoch order."""
        import numpy as np

        rows = self._read("SELECT epoch, probability FROM snapshots WHERE run_id=? ORDER BY epoch", (run_id,))
        return [(r["epoch"], np.frombuffer(r["probability"], dtype=np.float32)) for r in rows]

    def snapshot_ends(self, run_id: int) -> list[tuple[int, Any]]:
        """The first and the latest of snapshots(run_id) (one when there is one, none when none): what a
        page polling a training run draws, without reading every epoch's grid on each poll."""
        import numpy as np

        sql = (
            "SELECT epoch, probability FROM snapshots WHERE run_id=?1 AND epoch IN "
            "((SELECT MIN(epoch) FROM snapshots WHERE run_id=?1), (SELECT MAX(epoch) FROM snapshots WHERE run_id=?1)) ORDER BY epoch"
        )
        return [(r["epoch"], np.frombuffer(r["probability"], dtype=np.float32)) for r in self._read(sql, (run_id,))]

    def network(self, run_id: int):
        """(epoch, unitmaps.NetworkMaps) of a toy run's latest snapshot, or None."""
        from playground.unitmaps import NetworkMaps

        rows = self._read("SELECT epoch, maps FROM networks WHERE run_id=?", (run_id,))
        return (rows[0]["epoch"], NetworkMaps.from_bytes(rows[0]["maps"])) if rows else None

    def epochs(self, run_id: int) -> list[dict]:
        sql = f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id=? ORDER BY epoch"
        return [dict(r) for r in self._read(sql, (run_id,))]


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        config=_config(row["config"]),
        status=row["status"],
        message=row["message"],
        params=row["params"],
        device=row["device"],
        steps_per_epoch=row["steps_per_epoch"],
        total_steps=row["total_steps"],
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        final=json.loads(row["final"]) if row["final"] else {},
        owner=row["owner"],
        executor=row["executor"],
    )


@functools.lru_cache(maxsize=4096)
def _config(text: str) -> TrainConfig:
    """A stored config, parsed once per process (TrainConfig.stored: taken as written, not checked again)."""
    return TrainConfig.stored(json.loads(text))


def _sweep(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "created": row["created"],
        "setting": row["setting"],
        "base": TrainConfig.stored(json.loads(row["base"])),
        "members": json.loads(row["members"]),
        "owner": row["owner"],
    }


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
