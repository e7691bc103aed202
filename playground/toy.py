"""Toy 2D sets, as in TensorFlow Playground: the classification sets circles, moons, XOR, spiral and
two gaussians, and the regression sets plane and multi-gaussian (a real target in [-1, 1]).
Deterministic for a given (set, points, noise, train share, seed).

TensorFlow Playground's plane spans [-6, 6]; ours about [-1.2, 1.2] (scikit-learn's sets), so its
regression sets are drawn here 5 times smaller: the same shapes over the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from playground import settings
from playground.errors import PlaygroundError
from playground.sizes import toy_train_count

TOY_SETS = settings.TOY_SETS
REGRESSION_SETS = settings.REGRESSION_SETS
# multi-gaussian: (centre x, centre y, sign), TensorFlow Playground's six bumps / 5; each falls to 0 at BUMP from its centre
BUMPS = ((-0.8, 0.5, 1), (0, 0.5, -1), (0.8, 0.5, 1), (-0.8, -0.5, -1), (0, -0.5, 1), (0.8, -0.5, -1))
BUMP = 0.4


@dataclass(frozen=True)
class ToyParams:
    points: int = 400  # in train and test together
    noise: float = 0.1  # standard deviation of the Gaussian noise added to each point
    train_share: float = 0.7  # the rest is the test set
    seed: int = 0  # fixes the points and the split

    def config_fields(self) -> dict:
        """These parameters as TrainConfig's toy_* fields (TrainConfig.toy_params is the way back)."""
        return {"toy_points": self.points, "toy_noise": self.noise, "toy_train_share": self.train_share, "toy_seed": self.seed}

    def validate(self) -> None:
        """PlaygroundError naming the first setting out of its range (the ranges: playground.settings)."""
        for name, value in self.config_fields().items():
            settings.check(name, value)


def _points(kind: str, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs, make_circles, make_moons

    seed = int(rng.integers(2**31))
    if kind == "circles":
        return make_circles(n, noise=noise, factor=0.5, random_state=seed)
    if kind == "moons":
        return make_moons(n, noise=noise, random_state=seed)
    if kind == "gaussians":
        return make_blobs(n, centers=[(-1, -1), (1, 1)], cluster_std=0.4 + 2 * noise, random_state=seed)
    if kind in REGRESSION_SETS:
        return _regression(kind, n, noise, rng)
    if kind == "xor":
        x = rng.uniform(-1, 1, size=(n, 2))
        y = (x[:, 0] * x[:, 1] > 0).astype(int)
        return x + rng.normal(0, noise, size=x.shape), y
    # spiral: two interleaved arms, r growing with the angle
    y = np.arange(n) % 2
    t = rng.uniform(0.25, 1, size=n) * 3 * np.pi
    x = np.stack([t * np.cos(t + np.pi * y), t * np.sin(t + np.pi * y)], axis=1) / (3 * np.pi)
    return x + rng.normal(0, noise / 2, size=x.shape), y


def _regression(kind: str, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]²; the target of each is computed at the point moved by noise (as
    TensorFlow Playground does), so noise blurs the target, not where the point is drawn."""
    x = rng.uniform(-1, 1, size=(n, 2))
    moved = x + rng.uniform(-1, 1, size=x.shape) * noise
    if kind == "plane":
        return x, (moved[:, 0] + moved[:, 1]) / 2
    d = np.stack([np.hypot(moved[:, 0] - cx, moved[:, 1] - cy) for cx, cy, _ in BUMPS], axis=1)  # [n, 6]
    signed = np.array([sign for *_, sign in BUMPS]) * np.clip(1 - d / BUMP, 0, 1)
    return x, signed[np.arange(n), np.abs(signed).argmax(axis=1)]  # the bump strongest at the point


def generate(kind: str, params: ToyParams) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train float32 [N, 2], y_train int64 [N] (regression sets: float32 targets), x_test, y_test)."""
    if kind not in TOY_SETS:
        raise PlaygroundError(f"unknown toy set '{kind}': choose one of {', '.join(TOY_SETS)}")
    params.validate()
    rng = np.random.default_rng(params.seed)
    x, y = _points(kind, params.points, params.noise, rng)
    order = rng.permutation(len(x))
    target = torch.float32 if kind in REGRESSION_SETS else torch.int64
    x, y = torch.tensor(x[order], dtype=torch.float32), torch.tensor(y[order], dtype=target)
    n_train = toy_train_count(len(x), params.train_share)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
