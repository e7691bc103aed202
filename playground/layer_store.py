"""The run store's per-layer statistics (playground.layerstats): one row of layer_stats per layer
and recorded step, hist a float32 BLOB. Sparse (about 2,000 recorded steps a run at most), so rows."""

from __future__ import annotations

import sqlite3

import numpy as np

COLUMNS = ("step", "layer", "name", "weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std", "dead", "saturated", "hist")  # fmt: skip


def rows(run_id: int, events) -> list[tuple]:
    """layer_stats rows of the LayerStats of StepEvents."""
    out = []
    for e in events:
        for s in e.layers or ():
            hist = None if s.hist is None else np.asarray(s.hist, dtype=np.float32).tobytes()
            out.append((run_id, *(getattr(s, c) for c in COLUMNS[:-1]), hist))
    return out


def write(db: sqlite3.Connection, rows: list[tuple]) -> None:
    db.executemany(
        f"INSERT OR REPLACE INTO layer_stats (run_id, {', '.join(COLUMNS)}) VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", rows
    )


def read(db: sqlite3.Connection, run_id: int) -> list[dict]:
    """The run's rows by step then layer, as dicts; hist a list of floats (or None)."""
    cur = db.cursor()
    cur.row_factory = None  # plain tuples: a 100,000-step run has about 8,000 rows
    out = []
    for r in cur.execute(f"SELECT {', '.join(COLUMNS)} FROM layer_stats WHERE run_id=? ORDER BY step, layer", (run_id,)).fetchall():
        d = dict(zip(COLUMNS, r))
        d["hist"] = None if r[-1] is None else np.frombuffer(r[-1], dtype=np.float32).tolist()
        out.append(d)
    return out
