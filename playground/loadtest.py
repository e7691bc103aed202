"""The class server under load (`python -m playground loadtest`): N students of a scratch class sign in
with their join links, each submits K tiny runs through the interface the pages use
(playground.classroom.access.OwnJobs) and polls the run store as the Train page does (the run, its
steps and its epochs, every POLL_SECONDS), each in a thread of its own as each page session is.

What it measures: how long after submitting a student saw the first point of a curve and the run's
end; the runs lost (no end in time, an end other than completed or diverged, or a completed run
missing rows); the store's integrity; the server's peak memory; and whether the queue was fair: no
student's k-th run started before another student's earlier run that was already waiting.

The scratch class lives in a temporary $PLAYGROUND_HOME, deleted afterwards; the caller's home and
its runs are never touched."""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playground.errors import PlaygroundError

EXECUTORS = ("local", "ray")
MAX_RUNS = 2000  # students x runs per student: more threads and runs than one machine's test is worth
POLL_SECONDS = 0.5  # the Train page polls a training run every 0.5-1 s
DATASET = "digits"  # offline everywhere (scikit-learn ships it) and tiny: a run of 300 images takes ~0.05 s
WARM_UP_SECONDS = 300  # the pool's workers import PyTorch and warm up before the class starts
ENDED_WELL = ("completed", "diverged")


@dataclass
class Seen:
    """What one student's page saw of one of their runs (monotonic seconds)."""

    run_id: int
    submitted: float
    first_point: float | None = None
    ended: float | None = None


@dataclass
class Report:
    students: int
    runs_per_student: int
    executor: str
    workers: int
    dataset: str
    runs: int
    runs_lost: int
    lost: list[str]  # why each lost run counts as lost (the first 20)
    statuses: dict[str, int]
    integrity: str  # PRAGMA integrity_check: "ok" or the problems
    first_point_seconds: dict  # submit -> the first stored step row the poller saw: {p50, p95, max}
    end_seconds: dict  # submit -> a final status in the store
    poll_gap_seconds: dict  # between two polls of one student: POLL_SECONDS if the store keeps up
    peak_rss_mb: float  # this (the server's) process
    worker_peak_rss_mb: float | None  # the largest worker process of the pool (Linux, local executor)
    fair: bool
    unfair: list[str] = field(default_factory=list)  # the first few starts out of turn
    warm_up_seconds: float = 0.0  # starting the executor, before anyone signs in
    seconds: float = 0.0  # from the first submit to the last student's last poll

    def to_dict(self) -> dict:
        return asdict(self)


def check(students: int, runs_per_student: int, executor: str) -> None:
    """PlaygroundError for a load test that cannot be run."""
    if students < 1 or runs_per_student < 1:
        raise PlaygroundError(f"--students {students} --runs-per-student {runs_per_student}: both must be at least 1")
    if students * runs_per_student > MAX_RUNS:
        raise PlaygroundError(
            f"{students} students x {runs_per_student} runs = {students * runs_per_student} runs: at most {MAX_RUNS}; use fewer"
        )
    if executor not in EXECUTORS:
        raise PlaygroundError(f"--executor {executor!r} is not allowed: use one of {', '.join(EXECUTORS)}")


def run(students: int, runs_per_student: int, executor: str = "local", workers: int = 0, timeout: float | None = None) -> Report:
    """The load test (see the module's text). workers: the pool's size for the local executor (0: the
    class's default, cores / threads per run); timeout: for the runs to end after the first submit
    (default: 60 s plus 2 s per run per worker)."""
    check(students, runs_per_student, executor)
    if workers < 0:
        raise PlaygroundError(f"--workers {workers} is not allowed: use 0 (sized to the machine) or more")
    from playground import jobs
    from playground.runs import RunStore

    with _scratch_class(workers, runs_per_student) as store_path:
        store = RunStore(store_path)
        tokens = _roster(store, students)
        started = time.monotonic()
        pool, manager = _executor(executor), None
        try:
            _wait_ready(pool)
            warm = time.monotonic() - started
            manager = jobs.JobManager(store, pool)
            limit = timeout if timeout is not None else 60 + 2 * students * runs_per_student / pool.slots
            seen, gaps, seconds = _class(manager, tokens, runs_per_student, limit)
            return _report(store, seen, gaps, executor, pool.slots, runs_per_student, warm, seconds, _workers_peak_mb(pool))
        finally:
            if manager is not None:  # runs still queued when time was up must not start in a deleted home
                manager.stop_all()
            _shut_down(pool)


@contextlib.contextmanager
def _scratch_class(workers: int, runs_per_student: int):
    """A temporary $PLAYGROUND_HOME in class mode; yields its run store's path. Each student may queue
    all their runs at once (the class's max_queued_runs would refuse the fourth)."""
    from playground.classroom import config
    from playground.home import runs_db_path

    home = tempfile.mkdtemp(prefix="playground-loadtest-")
    before = os.environ.get("PLAYGROUND_HOME")
    os.environ["PLAYGROUND_HOME"] = home  # the pool's workers inherit it: they write this store
    try:
        queued = max(config.ClassConfig.max_queued_runs, runs_per_student)
        config.write(config.ClassConfig(name="Load test", max_queued_runs=queued, workers=workers))
        yield runs_db_path()
    finally:
        if before is None:
            os.environ.pop("PLAYGROUND_HOME", None)
        else:
            os.environ["PLAYGROUND_HOME"] = before
        shutil.rmtree(home, ignore_errors=True)


def _roster(store, students: int) -> list[str]:
    """The students' join-link tokens (what each one's link carries)."""
    from playground.classroom import roster

    width = len(str(students))
    return [token for _, token in roster.add(store, [f"Student {i + 1:0{width}}" for i in range(students)])]


def _executor(kind: str):
    """The local pool sized by the scratch class (its own, not the process-wide one: that one may be
    sized by another class file), or the process-wide Ray executor."""
    if kind == "ray":
        from playground import executors

        return executors.get("ray")  # PlaygroundError if Ray or playground.ray_executor is missing
    from playground.classroom.config import pool_size
    from playground.process_executor import ProcessExecutor

    return ProcessExecutor(pool_size())


def _wait_ready(pool) -> None:
    """Until the executor can train at once, as a server is by the time a class begins."""
    connect = getattr(pool, "connect", None)
    if connect is not None:  # Ray: in this thread (its signal handlers need the main one); its slots are known after
        connect()
    else:
        pool.start()
    deadline = time.monotonic() + WARM_UP_SECONDS
    while not pool.ready:
        if time.monotonic() > deadline:
            raise PlaygroundError(f"the executor was not ready to train after {WARM_UP_SECONDS} s; is the machine overloaded?")
        time.sleep(0.1)


def _shut_down(pool) -> None:
    """Let the executor's processes go: close Ray, or end the pool's idle workers (they would only
    end with this process)."""
    close = getattr(pool, "close", None)
    if close is not None:
        close()
        return
    for pid in getattr(pool, "pids", []):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _class(manager, tokens: list[str], runs_per_student: int, limit: float) -> tuple[list[Seen], list[float], float]:
    """Every student in a thread of their own, signing in, then submitting together; what their pages
    saw, the gaps between their polls, and the seconds from the first submit to the last poll."""
    began, deadline = [0.0], [0.0]

    def go() -> None:  # the barrier runs this once, before it lets anyone through
        began[0] = time.monotonic()
        deadline[0] = began[0] + limit

    gate = threading.Barrier(len(tokens), action=go)
    out: list[tuple[list[Seen], list[float]] | BaseException] = [() for _ in tokens]  # type: ignore[misc]

    def student(i: int) -> None:
        try:
            viewer = _sign_in(manager.store, tokens[i])
            gate.wait()
            seeds = range(1 + i * runs_per_student, 1 + (i + 1) * runs_per_student)
            out[i] = _student(manager, viewer, [_config(seed) for seed in seeds], deadline)
        except BaseException as e:  # raised again in the main thread
            gate.abort()
            out[i] = e

    threads = [threading.Thread(target=student, args=(i,), name=f"loadtest-student-{i + 1}", daemon=True) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors := [e for e in out if isinstance(e, BaseException) and not isinstance(e, threading.BrokenBarrierError)]:
        raise errors[0]
    seconds = time.monotonic() - began[0]
    return [s for seen, _ in out for s in seen], [g for _, gaps in out for g in gaps], seconds


def _sign_in(store, token: str):
    """What the sign-in page does with a join link's token: the person, then their Viewer."""
    from playground.classroom import roster
    from playground.classroom.access import Viewer

    person = roster.by_token(store, token)
    if person is None:
        raise PlaygroundError("a student's join link was not recognised; the roster lost a token")
    roster.seen(store, person)
    return Viewer(person.owner, person.name, person.teacher)


def _config(seed: int):
    """A tiny run of its own: a seed per student and run, so the cache serves none of them."""
    from playground.config import TrainConfig

    return TrainConfig(dataset=DATASET, model="fc8 relu", epochs=1, batch_size=32, train_limit=300, test_limit=100, seed=seed)


def _student(manager, viewer, configs: list, deadline: list[float]) -> tuple[list[Seen], list[float]]:
    """One student's page: submit every run, then poll each run not ended yet until all have ended or
    time is up."""
    from playground.classroom.access import OwnJobs

    own = OwnJobs(manager, viewer)
    seen = []
    for config in configs:
        submitted = time.monotonic()
        seen.append(Seen(own.submit(config).run_id, submitted))
    gaps, last = [], None
    while any(s.ended is None for s in seen) and time.monotonic() < deadline[0]:
        now = time.monotonic()
        if last is not None:
            gaps.append(now - last)
        last = now
        for s in seen:
            if s.ended is None:
                _poll(own.store, s)
        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - now)))
    return seen, gaps


def _poll(store, seen: Seen) -> None:
    """What the Train page reads of a run in training on each rerun."""
    run = store.get(seen.run_id)
    steps = store.step_columns(seen.run_id)  # as the run panel reads them
    store.epochs(seen.run_id)
    now = time.monotonic()
    if len(steps) and seen.first_point is None:
        seen.first_point = now
    if run is not None and not run.active:
        seen.ended = now


def _report(store, seen, gaps, executor, workers, runs_per_student, warm, seconds, worker_rss) -> Report:
    runs = {r["id"]: r for r in store.query("SELECT id, owner, status, created, started, finished, total_steps, config FROM runs")}
    lost = [why for s in sorted(seen, key=lambda s: s.run_id) if (why := _lost(store, runs.get(s.run_id), s))]
    statuses: dict[str, int] = {}
    for r in runs.values():
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    integrity = "; ".join(str(r[0]) for r in store.query("PRAGMA integrity_check"))
    unfair = unfair_starts([(r["id"], r["owner"], r["created"], r["started"], r["finished"]) for r in runs.values()])
    return Report(
        students=len(seen) // runs_per_student, runs_per_student=runs_per_student, executor=executor, workers=workers,
        dataset=DATASET, runs=len(seen), runs_lost=len(lost), lost=lost[:20], statuses=statuses, integrity=integrity,
        first_point_seconds=spread([s.first_point - s.submitted for s in seen if s.first_point is not None]),
        end_seconds=spread([s.ended - s.submitted for s in seen if s.ended is not None]),
        poll_gap_seconds=spread(gaps), peak_rss_mb=peak_rss_mb(), worker_peak_rss_mb=worker_rss,
        fair=not unfair, unfair=unfair[:5], warm_up_seconds=round(warm, 2), seconds=round(seconds, 2),
    )  # fmt: skip


def _lost(store, row, seen: Seen) -> str | None:
    """Why a run counts as lost, or None: no end in time, an end that is not a result, or rows missing."""
    if row is None:
        return f"run {seen.run_id}: gone from the store"
    if seen.ended is None:
        return f"run {seen.run_id}: still {row['status']} when time was up"
    if row["status"] not in ENDED_WELL:
        message = store.query("SELECT message FROM runs WHERE id=?", (row["id"],))[0]["message"]
        return f"run {seen.run_id}: ended {row['status']} ({message})"
    if row["status"] == "completed":
        steps = store.step_count(row["id"])
        epochs = store.query("SELECT COUNT(*) AS n FROM epochs WHERE run_id=?", (row["id"],))[0]["n"]
        wanted = json.loads(row["config"])["epochs"]
        if steps != row["total_steps"] or epochs != wanted:
            return f"run {seen.run_id}: completed with {steps} of {row['total_steps']} step rows and {epochs} of {wanted} epoch rows"
    return None


def unfair_starts(runs: list[tuple[int, str, float, float | None, float | None]]) -> list[str]:
    """Starts out of turn, from the store's (id, owner, created, started, finished): a student's k-th
    run that started before another student's run of a lower rank that was already waiting. A run is
    taken as handed out when it was submitted or, if later, when the last run to end before its start
    ended (a slot came free); a run submitted after that could not have gone first."""
    rank, counts = {}, {}
    for run_id, owner, *_ in sorted(runs):
        rank[run_id] = counts[owner] = counts.get(owner, 0) + 1
    ends = sorted(f for *_, f in runs if f is not None)
    out = []
    for run_id, owner, created, started, _ in sorted(runs, key=lambda r: (r[3] is None, r[3] or 0)):
        if started is None or rank[run_id] < 2:
            continue
        handed = max(created, _last_before(ends, started))
        for other, who, queued, began, _ in runs:
            if who != owner and rank[other] < rank[run_id] and queued < handed and (began is None or began > started):
                out.append(
                    f"run {run_id} ({owner}'s run {rank[run_id]}) started before run {other} ({who}'s run {rank[other]}), "
                    f"which had been waiting {started - queued:.2f} s"
                )
                break
    return out


def _last_before(times: list[float], t: float) -> float:
    """The latest of sorted times strictly before t (0 if none)."""
    i = bisect.bisect_left(times, t)
    return times[i - 1] if i else 0.0


def spread(values: list[float]) -> dict:
    """{p50, p95, max} in seconds (nearest rank), None each when there are no values."""
    if not values:
        return {"p50": None, "p95": None, "max": None}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)

    return {"p50": rank(0.5), "p95": rank(0.95), "max": round(ordered[-1], 3)}


def peak_rss_mb() -> float:
    """This process's peak resident memory (ru_maxrss: kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _workers_peak_mb(pool) -> float | None:
    """The largest peak memory of the pool's worker processes (VmHWM in /proc: Linux only)."""
    peaks = []
    for pid in getattr(pool, "pids", []):
        with contextlib.suppress(OSError, ValueError):
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
            peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return round(max(peaks), 1) if peaks else None
