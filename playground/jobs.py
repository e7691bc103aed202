"""Background execution of runs: the one interface the UI and the CLI use to train.

submit(config) answers at once. A config that already finished is served from the run store
(the cached trainer); the same config already queued or running in this process is joined;
anything else is queued on a small thread pool (one worker: two laptop cores are better spent on
one run at a time). Events go to the run store as they come, so any page, thread or later
process can draw the curves; a Job keeps the live progress in memory.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from playground.errors import PlaygroundError
from playground.insight import save_weights
from playground.home import runs_db_path
from playground.runs import RunStore
from playground.train import EndEvent, EpochEvent, Event, StartEvent, StepEvent, TrainConfig, train, warm_up

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25  # step events are written in batches at most this old


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
    stop_requested: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)
    on_event: Optional[Callable[[Event], None]] = None

    def stop(self) -> None:
        self.stop_requested.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self.done_event.wait(timeout)

    @property
    def done(self) -> bool:
        return self.done_event.is_set()


class JobManager:
    def __init__(self, store: RunStore, workers: int = 1):
        self.store = store
        store.mark_orphans_interrupted()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="playground-run")
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}  # run_id -> job, for runs started by this process

    def submit(self, config: TrainConfig, on_event: Optional[Callable[[Event], None]] = None) -> Job:
        """Start (or reuse) a run of config; returns immediately."""
        with self._lock:
            for job in self._jobs.values():
                if job.config.key == config.key and not job.done:
                    return job
            cached = self.store.find_reusable(config)
            if cached is not None:
                return _cached_job(cached)
            job = Job(self.store.create(config), config, on_event=on_event)
            self._jobs[job.run_id] = job
        self._pool.submit(self._execute, job)
        return job

    def job(self, run_id: int) -> Optional[Job]:
        return self._jobs.get(run_id)

    def active(self) -> list[Job]:
        return [j for j in self._jobs.values() if not j.done]

    def stop_all(self) -> None:
        for job in self.active():
            job.stop()

    def submit_group(self, configs: list[TrainConfig], on_event: Optional[Callable[[int, Event], None]] = None) -> list[Job]:
        """Several twins at once: finished ones from the cache, the rest trained together as one
        group when grouped.groupable allows it (one after another otherwise)."""
        from playground.grouped import groupable

        with self._lock:
            jobs, fresh = [], []
            for config in configs:
                running = next((j for j in self._jobs.values() if j.config.key == config.key and not j.done), None)
                cached = None if running else self.store.find_reusable(config)
                if running:
                    jobs.append(running)
                elif cached is not None:
                    jobs.append(_cached_job(cached))
                else:
                    job = Job(self.store.create(config), config, on_event=functools.partial(on_event, len(jobs)) if on_event else None)
                    self._jobs[job.run_id] = job
                    jobs.append(job)
                    fresh.append(job)
        if len(fresh) > 1 and groupable([j.config for j in fresh]) is None:
            self._pool.submit(self._execute_group, fresh)
        else:
            for job in fresh:
                self._pool.submit(self._execute, job)
        return jobs

    def _execute(self, job: Job) -> None:
        sink = _Sink(self.store, job)
        try:
            for event in train(job.config, should_stop=job.stop_requested.is_set):
                sink(event)
        except PlaygroundError as e:
            self._fail(job, sink.pending, str(e))
        except Exception as e:  # a bug, not the user's doing: keep the run consistent, log the trace
            log.error("run %s failed:\n%s", job.run_id, traceback.format_exc())
            self._fail(job, sink.pending, f"internal error ({type(e).__name__}: {e}); please report it")
        finally:
            job.done_event.set()

    def _execute_group(self, group: list[Job]) -> None:
        from playground.grouped import train_group

        sinks = [_Sink(self.store, job) for job in group]
        try:
            for m, event in train_group([j.config for j in group], should_stop=lambda: any(j.stop_requested.is_set() for j in group)):
                sinks[m](event)
        except PlaygroundError as e:
            for sink in sinks:
                if not sink.job.done_event.is_set() and sink.job.status in ("queued", "running"):
                    self._fail(sink.job, sink.pending, str(e))
        except Exception as e:
            log.error("group %s failed:\n%s", [j.run_id for j in group], traceback.format_exc())
            for sink in sinks:
                if sink.job.status in ("queued", "running"):
                    self._fail(sink.job, sink.pending, f"internal error ({type(e).__name__}: {e}); please report it")
        finally:
            for job in group:
                job.done_event.set()

    def _fail(self, job: Job, pending: list[StepEvent], message: str) -> None:
        try:
            self.store.add_steps(job.run_id, pending)
            self.store.finish(job.run_id, "failed", message, {})
        finally:
            job.status, job.message = "failed", message


def _cached_job(run) -> Job:
    """A finished run served from the store: a Job that is already done."""
    job = Job(run.id, run.config, cached=True, status=run.status, message=run.message)
    job.step = job.total_steps = run.total_steps or 0
    job.epoch = run.final.get("epoch", 0)
    job.done_event.set()
    return job


class _Sink:
    """Writes one run's events to the store (steps in batches) and mirrors its progress in the Job."""

    def __init__(self, store: RunStore, job: Job):
        self.store, self.job = store, job
        self.pending: list[StepEvent] = []
        self.last_flush = 0.0  # the first step is written at once: the page shows the first point quickly

    def __call__(self, event: Event) -> None:
        job = self.job
        if isinstance(event, StepEvent):
            self.pending.append(event)
            job.step, job.epoch = event.step, event.epoch
            if time.monotonic() - self.last_flush > FLUSH_SECONDS:
                self.flush()
        elif isinstance(event, StartEvent):
            self.store.start(job.run_id, event)
            job.total_steps, job.status = event.total_steps, "running"
        elif isinstance(event, EpochEvent):
            self.flush()
            self.store.add_epoch(job.run_id, event)
        elif isinstance(event, EndEvent):
            self.flush()
            if event.model is not None and event.status in ("completed", "stopped"):
                save_weights(job.run_id, event.model)
            self.store.finish(job.run_id, event.status, event.message, event.final)
            job.status, job.message = event.status, event.message
            job.done_event.set()
        if job.on_event:
            job.on_event(event)

    def flush(self) -> None:
        self.store.add_steps(self.job.run_id, self.pending)
        self.pending, self.last_flush = [], time.monotonic()


_managers: dict[Path, JobManager] = {}
_managers_lock = threading.Lock()


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # only a head start: a real run reports its own errors
        log.warning("warm-up failed:\n%s", traceback.format_exc())


def manager() -> JobManager:
    """The process-wide manager for the current $PLAYGROUND_HOME. The first call also starts the
    warm-up (train.warm_up) in the background, once per process."""
    path = runs_db_path()
    with _managers_lock:
        if path not in _managers:
            first = not _managers
            _managers[path] = JobManager(RunStore(path))
            if first:  # on the manager's own worker, so never beside a real run
                _managers[path]._pool.submit(_warm_up)
        return _managers[path]
