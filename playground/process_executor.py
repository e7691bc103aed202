"""The process executor: a pool of warm worker processes (`python -m playground.worker`), one task
each at a time. One worker on a laptop; in class mode as many as the machine has room for
(playground.classroom.config.pool_size). A worker that dies fails only the runs it held; the next
task of its slot starts a new one."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Client, Listener
from pathlib import Path

from playground.classroom.config import worker_env
from playground.executor import Executor, fail_unfinished


class _Worker:
    """One training process and our end of its connection: started on demand, replaced if it died.

    The worker is `python -m playground.worker`, not a multiprocessing child: a spawned child
    re-imports the parent's main module, which inside Streamlit is the app script."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env  # added to the worker's environment: its threads, its GPU (class mode)
        self.process: subprocess.Popen | None = None
        self.conn = None
        self.send_lock = threading.Lock()
        self.start_lock = threading.Lock()
        self.warm = False  # the worker said it is warm (PyTorch imported, tiny runs done, data read)

    @property
    def alive(self) -> bool:
        process = self.process
        return process is not None and process.poll() is None

    def start(self) -> None:
        """Start it in the background (a page calls this; it must not wait for it)."""
        if self.alive or self.start_lock.locked():
            return  # running, or being started (a page calls this on every rerun)
        threading.Thread(target=self.connection, name="playground-worker-start", daemon=True).start()

    def connection(self):
        """Our end of the live worker's connection, the worker started if there is none."""
        with self.start_lock:
            if not self.alive:
                key = secrets.token_bytes(32)
                with Listener(authkey=key) as listener:  # a Unix socket or a Windows named pipe, ours only
                    # the folder holding this package first on the path: the app may be started from any folder
                    root = str(Path(__file__).resolve().parent.parent)
                    path = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
                    env = dict(
                        os.environ,
                        **self.env,
                        PYTHONPATH=path,
                        PLAYGROUND_WORKER_ADDRESS=str(listener.address),
                        PLAYGROUND_WORKER_KEY=key.hex(),
                        PLAYGROUND_WORKER_PARENT=str(os.getpid()),
                    )
                    process = subprocess.Popen([sys.executable, "-m", "playground.worker"], env=env)
                    self.conn = _accept(listener, process, key)
                self.process, self.warm = process, False
                if self.conn.recv() != ("ready",):  # its warm-up is done (EOFError if it died)
                    raise OSError("the training process did not start properly")
                self.warm = True
            return self.conn

    def send(self, message) -> None:
        with self.send_lock:
            if self.conn is not None:
                with contextlib.suppress(OSError):  # the worker just ended (a broken pipe): its slot's dispatcher sees it
                    self.conn.send(message)

    def ended(self) -> str:
        """How the worker ended (it is gone: killed, out of memory, or never came); forgets it."""
        code = self.process.wait(5) if self.process is not None else None
        with self.start_lock:
            self.process = self.conn = None
            self.warm = False
        return f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"


class ProcessExecutor(Executor):
    def __init__(self, slots: int = 1) -> None:
        super().__init__(slots)
        self._workers = [_Worker(worker_env(slot)) for slot in range(self.slots)]

    @property
    def ready(self) -> bool:
        """A worker is warm (never blocks: a page asks)."""
        return any(w.warm and w.alive for w in self._workers)

    def start(self) -> None:
        """Start the workers in the background."""
        for w in self._workers:
            w.start()

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids, by slot."""
        return [w.process.pid for w in self._workers if w.alive]

    @property
    def pid(self) -> int | None:
        """The first live worker's process id (on a laptop: the one worker)."""
        return next(iter(self.pids), None)

    def pid_of(self, task) -> int | None:
        """The process training a task, if it is in training."""
        with self._cv:
            slot = self._running.get(task.seq)
        worker = None if slot is None else self._workers[slot]
        return worker.process.pid if worker is not None and worker.alive else None

    def _run(self, task, jobs, store) -> None:
        worker = self._workers[self._slot(task)]
        try:
            conn = worker.connection()
            worker.send(("task", task))
            if self._stop_asked(task):  # asked while the worker was starting, before there was anyone to tell
                worker.send(("stop", task.seq, self._stopped_by(task)))
            while True:
                message = conn.recv()
                if message[0] == "events":
                    jobs[message[1]].deliver(message[2])
                elif message == ("done", task.seq):
                    return
        except (EOFError, OSError) as e:  # the worker is gone (killed, out of memory) or never came
            how = worker.ended() if worker.process is not None else str(e)
            fail_unfinished(
                jobs, store, f"the training process ended unexpectedly ({how}), perhaps out of memory; the next run starts a new one"
            )

    def _stop_current(self, task) -> None:
        with self._cv:
            slot = self._running.get(task.seq)
        if slot is not None:
            self._workers[slot].send(("stop", task.seq, self._stopped_by(task)))


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
