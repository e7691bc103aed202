"""The process-wide executor: $PLAYGROUND_EXECUTOR (process | thread | ray) picks where runs train
(playground.executor); class mode sizes the process pool (playground.classroom.config)."""

from __future__ import annotations

import os
import threading

from playground.errors import PlaygroundError
from playground.executor import KINDS, Executor, ThreadExecutor

_executors: dict[str, Executor] = {}
_executors_lock = threading.Lock()


def get(kind: str | None = None) -> Executor:
    """The process-wide executor of a kind (default: $PLAYGROUND_EXECUTOR, else 'process'); the
    process executor's pool is sized by playground.classroom.config (one worker on a laptop)."""
    kind = kind or os.environ.get("PLAYGROUND_EXECUTOR") or "process"
    if kind not in KINDS:
        raise PlaygroundError(f"PLAYGROUND_EXECUTOR = {kind!r} is not allowed: use one of {', '.join(KINDS)}")
    with _executors_lock:
        if kind not in _executors:
            _executors[kind] = _make(kind)
        return _executors[kind]


def _make(kind: str) -> Executor:
    if kind == "thread":
        return ThreadExecutor()
    if kind == "ray":
        try:
            from playground.ray_executor import RayExecutor
        except ImportError as e:
            raise PlaygroundError(f"PLAYGROUND_EXECUTOR=ray needs Ray: pip install ray ({e})") from None
        return RayExecutor()
    from playground.classroom.config import pool_size
    from playground.process_executor import ProcessExecutor

    return ProcessExecutor(pool_size())
