"""python -m playground bench --store: the run store at the size of a course. Fills a scratch store
(playground.bench_store_fill: 10,000 runs, 20 million steps), then times in milliseconds what the
pages read (the Runs page's listing for a student and for the teacher, one 100,000-step run's
curves, a sweep's overlay) and a worker's writes, a chunk every flush, while reader processes poll
those pages' queries. Targets: a page's reads under 100 ms, no write held up over 100 ms, the file
under 2 GB.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playground import runs as runs_module
from playground.bench_store_fill import STEPS_PER_EPOCH, Filled, fill
from playground.errors import PlaygroundError
from playground.runs import RunStore
from playground.step_chunks import thin

REPS = 5  # each page read is timed this many times: the median is reported, and the slowest
LIST_LIMIT = 2000  # app_pages/runs.py lists this many runs
CHART_POINTS = 2000  # ui.run_view.FINAL_CHART_STEPS
LIVE_POINTS = 300  # ui.run_view.LIVE_CHART_STEPS
READERS = 8
FLUSHES = 400  # writes timed while the readers poll
FLUSH_STEPS = 64  # steps in one flush: a quarter second of a CPU run
FLUSH_GAP = 0.02  # seconds between flushes (the worker's are 0.25 s apart: faster here, for more samples)


def run(
    path: Path | None = None,
    runs: int = 10_000,
    steps: int = 20_000_000,
    readers: int = READERS,
    flushes: int = FLUSHES,
    progress: Callable[[str], None] = lambda s: None,
) -> dict:
    """Fill a store at path/runs.sqlite (a temporary folder when None; a store already there is
    measured as it is) and time it. Every timing is a key ending in _ms, sizes in _mb."""
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        file = Path(path or tmp) / "runs.sqlite"
        out: dict = {"store": str(file) if path else "(a temporary folder, deleted after)"}
        out |= {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)}  # the machine's other work skews the times
        if file.exists() and RunStore(file).query("SELECT 1 FROM runs LIMIT 1"):
            progress(f"measuring the store already at {file}")
            filled = of_store(RunStore(file))
        else:
            progress(f"filling {file}: {runs:,} runs, {steps:,} steps")
            filled = fill(file, runs, steps, progress)
            out["fill_ms"] = round(filled.seconds * 1000)
        out |= {"runs": filled.runs, "steps": filled.steps, "chunks": filled.chunks, "file_mb": _mb(file)}
        progress("timing the pages' reads")
        out |= page_reads(RunStore(file), filled)
        progress(f"timing {flushes} flushes while {readers} reader processes poll")
        out |= writes_under_readers(file, filled, readers, flushes)
        out["file_after_writes_mb"] = _mb(file)
        return out


def of_store(store: RunStore) -> Filled:
    """What a filled store holds, read back from it."""
    top = store.query("SELECT max(total_steps) AS n FROM runs")[0]["n"]
    big = [r["id"] for r in store.query("SELECT id FROM runs WHERE total_steps=? ORDER BY id", (top,))]
    return Filled(
        runs=store.query("SELECT count(*) FROM runs")[0][0],
        steps=store.query("SELECT coalesce(sum(n), 0) FROM step_chunks")[0][0],
        chunks=store.query("SELECT count(*) FROM step_chunks")[0][0],
        owners=[f"p{r['id']}" for r in store.query("SELECT id FROM people ORDER BY id")],
        big_runs=big,
        sweeps=[[m["run_id"] for m in s["members"]] for s in store.list_sweeps(limit=1000)],
    )


def _mb(file: Path) -> float:
    wal = file.with_name(file.name + "-wal")
    return round((file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6, 1)


def _timed(fn: Callable[[], object], reps: int = REPS) -> tuple[float, float]:
    """(median, max) milliseconds of reps calls."""
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(ms), 2), round(max(ms), 2)


def runs_page(store: RunStore, owner: str | None) -> None:
    """app_pages/runs.py: the newest runs the viewer sees; the teacher's also names each run's student."""
    from playground.classroom import roster

    runs = store.list_runs(LIST_LIMIT, owner=owner)
    if owner is None:
        for o in {r.owner for r in runs}:
            roster.by_owner(store, o)


def run_view(store: RunStore, run_id: int, live: bool = False) -> None:
    """ui.run_view's panel of a run: the run, its epochs and the points of its curves it draws."""
    store.get(run_id)
    store.epochs(run_id)
    cols = store.step_columns(run_id)
    cols.rows(thin(len(cols), LIVE_POINTS if live else CHART_POINTS))
    if not live:
        cols.rows(cols.step <= 100)  # the gradient chart's first steps
    store.first_loss(run_id)  # the poll's cadence (and the diagnosis)


def sweep_overlay(store: RunStore, run_ids: list[int]) -> None:
    """ui.sweep_view.series: each member's run, epochs and steps."""
    for run_id in run_ids:
        store.get(run_id)
        store.epochs(run_id)
        store.step_columns(run_id)


def page_reads(store: RunStore, filled: Filled) -> dict:
    student, big = filled.owners[len(filled.owners) // 2], filled.big_runs[0]
    sweep = filled.sweeps[0] if filled.sweeps else [r.id for r in store.list_runs(4)]
    reads = {
        "runs_page_student": lambda: runs_page(store, student),
        "runs_page_teacher": lambda: runs_page(store, None),
        "run_view": lambda: run_view(store, big),
        "run_view_live": lambda: run_view(store, big, live=True),
        "run_steps_columns": lambda: store.step_columns(big),
        "run_steps_rows": lambda: store.steps(big),
        "run_layer_stats": lambda: store.layer_stats(big),
        "sweep_overlay": lambda: sweep_overlay(store, sweep),
        "sweep_overlay_rows": lambda: [store.steps(r) for r in sweep],
        "first_loss": lambda: store.first_loss(big),
        "step_count": lambda: store.step_count(big),
    }
    out: dict = {"big_run_steps": store.step_count(big), "sweep_runs": len(sweep)}
    runs_module._config.cache_clear()  # a fresh server process: no stored config parsed yet
    out["runs_page_teacher_cold_ms"] = _timed(lambda: runs_page(store, None), reps=1)[0]
    for name, fn in reads.items():
        out[f"{name}_ms"], out[f"{name}_max_ms"] = _timed(fn)
    return out


def writes_under_readers(file: Path, filled: Filled, readers: int, flushes: int) -> dict:
    """A new run's steps written flush by flush (RunStore.add_steps, as the worker does, an epoch row
    every 938 steps) while reader processes poll the pages' reads as fast as they can."""
    ctx = mp.get_context("spawn")
    ready, stop, results = ctx.Barrier(readers + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_reader, args=(file, filled, i, ready, stop, results), daemon=True) for i in range(readers)]
    for p in procs:
        p.start()
    try:
        ready.wait(timeout=120)
        ms = _writer(RunStore(file), filled, flushes)
    finally:
        stop.set()
        polls = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=10)
    if errors := [e for _, e in polls if e]:
        raise PlaygroundError(f"a reader process failed: {errors[0]}")
    reads = sorted(x for p, _ in polls for x in p)
    wall = sorted(w for w, _, _ in ms)
    out = {"readers": readers, "writes": len(ms), "write_median_ms": round(statistics.median(wall), 2)}
    out |= {"write_p99_ms": _p99(wall), "write_max_ms": round(wall[-1], 2)}
    if ms[0][1] is not None:  # the wall time split: waiting for a CPU (readers and other work share the cores), and the rest
        out["write_cpu_wait_max_ms"] = round(max(q for _, q, _ in ms), 2)
        out["write_blocked_max_ms"] = round(max(b for _, _, b in ms), 2)  # not running nor runnable: locks, disk
    return out | {"reader_polls": len(reads), "reader_p99_ms": _p99(reads), "reader_max_ms": round(reads[-1], 2) if reads else None}


def _p99(ms: list[float]) -> float | None:
    return round(ms[int(0.99 * (len(ms) - 1))], 2) if ms else None


def _writer(store: RunStore, filled: Filled, flushes: int) -> list[tuple]:
    """A new run written flush by flush; per write (ms): wall time, time waiting for a CPU, time blocked."""
    from playground.config import TrainConfig
    from playground.events import EpochEvent, StartEvent, StepEvent

    rng = random.Random(0)
    total = flushes * FLUSH_STEPS
    run_id = store.create(TrainConfig(seed=10**6), owner=filled.owners[0])
    store.start(run_id, StartEvent(669706, "cpu", STEPS_PER_EPOCH, total, 60000, 10000))
    ms, step = [], 0
    for _ in range(flushes):
        events = []
        for _ in range(FLUSH_STEPS):
            step += 1
            grads = (rng.gauss(0, 1e-4), abs(rng.gauss(1e-3, 1e-4))) if step <= 100 or step % 10 == 0 else (None, None)
            events.append(StepEvent(step, (step - 1) // STEPS_PER_EPOCH + 1, 2.3 * 0.9995**step + rng.random() * 0.1, *grads))
        t0, s0 = time.perf_counter(), _schedstat()
        store.add_steps(run_id, events)
        if step // STEPS_PER_EPOCH > (step - FLUSH_STEPS) // STEPS_PER_EPOCH:
            store.add_epoch(run_id, EpochEvent(step // STEPS_PER_EPOCH, 0.5, 0.8, 0.5, 0.8, 5.0, 0.1))
        wall, s1 = (time.perf_counter() - t0) * 1000, _schedstat()
        ran, queued = (s1[0] - s0[0], s1[1] - s0[1]) if s0 and s1 else (None, None)
        ms.append((wall, queued, None if ran is None else max(0.0, wall - ran - queued)))
        time.sleep(FLUSH_GAP)
    store.finish(run_id, "completed", "done", {})
    return ms


def _schedstat() -> tuple[float, float] | None:
    """(ms this thread has run on a CPU, ms it waited for one while runnable), where Linux tells."""
    try:
        ran, queued, _ = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(ran) / 1e6, int(queued) / 1e6


def _reader(file: Path, filled: Filled, seed: int, ready, stop, results) -> None:
    """One reader process: the pages' reads, one after another, until stop; their times (ms)."""
    store = RunStore(file)
    rng = random.Random(seed)
    reads = [
        lambda: runs_page(store, rng.choice(filled.owners)),
        lambda: runs_page(store, None),
        lambda: run_view(store, rng.choice(filled.big_runs)),
        lambda: run_view(store, rng.randint(1, filled.runs), live=True),
        lambda: sweep_overlay(store, rng.choice(filled.sweeps)) if filled.sweeps else None,
    ]
    ms, error = [], None
    try:
        ready.wait(timeout=120)
        while not stop.is_set():
            t0 = time.perf_counter()
            reads[len(ms) % len(reads)]()
            ms.append((time.perf_counter() - t0) * 1000)
    except Exception as e:  # the writer's side says so
        error = f"{type(e).__name__}: {e}"
    finally:
        results.put((ms, error))


def report(r: dict) -> str:
    def ok(value: float | None, limit: float = 100) -> str:
        return "ok" if value is not None and value < limit else "OVER"

    lines = [
        f"Run store: {r['runs']:,} runs, {r['steps']:,} steps in {r['chunks']:,} chunks, {r['file_mb']:,.1f} MB "
        f"({ok(r['file_mb'], 2000)}: target < 2 GB)" + (f"; filled in {r['fill_ms'] / 1000:.1f} s" if "fill_ms" in r else ""),
        f"Page reads (median of 5, slowest in brackets; target < 100 ms), {r['cpus']} CPUs at load {r['load_average']}:",
    ]
    for key, what in (
        ("runs_page_student", "Runs page, a student (list_runs by holder)"),
        ("runs_page_teacher", f"Runs page, the teacher ({LIST_LIMIT:,} runs, names)"),
        ("run_view", f"a {r['big_run_steps']:,}-step run's panel"),
        ("run_view_live", "the same, as a live run's panel"),
        ("run_steps_columns", "  its steps as columns"),
        ("run_steps_rows", "  its steps as dicts (steps(); no page reads it)"),
        ("run_layer_stats", "  its layer statistics"),
        ("sweep_overlay", f"a sweep's overlay ({r['sweep_runs']} runs)"),
        ("sweep_overlay_rows", "  the same as dicts"),
        ("first_loss", "first_loss (the poll's cadence)"),
        ("step_count", "step_count"),
    ):
        lines.append(f"  {what:<46} {r[key + '_ms']:>9.2f} ms  [{r[key + '_max_ms']:.2f}]  {ok(r[key + '_ms'])}")
    cold = r["runs_page_teacher_cold_ms"]
    lines.append(f"  the teacher's first view in a fresh process (each stored config parsed once): {cold:.2f} ms  {ok(cold)}")
    lines.append(
        f"Writes, a flush of {FLUSH_STEPS} steps each, while {r['readers']} reader processes poll ({r['reader_polls']:,} reads, "
        f"p99 {r['reader_p99_ms']} ms, slowest {r['reader_max_ms']} ms): {r['writes']} writes, median {r['write_median_ms']:.2f} ms, "
        f"p99 {r['write_p99_ms']:.2f} ms, slowest {r['write_max_ms']:.2f} ms"
    )
    if "write_blocked_max_ms" in r:
        lines.append(
            f"  of a write's wall time, at most {r['write_cpu_wait_max_ms']:.2f} ms waiting for a CPU and at most "
            f"{r['write_blocked_max_ms']:.2f} ms blocked on locks or the disk ({ok(r['write_blocked_max_ms'])}: target < 100 ms)"
        )
    return "\n".join(lines)


def check_sizes(runs: int, steps: int) -> None:
    if runs < 1 or steps < runs:
        raise PlaygroundError(f"--store-runs {runs} and --store-steps {steps}: give at least 1 run and at least one step per run")
