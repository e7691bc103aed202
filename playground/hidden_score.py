"""A challenge entry's accuracy on the hidden part of the test set (playground.classroom.challenge):
the test images from `start` on, which the run never evaluated on, prepared exactly as in training."""

from __future__ import annotations

import dataclasses

import torch

from playground import datasets, insight
from playground.errors import PlaygroundError
from playground.loop import make_splits
from playground.runs import Run

BATCH = 1000


@torch.no_grad()
def accuracy(run: Run, start: int) -> float | None:
    """Correct share of the test images [start:], or None when the run has no stored weights."""
    try:
        model = insight.load_model(run)
    except PlaygroundError:
        return None
    ds = datasets.load(run.config.dataset)
    sp = make_splits(dataclasses.replace(run.config, test_limit=0), ds, torch.device("cpu"))
    x, y = sp.x_test[start:], sp.y_test[start:]
    correct = sum(int((model(sp.prep(x[i : i + BATCH])).argmax(dim=1) == y[i : i + BATCH]).sum()) for i in range(0, len(x), BATCH))
    return correct / len(x) if len(x) else None
