"""What runs in the training process: one task (a run, a group of twins, or the learning-rate
finder) at a time.

A task's events go to the run store as they come (steps in batches at most FLUSH_SECONDS old, so
the first point is written at once) and are forwarded to whoever submitted the task, stripped of
the model and the prediction callable, which stay here. The same `execute` serves the worker
process (playground.executor) and the in-process thread executor, so both write the same rows.
The Ray executor (playground.ray_executor) runs it on a Ray worker with a store and a weights'
saver of its own that record each write, for the app to replay on its run store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import BY_USER, EndEvent, EpochEvent, Event, LrFindEvent, StartEvent, StepEvent
from playground.events import stopped_by as stopped_by_message

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25  # step events are written (and forwarded) in batches at most this old
Forward = Callable[[int, list[Event]], None]  # (member index, events in order)


@dataclass(frozen=True)
class Task:
    """Runs to train together; picklable, so it can cross to the worker process."""

    seq: int  # the executor's number for it: a stop names the task it means
    home: str  # $PLAYGROUND_HOME of the store the runs belong to
    run_ids: tuple[int, ...]  # none for the finder: it is no run, the store never sees it
    configs: tuple[dict, ...]  # TrainConfig.to_dict() of each run (the finder: of the run it advises)
    kind: str = "train"  # train | lr_find
    finder: tuple = ()  # lr_find: (start_lr, end_lr, steps)
    owner: str = ""  # who asked for it ('' on a laptop): the executor's fair queue takes owners in turn

    @property
    def grouped(self) -> bool:
        return len(self.run_ids) > 1


def portable(event: Event) -> Event:
    """The event without what must not cross processes (the model, the prediction closure)."""
    if isinstance(event, EpochEvent) and (event.predict is not None or event.network is not None):
        return dataclasses.replace(event, predict=None, network=None)
    if isinstance(event, EndEvent) and event.model is not None:
        return dataclasses.replace(event, model=None)
    return event


def execute(
    task: Task,
    forward: Forward,
    should_stop: Callable[[], bool],
    store=None,
    save_weights: Callable[[int, object], None] | None = None,
    stopped_by: Callable[[], str] = str,
) -> None:
    """Train the task's runs, writing every event to the run store and forwarding it. Never raises:
    a run that cannot go on ends 'failed' with a message in the store and a forwarded EndEvent.
    store: the RunStore of task.home unless given (anything with the write methods _Sink and
    _Snapshots call); save_weights(run_id, model): playground.insight.save_weights unless given;
    stopped_by(): who asked for the stop, once should_stop() is true ('the teacher (Tess)'; '': the
    run's own user), named in a stopped run's message."""
    if task.kind == "lr_find":
        return execute_lr_find(task, forward, should_stop, stopped_by)
    if store is None:
        from playground.runs import RunStore

        store = RunStore(Path(task.home) / "runs.sqlite")
    configs = [TrainConfig.from_dict(c) for c in task.configs]
    sinks = [
        _Sink(store, run_id, config, lambda events, m=m: forward(m, events), len(configs), save_weights, stopped_by)
        for m, (run_id, config) in enumerate(zip(task.run_ids, configs))
    ]
    try:
        if task.grouped:
            from playground.grouped import train_group

            for m, event in train_group(configs, should_stop=should_stop):
                sinks[m](event)
        else:
            from playground.train import train

            for event in train(configs[0], should_stop=should_stop):
                sinks[0](event)
    except PlaygroundError as e:
        for sink in sinks:
            sink.fail(str(e))
    except Exception as e:  # a bug, not the user's doing: keep the store consistent, log the trace
        log.error("runs %s failed:\n%s", task.run_ids, traceback.format_exc())
        for sink in sinks:
            sink.fail(f"internal error ({type(e).__name__}: {e}); please report it")
    for sink in sinks:  # a member the loop never ended (it should not happen): not left 'running'
        sink.fail("the training loop ended without a result; please report it")


def execute_lr_find(task: Task, forward: Forward, should_stop: Callable[[], bool], stopped_by: Callable[[], str] = str) -> None:
    """The learning-rate finder (playground.lr_find): its progress as StepEvents (in batches at most
    FLUSH_SECONDS old), then one LrFindEvent and an EndEvent; nothing goes to the run store. Never
    raises: a finder that cannot run ends 'failed' with the reason."""
    pending: list[Event] = []
    flushed = [0.0]

    def on_step(step: int, epoch: int, loss: float) -> None:
        pending.append(StepEvent(step, epoch, loss))
        if time.monotonic() - flushed[0] > FLUSH_SECONDS:
            forward(0, pending[:])
            pending.clear()
            flushed[0] = time.monotonic()

    try:
        from playground.lr_find import find_lr

        start_lr, end_lr, steps = task.finder
        found = find_lr(TrainConfig.from_dict(task.configs[0]), None, start_lr, end_lr, steps, should_stop, on_step)
    except PlaygroundError as e:
        end = EndEvent("failed", str(e))
    except Exception as e:  # a bug, not the user's doing: log the trace
        log.error("the learning-rate finder failed:\n%s", traceback.format_exc())
        end = EndEvent("failed", f"internal error ({type(e).__name__}: {e}); please report it")
    else:
        pending.append(found)  # stopped: the curve so far
        end = (
            EndEvent("stopped", stopped_by_message(found.stopped_early or f"stopped {BY_USER}", stopped_by()))
            if should_stop()
            else EndEvent("completed", _found_text(found))
        )
    forward(0, [*pending, end])


def _found_text(found: LrFindEvent) -> str:
    """One line: how far it went, the suggestion."""
    best = f"the loss falls fastest at lr {found.suggested_lr:.3g}" if found.suggested_lr else "no suggestion"
    reached = f" to {found.lrs[-1]:.3g}" if found.lrs else ""
    return f"{len(found.lrs)} step(s) from lr {found.start_lr:g}{reached}: {best}" + (
        f"; {found.stopped_early}" if found.stopped_early else ""
    )


class _Sink:
    """One run's events -> the run store (steps in batches) and the forward callback."""

    def __init__(
        self,
        store,
        run_id: int,
        config: TrainConfig,
        forward: Callable[[list[Event]], None],
        group_size: int,
        save_weights: Callable[[int, object], None] | None = None,
        stopped_by: Callable[[], str] = str,
    ):
        self.store, self.run_id, self.config, self.forward = store, run_id, config, forward
        self.group_size, self.save_weights, self.stopped_by = group_size, save_weights, stopped_by
        self.pending: list[StepEvent] = []
        self.last_flush = 0.0  # the first step is written at once: the page shows the first point quickly
        self.ended = False
        self.snapshots = _Snapshots(config)

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepEvent):
            self.pending.append(event)
            if time.monotonic() - self.last_flush > FLUSH_SECONDS:
                self.flush()
            return
        if isinstance(event, StartEvent):
            self.store.start(self.run_id, event)
        elif isinstance(event, EpochEvent):
            self.flush()
            self.store.add_epoch(self.run_id, event)
            self.snapshots.record(self.store, self.run_id, event)
        elif isinstance(event, EndEvent):
            self.flush()
            self._end(event)
            return
        self.forward([portable(event)])

    def flush(self) -> None:
        if self.pending:
            self.store.add_steps(self.run_id, self.pending)
            self.forward(self.pending)
        self.pending, self.last_flush = [], time.monotonic()

    def _end(self, event: EndEvent) -> None:
        final = event.final | ({"grouped_with": self.group_size} if self.group_size > 1 else {})
        if event.model is not None and event.status in ("completed", "stopped"):
            from playground.insight import save_weights

            (self.save_weights or save_weights)(self.run_id, event.model)
        message = stopped_by_message(event.message, self.stopped_by()) if event.status == "stopped" else event.message
        self.store.finish(self.run_id, event.status, message, final)
        self.ended = True
        self.forward([EndEvent(event.status, message, final)])

    def fail(self, message: str) -> None:
        """End the run 'failed' (once), keeping its curve so far; forwarded even if the store fails."""
        if self.ended:
            return
        self.ended = True
        with contextlib.suppress(PlaygroundError):
            self.store.add_steps(self.run_id, self.pending)  # the curve so far, if the store takes it
        try:
            self.store.finish(self.run_id, "failed", message, {})
        except PlaygroundError as e:  # the store itself is what failed (a full disk): say so, do not raise
            message = f"{message} (and the run store could not record it: {e})"
        self.forward([EndEvent("failed", message)])


class _Snapshots:
    """Toy 2D runs: the decision regions after the first epoch, every few epochs and the last, stored
    with the run so that the Toy 2D page draws them live and again later; with them, the latest map of
    every unit and the weights (playground.unitmaps) for the drawing of the network."""

    def __init__(self, config: TrainConfig):
        from playground import datasets

        self.config, self.grid, self.coarse = config, None, None
        self.is_toy = datasets.info(config.dataset).is_toy

    def record(self, store, run_id: int, event: EpochEvent) -> None:
        from playground import boundary, datasets, features, unitmaps

        if not self.is_toy or event.predict is None or not boundary.is_snapshot_epoch(event.epoch, self.config.epochs):
            return
        if self.grid is None:  # the same grids the Toy 2D page draws on (the data are cached here)
            ds = datasets.load(self.config.dataset, toy_params=self.config.toy_params)
            self.grid, self.coarse = boundary.grid(ds, boundary.RESOLUTION), boundary.grid(ds, unitmaps.RESOLUTION)
        probability = event.predict(self.grid.points)[:, -1].numpy()  # P(class 1), or a regression's predicted value
        store.add_snapshot(run_id, event.epoch, probability)
        if event.network is not None:
            model, prep_points = event.network()
            if unitmaps.drawable(model):
                inputs = prep_points(self.coarse.points.to(next(model.parameters()).device))
                store.set_network(run_id, event.epoch, unitmaps.of_model(model.eval(), inputs, features.labels(self.config.toy_features)))


def serve() -> None:
    """`python -m playground.worker`, started by executor.ProcessExecutor: connect back to it at
    once (the address and key are in the environment), then serve it."""
    from multiprocessing.connection import Client

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the app's terminal ends the app; we follow it
    conn = Client(os.environ["PLAYGROUND_WORKER_ADDRESS"], authkey=bytes.fromhex(os.environ["PLAYGROUND_WORKER_KEY"]))
    main(conn, int(os.environ["PLAYGROUND_WORKER_PARENT"]))


def main(conn, parent_pid: int) -> None:
    """The worker process: warm up, then train the tasks the parent sends, one at a time. Ends when
    the parent closes the connection or dies (a run in progress then ends 'interrupted')."""
    from playground.train import warm_up

    logging.basicConfig(level=logging.WARNING, format="playground worker: %(message)s")
    try:
        warm_up()  # the first real run then pays no one-time costs (about 1 s)
        preload()
    except Exception:  # only a head start: a real run reports its own errors
        log.warning("warm-up failed:\n%s", traceback.format_exc())
    try:
        conn.send(("ready",))
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "exit":
            return
        if message[0] == "task":
            _run_task(conn, message[1], parent_pid)


def preload() -> None:
    """Load the app's default dataset if its files are here (never a download): reading Fashion-MNIST
    takes 1-2 s, which a student's first run would otherwise wait for. And generate the Toy 2D page's
    default set: the generators import scikit-learn, 2 s of a first toy run's 3 s before this."""
    from playground import datasets, settings

    name = datasets.default_dataset()
    if datasets.status(name)[0]:
        datasets.load(name)
    datasets.load(settings.TOY_PAGE["toy_set"].default)


def _run_task(conn, task: Task, parent_pid: int) -> None:
    state = {"stop": False, "orphan": False, "checked": 0.0, "by": ""}

    def should_stop() -> bool:  # called every step: look at the pipe and the parent at most every 50 ms
        now = time.monotonic()
        if now - state["checked"] > 0.05:
            state["checked"] = now
            try:
                while conn.poll():
                    message = conn.recv()
                    if message[:2] == ("stop", task.seq):  # ("stop", seq, who asked for it)
                        state["stop"], state["by"] = True, message[2]
            except (EOFError, OSError):
                state["stop"] = state["orphan"] = True
            if os.getppid() != parent_pid:
                state["stop"] = state["orphan"] = True
        return state["stop"]

    def forward(m: int, events: list[Event]) -> None:
        if not state["orphan"]:
            try:
                conn.send(("events", m, events))
            except (BrokenPipeError, OSError):
                state["stop"] = state["orphan"] = True

    os.environ["PLAYGROUND_HOME"] = task.home  # weights and data folders of this task's store
    execute(task, forward, should_stop, stopped_by=lambda: state["by"])
    if state["orphan"]:
        _mark_interrupted(task)
        os._exit(0)
    try:
        conn.send(("done", task.seq))  # every run's end is in the store
    except (BrokenPipeError, OSError):
        os._exit(0)


def _mark_interrupted(task: Task) -> None:
    from playground.runs import RunStore

    store = RunStore(Path(task.home) / "runs.sqlite")
    for run_id in task.run_ids:
        run = store.get(run_id)
        if run is not None and run.status in ("running", "stopped", "queued"):
            store.finish(run_id, "interrupted", "the app or command that started it ended before the run finished", run.final)


if __name__ == "__main__":
    from playground import worker  # noqa: PLW0406 (this file runs as __main__: serve with the importable module's objects)

    worker.serve()
