"""The loops read their numbers back in chunks (playground.readback), not once per step. Reading back
after every step (what the loops did before) and only at the first step and the epochs' ends give
the same events, in the same order, with the same values: on the CPU, and on CUDA where there is one."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

import pytest
import torch

from playground import readback
from playground.config import TrainConfig
from playground.events import EndEvent, EpochEvent, StepEvent
from playground.grouped import train_group
from playground.train import train

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
BASE = TrainConfig(model="fc16 relu fc16 relu", lr=0.1, epochs=2, batch_size=16, train_limit=200, test_limit=100, val_split=0.2)


def _plain(e):
    """An event as comparable data (an EpochEvent's callables and an EndEvent's model left out)."""
    if isinstance(e, EpochEvent):
        e = dataclasses.replace(e, predict=None, network=None, seconds=0.0)
    if isinstance(e, EndEvent):
        e = dataclasses.replace(e, model=None)
    return dataclasses.asdict(e) | {"type": type(e).__name__}


def _same(a: list, b: list) -> None:
    """Equal event lists; NaN equals NaN (a diverged loss)."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys() and x["type"] == y["type"]
        for k in x:
            both_nan = isinstance(x[k], float) and isinstance(y[k], float) and math.isnan(x[k]) and math.isnan(y[k])
            assert both_nan or x[k] == y[k], (x["type"], k, x[k], y[k])


def _single(config, data, stop_after: int | None = None):
    calls = [0]

    def should_stop() -> bool:
        calls[0] += 1
        return stop_after is not None and calls[0] > stop_after

    return [(0, _plain(e)) for e in train(config, data, should_stop=should_stop)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "changes, stop_after, status",
    [
        (dict(), None, "completed"),  # grad statistics and layer statistics at their steps, validation, two epochs
        (dict(lr=10.0, model="fc256 relu fc256 relu fc256 relu"), None, "diverged"),  # at its exact step, mid-epoch
        (dict(), 17, "stopped"),  # a stop in the second epoch, between two read-backs
    ],
)
def test_one_model_gives_the_same_events_read_back_in_chunks(tiny_data, monkeypatch, device, changes, stop_after, status):
    config = replace(BASE, device=device, **changes)
    monkeypatch.setattr(readback, "READBACK_SECONDS", 0.0)
    each = _single(config, tiny_data, stop_after)
    monkeypatch.setattr(readback, "READBACK_SECONDS", math.inf)
    chunked = _single(config, tiny_data, stop_after)
    _same([e for _, e in each], [e for _, e in chunked])
    assert each[-1][1]["status"] == status
    steps = [e for _, e in chunked if e["type"] == "StepEvent"]
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    assert any(s["layers"] for s in steps) and any(s["grad_mean"] is not None for s in steps)
    if status == "diverged":  # reported at the step whose loss first was not finite, as its last StepEvent
        assert not math.isfinite(steps[-1]["loss"]) and all(math.isfinite(s["loss"]) for s in steps[:-1])
        assert f"at step {steps[-1]['step']} " in each[-1][1]["message"]


@pytest.mark.parametrize("device", DEVICES)
def test_a_group_gives_the_same_events_read_back_in_chunks(tiny_data, monkeypatch, device):
    configs = [replace(BASE, lr=lr, val_split=0.0, model="fc256 relu fc256 relu fc256 relu", device=device) for lr in (10.0, 0.1, 0.01)]

    def group():
        return [(m, _plain(e)) for m, e in train_group(configs, tiny_data)]

    monkeypatch.setattr(readback, "READBACK_SECONDS", 0.0)
    each = group()
    monkeypatch.setattr(readback, "READBACK_SECONDS", math.inf)
    chunked = group()
    assert [m for m, _ in each] == [m for m, _ in chunked]
    _same([e for _, e in each], [e for _, e in chunked])
    ends = {m: e["status"] for m, e in chunked if e["type"] == "EndEvent"}
    assert ends == {0: "diverged", 1: "completed", 2: "completed"}


def test_one_transfer_per_read_back(tiny_data, monkeypatch):
    """Between read-backs no step reads a number back: the loop calls .tolist() or .item() only in the
    read-back itself and the epoch's evaluation."""
    monkeypatch.setattr(readback, "READBACK_SECONDS", math.inf)
    reads = {"n": 0}
    item, tolist = torch.Tensor.item, torch.Tensor.tolist

    def counted(f):
        def wrapper(self, *a, **k):
            reads["n"] += 1
            return f(self, *a, **k)

        return wrapper

    monkeypatch.setattr(torch.Tensor, "item", counted(item))
    monkeypatch.setattr(torch.Tensor, "tolist", counted(tolist))
    config = replace(BASE, epochs=1, val_split=0.0)
    steps = [e for e in train(config, tiny_data) if isinstance(e, StepEvent)]
    assert len(steps) == 13
    # the first step's read-back and the end of the epoch's: 2; the epoch's evaluation (test loss and
    # accuracy, the tally's loss and accuracy): 4; the normaliser's description: at most 2
    assert reads["n"] <= 8


def test_the_buffer_shapes_members_numbers():
    buffer = readback.Readback(members=2)
    buffer.add(1, 1, torch.tensor([1.0, 2.0]), torch.tensor([[0.1, 0.2], [0.3, 0.4]]))
    buffer.add(2, 1, torch.tensor([3.0, float("nan")]))
    first, second = buffer.drain()
    assert (
        first.loss == [1.0, 2.0] and first.grad_stats[0] == pytest.approx([0.1, 0.2]) and first.grad_stats[1] == pytest.approx([0.3, 0.4])
    )
    assert second.grad_stats is None and second.loss[0] == 3.0 and math.isnan(second.loss[1])
    assert buffer.drain() == [] and len(buffer) == 0
