"""The pieces every training loop shares: the data splits, the batch schedule, the step statistics,
the epoch's running tally and evaluation, and the end-of-run rules (stopped, diverged, early
stopping, completed). `train.train` (one model) and `grouped.train_group` (twins stacked into one
batched model) are both written with them, so a rule or a message changes in one place.

Tensors with a leading member axis [M, ...] serve the grouped trainer; one model's are the same
without it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from playground import datasets, diagnosis, features
from playground.augment import Normalizer, unit
from playground.config import TrainConfig
from playground.events import BY_USER, EndEvent, EpochEvent, StartEvent
from playground.optim import Loss
from playground.sizes import SplitSizes, split_sizes
from playground.wording import plural

METRICS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "val_loss", "val_accuracy")


# --- data -------------------------------------------------------------------------------------


def split_validation(n: int, share: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, validation indices) of n training examples, both sorted."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = split_sizes(n, 0, share).validation
    return perm[n_val:].sort().values, perm[:n_val].sort().values


@dataclass
class Splits:
    """A run's data on its device: the training split (without its validation images), the
    validation split, the test set, and the normalisation fitted on the training split."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    normalize: Normalizer
    lift: Callable[[torch.Tensor], torch.Tensor] = field(
        default_factory=nn.Identity
    )  # toy sets: points [N, 2] -> their features (playground.features)

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        """Stored inputs -> what the model sees at evaluation (no augmentation)."""
        return self.normalize(unit(x))

    def prep_points(self, points: torch.Tensor) -> torch.Tensor:
        """Toy sets: points of the plane [N, 2] (a grid) -> what the model sees."""
        return self.prep(self.lift(points))

    @property
    def sizes(self) -> SplitSizes:
        n_train, n_val = len(self.x_train), len(self.x_val)
        return SplitSizes(n_train + n_val, n_train, n_val)

    def extra(self) -> dict:
        """What every run's final metrics record about its data."""
        return {"normalization": self.normalize.describe(), "validation_size": len(self.x_val)}


def load_data(config: TrainConfig, data: datasets.Dataset | None) -> datasets.Dataset:
    """The dataset given, or config's (toy sets generated with its settings)."""
    meta = datasets.info(config.dataset)
    return data or datasets.load(config.dataset, toy_params=config.toy_params if meta.is_toy else None)


def make_splits(config: TrainConfig, ds: datasets.Dataset, device: torch.device) -> Splits:
    """The same splits and statistics for a config every time (training, results views). Raises
    PlaygroundError if the batch is larger than the training split."""
    sizes = split_sizes(len(ds.x_train), config.train_limit, config.val_split)
    sizes.check_batch(config.batch_size, "points" if ds.info.is_toy else "images")
    n_test = config.test_limit or len(ds.x_test)
    lift = features.Lift(config.toy_features) if ds.info.is_toy else nn.Identity()
    x_all, y_all = lift(ds.x_train[: sizes.pool]), ds.y_train[: sizes.pool]
    train_idx, val_idx = split_validation(sizes.pool, config.val_split, config.val_seed)
    x_train = x_all[train_idx].to(device)
    return Splits(
        x_train,
        y_all[train_idx].to(device),
        x_all[val_idx].to(device),
        y_all[val_idx].to(device),
        lift(ds.x_test[:n_test]).to(device),
        ds.y_test[:n_test].to(device),
        Normalizer.fit(config.normalize, x_train, eps=config.zca_epsilon),
        lift,
    )


def start_event(config: TrainConfig, sp: Splits, n_params: int, device: torch.device) -> StartEvent:
    per_epoch = sp.sizes.steps_per_epoch(config.batch_size)
    return StartEvent(n_params, str(device), per_epoch, per_epoch * config.epochs, len(sp.x_train), len(sp.x_test))


# --- the batch schedule -------------------------------------------------------------------------


def epoch_order(n: int, generators: list[torch.Generator], device: torch.device) -> torch.Tensor:
    """A fresh shuffle of range(n) per member, [M, n], each from its own generator (its seed)."""
    return torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)


def batches(order: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    """Consecutive slices of batch_size along the last axis (the last one may be shorter)."""
    for i in range(0, order.shape[-1], batch_size):
        yield order[..., i : i + batch_size]


# --- statistics ----------------------------------------------------------------------------------


def grad_stats(grads: list[torch.Tensor], n_params: int, members: bool = False) -> torch.Tensor:
    """[mean of dL/dw, mean of |dL/dw|] over every trainable weight: shape [2], or [2, M] with
    members (each gradient [M, ...]). Stays on the device: read it back with .tolist()."""
    if members:
        total = sum(g.sum(dim=tuple(range(1, g.ndim))) for g in grads)
        total_abs = sum(g.abs().sum(dim=tuple(range(1, g.ndim))) for g in grads)
    else:
        total = sum(g.sum() for g in grads)
        total_abs = sum(g.abs().sum() for g in grads)
    return torch.stack([total, total_abs]).div_(n_params)


class Tally:
    """An epoch's running training loss and accuracy, summed on the device (per member)."""

    def __init__(self, device: torch.device, members: int = 0):
        shape = (members,) if members else ()
        self.loss_sum = torch.zeros(shape, device=device)
        self.correct = torch.zeros(shape, device=device)
        self.seen = 0

    @torch.no_grad()
    def add(self, losses: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        """losses: the batch's mean loss (per member); logits [(M,) B, classes]; y [(M,) B]."""
        n = y.shape[-1]
        self.loss_sum += losses.detach() * n
        self.correct += (logits.argmax(-1) == y).sum(-1)
        self.seen += n

    def means(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean training loss, accuracy) so far."""
        n = max(self.seen, 1)
        return self.loss_sum / n, self.correct / n


@torch.no_grad()
def evaluate(
    logits_of: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor, loss_fn: Loss, batch_size: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean loss, accuracy) on stored inputs x and labels y. logits_of maps a slice of x to logits
    [B, classes] (one model) or [M, B, classes] (members); the results are scalars or [M]."""
    loss_sum, correct = torch.zeros(()), torch.zeros(())
    for i in range(0, len(x), batch_size):
        logits, yb = logits_of(x[i : i + batch_size]), y[i : i + batch_size]
        lead = logits.shape[:-2]  # () or (M,)
        per_example = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.repeat(math.prod(lead)), reduction="none")
        loss_sum = loss_sum + per_example.view(*lead, -1).sum(-1)
        correct = correct + (logits.argmax(-1) == yb).sum(-1)
    n = max(len(x), 1)
    return loss_sum / n, correct / n


def metrics(e: EpochEvent) -> dict:
    """The epoch's numbers a run's final result keeps."""
    return {k: getattr(e, k) for k in METRICS if getattr(e, k) is not None}


class Clock:
    """Wall time of an epoch, training and evaluation."""

    def __init__(self):
        self.t0 = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.t0


# --- the end of a run -----------------------------------------------------------------------------


def stopped(step: int, epoch: int, last: dict, model: nn.Module | None = None) -> EndEvent:
    return EndEvent("stopped", f"stopped {BY_USER} at step {step} (epoch {epoch})", last, model)


def diverged_at_step(loss: float, step: int, epoch: int, lr: float, last: dict) -> EndEvent:
    return EndEvent(
        "diverged",
        f"the loss became {loss} at step {step} (epoch {epoch}): the run diverged. "
        f"The learning rate {lr:g} is probably too high; try {lr / 10:g}.",
        last,
    )


def diverged_after_epoch(e: EpochEvent, first_loss: float | None, num_classes: int, lr: float, last: dict) -> EndEvent | None:
    """The end of a run whose test loss is no longer finite, or whose training loss blew up while
    staying finite (diagnosis.blown_up: far above ln(classes) and its first loss), else None."""
    if not math.isfinite(e.test_loss):
        return EndEvent(
            "diverged", f"the test loss became {e.test_loss} after epoch {e.epoch}: the run diverged; lower the learning rate.", last
        )
    if not diagnosis.blown_up(e.train_loss, num_classes, first_loss):
        return None
    return EndEvent(
        "diverged",
        f"the training loss averaged {e.train_loss:,.4g} over epoch {e.epoch}, far above where it started: the run diverged. "
        f"The learning rate {lr:g} is probably too high; try {lr / 10:g}.",
        last,
    )


def completed(epochs: int, last: dict, model: nn.Module | None = None, group: int = 0) -> EndEvent:
    where = f" (in a group of {group} twins)" if group else ""
    return EndEvent("completed", f"trained {plural(epochs, 'epoch')}{where}", last, model)


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest validation loss; ends the run after
    `patience` epochs without a better one, with those weights restored."""

    def __init__(self, patience: int):
        self.patience, self.waited = patience, 0
        self.best: tuple[float, dict, dict] | None = None  # (val loss, metrics, weights)

    def update(self, val_loss: float, last: dict, model: nn.Module, extra: dict) -> EndEvent | None:
        """After each epoch: the run's end if patience ran out, else None."""
        if self.best is None or val_loss < self.best[0]:
            self.best, self.waited = (val_loss, last, copy.deepcopy(model.state_dict())), 0
        else:
            self.waited += 1
        if self.waited < self.patience:
            return None
        model.load_state_dict(self.best[2])
        best = self.best[1]
        return EndEvent(
            "completed",
            f"early stopping after epoch {last['epoch']}: the validation loss had not improved for {plural(self.waited, 'epoch')}; "
            f"restored the best weights, from epoch {best['epoch']}",
            best | extra | {"best_epoch": best["epoch"], "stopped_at": last["epoch"]},
            model,
        )

    def finish(self, epochs: int, model: nn.Module, extra: dict) -> EndEvent:
        """Patience never ran out: still report (and keep) the best epoch."""
        model.load_state_dict(self.best[2])
        best = self.best[1]
        return EndEvent(
            "completed",
            f"trained {plural(epochs, 'epoch')}; the best validation loss was at epoch {best['epoch']}",
            best | extra | {"best_epoch": best["epoch"]},
            model,
        )
