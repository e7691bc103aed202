"""Where runs train: never in the web server's process.

`ProcessExecutor` (the default, playground.process_executor) keeps warm worker processes
(`python -m playground.worker`): one on a laptop, a pool sized to the machine in class mode. Tasks
go to them over authenticated local connections and their events come back the same way. The pages
only read the run store, so nothing they do takes the interpreter lock the training loop needs (a
loop in a thread of the server was measured at 206 steps/s alone and 3.8 with a queued run's page
on screen). A stop reaches the worker within 50 ms; a run still queued is cancelled here and never
sent. If a worker dies (killed, out of memory), the runs it held end 'failed' with the reason, the
other workers' runs go on, and a new worker takes that slot's next task.

`ThreadExecutor` (PLAYGROUND_EXECUTOR=thread) trains the same tasks in a thread of this process:
for stepping through the loop with a debugger or a profiler, and for tests that patch the loop.

`RayExecutor` (PLAYGROUND_EXECUTOR=ray, playground.ray_executor) hands each task to a Ray cluster.

All keep one queue of tasks, fair between owners (playground.fair_queue: each student's next task
in turn), and one dispatcher thread per slot (a slot trains one task at a time; two laptop cores are
better spent on one run at a time). The learning-rate finder is a task of its own kind
("lr_find"): it waits its turn like a run, Stop works the same, and it writes nothing to the store.
"""

from __future__ import annotations

import abc
import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from playground import worker
from playground.events import EndEvent, Event, stopped_while_queued
from playground.fair_queue import FairQueue
from playground.worker import Task

if TYPE_CHECKING:
    from playground.runs import RunStore


class Submitted(Protocol):
    """What the executor needs of a submitted run (playground.jobs.Job is one)."""

    run_id: int | None  # None: a task that is no run in the store (the learning-rate finder)
    canceller: Callable[[str], None] | None  # canceller(by): stop it, `by` naming who asked ('': its own user)

    @property
    def done(self) -> bool: ...

    def deliver(self, events: list[Event]) -> None: ...


log = logging.getLogger(__name__)
KINDS = ("process", "thread", "ray")
Queued = tuple[Task, list[Submitted], "RunStore"]


class Executor(abc.ABC):
    """A fair queue of tasks, handed out by one dispatcher thread per slot; subclasses say where a
    task trains (`_run`) and how a stop reaches it (`_stop_current`)."""

    name = "local"  # what the JSON of `train` and `sweep` says ran the run: local | ray

    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, slots)  # tasks in training at once
        self._queue: FairQueue[Queued] = FairQueue()
        self._cv = threading.Condition()
        self._running: dict[int, int] = {}  # task.seq -> the slot training it
        self._stopping: dict[int, str] = {}  # tasks in training asked to stop (even before they reached their trainer) -> by whom
        self._seq = itertools.count(1)
        self._dispatchers: list[threading.Thread] = []

    def submit(self, store: RunStore, jobs: list[Submitted], kind: str = "train", finder: tuple = (), owner: str = "") -> Task:
        """Queue jobs as one task (several jobs: twins trained as one group; kind "lr_find": one job,
        the learning-rate finder with finder = (start_lr, end_lr, steps), which is no run). Owners
        take turns: a task waits behind at most one task of each other owner per turn."""
        run_ids = tuple(j.run_id for j in jobs) if kind == "train" else ()
        configs = tuple(j.config.to_dict() for j in jobs)
        task = Task(next(self._seq), str(store.path.parent), run_ids, configs, kind, finder, owner)
        for job in jobs:
            job.canceller = lambda by="", task=task: self.stop(task, by)
        with self._cv:
            self._queue.push(owner, (task, jobs, store))
            self._cv.notify()
            while len(self._dispatchers) < self.slots:
                slot = len(self._dispatchers)
                thread = threading.Thread(target=self._dispatch, args=(slot,), name=f"playground-dispatch-{slot}", daemon=True)
                self._dispatchers.append(thread)
                thread.start()
        return task

    def stop(self, task: Task, by: str = "") -> None:
        """Stop a task: at once if it is still queued (it never starts), else within one step. `by`:
        who asked, when not the run's own user ('the teacher (Tess)'), named in the run's message."""
        with self._cv:
            queued = self._queue.remove(lambda item: item[0] is task)
            if queued is None:
                if task.seq in self._running:
                    self._stopping.setdefault(task.seq, by)  # the first stop is the one that ends it
                    self._stop_current(task)
                return
        _, jobs, store = queued
        for job in jobs:
            message = stopped_while_queued(by)
            try:
                if job.run_id is not None:
                    store.finish(job.run_id, "stopped", message, {})
            finally:
                job.deliver([EndEvent("stopped", message)])

    def queued(self, owner: str | None = None) -> int:
        """Tasks waiting (of one owner, or of everyone)."""
        with self._cv:
            return len(self._queue) if owner is None else self._queue.count(owner)

    def ahead(self, task: Task) -> int:
        """How many tasks go before a queued task: those the fair queue hands out first, and those in
        training when every slot is busy."""
        with self._cv:
            if task.seq in self._running:
                return 0
            order = [t.seq for t, _, _ in self._queue.order()]
            before = order.index(task.seq) if task.seq in order else len(order)
            return before + (len(self._running) if len(self._running) >= self.slots else 0)

    def _dispatch(self, slot: int) -> None:
        while True:
            with self._cv:
                while not len(self._queue):
                    self._cv.wait()
                task, jobs, store = self._queue.pop()
                self._running[task.seq] = slot
            try:
                self._run(task, jobs, store)
            except Exception:  # the executor's own bug: never leave a run 'running' for ever
                log.error("task %s failed:\n%s", task.run_ids, traceback.format_exc())
                fail_unfinished(jobs, store, "internal error in the executor; please report it")
            finally:
                with self._cv:
                    self._running.pop(task.seq, None)
                    self._stopping.pop(task.seq, None)
                    self._queue.finished(task.owner)

    def _stop_asked(self, task: Task) -> bool:
        return task.seq in self._stopping

    def _stopped_by(self, task: Task) -> str:
        """Who asked the task in training to stop ('' for its own user, or no stop)."""
        return self._stopping.get(task.seq, "")

    def _slot(self, task: Task) -> int:
        """The slot training a task (called from within _run)."""
        with self._cv:
            return self._running[task.seq]

    ready = False  # warm: a run submitted now starts at once

    def start(self) -> None:  # noqa: B027 (a hook: only the process executor has something to start)
        """Get ready to train at once (the process executor starts its workers)."""

    @abc.abstractmethod
    def _run(self, task: Task, jobs: list[Submitted], store: RunStore) -> None:
        """Train the task's runs; return when each has ended (its end is in the store)."""

    @abc.abstractmethod
    def _stop_current(self, task: Task) -> None:
        """Make the task in training stop within a step (self._stopped_by(task) says who asked)."""


class ThreadExecutor(Executor):
    ready = True  # this process is the trainer

    def _run(self, task, jobs, store) -> None:
        # A thread of its own that is not a daemon: a command-line caller returns once the run's end
        # is delivered, and the interpreter must then wait for the loop's last clean-up (freeing the
        # model in PyTorch) instead of shutting down under it (seen: an abort at exit).
        thread = threading.Thread(
            target=worker.execute,
            args=(task, lambda m, events: jobs[m].deliver(events), lambda: self._stop_asked(task)),
            kwargs={"stopped_by": lambda: self._stopped_by(task)},
            name=f"playground-task-{task.seq}",
        )
        thread.start()
        thread.join()

    def _stop_current(self, task) -> None:
        """Nothing to pass on: the loop asks `_stop_asked` at every step."""


def fail_unfinished(jobs: list[Submitted], store: RunStore, message: str) -> None:
    for job in jobs:
        if job.done:
            continue
        try:
            if job.run_id is not None:
                store.finish(job.run_id, "failed", message, {})
        except Exception:
            log.error("could not record the failure of run %s:\n%s", job.run_id, traceback.format_exc())
        job.deliver([EndEvent("failed", message)])
