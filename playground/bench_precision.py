"""The benchmark's bfloat16 part: the opt-in bfloat16 matrix products (playground.precision) against
float32 on the same run, epoch by epoch (A B A B), with the test accuracy each reaches; and, on any
device, one product of the quickstart MLP's first layer in both precisions, so that a device without
bfloat16 units shows why the setting is not offered there."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from playground import precision
from playground.config import TrainConfig
from playground.devices import resolve_device

SHAPE = (64, 784, 512)  # [batch x inputs] x [inputs x units]: the quickstart MLP's first layer


def product_gflops(dtype: torch.dtype, device: str = "cpu", reps: int = 3, shape: tuple = SHAPE, calls: int = 10) -> float:
    """GFLOP/s of one [n x k] x [k x m] product in dtype on device: the best of reps, each timing calls products."""
    n, k, m = shape
    a, b = torch.randn(n, k, device=device, dtype=dtype), torch.randn(k, m, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    torch.mm(a, b)
    sync()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b)
        sync()
        best = min(best, (time.perf_counter() - t0) / calls)
    return 2 * n * k * m / best / 1e9


def bf16_compare(config: TrainConfig, loop_of: Callable, progress: Callable[[str], None], device: str = "cpu") -> dict:
    """config's run in float32 and with bfloat16 products, interleaved epoch by epoch: seconds per
    epoch (median) and final test accuracy of each; only the product speeds where the device has no
    bfloat16 units (the setting is refused there). loop_of(config) gives a callable that trains one
    epoch and returns (seconds, test accuracy): bench.playground_loop."""
    out = {
        "product": "x".join(map(str, SHAPE)),
        "product_gflops_float32": product_gflops(torch.float32, device),
        "product_gflops_bfloat16": product_gflops(torch.bfloat16, device),
    }
    why = precision.unsupported(resolve_device(device))
    if why:
        progress(f"bfloat16: not offered here ({why})")
        return out | {"skipped": why}
    loops = {bf16: loop_of(replace(config, device=device, bf16=bf16)) for bf16 in (False, True)}
    epochs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for e in range(config.epochs):
        for bf16 in (False, True):
            epochs[bf16].append(loops[bf16]())
            progress(f"epoch {e + 1}/{config.epochs}: {'bfloat16' if bf16 else 'float32'} {epochs[bf16][-1][0]:.2f} s")
    f32, b16 = (statistics.median(s for s, _ in epochs[k]) for k in (False, True))
    return out | {
        "epochs": config.epochs,
        "float32_seconds_per_epoch": f32,
        "bfloat16_seconds_per_epoch": b16,
        "speedup": f32 / b16,
        "float32_test_accuracy": epochs[False][-1][1],
        "bfloat16_test_accuracy": epochs[True][-1][1],
    }


def report(r: dict) -> str:
    products = f"one {r['product']} product: {r['product_gflops_float32']:,.1f} GFLOP/s in float32, {r['product_gflops_bfloat16']:,.1f} in bfloat16"
    if "skipped" in r:
        return f"  bfloat16 matrix products: not offered on this device ({r['skipped']}); {products}"
    return (
        f"  bfloat16 matrix products: {r['bfloat16_seconds_per_epoch']:.2f} s/epoch against {r['float32_seconds_per_epoch']:.2f} s in float32 "
        f"({r['speedup']:.2f}x); test accuracy after {r['epochs']} epochs {r['bfloat16_test_accuracy']:.4f} against "
        f"{r['float32_test_accuracy']:.4f}; {products}"
    )
