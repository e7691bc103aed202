"""Why a trained network errs, in numbers: each test image's loss under the run's own loss function,
the top losses, the class pairs it confuses most, and the penultimate layer's features for the
embedding projector. After fastai's Interpretation (plot_top_losses, most_confused).

The penultimate features are the input of the network's last nn.Linear (its classifier), read
with a forward hook: for a spec model the output of the layer before it (flattened), for
ResNet-18 the pooled 512 numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from playground import insight
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.loop import Splits
from playground.optim import Loss


def loss_of(config: TrainConfig, num_classes: int) -> Loss:
    """The loss the run was trained with (kind and label smoothing)."""
    return Loss(config.loss, num_classes, config.label_smoothing)


@torch.no_grad()
def test_losses(model: nn.Module, sp: Splits, loss_fn: Loss, chunk: int = 1000) -> np.ndarray:
    """The loss of every test image [N], from the logits (not the rounded probabilities: a confident
    mistake's loss stays finite), prepared as in training."""
    out = [
        loss_fn(model(sp.prep(sp.x_test[i : i + chunk])), sp.y_test[i : i + chunk], reduction="none")
        for i in range(0, len(sp.x_test), chunk)
    ]
    return torch.cat(out).double().numpy()


def top_losses(losses: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest losses, largest first (equal losses: the lower index first)."""
    return np.argsort(-losses, kind="stable")[:k]


def top_loss_table(p: insight.Predictions, losses: np.ndarray, k: int, classes: tuple[str, ...]) -> pd.DataFrame:
    """One row per top-loss image: its index, true and predicted class, the probability of each, the loss."""
    idx = top_losses(losses, k)
    y, pred = p.y[idx], p.pred[idx]
    return pd.DataFrame(
        {
            "image": idx,
            "true": [classes[c] for c in y],
            "predicted": [classes[c] for c in pred],
            "p(predicted)": p.probs[idx, pred].astype(float),
            "p(true)": p.probs[idx, y].astype(float),
            "loss": losses[idx],
        }
    )


def most_confused(y: np.ndarray, pred: np.ndarray, classes: tuple[str, ...], min_count: int = 1) -> pd.DataFrame:
    """The (true -> predicted) pairs of different classes with at least min_count mistakes, most
    first (equal counts in class order): true, predicted, count, share of the true class's images."""
    counts = insight.confusion(y, pred, len(classes))
    totals = counts.sum(axis=1)
    true, predicted = np.nonzero(~np.eye(len(classes), dtype=bool) & (counts >= min_count))
    n = counts[true, predicted]
    order = np.argsort(-n, kind="stable")
    true, predicted, n = true[order], predicted[order], n[order]
    return pd.DataFrame(
        {
            "true": [classes[c] for c in true],
            "predicted": [classes[c] for c in predicted],
            "count": n.astype(int),
            "share": n / totals[true],
        }
    )


def last_linear(model: nn.Module) -> nn.Linear:
    """The network's classifier: its last nn.Linear."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise PlaygroundError("this model has no fully connected layer, so it has no penultimate features to project")
    return linears[-1]


def sees_pixels(model: nn.Module) -> bool:
    """Whether the last Linear is the only layer with weights (a linear model): its input is the pixels."""
    return sum(isinstance(m, (nn.Linear, nn.Conv2d)) for m in model.modules()) == 1


@torch.no_grad()
def penultimate(model: nn.Module, sp: Splits, n: int, chunk: int = 500) -> np.ndarray:
    """The input of the last Linear for the first n test images [n, features], captured with a forward hook."""
    captured: list[torch.Tensor] = []
    handle = last_linear(model).register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].detach().flatten(1)))
    try:
        for i in range(0, n, chunk):
            model(sp.prep(sp.x_test[i : min(n, i + chunk)]))
    finally:
        handle.remove()
    return torch.cat(captured).numpy()


def pixels(sp: Splits, n: int) -> np.ndarray:
    """The first n test images as rows of pixel values in [0, 1] [n, C*H*W]: the "before training" view."""
    return (sp.x_test[:n].flatten(1).float() / 255).numpy()
