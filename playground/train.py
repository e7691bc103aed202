"""TrainConfig and the training loop, written as a generator of events.

The loop follows pytorch/examples mnist/main.py (explicit train()/eval(), no_grad evaluation,
device passed in) but batches by slicing a shuffled index into the whole dataset tensor instead
of a per-sample DataLoader. It yields events and never prints; callers store or draw them.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
from torch import nn

from playground import datasets
from playground.augment import Augmenter, Normalizer, unit
from playground.config import TrainConfig
from playground.devices import resolve_device
from playground.errors import PlaygroundError
from playground.events import EndEvent, EpochEvent, Event, StartEvent, StepEvent, has_grad_stats
from playground.models import build_model, eval_batch_size
from playground.optim import Loss, make_optimizer, make_scheduler

# Convolutions on the CPU run about 1.4x faster on channels-last tensors (measured by the benchmark,
# which switches this off to compare).
CHANNELS_LAST = True


def warm_up(device: str = "auto") -> None:
    """Two tiny runs (an MLP and a small CNN) on made-up images. A process pays about 1 s of one-time
    costs in its first run (building modules, starting the autograd engine, the optimizer's first
    step; measured in the app); the app calls this in the background at start-up so that a
    student's first run does not."""
    meta = datasets.info(datasets.DEFAULT_DATASET)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (8, *meta.input_shape), dtype=torch.uint8, generator=g)
    y = torch.randint(0, meta.num_classes, (8,), generator=g)
    ds = datasets.Dataset(meta, x, y, x, y, source="made up for the warm-up")
    with torch.random.fork_rng(devices=[]):  # leaves the process's random state as it was
        for spec in ("fc8 relu", "cnn"):
            for _ in train(TrainConfig(dataset=meta.name, model=spec, epochs=1, batch_size=4, device=device), ds):
                pass


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, prep: Callable, loss_fn: Loss, batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) of model on stored inputs x (prepared by prep) and labels y."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        logits = model(prep(x[i : i + batch_size]))
        yb = y[i : i + batch_size]
        loss_sum += loss_fn(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    n = max(len(x), 1)
    return loss_sum / n, correct / n


def _grad_stats(params: list[torch.Tensor], n: int) -> tuple[float, float]:
    total = torch.stack([p.grad.sum() for p in params]).sum()
    total_abs = torch.stack([p.grad.abs().sum() for p in params]).sum()
    return total.item() / n, total_abs.item() / n


def split_validation(n: int, share: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, validation indices) of n training examples, both sorted."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * share))
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

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        """Stored inputs -> what the model sees at evaluation (no augmentation)."""
        return self.normalize(unit(x))


def make_splits(config: TrainConfig, ds: datasets.Dataset, device: torch.device) -> Splits:
    """The same splits and statistics for a config every time (training, results views)."""
    n_train = config.train_limit or len(ds.x_train)
    n_test = config.test_limit or len(ds.x_test)
    x_all, y_all = ds.x_train[:n_train], ds.y_train[:n_train]
    train_idx, val_idx = split_validation(len(x_all), config.val_split, config.val_seed)
    x_train = x_all[train_idx].to(device)
    return Splits(
        x_train, y_all[train_idx].to(device), x_all[val_idx].to(device), y_all[val_idx].to(device),
        ds.x_test[:n_test].to(device), ds.y_test[:n_test].to(device), Normalizer.fit(config.normalize, x_train),
    )


def _metrics(e: "EpochEvent") -> dict:
    keys = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "val_loss", "val_accuracy")
    return {k: getattr(e, k) for k in keys if getattr(e, k) is not None}


def train(
    config: TrainConfig,
    data: Optional[datasets.Dataset] = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Train config's model, yielding StartEvent, StepEvents, EpochEvents and one EndEvent."""
    meta = datasets.info(config.dataset)
    ds = data or datasets.load(config.dataset, toy_params=config.toy_params if meta.is_toy else None)
    device = resolve_device(config.device)
    sp = make_splits(config, ds, device)
    x_train, y_train, x_val, y_val, x_test, y_test = sp.x_train, sp.y_train, sp.x_val, sp.y_val, sp.x_test, sp.y_test
    if config.batch_size > len(x_train):
        raise PlaygroundError(
            f"batch_size = {config.batch_size} is larger than the {len(x_train)} training images: "
            f"batch_size must be 1 to {len(x_train)}"
        )

    config.check_model()  # shapes and size, before any weight is allocated
    eval_batch = eval_batch_size(config.model, meta.input_shape, meta.num_classes)
    normalize = sp.normalize
    augment = Augmenter(config.augment, torch.Generator(device=device).manual_seed(config.seed + 1))

    torch.manual_seed(config.seed)  # initial weights (and dropout masks)
    order = torch.Generator().manual_seed(config.seed)  # batch order, independent of the model
    model = build_model(config.model, meta.input_shape, meta.num_classes).to(device)
    channels_last = CHANNELS_LAST and device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in model.modules())
    if channels_last:
        model = model.to(memory_format=torch.channels_last)

    def prep(x: torch.Tensor, training: bool = False) -> torch.Tensor:
        u = unit(x)
        out = normalize(augment(u) if training and augment else u)
        return out.contiguous(memory_format=torch.channels_last) if channels_last else out

    params = [p for p in model.parameters() if p.requires_grad]
    n_params = sum(p.numel() for p in params)
    optimizer = make_optimizer(params, config)
    scheduler = make_scheduler(optimizer, config)
    loss_fn = Loss(config.loss, meta.num_classes, config.label_smoothing)

    @torch.no_grad()
    def predict(x: torch.Tensor) -> torch.Tensor:
        model.eval()
        return model(prep(x.to(device))).softmax(dim=1).cpu()

    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    yield StartEvent(n_params, str(device), steps_per_epoch, steps_per_epoch * config.epochs, len(x_train), len(x_test))

    step, last = 0, None
    best: Optional[tuple[float, dict, dict]] = None  # (val loss, metrics, weights) of the best epoch
    waited = 0
    extra = {"normalization": normalize.describe(), "validation_size": len(x_val)}
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        lr_now = optimizer.param_groups[0]["lr"]
        model.train()
        perm = torch.randperm(len(x_train), generator=order).to(device)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(x_train), config.batch_size):
            if should_stop():
                yield EndEvent("stopped", f"stopped by the user at step {step} (epoch {epoch})", (last or {}) | extra, model)
                return
            idx = perm[i : i + config.batch_size]
            xb, yb = prep(x_train[idx], training=True), y_train[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            step += 1
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                yield StepEvent(step, epoch, loss_value)
                yield EndEvent(
                    "diverged",
                    f"the loss became {loss_value} at step {step} (epoch {epoch}): the run diverged. "
                    f"The learning rate {config.lr:g} is probably too high; try {config.lr / 10:g}.",
                    (last or {}) | extra,
                )
                return
            event = StepEvent(step, epoch, loss_value)
            if has_grad_stats(step):
                event.grad_mean, event.grad_abs_mean = _grad_stats(params, n_params)
            optimizer.step()
            loss_sum += loss_value * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            yield event
        test_loss, test_accuracy = evaluate(model, x_test, y_test, prep, loss_fn, eval_batch)
        val_loss, val_accuracy = evaluate(model, x_val, y_val, prep, loss_fn, eval_batch) if len(x_val) else (None, None)
        e = EpochEvent(epoch, loss_sum / len(x_train), correct / len(x_train), test_loss, test_accuracy, time.perf_counter() - t0, lr_now, val_loss, val_accuracy, predict)
        last = _metrics(e)
        yield e
        if scheduler is not None:
            scheduler.step()
        if not math.isfinite(test_loss):
            yield EndEvent("diverged", f"the test loss became {test_loss} after epoch {epoch}: the run diverged; lower the learning rate.", last | extra)
            return
        if config.early_stopping and val_loss is not None:
            if best is None or val_loss < best[0]:
                best, waited = (val_loss, last, copy.deepcopy(model.state_dict())), 0
            else:
                waited += 1
            if waited >= config.early_stopping:
                model.load_state_dict(best[2])
                yield EndEvent(
                    "completed",
                    f"early stopping after epoch {epoch}: the validation loss had not improved for {waited} epoch(s); "
                    f"restored the best weights, from epoch {best[1]['epoch']}",
                    best[1] | extra | {"best_epoch": best[1]["epoch"], "stopped_at": epoch},
                    model,
                )
                return
    if best is not None:  # early stopping on, never triggered: still report (and keep) the best epoch
        model.load_state_dict(best[2])
        yield EndEvent("completed", f"trained {config.epochs} epoch(s); the best validation loss was at epoch {best[1]['epoch']}", best[1] | extra | {"best_epoch": best[1]["epoch"]}, model)
        return
    yield EndEvent("completed", f"trained {config.epochs} epoch(s)", (last or {}) | extra, model)
