"""`python -m playground bench --store` on a tiny store: it fills, times and reports (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from playground import bench_store, bench_store_fill
from playground.runs import RunStore

KEYS = (
    "runs_page_student_ms", "runs_page_teacher_ms", "runs_page_teacher_cold_ms", "run_view_ms", "run_view_live_ms",
    "run_steps_columns_ms", "run_steps_rows_ms", "sweep_overlay_ms", "first_loss_ms", "fill_ms",
    "write_median_ms", "write_p99_ms", "write_max_ms", "reader_p99_ms",
)  # fmt: skip


def test_bench_store_fills_times_and_prints_json(tmp_path):
    env = os.environ | {"PLAYGROUND_HOME": str(tmp_path / "home")}
    tiny = ["--store-runs", "40", "--store-steps", "30000", "--store-readers", "2", "--store-flushes", "20"]
    cmd = [sys.executable, "-m", "playground", "bench", "--store", "--store-path", str(tmp_path / "s"), *tiny]
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert set(KEYS) <= set(r) and all(r[k] >= 0 for k in KEYS)
    assert r["runs"] == 40 and r["steps"] == 30_000 and r["writes"] == 20 and r["readers"] == 2 and r["file_mb"] > 0
    assert all(isinstance(v, (int, float)) for k, v in r.items() if k.endswith(("_ms", "_mb")))
    store = RunStore(tmp_path / "s" / "runs.sqlite")
    assert store.step_count(store.list_runs(1)[0].id) == 20 * bench_store.FLUSH_STEPS  # the run written while they polled
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)  # a filled store: measured again
    assert again.returncode == 0 and "Page reads" in again.stdout and "filled in" not in again.stdout, again.stderr


def test_a_course_has_its_runs_and_steps():
    lengths = bench_store_fill.lengths(10_000, 20_000_000)
    assert len(lengths) == 10_000 and abs(sum(lengths) - 20_000_000) < 5000
    assert lengths.count(100_000) == 10 and lengths.count(5 * 938) > 500


def test_bad_sizes_are_one_line_and_exit_2(tmp_path):
    env = os.environ | {"PLAYGROUND_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "playground", "bench", "--store", "--store-runs", "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 2 and "--store-runs" in out.stderr and "Traceback" not in out.stderr
