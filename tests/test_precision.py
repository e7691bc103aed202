"""The opt-in bfloat16 matrix products (TrainConfig.bf16, playground.precision)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from playground import precision
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import EndEvent, EpochEvent, StepEvent
from playground.export_code import script
from playground.grouped import train_group
from playground.train import Training, train

BASE = TrainConfig(model="fc32 relu fc32 relu", lr=0.1, epochs=2, batch_size=16, train_limit=200, test_limit=100, device="cpu")


@pytest.fixture
def bf16_cpu(monkeypatch):
    """This CPU has no bfloat16 units (they are emulated, slowly): tests on tiny runs pretend it has."""
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)


def _run(config, data):
    events = list(train(config, data))
    return [e for e in events if isinstance(e, StepEvent)], [e for e in events if isinstance(e, EpochEvent)], events[-1]


def test_products_run_in_bfloat16_and_the_rest_in_float32(tiny_data, bf16_cpu):
    run = Training(replace(BASE, bf16=True), tiny_data)
    seen = []
    for m in run.model:
        if isinstance(m, nn.Linear):
            m.register_forward_hook(lambda mod, i, out: seen.append(out.dtype))
    loss, logits, _ = run.backward(torch.arange(16))
    assert seen and set(seen) == {torch.bfloat16}  # every linear layer multiplied in bfloat16
    assert loss.dtype == logits.dtype == torch.float32
    assert all(p.dtype == p.grad.dtype == torch.float32 for p in run.params)  # weights and gradients stay float32


def test_a_bf16_run_learns_as_float32_does_but_not_identically(tiny_data, bf16_cpu):
    steps32, epochs32, end32 = _run(BASE, tiny_data)
    steps16, epochs16, end16 = _run(replace(BASE, bf16=True), tiny_data)
    assert end16.status == end32.status == "completed"
    assert [s.loss for s in steps16] != [s.loss for s in steps32]  # the products really changed
    assert [s.loss for s in steps16] == pytest.approx([s.loss for s in steps32], rel=0.05, abs=0.02)
    assert epochs16[-1].test_accuracy == pytest.approx(epochs32[-1].test_accuracy, abs=0.05)
    assert any(s.layers for s in steps16)  # per-layer statistics of bfloat16 activations


def test_a_group_of_bf16_twins_equals_them_alone(tiny_data, bf16_cpu):
    configs = [replace(BASE, bf16=True, lr=lr) for lr in (0.1, 0.01)]
    grouped = [[] for _ in configs]
    for m, e in train_group(configs, tiny_data):
        grouped[m].append(e)
    for config, events in zip(configs, grouped):
        solo, _, _ = _run(config, tiny_data)
        mine = [e.loss for e in events if isinstance(e, StepEvent)]
        assert mine == pytest.approx([s.loss for s in solo], rel=0.02, abs=0.01)
        assert isinstance(events[-1], EndEvent) and events[-1].status == "completed"


def test_a_device_without_bfloat16_units_is_refused_with_the_reason(tiny_data, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    with pytest.raises(PlaygroundError, match=r"this CPU has no bfloat16 units.*Turn 'bfloat16 matrix products' off"):
        Training(replace(BASE, bf16=True), tiny_data)
    assert precision.unsupported(torch.device("cpu")) is not None
    Training(BASE, tiny_data)  # float32 is never refused


def test_bf16_is_part_of_the_runs_identity_and_off_keeps_old_keys():
    assert replace(BASE, bf16=True).key != BASE.key
    stored_before = {k: v for k, v in BASE.to_dict().items() if k != "bf16"}  # a run stored before the setting existed
    assert TrainConfig.from_dict(stored_before).key == BASE.key


def test_the_exported_script_multiplies_in_bfloat16_too():
    assert "torch.autocast(xb.device.type, dtype=torch.bfloat16)" in script(replace(BASE, bf16=True), 1)
    assert "autocast" not in script(BASE, 1)
