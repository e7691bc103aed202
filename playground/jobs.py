"""Runs as jobs: the one interface the UI and the CLI use to train.

submit(config) answers at once. A config that already finished is served from the run store
(the cached trainer); the same config already queued or running is joined; anything else is
queued on the executor (playground.executor), which trains it outside this process. The run store
holds every event, so any page, thread or later process can draw the curves; a Job mirrors the
live progress in memory for the pages and listeners of this process.

find_lr(config) queues the learning-rate finder (playground.lr_find) the same way, as a FinderJob:
no run in the store; its result is kept here, in memory, so the same settings again answer at once.
"""

from __future__ import annotations

import functools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playground import executors
from playground.config import TrainConfig
from playground.events import EndEvent, Event, LrFindEvent, StartEvent, StepEvent
from playground.executor import Executor
from playground.home import runs_db_path
from playground.runs import RunStore
from playground.worker import Task

log = logging.getLogger(__name__)


@dataclass
class Job:
    run_id: int
    config: TrainConfig
    cached: bool = False  # served from the store without training
    status: str = "queued"  # mirrors the store: queued | running | completed | diverged | stopped | failed
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    message: str = ""
    done_event: threading.Event = field(default_factory=threading.Event)
    on_event: Callable[[Event], None] | None = None
    canceller: Callable[[str], None] | None = field(default=None, repr=False)  # set by the executor: canceller(by)
    owner: str = ""  # who asked for it ('' on a laptop)
    task: Task | None = field(default=None, repr=False)  # set once queued: its place in the queue

    def stop(self, by: str = "") -> None:
        """Stop the run: a queued one never starts, a running one ends 'stopped' within a step. `by`
        names who asked when it is not the run's own user ('the teacher (Tess)'): the run's message
        says so ('stopped by the teacher (Tess) at step 40 (epoch 1)')."""
        if self.canceller is not None and not self.done:
            self.canceller(by)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done_event.wait(timeout)

    @property
    def done(self) -> bool:
        return self.done_event.is_set()

    def deliver(self, events: list[Event]) -> None:
        """Mirror the run's events here (progress, status) and pass them to the listener."""
        for event in events:
            if isinstance(event, StepEvent):
                self.step, self.epoch = event.step, event.epoch
            elif isinstance(event, StartEvent):
                self.total_steps, self.status = event.total_steps, "running"
            elif isinstance(event, EndEvent):
                self.status, self.message = event.status, event.message
            if self.on_event is not None:
                try:
                    self.on_event(event)
                except Exception:  # a listener's bug (a progress bar) must not stop the delivery
                    log.error("listener of run %s failed:\n%s", self.run_id, traceback.format_exc())
            if isinstance(event, EndEvent):
                self.done_event.set()


@dataclass
class FinderJob(Job):
    """The learning-rate finder for a config, queued like a run (run_id None: it is no run). Its
    progress arrives as StepEvents, its result as one LrFindEvent, kept in `result`."""

    key: tuple = ()  # (finder config key, start_lr, end_lr, steps): JobManager.finder(key) finds it again
    result: LrFindEvent | None = None

    def deliver(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, LrFindEvent):
                self.result = event
            elif isinstance(event, StepEvent) and self.status == "queued":
                self.status = "running"
        super().deliver(events)


class JobManager:
    def __init__(self, store: RunStore, executor: Executor | None = None):
        self.store = store
        store.mark_orphans_interrupted()
        self.executor = executor or executors.get()
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}  # run_id -> job, for runs started by this process
        self._finders: dict[tuple, FinderJob] = {}  # FinderJob.key -> the latest finder with those settings

    def submit(self, config: TrainConfig, on_event: Callable[[Event], None] | None = None, owner: str = "") -> Job:
        """Start (or reuse) a run of config for owner; returns immediately. A run of the same settings
        in training, or finished, goes into the owner's list (playground.classroom.access)."""
        with self._lock:
            job = self._unfinished(config) or _cached_job(self.store.find_reusable(config))
            if job is not None:
                self.store.hold(job.run_id, owner)
                return job
            job = Job(self.store.create(config, owner, self.executor.name), config, on_event=on_event, owner=owner)
            self._jobs[job.run_id] = job
        job.task = self.executor.submit(self.store, [job], owner=owner)
        return job

    def unfinished(self, config: TrainConfig) -> Job | None:
        """The queued or running job of these exact settings, if any: what submit(config) joins."""
        with self._lock:
            return self._unfinished(config)

    def _unfinished(self, config: TrainConfig) -> Job | None:
        return next((j for j in self._jobs.values() if j.config.key == config.key and not j.done), None)

    def job(self, run_id: int) -> Job | None:
        return self._jobs.get(run_id)

    def active(self) -> list[Job]:
        return [j for j in self._jobs.values() if not j.done]

    def stop_all(self) -> None:
        for job in [*self.active(), *self.active_finders()]:
            job.stop()

    def find_lr(
        self,
        config: TrainConfig,
        start_lr: float | None = None,
        end_lr: float | None = None,
        steps: int | None = None,
        on_event: Callable[[Event], None] | None = None,
        owner: str = "",
    ) -> FinderJob:
        """Start the learning-rate finder for config (playground.lr_find's defaults for what is not
        given); returns immediately. The same settings again (the lr, epochs and schedule aside: the
        finder does not use them) join the finder going, or answer at once with its completed result.
        PlaygroundError for a range that is not allowed."""
        from playground import lr_find

        start_lr = lr_find.DEFAULT_START_LR if start_lr is None else start_lr
        end_lr = lr_find.DEFAULT_END_LR if end_lr is None else end_lr
        steps = lr_find.DEFAULT_STEPS if steps is None else steps
        lr_find.check_range(start_lr, end_lr, steps)
        key = (lr_find.finder_config(config).key, start_lr, end_lr, steps)
        with self._lock:
            job = self._finders.get(key)
            if job is not None and (not job.done or job.status == "completed"):
                return job
            job = self._finders[key] = FinderJob(None, config, total_steps=steps, on_event=on_event, key=key, owner=owner)
        job.task = self.executor.submit(self.store, [job], kind="lr_find", finder=(start_lr, end_lr, steps), owner=owner)
        return job

    def finder(self, key: tuple) -> FinderJob | None:
        return self._finders.get(tuple(key))

    def active_finders(self) -> list[FinderJob]:
        return [j for j in self._finders.values() if not j.done]

    def ahead(self, job: FinderJob) -> int:
        """How many tasks (runs, groups, finders) go before a queued run or finder."""
        return self.executor.ahead(job.task) if job.task is not None else self.executor.queued()

    def submit_group(self, configs: list[TrainConfig], on_event: Callable[[int, Event], None] | None = None, owner: str = "") -> list[Job]:
        """Several twins at once for owner: finished ones from the cache, the rest trained together as
        one group when grouped.groupable allows it (one after another otherwise)."""
        from playground.grouped import groupable

        with self._lock:
            jobs, fresh = [], []
            for config in configs:
                job = self._unfinished(config) or _cached_job(self.store.find_reusable(config))
                if job is not None:
                    self.store.hold(job.run_id, owner)
                else:
                    listener = functools.partial(on_event, len(jobs)) if on_event else None
                    job = Job(self.store.create(config, owner, self.executor.name), config, on_event=listener, owner=owner)
                    self._jobs[job.run_id] = job
                    fresh.append(job)
                jobs.append(job)
        if len(fresh) > 1 and groupable([j.config for j in fresh]) is None:
            task = self.executor.submit(self.store, fresh, owner=owner)
            for job in fresh:
                job.task = task
        else:
            for job in fresh:
                job.task = self.executor.submit(self.store, [job], owner=owner)
        return jobs


def _cached_job(run) -> Job | None:
    """A finished run served from the store: a Job that is already done (None for no run)."""
    if run is None:
        return None
    job = Job(run.id, run.config, cached=True, status=run.status, message=run.message)
    job.step = job.total_steps = run.total_steps or 0
    job.epoch = run.final.get("epoch", 0)
    job.done_event.set()
    return job


_managers: dict[tuple[Path, str], JobManager] = {}
_managers_lock = threading.Lock()


def manager() -> JobManager:
    """The process-wide manager for the current $PLAYGROUND_HOME and $PLAYGROUND_EXECUTOR."""
    path = runs_db_path()
    kind = executors.get().__class__.__name__
    with _managers_lock:
        if (path, kind) not in _managers:
            _managers[(path, kind)] = JobManager(RunStore(path))
        return _managers[(path, kind)]
