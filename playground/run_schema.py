"""The run store's tables (SQLite), and the upgrade of a store written by an older version in place."""

from __future__ import annotations

import contextlib
import json
import sqlite3

from playground import step_store
from playground.config import TrainConfig
from playground.errors import PlaygroundError

_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,              -- TrainConfig.key: the cache key
    config TEXT NOT NULL,           -- TrainConfig as JSON
    status TEXT NOT NULL,           -- queued | running | completed | diverged | stopped | failed | interrupted
    message TEXT NOT NULL DEFAULT '',
    params INTEGER,                 -- trainable parameters
    device TEXT,
    steps_per_epoch INTEGER,
    total_steps INTEGER,
    created REAL NOT NULL,          -- unix seconds
    started REAL,
    finished REAL,
    pid INTEGER,                    -- process that runs it, to spot runs orphaned by a crash
    final TEXT,                     -- JSON: last epoch's metrics
    owner TEXT NOT NULL DEFAULT '', -- who asked for it first ('' on a laptop; class mode: roster's Person.owner)
    executor TEXT NOT NULL DEFAULT 'local' -- where it trained: local (a worker process or thread) | ray
);
CREATE INDEX IF NOT EXISTS runs_key ON runs(key, status);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL,
    train_accuracy REAL,
    test_loss REAL,
    test_accuracy REAL,
    seconds REAL,
    lr REAL,
    val_loss REAL,
    val_accuracy REAL,
    penalty REAL,                   -- the regularisation term (rate x sum |w| or w²/2) at the epoch's end
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS layer_stats (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    layer INTEGER NOT NULL,         -- the module's position in the model
    name TEXT NOT NULL,             -- e.g. "#1 Linear 784→512"
    weight_norm REAL, grad_norm REAL, update_ratio REAL,   -- layers with weights
    act_mean REAL, act_std REAL, dead REAL, saturated REAL, -- activation layers
    hist BLOB,                      -- float32 [layerstats.BINS]: share of outputs per bin
    PRIMARY KEY (run_id, step, layer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    probability BLOB NOT NULL,      -- float32 [R*R]: P(class 1) on the toy page's grid (boundary.grid)
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS networks (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,         -- the latest snapshot epoch: only the latest is kept
    maps BLOB NOT NULL              -- unitmaps.NetworkMaps.to_bytes(): every unit's map and the weights
);
CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    setting TEXT NOT NULL,          -- the swept setting, a key of sweeps.SETTINGS
    base TEXT NOT NULL,             -- the base TrainConfig as JSON
    members TEXT NOT NULL,          -- JSON list of {label, value, seed, run_id}
    owner TEXT NOT NULL DEFAULT ''  -- who made it
);
CREATE TABLE IF NOT EXISTS holders (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,            -- someone whose list has the run: who trained it, and whoever asked for
    since REAL NOT NULL,            -- the same settings later and was served it from the cache
    PRIMARY KEY (run_id, owner)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS holders_owner ON holders(owner, run_id);
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,      -- as the teacher wrote it
    role TEXT NOT NULL,             -- student | teacher
    token_hash TEXT UNIQUE,         -- sha256 of the join link's token (the token itself is never stored)
    login TEXT UNIQUE,              -- the e-mail of someone who signs in with st.login
    created REAL NOT NULL,
    last_seen REAL
);
CREATE TABLE IF NOT EXISTS challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    title TEXT NOT NULL,
    dataset TEXT NOT NULL,          -- a registry name
    max_epochs INTEGER NOT NULL,    -- the budget of one entry
    max_params INTEGER NOT NULL,
    board_shown INTEGER NOT NULL,   -- 1: students see the leaderboard
    open INTEGER NOT NULL           -- 1: entries are taken
);
CREATE TABLE IF NOT EXISTS entries (
    challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,            -- the student who entered it
    entered REAL NOT NULL,
    hidden_accuracy REAL,           -- on the hidden part of the test set, worked out once the run has ended
    PRIMARY KEY (challenge_id, run_id, owner)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lab_progress (
    lab TEXT NOT NULL,              -- the lab's name (its file's stem)
    owner TEXT NOT NULL DEFAULT '', -- who ('' on a laptop)
    state TEXT NOT NULL,            -- JSON: labs.progress.Progress
    updated REAL NOT NULL,
    PRIMARY KEY (lab, owner)
) WITHOUT ROWID;
"""
SCHEMA = _TABLES + step_store.TABLE  # and the per-step curves, in chunks


KEY_VERSION = 1  # PRAGMA user_version of a store whose keys TrainConfig.key wrote as it is now
OWNERS_VERSION = 2  # ... and whose runs each have a holder (class mode's owners)
CHUNKS_VERSION = 3  # ... and whose steps are stored in chunks (step_store), not one row each


def migrate(db: sqlite3.Connection) -> bool:
    """Add the columns a store made by an older version lacks, and recompute its cache keys once
    (version 0 keys hashed every field; adding a setting would have orphaned every stored run).
    True if it converted steps stored as rows into chunks (the file then has pages to give back)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(epochs)")}
    for column in ("lr", "val_loss", "val_accuracy", "penalty"):
        if column not in have:
            db.execute(f"ALTER TABLE epochs ADD COLUMN {column} REAL")
    for table, column, default in (("runs", "owner", "''"), ("sweeps", "owner", "''"), ("runs", "executor", "'local'")):
        if column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}")
    db.execute("CREATE INDEX IF NOT EXISTS sweeps_owner ON sweeps(owner, id)")  # here: a store before owners lacks the column
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version < KEY_VERSION:
        for row in db.execute("SELECT id, config FROM runs").fetchall():
            with contextlib.suppress(PlaygroundError, TypeError, ValueError):  # a config no longer valid keeps its key
                db.execute("UPDATE runs SET key=? WHERE id=?", (TrainConfig.from_dict(json.loads(row[1])).key, row[0]))
    if version < OWNERS_VERSION:  # a run made before owners is its owner's, '' (the laptop's)
        db.execute("INSERT OR IGNORE INTO holders (run_id, owner, since) SELECT id, owner, created FROM runs")
        db.execute(f"PRAGMA user_version={OWNERS_VERSION}")
    return version < CHUNKS_VERSION and _chunk_steps(db)


def _chunk_steps(db: sqlite3.Connection) -> bool:
    """Steps as rows -> steps in chunks, in one transaction taken before looking, so that of two
    processes opening an old store at once one converts it and the other finds it converted."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    rows = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='steps'").fetchone() is not None
    if rows:
        step_store.migrate_rows(db)
    db.execute(f"PRAGMA user_version={CHUNKS_VERSION}")
    return rows
