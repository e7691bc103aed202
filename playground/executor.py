"""Where runs train: never in the web server's process.

`ProcessExecutor` (the default) keeps one warm worker process (`python -m playground.worker`,
started with the app; it imports PyTorch and trains two tiny models on made-up images, so a
student's first run pays no one-time costs). Tasks go to it one at a time over an authenticated
local connection; their events come back on the same connection. The pages only
read the run store, so nothing they do takes the interpreter lock the training loop needs (a loop
in a thread of the server was measured at 206 steps/s alone and 3.8 with a queued run's page on
screen). A stop reaches the worker within 50 ms; a run still queued is cancelled here and never
sent. If the worker dies (killed, out of memory), the runs it held end 'failed' with the reason
and a new worker takes the next task.

`ThreadExecutor` (PLAYGROUND_EXECUTOR=thread) trains the same tasks in a thread of this process:
for stepping through the loop with a debugger or a profiler, and for tests that patch the loop.

Both keep a FIFO queue of tasks and a dispatcher thread that hands them out one at a time (two
laptop cores are better spent on one run at a time). The learning-rate finder is a task of its own
kind ("lr_find"): it waits its turn like a run, Stop works the same, and it writes nothing to the
run store.
"""

from __future__ import annotations

import abc
import contextlib
import itertools
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Client, Listener
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from playground import worker
from playground.events import EndEvent, Event
from playground.worker import Task

if TYPE_CHECKING:
    from playground.runs import RunStore


class Submitted(Protocol):
    """What the executor needs of a submitted run (playground.jobs.Job is one)."""

    run_id: int | None  # None: a task that is no run in the store (the learning-rate finder)
    canceller: Callable[[], None] | None

    @property
    def done(self) -> bool: ...

    def deliver(self, events: list[Event]) -> None: ...


log = logging.getLogger(__name__)
KINDS = ("process", "thread")


class Executor(abc.ABC):
    """A FIFO of tasks, handed out one at a time by a dispatcher thread; subclasses say where a task
    trains (`_run`) and how a stop reaches it (`_stop_current`)."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Task, list[Submitted], RunStore]] = deque()
        self._cv = threading.Condition()
        self._current: Task | None = None
        self._stopping: Task | None = None  # the current task, once asked to stop (even before it reached its trainer)
        self._seq = itertools.count(1)
        self._dispatcher: threading.Thread | None = None

    def submit(self, store: RunStore, jobs: list[Submitted], kind: str = "train", finder: tuple = ()) -> Task:
        """Queue jobs as one task (several jobs: twins trained as one group; kind "lr_find": one job,
        the learning-rate finder with finder = (start_lr, end_lr, steps), which is no run)."""
        run_ids = tuple(j.run_id for j in jobs) if kind == "train" else ()
        task = Task(next(self._seq), str(store.path.parent), run_ids, tuple(j.config.to_dict() for j in jobs), kind, finder)
        for job in jobs:
            job.canceller = lambda task=task: self.stop(task)
        with self._cv:
            self._queue.append((task, jobs, store))
            self._cv.notify()
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, name="playground-dispatch", daemon=True)
                self._dispatcher.start()
        return task

    def stop(self, task: Task) -> None:
        """Stop a task: at once if it is still queued (it never starts), else within one step."""
        with self._cv:
            queued = next((item for item in self._queue if item[0] is task), None)
            if queued is not None:
                self._queue.remove(queued)
            elif self._current is task:
                self._stopping = task
                self._stop_current(task)
                return
            else:
                return
        _, jobs, store = queued
        for job in jobs:
            message = "stopped while queued: it never started"
            try:
                if job.run_id is not None:
                    store.finish(job.run_id, "stopped", message, {})
            finally:
                job.deliver([EndEvent("stopped", message)])

    def queued(self) -> int:
        with self._cv:
            return len(self._queue)

    def ahead(self, task: Task) -> int:
        """How many tasks go before a queued task: those queued before it and the one in training."""
        with self._cv:
            if self._current is task:
                return 0
            return sum(1 for t, _, _ in self._queue if t.seq < task.seq) + (self._current is not None)

    def _dispatch(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                task, jobs, store = self._queue.popleft()
                self._current = task
            try:
                self._run(task, jobs, store)
            except Exception:  # the executor's own bug: never leave a run 'running' for ever
                log.error("task %s failed:\n%s", task.run_ids, traceback.format_exc())
                _fail_unfinished(jobs, store, "internal error in the executor; please report it")
            finally:
                with self._cv:
                    self._current = self._stopping = None

    def _stop_asked(self, task: Task) -> bool:
        return self._stopping is task

    ready = False  # warm: a run submitted now starts at once

    def start(self) -> None:  # noqa: B027 (a hook: only the process executor has something to start)
        """Get ready to train at once (the process executor starts its worker)."""

    @abc.abstractmethod
    def _run(self, task: Task, jobs: list[Submitted], store: RunStore) -> None:
        """Train the task's runs; return when each has ended (its end is in the store)."""

    @abc.abstractmethod
    def _stop_current(self, task: Task) -> None:
        """Make the task in training stop within a step."""


class ThreadExecutor(Executor):
    ready = True  # this process is the trainer

    def _run(self, task, jobs, store) -> None:
        # A thread of its own that is not a daemon: a command-line caller returns once the run's end
        # is delivered, and the interpreter must then wait for the loop's last clean-up (freeing the
        # model in PyTorch) instead of shutting down under it (seen: an abort at exit).
        thread = threading.Thread(
            target=worker.execute,
            args=(task, lambda m, events: jobs[m].deliver(events), lambda: self._stop_asked(task)),
            name=f"playground-task-{task.seq}",
        )
        thread.start()
        thread.join()

    def _stop_current(self, task) -> None:
        """Nothing to pass on: the loop asks `_stop_asked` at every step."""


class ProcessExecutor(Executor):
    def __init__(self) -> None:
        super().__init__()
        self._process: subprocess.Popen | None = None
        self._conn = None
        self._send_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._ready = False  # the worker said it is warm (PyTorch imported, tiny runs done, data read)

    @property
    def ready(self) -> bool:
        """Warm and waiting for work (never blocks: a page asks)."""
        process = self._process
        return self._ready and process is not None and process.poll() is None

    def start(self) -> None:
        """Start the worker in the background (a page calls this; it must not wait for it)."""
        if (self._process is not None and self._process.poll() is None) or self._start_lock.locked():
            return  # running, or being started (a page calls this on every rerun)
        threading.Thread(target=self._worker, name="playground-worker-start", daemon=True).start()

    @property
    def pid(self) -> int | None:
        with self._start_lock:
            return self._process.pid if self._process is not None and self._process.poll() is None else None

    def _worker(self):
        """The live worker process and our end of its connection, started if there is none.

        The worker is `python -m playground.worker`, not a multiprocessing child: a spawned child
        re-imports the parent's main module, which inside Streamlit is the app script."""
        with self._start_lock:
            if self._process is None or self._process.poll() is not None:
                key = secrets.token_bytes(32)
                with Listener(authkey=key) as listener:  # a Unix socket or a Windows named pipe, ours only
                    # the folder holding this package first on the path: the app may be started from any folder
                    root = str(Path(__file__).resolve().parent.parent)
                    path = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
                    env = dict(
                        os.environ,
                        PYTHONPATH=path,
                        PLAYGROUND_WORKER_ADDRESS=str(listener.address),
                        PLAYGROUND_WORKER_KEY=key.hex(),
                        PLAYGROUND_WORKER_PARENT=str(os.getpid()),
                    )
                    process = subprocess.Popen([sys.executable, "-m", "playground.worker"], env=env)
                    self._conn = _accept(listener, process, key)
                self._process, self._ready = process, False
                if self._conn.recv() != ("ready",):  # its warm-up is done (EOFError if it died)
                    raise OSError("the training process did not start properly")
                self._ready = True
            return self._process, self._conn

    def _run(self, task, jobs, store) -> None:
        try:
            _process, conn = self._worker()
            with self._send_lock:
                conn.send(("task", task))
                if self._stop_asked(task):  # asked while the worker was starting, before there was anyone to tell
                    conn.send(("stop", task.seq))
            while True:
                message = conn.recv()
                if message[0] == "events":
                    jobs[message[1]].deliver(message[2])
                elif message == ("done", task.seq):
                    return
        except (EOFError, OSError) as e:  # the worker is gone (killed, out of memory) or never came
            code = self._process.wait(5) if self._process is not None else None
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}" if code is not None else str(e)
            _fail_unfinished(
                jobs, store, f"the training process ended unexpectedly ({how}), perhaps out of memory; the next run starts a new one"
            )
            with self._start_lock:
                self._process = self._conn = None
                self._ready = False

    def _stop_current(self, task) -> None:
        with self._send_lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):  # the worker just ended (a broken pipe): the dispatcher sees it
                    self._conn.send(("stop", task.seq))


def _accept(listener: Listener, process: subprocess.Popen, key: bytes, timeout: float = 120):
    """The worker's connection; an OSError if it ends (or hangs) before connecting."""
    result: dict = {}

    def accept() -> None:
        try:
            result["conn"] = listener.accept()
        except Exception as e:
            result["error"] = e

    waiter = threading.Thread(target=accept, daemon=True)
    waiter.start()
    deadline = time.monotonic() + timeout
    while waiter.is_alive():
        waiter.join(0.1)
        if waiter.is_alive() and (process.poll() is not None or time.monotonic() > deadline):
            process.kill()
            with contextlib.suppress(OSError):  # unblock accept() with a connection of our own, then report the failure
                Client(listener.address, authkey=key).close()
            waiter.join(5)
            raise OSError(f"the training process did not start (exit code {process.poll()})")
    if "error" in result:
        raise OSError(f"the training process could not connect ({result['error']})")
    return result["conn"]


def _fail_unfinished(jobs: list[Submitted], store: RunStore, message: str) -> None:
    for job in jobs:
        if job.done:
            continue
        try:
            if job.run_id is not None:
                store.finish(job.run_id, "failed", message, {})
        except Exception:
            log.error("could not record the failure of run %s:\n%s", job.run_id, traceback.format_exc())
        job.deliver([EndEvent("failed", message)])


_executors: dict[str, Executor] = {}
_executors_lock = threading.Lock()


def get(kind: str | None = None) -> Executor:
    """The process-wide executor of a kind (default: $PLAYGROUND_EXECUTOR, else 'process')."""
    from playground.errors import PlaygroundError

    kind = kind or os.environ.get("PLAYGROUND_EXECUTOR") or "process"
    if kind not in KINDS:
        raise PlaygroundError(f"PLAYGROUND_EXECUTOR = {kind!r} is not allowed: use one of {', '.join(KINDS)}")
    with _executors_lock:
        if kind not in _executors:
            _executors[kind] = ProcessExecutor() if kind == "process" else ThreadExecutor()
        return _executors[kind]
