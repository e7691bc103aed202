"""Optimizers, schedules, losses, normalisation, augmentation, validation and early stopping,
each on a tiny slice."""

import math
from dataclasses import replace

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from playground import augment
from playground import train as train_mod
from playground.augment import Augmenter, Normalizer, crop_batch, rotation_theta
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import EpochEvent, StepEvent
from playground.train import train

BASE = TrainConfig(model="fc32 relu", lr=0.1, epochs=3, batch_size=16, train_limit=200, test_limit=100)


def run(config, data):
    events = list(train(config, data))
    steps = [e.loss for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    return steps, epochs, events[-1]


@pytest.mark.parametrize(
    "changes",
    [
        dict(optimizer="adam", lr=0.01),
        dict(optimizer="adamw", lr=0.01, weight_decay=0.01),
        dict(optimizer="rmsprop", lr=0.001),
        dict(momentum=0.9),
        dict(momentum=0.9, nesterov=True),
    ],
)
def test_every_optimizer_learns_and_differs_from_plain_sgd(tiny_data, changes):
    plain, _, _ = run(BASE, tiny_data)
    steps, epochs, end = run(replace(BASE, **changes), tiny_data)
    assert steps[0] == plain[0]  # same initial weights and first batch
    assert steps[5] != plain[5]
    assert end.status == "completed" and epochs[-1].train_loss < epochs[0].train_loss


@pytest.mark.parametrize(
    "changes, lrs",
    [
        (dict(scheduler="none"), [0.1, 0.1, 0.1]),
        (dict(scheduler="step", step_size=2, gamma=0.1), [0.1, 0.1, 0.01]),
        (dict(scheduler="exponential", gamma=0.5), [0.1, 0.05, 0.025]),
        (dict(scheduler="cosine"), [0.1, 0.075, 0.025]),
    ],
)
def test_schedules_set_the_lr_of_each_epoch(tiny_data, changes, lrs):
    _, epochs, _ = run(replace(BASE, **changes), tiny_data)
    assert [e.lr for e in epochs] == pytest.approx(lrs)


def test_mse_loss_starts_near_its_uniform_value_and_learns(tiny_data):
    steps, epochs, _ = run(replace(BASE, loss="mse", lr=1.0), tiny_data)
    assert steps[0] == pytest.approx((0.9**2 + 9 * 0.1**2) / 10, abs=0.01)  # softmax near uniform vs one-hot
    assert epochs[-1].test_accuracy > 0.3


def test_label_smoothing_raises_the_floor_of_the_loss(tiny_data):
    plain, _, _ = run(BASE, tiny_data)
    smooth, _, _ = run(replace(BASE, label_smoothing=0.2), tiny_data)
    assert smooth[0] == pytest.approx(plain[0], rel=0.05) and smooth[-1] > plain[-1]


def test_standardisation_uses_the_training_split_only(tiny_data, monkeypatch):
    seen = []
    original = Normalizer.fit.__func__

    def spy(cls, mode, x_train, chunk=4096, **kw):
        seen.append(len(x_train))
        return original(cls, mode, x_train, chunk, **kw)

    monkeypatch.setattr(Normalizer, "fit", classmethod(spy))
    _, _epochs, end = run(replace(BASE, normalize="standardize", val_split=0.25), tiny_data)
    assert seen == [150]  # 200 training images minus the 50 held out; never the test set
    assert end.final["normalization"].startswith("mean 0.") and end.final["validation_size"] == 50
    x = augment.unit(tiny_data.x_train[:200]).mean()
    n = Normalizer.fit("standardize", tiny_data.x_train[:200])
    assert n.mean.item() == pytest.approx(x.item(), rel=1e-5)
    assert n(augment.unit(tiny_data.x_train[:200])).mean().item() == pytest.approx(0, abs=1e-4)


def test_augmentation_touches_training_batches_only(tiny_data, monkeypatch):
    sizes = []
    original = Augmenter.__call__

    def spy(self, x):
        sizes.append(len(x))
        return original(self, x)

    monkeypatch.setattr(Augmenter, "__call__", spy)
    plain, _, _ = run(BASE, tiny_data)
    steps, _epochs, _ = run(replace(BASE, augment="flip,crop", val_split=0.1), tiny_data)
    assert sum(sizes) == 180 * 3  # every training image once per epoch, no test or validation batch
    assert steps[0] != plain[0]  # the first batch was augmented


def test_augment_names_are_checked():
    with pytest.raises(PlaygroundError, match="needs colour images"):
        TrainConfig(augment="color")
    with pytest.raises(PlaygroundError, match="choose from flip"):
        TrainConfig(augment="flip,blur")
    assert TrainConfig(dataset="cifar10", model="fc8", augment="rotate, flip").augment == "flip,rotate"


def test_batched_ops_equal_torchvision_per_image():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 16, 16, generator=g)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    top, left = torch.tensor([0, 1, 2, 3, 4, 0]), torch.tensor([4, 3, 2, 1, 0, 2])
    cropped = crop_batch(padded, top, left, 16, 16)
    for n in range(6):
        assert torch.equal(cropped[n], TF.crop(padded[n], int(top[n]), int(left[n]), 16, 16))
    flipped = Augmenter("flip", torch.Generator().manual_seed(1))(x)
    assert all(torch.equal(flipped[n], x[n]) or torch.equal(flipped[n], TF.horizontal_flip(x[n])) for n in range(6))
    assert any(not torch.equal(flipped[n], x[n]) for n in range(6))
    angles = torch.tensor([10.0, -10.0, 0.0, 15.0, -15.0, 5.0])
    grid = torch.nn.functional.affine_grid(rotation_theta(torch.deg2rad(angles), 16, 16), [6, 3, 16, 16], align_corners=False)
    rotated = torch.nn.functional.grid_sample(x, grid, align_corners=False)
    for n in range(6):
        ref = TF.rotate(x[n], float(angles[n]), interpolation=TF.InterpolationMode.BILINEAR)
        assert (rotated[n, :, 3:-3, 3:-3] - ref[:, 3:-3, 3:-3]).abs().max() < 1e-4  # same map inside the borders


def test_every_augmentation_keeps_shape_and_range():
    x = torch.rand(8, 3, 32, 32)
    for name in augment.AUGMENTATIONS:
        y = Augmenter(name, torch.Generator().manual_seed(0))(x)
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1 and not torch.equal(y, x), name


def test_early_stopping_restores_the_best_epoch(tiny_data, monkeypatch):
    val_losses = iter([1.0, 0.5, 0.7, 0.8, 0.9, 1.0])  # best at epoch 2, patience 2: stop after epoch 4
    original = train_mod.Training.evaluate
    weights = {}

    def scripted(self, x, y):
        loss, acc = original(self, x, y)
        if len(x) == 40:  # the validation split
            loss = next(val_losses)
            weights[loss] = [p.detach().clone() for p in self.model.parameters()]
        return loss, acc

    monkeypatch.setattr(train_mod.Training, "evaluate", scripted)
    _, epochs, end = run(replace(BASE, epochs=6, val_split=0.2, early_stopping=2), tiny_data)
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert end.final["best_epoch"] == 2 and end.final["stopped_at"] == 4 and "restored the best weights, from epoch 2" in end.message
    assert end.final["test_accuracy"] == epochs[1].test_accuracy and end.final["val_loss"] == 0.5
    assert all(torch.equal(p, q) for p, q in zip(end.model.parameters(), weights[0.5]))


def test_early_stopping_needs_a_validation_split():
    with pytest.raises(PlaygroundError, match="with a validation split above 0"):
        TrainConfig(early_stopping=3)


def test_toy_sets_train_through_the_same_loop():
    config = TrainConfig(
        dataset="circles", model="fc16 tanh fc16 tanh", lr=0.03, optimizer="adam", epochs=30, batch_size=32, toy_points=300, toy_noise=0.05
    )
    _, epochs, end = run(config, None)
    assert end.status == "completed" and epochs[-1].test_accuracy > 0.9
    assert not math.isnan(epochs[-1].train_loss)
