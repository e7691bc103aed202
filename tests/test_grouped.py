"""A grouped sweep equals the same twins trained one by one."""

from dataclasses import replace

import pytest
import torch

from playground.config import TrainConfig
from playground.events import EndEvent, EpochEvent, StepEvent
from playground.grouped import groupable, train_group
from playground.train import train

BASE = TrainConfig(model="fc16 relu fc16 relu", lr=0.1, epochs=2, batch_size=16, train_limit=200, test_limit=100)


def _events(stream):
    steps, epochs, ends = [], [], []
    for e in stream:
        (steps if isinstance(e, StepEvent) else epochs if isinstance(e, EpochEvent) else ends if isinstance(e, EndEvent) else []).append(e)
    return steps, epochs, ends


@pytest.mark.parametrize(
    "members",
    [
        [dict(lr=1.0), dict(lr=0.1), dict(lr=0.01), dict(lr=0.001)],
        [dict(seed=0), dict(seed=1), dict(seed=2)],
        [dict(momentum=0.9), dict(momentum=0.0, weight_decay=0.01), dict(lr=0.05, momentum=0.5, weight_decay=0.001)],
    ],
)
def test_grouped_members_equal_runs_alone(tiny_data, members):
    configs = [replace(BASE, **m) for m in members]
    assert groupable(configs) is None
    grouped = [[] for _ in configs]
    for m, e in train_group(configs, tiny_data):
        grouped[m].append(e)
    for config, events in zip(configs, grouped):
        solo_steps, solo_epochs, solo_end = _events(train(config, tiny_data))
        steps, epochs, end = _events(events)
        assert len(steps) == len(solo_steps) and [s.step for s in steps] == [s.step for s in solo_steps]
        assert [s.loss for s in steps] == pytest.approx([s.loss for s in solo_steps], rel=1e-4, abs=1e-5)
        assert [s.grad_mean for s in steps if s.grad_mean is not None] == pytest.approx(
            [s.grad_mean for s in solo_steps if s.grad_mean is not None], rel=1e-3, abs=1e-7
        )
        assert [e.test_accuracy for e in epochs] == pytest.approx([e.test_accuracy for e in solo_epochs], abs=0.011)
        assert end[0].status == solo_end[0].status == "completed"
        for p, q in zip(end[0].model.parameters(), solo_end[0].model.parameters()):  # the weights kept for the Results page
            assert torch.allclose(p, q, rtol=1e-3, atol=1e-5)


def test_a_diverging_member_does_not_disturb_the_others(tiny_data):
    configs = [replace(BASE, lr=lr, model="fc256 relu fc256 relu fc256 relu") for lr in (10.0, 0.1)]
    grouped = [[] for _ in configs]
    for m, e in train_group(configs, tiny_data):
        grouped[m].append(e)
    assert grouped[0][-1].status == "diverged"
    steps, _, end = _events(grouped[1])
    solo, _, _ = _events(train(configs[1], tiny_data))
    assert end[0].status == "completed" and [s.loss for s in steps] == pytest.approx([s.loss for s in solo], rel=1e-4, abs=1e-5)


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(batch_size=32), "differ in batch_size"),
        (dict(model="fc16 bn relu"), "differ in model"),
    ],
)
def test_what_is_not_grouped(change, reason):
    assert reason in groupable([BASE, replace(BASE, **change)])
    assert "batch norm and dropout" in groupable([replace(BASE, model="fc8 drop0.5"), replace(BASE, model="fc8 drop0.5", lr=0.2)])
    assert "plain SGD" in groupable([replace(BASE, optimizer="adam"), replace(BASE, optimizer="adam", lr=0.2)])


def test_grouped_toy_twins_keep_their_decision_regions(home, monkeypatch):
    """Each member of a grouped toy sweep predicts like its twin alone, and its run in the store has
    its decision-region maps (the worker draws them from each member's EpochEvent.predict)."""
    from playground import jobs

    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")
    base = TrainConfig(dataset="circles", model="fc8 tanh", lr=0.3, epochs=3, batch_size=16, toy_points=200)
    configs = [replace(base, lr=lr) for lr in (0.3, 0.03)]
    assert groupable(configs) is None
    points = torch.rand(50, 2) * 4 - 2
    last = {}
    for m, e in train_group(configs):
        if isinstance(e, EpochEvent):
            last[m] = e.predict(points)
    for m, config in enumerate(configs):
        alone = [e for e in train(config) if isinstance(e, EpochEvent)][-1].predict(points)
        assert torch.allclose(last[m], alone, atol=1e-4)
    group = jobs.manager().submit_group(configs)
    assert all(job.wait(120) for job in group), "the grouped toy runs did not end within 120 s"
    store = jobs.manager().store
    for job in group:
        run = store.get(job.run_id)
        assert run.status == "completed" and run.final.get("grouped_with") == 2, (run.status, run.message)
        assert [epoch for epoch, _ in store.snapshots(job.run_id)] == [1, 2, 3]
