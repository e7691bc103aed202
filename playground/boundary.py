"""Decision regions of 2D classifiers: the grid they are drawn on, the epochs a toy run stores them
for (the worker computes them, playground.worker), and two classical baselines (a linear SVM and an RBF-kernel SVM from scikit-learn) on the same split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from playground import datasets


@dataclass
class Grid:
    xs: np.ndarray  # [R] x coordinates
    ys: np.ndarray  # [R] y coordinates
    points: torch.Tensor  # [R*R, 2], row-major over (y, x)


def grid(ds: datasets.Dataset, resolution: int = 60, margin: float = 0.25) -> Grid:
    """A square grid covering every train and test point, with a margin."""
    pts = torch.cat([ds.x_train, ds.x_test]).numpy()
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = (hi - lo) * margin
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return Grid(xs, ys, torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32))


RESOLUTION = 44  # grid points per side of the decision-region maps
MAX_SNAPSHOTS = 25  # decision-region maps stored per toy run, the first and the last included


def is_snapshot_epoch(epoch: int, epochs: int) -> bool:
    """The epochs whose decision regions a toy run stores: the first, every few, the last."""
    every = max(1, epochs // MAX_SNAPSHOTS)
    return epoch == 1 or epoch % every == 0 or epoch == epochs


@dataclass
class Baseline:
    name: str
    test_accuracy: float
    train_accuracy: float
    probability: np.ndarray  # [R*R] in [0, 1]: a squashed decision function, 0.5 on the boundary


def svm_baselines(ds: datasets.Dataset, g: Grid, C: float = 1.0) -> list[Baseline]:
    from sklearn.svm import SVC, LinearSVC

    x, y, xt, yt = (a.numpy() for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    out = []
    for name, clf in (("linear SVM", LinearSVC(C=C)), ("RBF-kernel SVM", SVC(C=C, kernel="rbf", gamma="scale"))):
        clf.fit(x, y)
        f = clf.decision_function(g.points.numpy())
        out.append(Baseline(name, float(clf.score(xt, yt)), float(clf.score(x, y)), 1 / (1 + np.exp(-2 * f))))
    return out
