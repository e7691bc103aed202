"""Per-layer statistics: the recorder's numbers equal the same numbers computed directly from a
forward pass with hooks, one backward pass and one SGD step; grouped members record what their twins
record alone; the run store keeps them."""

from dataclasses import replace

import pytest
import torch
from torch import nn

from playground import jobs, layerstats
from playground.config import TrainConfig
from playground.events import StepEvent
from playground.grouped import train_group
from playground.train import train


def test_recorded_numbers_equal_a_direct_computation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Sigmoid())
    with torch.no_grad():
        model[1].bias[:2] = -10.0  # two ReLU units dead for any input in [0, 1]
        model[3].weight.mul_(60)  # the tanh layer saturates
    x, y = torch.rand(16, 6), torch.randint(0, 3, (16,))
    outputs = {}
    for i in (2, 4, 6):
        model[i].register_forward_hook(lambda m, inp, out, i=i: outputs.__setitem__(i, out.detach().clone()))
    recorder = layerstats.Recorder.of(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    recorder.arm()
    nn.functional.cross_entropy(model(x), y).backward()
    weights = [model[i].weight for i in (1, 3, 5)]
    before = [w.detach().clone() for w in weights]
    grads = [w.grad.clone() for w in weights]
    recorder.before_update(weights, [w.grad for w in weights])
    optimizer.step()
    stats = {s.layer: s for s in recorder.collect(step=1)}
    assert sorted(stats) == [1, 2, 3, 4, 5, 6]
    for i, b, g in zip((1, 3, 5), before, grads):
        assert stats[i].weight_norm == pytest.approx(b.norm().item(), rel=1e-5)
        assert stats[i].grad_norm == pytest.approx(g.norm().item(), rel=1e-5)
        assert stats[i].update_ratio == pytest.approx(
            (0.5 * g).norm().item() / b.norm().item(), rel=1e-2
        )  # SGD: delta = lr * g (a difference of floats)
    relu, tanh, sigmoid = outputs[2], outputs[4], outputs[6]
    assert stats[2].act_mean == pytest.approx(relu.mean().item(), abs=1e-6) and stats[2].act_std == pytest.approx(
        relu.std().item(), rel=1e-5
    )
    assert stats[2].dead == pytest.approx((relu <= 0).all(0).float().mean().item()) and stats[2].dead >= 2 / 5
    assert stats[4].saturated == pytest.approx((tanh.abs() > 0.97).float().mean().item()) and stats[4].saturated > 0
    assert stats[6].saturated == pytest.approx(((sigmoid < 0.03) | (sigmoid > 0.97)).float().mean().item())
    expected = torch.histc(tanh.clamp(-1, 1), bins=layerstats.BINS, min=-1, max=1) / tanh.numel()
    assert stats[4].hist == pytest.approx(expected.tolist(), abs=1e-6)
    model(x)  # a forward pass at a step that is not recorded: the hooks keep nothing
    assert not recorder.armed and recorder._acts == []


def test_the_schedule_records_the_first_steps_then_a_few_thousand_at_most():
    steps = [s for s in range(1, 100_001) if layerstats.due(s, 100_000)]
    assert steps[:28] == [*range(1, 11), *range(15, 101, 5)] and len(steps) <= 28 + layerstats.MAX_POINTS
    short = [s for s in range(1, 301) if layerstats.due(s, 300)]
    assert short == [*range(1, 11), *range(15, 101, 5), *range(120, 301, 20)]


def test_a_run_records_its_layers_and_the_store_keeps_them(home, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")
    config = TrainConfig(dataset="digits", model="fc16 relu fc16 tanh", epochs=1, batch_size=64, train_limit=640)
    recorded = [e for e in train(config) if isinstance(e, StepEvent) and e.layers]
    assert [e.step for e in recorded] == list(range(1, 11))  # 10 steps: all of them
    assert [s.name for s in recorded[0].layers] == ["#1 Linear 64→16", "#2 ReLU", "#3 Linear 16→16", "#4 Tanh", "#5 Linear 16→10"]
    job = jobs.manager().submit(config)
    assert job.wait(60), "the run did not end within 60 s"
    rows = jobs.manager().store.layer_stats(job.run_id)
    assert len(rows) == 10 * 5
    first = recorded[0].layers[1]
    row = next(r for r in rows if r["step"] == 1 and r["layer"] == 2)
    assert row["act_mean"] == pytest.approx(first.act_mean) and row["hist"] == pytest.approx(first.hist, abs=1e-6)


def test_grouped_members_record_what_their_twins_record_alone():
    base = TrainConfig(dataset="digits", model="fc16 relu fc16 sigmoid", epochs=1, batch_size=64, train_limit=640)
    configs = [replace(base, lr=lr) for lr in (0.1, 0.01)]
    together: dict[int, list] = {0: [], 1: []}
    for m, e in train_group(configs):
        if isinstance(e, StepEvent) and e.layers:
            together[m].append(e.layers)
    for m, config in enumerate(configs):
        alone = [e.layers for e in train(config) if isinstance(e, StepEvent) and e.layers]
        assert len(alone) == len(together[m]) == 10
        for a_step, t_step in zip(alone, together[m]):
            assert [s.name for s in a_step] == [s.name for s in t_step]
            for a, t in zip(a_step, t_step):
                for field in ("weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std", "dead", "saturated"):
                    if getattr(a, field) is not None:
                        assert getattr(t, field) == pytest.approx(getattr(a, field), rel=1e-3, abs=1e-6), (a.name, field)
