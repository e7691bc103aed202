"""The grouped-sweep benchmark: a 4-value learning-rate sweep trained one run after another against
the same sweep trained as one group (playground.grouped), on three models, with how far each
member's numbers are from its twin trained alone."""

from __future__ import annotations

import time
from collections.abc import Callable

from playground.config import TrainConfig
from playground.events import EndEvent, StepEvent
from playground.grouped import train_group
from playground.train import train

LRS = [1.0, 0.1, 0.01, 0.001]


def _cases(quick: bool, device: str) -> list[tuple[str, TrainConfig]]:
    return [
        ("fc64 relu on digits", TrainConfig(dataset="digits", model="fc64 relu", epochs=3 if quick else 10, batch_size=32, device=device)),
        (
            "toy MLP on circles",
            TrainConfig(dataset="circles", model="fc16 tanh fc16 tanh", epochs=10 if quick else 40, batch_size=16, device=device),
        ),
        (
            "quickstart MLP on Fashion-MNIST",
            TrainConfig(model="fc512 relu fc512 relu", epochs=1, batch_size=64, train_limit=10_000 if quick else 0, device=device),
        ),
    ]


def _seconds(fn: Callable[[], list]) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _time_rounds(configs: list[TrainConfig]) -> dict:
    """Two rounds, interleaved (one after another, one run, grouped; then again), keeping each
    one's faster time: this machine's speed drifts by tens of percent from second to second."""
    list(train(configs[0]))  # warm-up: data loaded, caches filled
    best = {"sequential": float("inf"), "one": float("inf"), "grouped": float("inf")}
    for round_ in range(2):
        t_seq, runs = _seconds(lambda: [list(train(c)) for c in configs])
        t_one, _ = _seconds(lambda: list(train(configs[1])))
        t_group, events = _seconds(lambda: list(train_group(configs)))
        for k, t in (("sequential", t_seq), ("one", t_one), ("grouped", t_group)):
            best[k] = min(best[k], t)
        if round_ == 0:
            best["solo_runs"], best["group_events"] = runs, events
    return best


def _per_member(lrs: list[float], solo_runs: list[list], group_events: list) -> list[dict]:
    """How far each member's loss curve and test accuracy are from its twin trained alone. Rounding
    differs (batched products sum in another order); a chaotic run (lr 1 on the quickstart MLP
    bounces between 10% and 30%) amplifies it step after step. So: per member."""
    together: list[list[float]] = [[] for _ in lrs]
    group_acc: list = [None] * len(lrs)
    for m, e in group_events:
        if isinstance(e, StepEvent):
            together[m].append(e.loss)
        elif isinstance(e, EndEvent):
            group_acc[m] = e.final.get("test_accuracy")
    members = []
    for lr, run, t_, b in zip(lrs, solo_runs, together, group_acc):
        s_ = [e.loss for e in run if isinstance(e, StepEvent)]
        a = run[-1].final.get("test_accuracy")
        rel = max((abs(x - y) / max(abs(y), 1e-3) for x, y in zip(s_[:100], t_[:100])), default=0.0)
        members.append(
            {
                "lr": lr,
                "solo_status": run[-1].status,
                "max_loss_difference_first_100_steps": rel,
                "test_accuracy_difference": None if a is None or b is None else abs(a - b),
            }
        )
    return members


def bench_sweep(quick: bool, progress: Callable[[str], None] = lambda s: None, device: str = "cpu") -> dict:
    """A 4-value lr sweep, one run after another against grouped, on three models."""
    rows = []
    for name, base in _cases(quick, device):
        configs = [TrainConfig(**{**base.to_dict(), "lr": lr}) for lr in LRS]
        progress(f"sweep: {name}")
        t = _time_rounds(configs)
        members = _per_member(LRS, t["solo_runs"], t["group_events"])
        calm = [m for m in members if m["lr"] <= 0.1 and m["solo_status"] == "completed"]
        rows.append(
            {
                "name": name,
                "members": len(configs),
                "one_run_seconds": t["one"],
                "sequential_seconds": t["sequential"],
                "grouped_seconds": t["grouped"],
                "grouped_over_one_run": t["grouped"] / t["one"],
                "grouped_over_sequential": t["grouped"] / t["sequential"],
                "max_loss_difference_first_100_steps": max((m["max_loss_difference_first_100_steps"] for m in calm), default=0.0),
                "max_test_accuracy_difference": max((m["test_accuracy_difference"] or 0.0 for m in calm), default=0.0),
                "per_member": members,
            }
        )
    return {"lrs": LRS, "rows": rows}
