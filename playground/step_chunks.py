"""A run's per-step curve as columns, and one chunk of it packed into bytes (a BLOB of the run
store's step_chunks table: playground.step_store).

Packed chunk, little-endian:
    header  <BBxxIIq: format version, flags, n steps, k epoch runs, first step
    step    int64[n], left out when the steps are first, first+1, ... (flag CONSECUTIVE)
    epoch   int32[k] values, int32[k] run lengths (an epoch holds hundreds of steps)
    then loss, grad_mean, grad_abs_mean, each: a bit mask of the steps that have a value (packbits,
            left out when every step has one) and the values of those steps, float32 when every
            one of them is exactly a float32 (a torch loss is), else float64.
So a value comes back exactly as written: None stays None, NaN stays NaN, inf stays inf; and a
step without gradient statistics (events.has_grad_stats) costs one bit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

VERSION = 1
HEADER = struct.Struct("<BBxxIIq")
CONSECUTIVE = 1
FLOATS = ("loss", "grad_mean", "grad_abs_mean")  # the optional float columns, in packing order
_MASKED, _F32 = 2, 4  # flag bits of a float column, shifted left by 2 * its position


@dataclass(frozen=True)
class StepColumns:
    """Steps in ascending order, one entry per step. A float column has NaN where it has no value;
    has[column] says which steps have one (so a stored NaN and a missing value stay apart)."""

    step: np.ndarray  # int64 [n]
    epoch: np.ndarray  # int64 [n]
    loss: np.ndarray  # float64 [n]
    grad_mean: np.ndarray  # float64 [n]: at the steps with gradient statistics
    grad_abs_mean: np.ndarray  # float64 [n]
    has: dict  # column -> bool [n]

    def __len__(self) -> int:
        return len(self.step)

    def take(self, index) -> StepColumns:
        """The steps at index (a slice, positions or a bool mask), as columns."""
        return StepColumns(*(getattr(self, c)[index] for c in ("step", "epoch", *FLOATS)), {c: m[index] for c, m in self.has.items()})

    def rows(self, index=None) -> list[dict]:
        """RunStore.steps' rows (of the steps at index): {step, epoch, loss, grad_mean, grad_abs_mean}."""
        cols = self if index is None else self.take(index)
        values = [cols.step.tolist(), cols.epoch.tolist()]
        for c in FLOATS:
            v = getattr(cols, c).tolist()
            has = cols.has[c]
            if not has.all():
                v = [x if h else None for x, h in zip(v, has.tolist())]
            values.append(v)
        return [{"step": s, "epoch": e, "loss": loss, "grad_mean": gm, "grad_abs_mean": gam} for s, e, loss, gm, gam in zip(*values)]

    def frame(self):
        """A pandas DataFrame: step, epoch, loss, grad_mean, grad_abs_mean (NaN where no value)."""
        import pandas as pd

        return pd.DataFrame({c: getattr(self, c) for c in ("step", "epoch", *FLOATS)})


def thin(n: int, limit: int) -> list[int] | slice:
    """Positions of the steps that a chart of at most about limit of n points draws: every k-th, and the last."""
    k = n // limit + 1
    return slice(None) if k == 1 else [*range(0, n, k), n - 1]


def empty() -> StepColumns:
    f = np.empty(0)
    return StepColumns(np.empty(0, np.int64), np.empty(0, np.int64), f, f, f, {c: np.empty(0, bool) for c in FLOATS})


def from_rows(rows) -> StepColumns:
    """Columns of (step, epoch, loss, grad_mean, grad_abs_mean) tuples, None where no value; sorted by
    step, and of a step given twice the later (as INSERT OR REPLACE of one row per step kept it)."""
    rows = list(rows)
    if not rows:
        return empty()
    step = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    epoch = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    floats, has = [], {}
    for i, c in enumerate(FLOATS, 2):
        v = [r[i] for r in rows]
        has[c] = np.fromiter((x is not None for x in v), bool, len(v))
        floats.append(np.array([np.nan if x is None else x for x in v], np.float64))
    cols = StepColumns(step, epoch, *floats, has)
    if len(step) > 1 and not (np.diff(step) > 0).all():
        _, last = np.unique(step[::-1], return_index=True)  # sorted steps, each one's last occurrence
        cols = cols.take(len(step) - 1 - last)
    return cols


def from_events(events) -> StepColumns:
    """Columns of StepEvents (playground.events)."""
    return from_rows((e.step, e.epoch, e.loss, e.grad_mean, e.grad_abs_mean) for e in events)


def concat(parts: list[StepColumns]) -> StepColumns:
    """Parts in step order, one after the other."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return empty()
    return StepColumns(
        *(np.concatenate([getattr(p, c) for p in parts]) for c in ("step", "epoch", *FLOATS)),
        {c: np.concatenate([p.has[c] for p in parts]) for c in FLOATS},
    )


def merge(old: StepColumns, new: StepColumns) -> StepColumns:
    """old's steps that new does not have, and new's: a step written again takes its new values."""
    both = concat([old.take(~np.isin(old.step, new.step)), new])
    return both.take(np.argsort(both.step, kind="stable"))


def pack(cols: StepColumns) -> bytes:
    """One chunk's bytes (the module's docstring gives the layout)."""
    n = len(cols)
    first = int(cols.step[0]) if n else 0
    flags = CONSECUTIVE if np.array_equal(cols.step, first + np.arange(n)) else 0
    parts = [b"" if flags else cols.step.astype("<i8").tobytes()]
    starts = np.flatnonzero(np.diff(cols.epoch)) + 1 if n else np.empty(0, np.int64)
    bounds = np.concatenate([[0], starts, [n]]) if n else np.zeros(1, np.int64)
    parts.append(cols.epoch[bounds[:-1]].astype("<i4").tobytes() + np.diff(bounds).astype("<i4").tobytes())
    for i, c in enumerate(FLOATS):
        has = cols.has[c]
        values = getattr(cols, c)[has]
        bits = 0
        if not has.all():
            bits |= _MASKED
            parts.append(np.packbits(has).tobytes())
        as32 = values.astype(np.float32)
        if np.array_equal(as32.astype(np.float64), values, equal_nan=True):
            bits |= _F32
            parts.append(as32.astype("<f4").tobytes())
        else:
            parts.append(values.astype("<f8").tobytes())
        flags |= bits << (2 * i)
    return HEADER.pack(VERSION, flags, n, len(bounds) - 1, first) + b"".join(parts)


def unpack(blob: bytes) -> StepColumns:
    version, flags, n, k, first = HEADER.unpack_from(blob)
    if version != VERSION:
        raise ValueError(f"a step chunk of format {version}: this playground reads format {VERSION}")
    at = HEADER.size
    if flags & CONSECUTIVE:
        step = np.arange(first, first + n, dtype=np.int64)
    else:
        step, at = np.frombuffer(blob, "<i8", n, at).astype(np.int64), at + 8 * n
    values, lengths = np.frombuffer(blob, "<i4", k, at), np.frombuffer(blob, "<i4", k, at + 4 * k)
    epoch, at = np.repeat(values.astype(np.int64), lengths), at + 8 * k
    floats, has = [], {}
    for i, c in enumerate(FLOATS):
        bits = flags >> (2 * i)
        if bits & _MASKED:
            has[c] = np.unpackbits(np.frombuffer(blob, np.uint8, (n + 7) // 8, at), count=n).astype(bool)
            at += (n + 7) // 8
        else:
            has[c] = np.ones(n, bool)
        m = int(has[c].sum())
        dtype, size = ("<f4", 4) if bits & _F32 else ("<f8", 8)
        v = np.full(n, np.nan)
        v[has[c]] = np.frombuffer(blob, dtype, m, at)
        floats.append(v)
        at += size * m
    return StepColumns(step, epoch, *floats, has)
