"""What runs on a Ray worker for the Ray executor (playground.ray_executor): a task trains with
worker.execute over a Recorder, which turns every run-store write, the weights and the forwarded
events into (method, args) records; the task streams them back in chunks, at least every
POLL_SECONDS, and between chunks looks for a stop asked through the StopFlags actor."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import queue
import threading

import ray

from playground import worker

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05  # the task looks for a stop (and sends what it recorded) at least this often
STORE_WRITES = ("start", "add_steps", "add_epoch", "add_snapshot", "set_network", "finish")  # what Recorder records


@ray.remote(num_cpus=0)
class StopFlags:
    """The stop requests, by the executor's task number. A task asks once (`wait`); the answer comes
    when its stop is asked, or when it is forgotten (the task ended), so no call is left waiting. The
    answer is who asked for the stop ('the teacher (Tess)'; '': the run's own user)."""

    def __init__(self) -> None:
        self.asked: dict[int, asyncio.Event] = {}
        self.by: dict[int, str] = {}

    def _event(self, seq: int) -> asyncio.Event:
        return self.asked.setdefault(seq, asyncio.Event())

    async def stop(self, seq: int, by: str = "") -> None:
        self.by.setdefault(seq, by)
        self._event(seq).set()

    async def forget(self, seq: int) -> None:
        self.by.pop(seq, None)
        event = self.asked.pop(seq, None)
        if event is not None:
            event.set()

    async def wait(self, seq: int) -> str:
        await self._event(seq).wait()
        return self.by.get(seq, "")


class Recorder:
    """On the Ray worker: the run store's write methods (those worker._Sink and _Snapshots call),
    the weights' saver and the forward callback, each call put as (method, args)."""

    def __init__(self, put) -> None:
        self.put = put

    def start(self, run_id, event) -> None:
        self.put(("start", (run_id, event)))

    def add_steps(self, run_id, events) -> None:
        self.put(("add_steps", (run_id, list(events))))

    def add_epoch(self, run_id, event) -> None:
        self.put(("add_epoch", (run_id, worker.portable(event))))

    def add_snapshot(self, run_id, epoch, probability) -> None:
        self.put(("add_snapshot", (run_id, epoch, probability)))

    def set_network(self, run_id, epoch, maps) -> None:
        self.put(("set_network", (run_id, epoch, maps)))

    def finish(self, run_id, status, message, final) -> None:
        self.put(("finish", (run_id, status, message, final)))

    def save_weights(self, run_id, model) -> None:
        import torch

        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
        self.put(("save_weights", (run_id, buffer.getvalue())))

    def forward(self, m, events) -> None:
        self.put(("deliver", (m, list(events))))


@ray.remote
def warm_up(home: str | None) -> None:
    """A worker's one-time costs (imports, PyTorch's first steps, the default datasets read or
    generated), paid before a student's first run."""
    from playground.train import warm_up

    if home is not None:
        os.environ["PLAYGROUND_HOME"] = home
    warm_up(device="cpu")  # the worker may have no GPU of its own
    worker.preload()


@ray.remote(num_returns="streaming")
def train(task: worker.Task, home: str | None, flags):
    """The Ray task: worker.execute in a thread of its own (it calls back; this generator must be
    the one to yield), its records yielded in chunks as they come; between chunks, whether to stop
    is asked without waiting for the answer (_StopQuestion)."""
    if home is not None:
        os.environ["PLAYGROUND_HOME"] = home
    records: queue.SimpleQueue = queue.SimpleQueue()
    stop, ended = threading.Event(), object()
    recorder, failure = Recorder(records.put), []
    asked, done = _StopQuestion(flags, task.seq), False

    def run() -> None:
        try:
            worker.execute(task, recorder.forward, stop.is_set, recorder, recorder.save_weights, lambda: asked.by)
        except BaseException as e:  # raised again below: Ray hands it to the app as a RayTaskError
            failure.append(e)
        finally:
            records.put(ended)

    yield [("pid", os.getpid())]
    thread = threading.Thread(target=run, name=f"playground-ray-task-{task.seq}", daemon=True)
    thread.start()
    try:
        while not done:
            chunk, done = _drain(records, ended)
            if chunk:
                yield chunk
            if not stop.is_set() and asked():
                stop.set()
    finally:  # also when the app stopped listening (it ended): the loop must not train on
        stop.set()
    if failure:
        raise failure[0]


def _drain(records: queue.SimpleQueue, ended) -> tuple[list, bool]:
    """What the loop has recorded (waiting up to POLL_SECONDS for the first), and whether it ended."""
    chunk: list = []
    try:
        record = records.get(timeout=POLL_SECONDS)
        while record is not ended:
            chunk.append(record)
            record = records.get_nowait()
    except queue.Empty:
        return chunk, False
    return chunk, True


class _StopQuestion:
    """Whether the task was asked to stop, without waiting on the actor (the records keep flowing)."""

    def __init__(self, flags, seq: int) -> None:
        self.answer = flags.wait.remote(seq)
        self.by = ""  # who asked for the stop, once asked ('': the run's own user)

    def __call__(self) -> bool:
        if self.answer is None or not ray.wait([self.answer], timeout=0)[0]:
            return False
        try:
            self.by = ray.get(self.answer)
        except ray.exceptions.RayError as e:  # the actor is gone: no stop then, the run goes on to its end
            log.warning("could not ask for a stop: %s", e)
            self.answer = None
            return False
        return True
