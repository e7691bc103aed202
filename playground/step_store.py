"""The run store's per-step curves: one row of step_chunks per chunk of a run's steps, the chunk's
columns packed into a BLOB (playground.step_chunks). A class's store holds tens of millions of
steps: one row per step made a 100,000-step run's curve 100,000 rows to read (0.5 s) and about 30
bytes a step on disk; in chunks a step costs about 6 bytes and a curve is read as numpy arrays.

Chunks of a run never overlap, so the chunks that a write touches are found with two index seeks.
A write appends a chunk, or grows the run's last chunk while that one is small (the worker writes
every quarter second: a slow run's flushes hold a few steps each, and a curve of thousands of tiny
chunks would read slowly); steps written again replace the old ones (a replayed flush).
"""

from __future__ import annotations

import sqlite3

from playground import step_chunks
from playground.step_chunks import StepColumns

TABLE = """
CREATE TABLE IF NOT EXISTS step_chunks (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    first_step INTEGER NOT NULL,
    last_step INTEGER NOT NULL,
    n INTEGER NOT NULL,             -- steps in the chunk (its steps may have gaps)
    data BLOB NOT NULL,             -- step_chunks.pack(): step, epoch, loss, grad_mean, grad_abs_mean
    PRIMARY KEY (run_id, first_step)
) WITHOUT ROWID;
"""
GROW_BELOW = 1000  # a write goes into the run's last chunk while that one holds fewer steps
MIGRATE_CHUNK = 1000  # steps per chunk when a store of one row per step is converted


def write(db: sqlite3.Connection, run_id: int, new: StepColumns) -> None:
    """Store new's steps (inside the caller's transaction), replacing any stored step of the same number."""
    if not len(new):
        return
    lo, hi = int(new.step[0]), int(new.step[-1])
    absorbed = []
    prev = db.execute(
        "SELECT first_step, last_step, n FROM step_chunks WHERE run_id=? AND first_step<? ORDER BY first_step DESC LIMIT 1", (run_id, lo)
    ).fetchone()
    if prev is not None and (prev[1] >= lo or prev[2] < GROW_BELOW):
        absorbed.append(prev[0])
    absorbed += [
        r[0] for r in db.execute("SELECT first_step FROM step_chunks WHERE run_id=? AND first_step BETWEEN ? AND ?", (run_id, lo, hi))
    ]
    if absorbed:
        marks = ",".join("?" * len(absorbed))
        old = db.execute(
            f"SELECT data FROM step_chunks WHERE run_id=? AND first_step IN ({marks}) ORDER BY first_step", (run_id, *absorbed)
        )
        new = step_chunks.merge(step_chunks.concat([step_chunks.unpack(r[0]) for r in old]), new)
        db.execute(f"DELETE FROM step_chunks WHERE run_id=? AND first_step IN ({marks})", (run_id, *absorbed))
    insert(db, run_id, new)


def insert(db: sqlite3.Connection, run_id: int, cols: StepColumns) -> None:
    """One chunk of cols, as it is (the caller knows that no stored chunk overlaps it)."""
    db.execute(
        "INSERT INTO step_chunks VALUES (?, ?, ?, ?, ?)",
        (run_id, int(cols.step[0]), int(cols.step[-1]), len(cols), step_chunks.pack(cols)),
    )


def read(db: sqlite3.Connection, run_id: int) -> StepColumns:
    rows = db.execute("SELECT data FROM step_chunks WHERE run_id=? ORDER BY first_step", (run_id,)).fetchall()
    return step_chunks.concat([step_chunks.unpack(r[0]) for r in rows])


def first_loss(db: sqlite3.Connection, run_id: int) -> float | None:
    """The loss at step 1, or None (no step 1 yet, or its loss missing)."""
    row = db.execute("SELECT data FROM step_chunks WHERE run_id=? AND first_step<=1 AND last_step>=1", (run_id,)).fetchone()
    if row is None:
        return None
    cols = step_chunks.unpack(row[0])
    at = cols.step == 1
    return float(cols.loss[at][0]) if at.any() and cols.has["loss"][at][0] else None


def count(db: sqlite3.Connection, run_id: int) -> int:
    return db.execute("SELECT coalesce(sum(n), 0) FROM step_chunks WHERE run_id=?", (run_id,)).fetchone()[0]


def last_step(db: sqlite3.Connection, run_id: int) -> int:
    """The run's latest stored step (0 before any)."""
    row = db.execute("SELECT last_step FROM step_chunks WHERE run_id=? ORDER BY first_step DESC LIMIT 1", (run_id,)).fetchone()
    return row[0] if row else 0


def migrate_rows(db: sqlite3.Connection) -> None:
    """Convert a store of one `steps` row per step (user_version 2) into chunks, run by run in step
    order, MIGRATE_CHUNK steps a chunk, and drop the old table (inside the caller's transaction)."""
    run_ids = [r[0] for r in db.execute("SELECT DISTINCT run_id FROM steps")]
    for run_id in run_ids:
        rows = db.execute("SELECT step, epoch, loss, grad_mean, grad_abs_mean FROM steps WHERE run_id=? ORDER BY step", (run_id,))
        while batch := rows.fetchmany(MIGRATE_CHUNK):
            insert(db, run_id, step_chunks.from_rows(batch))
        rows.close()
    db.execute("DROP TABLE steps")
