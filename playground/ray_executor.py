"""The Ray executor (PLAYGROUND_EXECUTOR=ray): each task (a run, a group of twins, the learning-rate
finder) trains as one Ray task, on this machine or on a cluster.

Where: with $RAY_ADDRESS set, `ray.init(address=...)` joins that cluster (one started with `ray
start` asks for its token: RAY_AUTH_MODE=token and the token in ~/.ray/auth_token or
$RAY_AUTH_TOKEN); otherwise a local Ray instance starts with one CPU per core. Either happens once per process, at `start()` (in the
background, and a worker then pays its one-time costs: imports, PyTorch's first steps) or at the
first task, whichever comes first.

What a task asks of Ray: 1 CPU for a toy 2D set (its tensors are too small to split between
threads: playground.devices.set_cpu_threads), else as many as the largest node has, at most 4
(the playground's nets are small, and a class shares the cluster); torch then uses that many
threads (PLAYGROUND_THREADS). 1 GPU when the config's device is cuda or auto and the cluster has
GPUs, else none: Ray hides no GPU from a task that asks for none, so auto would otherwise train on
a GPU another task holds. `slots` (tasks in training at once) is the cluster's CPUs over the CPUs
of a task that is not toy, at least 1; tasks that wait for a GPU wait in Ray's queue.

The run store stays on the app's machine, so the Ray task never writes it. worker.execute runs
there with a store and a weights' saver that record each write as (method, args), the events
forwarded to the submitter among them; the task streams these records back in order, in chunks
(a streaming generator: one yield per batch the sink flushes, at most FLUSH_SECONDS apart), and
the app replays each on its RunStore and delivers the events to the jobs: the rows written are
those of the local executors. Weights come back as torch.save bytes of the state_dict and are
saved by playground.insight.save_weights here, so the Results page works for Ray runs.

Stop: a small actor holds the stop requests. Each task asks it once, at its start, and the answer
comes when a stop is asked; the task looks for it at least every ray_task.POLL_SECONDS (while it waits for
records to send), and the loop sees it at its next step, ending the run 'stopped' with its curve so
far (ray.cancel would lose that last record). A failure in the task (training raised, the worker
died, Ray could not place it) ends the task's unfinished runs 'failed' with the reason; other tasks
go on.

Ray workers import the package from the folder holding it (PYTHONPATH): on a cluster, every node
needs the project at the same path (a shared folder or the same image). With a local instance the
task uses the app's $PLAYGROUND_HOME (the same files); on a cluster, the node's own (its datasets
are loaded, or downloaded, there).
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
from pathlib import Path

import ray

from playground import ray_task
from playground.errors import PlaygroundError
from playground.executor import Executor, fail_unfinished

log = logging.getLogger(__name__)
MAX_CPUS_PER_TASK = 4
ROOT = str(Path(__file__).resolve().parent.parent)  # the folder holding the package


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        super().__init__(slots=4)  # until Ray says how many CPUs it has
        self.address = (os.environ.get("RAY_ADDRESS") if address is None else address) or None  # "": a local instance
        self.num_cpus = num_cpus  # a local instance's CPUs (default: one per core)
        self._lock = threading.Lock()
        self._flags = None  # the ray_task.StopFlags actor, once Ray is up
        self._owns_ray = False  # we started Ray (or joined the cluster), so close() shuts it down
        self._released = threading.Event()  # close() lets the thread that started Ray end
        self._cpus_per_task, self._gpus = 1, 0.0
        self._pids: dict[int, int] = {}  # task.seq -> the Ray worker process training it

    @property
    def ready(self) -> bool:
        return self._flags is not None and ray.is_initialized()

    def start(self) -> None:
        """Start Ray (or join the cluster) and warm a worker up, in the background: a page calls this
        and must not wait."""
        if self._flags is None and not self._lock.locked():
            threading.Thread(target=self._start_quietly, name="playground-ray-start", daemon=True).start()

    def _start_quietly(self) -> None:
        try:
            self.connect()
            ray_task.warm_up.options(num_cpus=1, max_retries=0, runtime_env=self._task_env()).remote(self._home())
        except Exception as e:  # the first task tries again and fails its runs with the reason
            log.warning("could not start Ray: %s", e)

    def connect(self) -> None:
        """Start Ray or join $RAY_ADDRESS's cluster, once per process; size the slots."""
        with self._lock:
            if self._flags is not None:
                return
            if not ray.is_initialized():
                self._init_ray()
                self._owns_ray = True
            nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
            self._cpus_per_task = max(1, min(MAX_CPUS_PER_TASK, int(max((n.get("CPU", 0) for n in nodes), default=1))))
            self._gpus = ray.cluster_resources().get("GPU", 0.0)
            self.slots = max(1, int(ray.cluster_resources().get("CPU", 1)) // self._cpus_per_task)
            self._flags = ray_task.StopFlags.options(runtime_env=_runtime_env()).remote()

    def _init_ray(self) -> None:
        """ray.init in a thread that lives as long as Ray: Ray starts its processes with Linux's
        parent-death signal, which fires when the *thread* that started them ends (seen: a local
        instance started from the background start's thread died with it; a page's thread ends too).
        The main thread lives long enough, and only there can Ray set its signal handlers."""
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # the app sends nothing anywhere unasked
        if self.address:
            _check_answers(self.address)
        if threading.current_thread() is threading.main_thread():
            return self._ray_init()
        started, failure = threading.Event(), []

        def own() -> None:
            try:
                self._ray_init()
            except BaseException as e:  # raised again in the caller's thread
                failure.append(e)
            started.set()
            if not failure:
                self._released.wait()

        threading.Thread(target=own, name="playground-ray", daemon=True).start()
        started.wait()
        if failure:
            raise failure[0]

    def _ray_init(self) -> None:
        if self.address:
            ray.init(address=self.address, runtime_env=_runtime_env(), log_to_driver=True)
        else:
            cpus = self.num_cpus or os.cpu_count() or 1
            ray.init(  # "local": a new instance, never one that `ray start` left on this machine
                address="local", num_cpus=cpus, include_dashboard=False, runtime_env=_runtime_env(), log_to_driver=True
            )

    def close(self) -> None:
        """Let go of Ray: shut the local instance down (or leave the cluster) if we started it."""
        with self._lock:
            if self._flags is not None and ray.is_initialized():
                ray.kill(self._flags)
            self._flags = None
            if self._owns_ray:
                ray.shutdown()
                self._owns_ray = False
                self._released.set()
                self._released = threading.Event()

    def pid_of(self, task) -> int | None:
        """The Ray worker process training a task (on its node), once the task has started."""
        return self._pids.get(task.seq)

    def _run(self, task, jobs, store) -> None:
        try:
            self.connect()
        except Exception as e:
            where = f"join the cluster at {self.address}" if self.address else "start Ray"
            fail_unfinished(jobs, store, str(e) if isinstance(e, PlaygroundError) else f"could not {where} ({type(e).__name__}: {e})")
            return
        flags = self._flags
        if self._stop_asked(task):  # asked before there was anyone to tell
            flags.stop.remote(task.seq, self._stopped_by(task))
        stream = ray_task.train.options(**self._resources(task)).remote(task, self._home(task.home), flags)
        try:
            replay = _Replay(jobs, store, lambda: flags.stop.remote(task.seq))
            for ref in stream:
                for name, args in ray.get(ref):
                    if name == "pid":
                        self._pids[task.seq] = args
                    else:
                        replay(name, args)
        except ray.exceptions.RayError as e:
            fail_unfinished(jobs, store, _failure(e))
        finally:
            self._pids.pop(task.seq, None)
            flags.forget.remote(task.seq)
        fail_unfinished(jobs, store, "the Ray task ended without a result; please report it")

    def _stop_current(self, task) -> None:
        if self._flags is not None:
            self._flags.stop.remote(task.seq, self._stopped_by(task))

    def _resources(self, task) -> dict:
        from playground import datasets

        config = task.configs[0]  # twins share their dataset and device
        cpus = 1 if datasets.info(config["dataset"]).is_toy else self._cpus_per_task
        gpus = 1 if config.get("device", "auto") in ("cuda", "auto") and self._gpus >= 1 else 0
        return {"num_cpus": cpus, "num_gpus": gpus, "max_retries": 0, "runtime_env": self._task_env()}

    def _home(self, home: str | None = None) -> str | None:
        """The $PLAYGROUND_HOME a task uses: ours (the task's store's) on a local instance, the
        node's own on a cluster (None)."""
        if self.address:
            return None
        from playground.home import playground_home

        return home or str(playground_home())

    def _task_env(self) -> dict:
        """The tasks' environment (one for all: Ray reuses a worker only for the same one)."""
        env = _runtime_env()
        env["env_vars"]["PLAYGROUND_THREADS"] = str(self._cpus_per_task)  # torch's threads in a run that is not toy
        return env


def _check_answers(address: str) -> None:
    """A PlaygroundError at once if nothing answers at the address: ray.init would wait for minutes
    (measured: still trying after 200 s) while the runs sit in the queue."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or "://" in host:  # "auto" and the like: Ray's own business
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise PlaygroundError(f"nothing answers at RAY_ADDRESS={address} ({e.strerror or e}): is the cluster up?") from None


def _runtime_env() -> dict:
    return {"env_vars": {"PYTHONPATH": ROOT}}


def _failure(e: ray.exceptions.RayError) -> str:
    """One line for the run's message: what went wrong on Ray's side."""
    cause = getattr(e, "cause", None)
    if isinstance(e, ray.exceptions.RayTaskError) and cause is not None and not isinstance(cause, ray.exceptions.RayError):
        return f"internal error on the Ray worker ({type(cause).__name__}: {cause}); please report it"
    died = (ray.exceptions.WorkerCrashedError, ray.exceptions.OutOfMemoryError, ray.exceptions.NodeDiedError)
    if isinstance(e, died) or isinstance(cause, died):
        return f"the Ray worker training it ended unexpectedly ({type(cause or e).__name__}), perhaps out of memory"
    first = next(iter(str(e).strip().splitlines()), "")
    return f"Ray could not train it ({type(e).__name__}: {first})"


class _Replay:
    """The task's records, replayed in order: store writes on the RunStore, events to the jobs. A
    write that fails (a full disk) fails the task's unfinished runs, as worker.execute does, asks
    the task to stop, and the rest of its records are dropped."""

    def __init__(self, jobs, store, stop) -> None:
        self.jobs, self.store, self.stop = jobs, store, stop
        self.broken = False

    def __call__(self, name: str, args: tuple) -> None:
        if self.broken:
            return
        try:
            if name == "deliver":
                m, events = args
                self.jobs[m].deliver(events)
            elif name == "save_weights":
                _save_weights(*args)
            elif name in ray_task.STORE_WRITES:
                getattr(self.store, name)(*args)
            else:
                log.error("a Ray task sent an unknown record %r", name)
        except PlaygroundError as e:
            self.broken = True
            fail_unfinished(self.jobs, self.store, str(e))
            self.stop()


class _Weights:
    """A state_dict in the shape insight.save_weights takes (a module's state_dict method)."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def state_dict(self) -> dict:
        return self.state


def _save_weights(run_id: int, blob: bytes) -> None:
    import torch

    from playground.insight import save_weights

    buffer = io.BytesIO(blob)
    state = torch.load(buffer, map_location="cpu", weights_only=True)  # tensors only, whatever the task sent
    save_weights(run_id, _Weights(state))
