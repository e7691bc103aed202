"""The benchmark's two loops, for correctness only (timings belong in `python -m playground bench`)."""

import json
import subprocess
import sys

import pytest

from playground import bench
from playground.config import TrainConfig


def test_reference_and_playground_loops_reach_the_same_accuracy(tiny_home):
    reference = bench.reference_loop(train_limit=0, lr=0.1, seed=0)  # torchvision FashionMNIST over the tiny idx files
    playground = bench.playground_loop(TrainConfig(model=bench.BASE_SPEC, lr=0.1, epochs=4, batch_size=64, device="cpu"))
    ref = [reference() for _ in range(4)]
    pg = [playground() for _ in range(4)]
    assert all(seconds > 0 for seconds, _ in ref + pg)
    assert abs(ref[-1][1] - pg[-1][1]) <= 0.05 and pg[-1][1] >= 0.9


def test_matmul_peak_is_measured():
    assert bench.matmul_peak(n=256, reps=2) > 0.1


def test_matmul_floor_scales_with_steps_and_counts_the_test_evaluation():
    (one, test_one), (ten, test_ten) = (bench.matmul_floor(widths=(64, 32, 10), batch=8, steps=s, reps=1) for s in (1, 10))
    assert 0 < one < ten  # seconds per epoch = per-step products x steps
    assert test_one > 0 and test_ten > 0  # the test set's forward products, whatever the steps
    _, none = bench.matmul_floor(widths=(64, 32, 10), batch=8, steps=1, reps=1, eval_images=0)
    assert none == 0


def test_bench_cli_json_shape(subprocess_env):
    # the report and the public JSON keys, on made-up numbers
    r = bench.BenchResult(
        2,
        400,
        2.0,
        0.5,
        4.0,
        0.8,
        0.81,
        100.0,
        1e9,
        0.005,
        0.02,
        [2.0],
        [0.5],
        paired_speedup=3.9,
        matmul_floor_seconds=0.25,
        matmul_floor_test_seconds=0.05,
    )
    d = json.loads(json.dumps(r.to_dict()))
    assert {"reference_seconds_per_epoch", "playground_seconds_per_epoch", "speedup", "reference_accuracy", "playground_accuracy"} <= set(d)
    text = bench.report(r)
    assert "speedup 4.00x" in text and "3.90x as the median of back-to-back epoch pairs" in text
    assert (
        "alone, timed in isolation: 0.25 s (training 0.20 s, test evaluation 0.05 s); the trainer's epoch (with its evaluation) is 2.00x that"
        in text
    )
    out = subprocess.run(
        [sys.executable, "-m", "playground", "bench", "--help"], capture_output=True, text=True, check=False, env=subprocess_env
    )
    assert out.returncode == 0 and "--quick" in out.stdout


def test_toy_bench_times_the_toy_pages_default_run_three_ways(tiny_home):
    from playground import bench_toy, settings

    config = bench_toy.page_default()
    page = settings.TOY_PAGE
    assert (config.dataset, config.lr, config.batch_size) == (page["toy_set"].default, page["toy_lr"].default, page["toy_batch"].default)
    r = bench_toy.bench_toy(rounds=1, epochs=2, toy_points=60)  # 42 training points, batch 16: 3 steps an epoch
    assert r["steps"] == 6 and r["config"]["points"] == 60
    assert min(r["plain_loop_seconds"], r["trainer_seconds"], r["run_seconds_reported"]) > 0
    assert r["run_seconds_reported"] <= r["run_seconds_submit_to_completed"]
    text = bench_toy.report(r)
    assert "6 steps, 1 CPU thread" in text and f"{r['trainer_seconds']:.2f} s ({r['trainer_over_plain']:.2f}x the floor)" in text


def test_bf16_is_compared_with_float32_on_the_same_run_where_offered(tiny_home, monkeypatch):
    from playground import bench_precision, precision

    config = TrainConfig(model="fc32 relu", epochs=2, batch_size=16, train_limit=200, test_limit=100)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    skipped = bench_precision.bf16_compare(config, bench.playground_loop, lambda s: None)
    assert "no bfloat16 units" in skipped["skipped"] and skipped["product_gflops_bfloat16"] > 0
    assert "not offered on this device" in bench_precision.report(skipped)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)  # emulated here: slow, fine for 26 tiny steps
    r = bench_precision.bf16_compare(config, bench.playground_loop, lambda s: None)
    assert r["epochs"] == 2 and r["float32_seconds_per_epoch"] > 0 and r["bfloat16_seconds_per_epoch"] > 0
    assert 0.5 <= r["bfloat16_test_accuracy"] <= 1 and abs(r["bfloat16_test_accuracy"] - r["float32_test_accuracy"]) <= 0.1
    assert f"({r['speedup']:.2f}x)" in bench_precision.report(r)


def test_the_profile_accounts_for_the_epoch(tiny_home):
    from playground import bench_profile

    r = bench_profile.profile_epoch(TrainConfig(model="fc32 relu", batch_size=16, train_limit=200, test_limit=100, device="cpu"))
    assert r["steps"] == 13 and r["products_seconds"] > 0 and r["op_calls_per_step"] > 10
    parts = r["products_seconds"] + r["other_ops_seconds"] + r["outside_ops_seconds"]
    assert parts == pytest.approx(r["epoch_seconds_profiled"], rel=1e-6)  # every second is in one of the three
    assert r["optimizer_step_seconds"] > 0 and r["top_other_ops"][0]["calls_per_step"] > 0
    assert "operator calls per step" in bench_profile.report(r)
