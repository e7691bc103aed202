"""`bench --profile`: where the trainer's epoch goes on this device, counted with torch.profiler.

One epoch of a run is trained unprofiled (the one-time costs), the next one under the profiler. Each
operator's own time (self time: its children excluded) is summed by kind: the matrix products, and
every other operator by name; the optimizer's step as the profiler's own `Optimizer.step` record.
The time no operator accounts for is the loop's Python (and the profiler's own cost per operator).
The fixed cost of one operator call is measured apart, on a one-element add, so that the operator
count per step turns into seconds: the dispatch cost counted, not guessed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import torch

from playground.config import TrainConfig
from playground.events import EpochEvent
from playground.train import train

PRODUCTS = ("aten::addmm", "aten::mm", "aten::bmm", "aten::baddbmm", "aten::mkldnn_convolution", "aten::convolution_backward",
            "aten::_convolution", "aten::mkldnn_convolution_backward")  # fmt: skip


def dispatch_seconds(reps: int = 20_000) -> float:
    """Seconds of one operator call that does (almost) no arithmetic: torch.add of one-element tensors."""
    a, b, out = torch.ones(1), torch.ones(1), torch.empty(1)
    for _ in range(1000):
        torch.add(a, b, out=out)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.add(a, b, out=out)
    return (time.perf_counter() - t0) / reps


def profile_epoch(config: TrainConfig, progress: Callable[[str], None] = lambda s: None) -> dict:
    """Where the third epoch of config's run goes (the second timed without the profiler, to compare):
    seconds by kind, operator calls per step."""
    from torch.profiler import ProfilerActivity, profile

    events = train(replace(config, epochs=3))
    unprofiled = [e.seconds for e in _epochs(events, 2)][-1]  # the first pays the one-time costs
    progress("profiling the third epoch")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        list(_epochs(events, 1))
        wall = time.perf_counter() - t0
    averages = prof.key_averages()
    ops = [a for a in averages if a.key.startswith("aten::")]
    steps = config.sizes.steps_per_epoch(config.batch_size)
    products = sum(a.self_cpu_time_total for a in ops if a.key in PRODUCTS) / 1e6
    others = sorted((a for a in ops if a.key not in PRODUCTS), key=lambda a: -a.self_cpu_time_total)
    optimizer = sum(a.cpu_time_total for a in averages if a.key.startswith("Optimizer.step")) / 1e6
    calls = sum(a.count for a in ops)
    per_call = dispatch_seconds()
    return {
        "model": config.model,
        "steps": steps,
        "epoch_seconds_profiled": wall,
        "epoch_seconds_unprofiled": unprofiled,
        "products_seconds": products,
        "other_ops_seconds": sum(a.self_cpu_time_total for a in others) / 1e6,
        "optimizer_step_seconds": optimizer,
        "outside_ops_seconds": wall - sum(a.self_cpu_time_total for a in ops) / 1e6,
        "op_calls_per_step": calls / steps,
        "dispatch_seconds_per_call": per_call,
        "dispatch_seconds_per_epoch": per_call * calls,
        "top_other_ops": [{"op": a.key, "seconds": a.self_cpu_time_total / 1e6, "calls_per_step": a.count / steps} for a in others[:8]],
    }


def _epochs(events, n: int):
    """The next n EpochEvents of a run's events (the steps between them consumed)."""
    for e in events:
        if isinstance(e, EpochEvent):
            yield e
            n -= 1
            if n == 0:
                return


def report(r: dict) -> str:
    lines = [
        f"Profile of one epoch of `{r['model']}` ({r['steps']} steps): {r['epoch_seconds_profiled']:.2f} s under the profiler "
        f"(the epoch before it, without: {r['epoch_seconds_unprofiled']:.2f} s)",
        f"  matrix products          {r['products_seconds']:.2f} s",
        f"  every other operator     {r['other_ops_seconds']:.2f} s (the optimizer's step, all of it: {r['optimizer_step_seconds']:.2f} s)",
        f"  outside any operator     {r['outside_ops_seconds']:.2f} s (the loop's Python, the profiler's own cost)",
        f"  operator calls per step  {r['op_calls_per_step']:.0f}; a call's fixed cost {r['dispatch_seconds_per_call'] * 1e6:.1f} us "
        f"(a one-element add), so {r['dispatch_seconds_per_epoch']:.2f} s an epoch of dispatch alone",
        "  the other operators by time:",
    ]
    lines += [f"    {o['op']:<32} {o['seconds']:.3f} s, {o['calls_per_step']:.1f} calls a step" for o in r["top_other_ops"]]
    return "\n".join(lines)
