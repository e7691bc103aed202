"""TrainConfig and the training loop, written as a generator of events.

The loop follows pytorch/examples mnist/main.py (explicit train()/eval(), no_grad evaluation,
device passed in) but batches by slicing a shuffled index into the whole dataset tensor instead
of a per-sample DataLoader. It yields events and never prints; callers store or draw them.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Iterator, Optional, Union

import torch
from torch import nn

from playground import datasets, specs
from playground.errors import PlaygroundError
from playground.models import build_model, check_size, preview_model

OPTIMIZERS = ("sgd",)
LOSSES = ("cross-entropy",)
DEVICES = ("auto", "cpu", "cuda", "mps")
GRAD_EVERY_STEP_UNTIL = 100  # gradient statistics at every step up to here, then every 10th


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = datasets.DEFAULT_DATASET  # registry name, see playground.datasets
    model: str = specs.PRESETS[specs.DEFAULT_PRESET].spec  # layer spec or preset name
    lr: float = 0.1  # learning rate, > 0
    epochs: int = 5  # full passes over the training images
    batch_size: int = 64  # images per optimizer step
    optimizer: str = "sgd"  # one of OPTIMIZERS
    loss: str = "cross-entropy"  # one of LOSSES
    seed: int = 0  # fixes initial weights and batch order: same seed, same twins
    train_limit: int = 0  # train on the first N training images only (0 = all)
    test_limit: int = 0  # evaluate on the first N test images only (0 = all)
    device: str = "auto"  # auto picks cuda, then mps, then cpu; not part of the cache key

    def __post_init__(self):
        # Canonical spec text, so "FC512,ReLU" and "fc512 relu" are one config (and one cache entry).
        object.__setattr__(self, "model", specs.resolve(self.model))
        self.validate()

    def validate(self) -> None:
        datasets.info(self.dataset)
        checks = [
            ("lr", isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and 0 < self.lr <= 100, "a number above 0 and at most 100"),
            ("epochs", isinstance(self.epochs, int) and 1 <= self.epochs <= 1000, "a whole number from 1 to 1000"),
            ("batch_size", isinstance(self.batch_size, int) and 1 <= self.batch_size <= 100_000, "a whole number from 1 to 100000"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
            ("loss", self.loss in LOSSES, f"one of {', '.join(LOSSES)}"),
            ("seed", isinstance(self.seed, int) and 0 <= self.seed < 2**31, "a whole number from 0 to 2147483647"),
            ("train_limit", isinstance(self.train_limit, int) and self.train_limit >= 0, "0 (all) or a positive number of images"),
            ("test_limit", isinstance(self.test_limit, int) and self.test_limit >= 0, "0 (all) or a positive number of images"),
            ("device", self.device in DEVICES, f"one of {', '.join(DEVICES)}"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise PlaygroundError(f"{name} = {getattr(self, name)!r} is not allowed: {name} must be {allowed}")

    def check_model(self) -> None:
        """Raise PlaygroundError if the spec does not fit this dataset's images (metadata only)."""
        meta = datasets.info(self.dataset)
        check_size(preview_model(self.model, meta.input_shape, meta.num_classes))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @property
    def key(self) -> str:
        """Cache key: every field but the device (the same experiment on another device is the same run)."""
        d = self.to_dict()
        d.pop("device")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PlaygroundError("device = 'cuda' but no CUDA GPU is available here: use auto or cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise PlaygroundError("device = 'mps' but Apple's MPS is not available here: use auto or cpu")
    return torch.device(name)


@dataclass
class StartEvent:
    params: int  # trainable parameters
    device: str
    steps_per_epoch: int
    total_steps: int
    train_size: int
    test_size: int


@dataclass
class StepEvent:
    step: int  # 1-based, counted over all epochs
    epoch: int  # 1-based
    loss: float  # mini-batch loss before this step's update
    grad_mean: Optional[float] = None  # mean of dL/dw over all trainable weights
    grad_abs_mean: Optional[float] = None  # mean of |dL/dw|


@dataclass
class EpochEvent:
    epoch: int
    train_loss: float  # running mean over the epoch's batches (train mode)
    train_accuracy: float  # fraction in [0, 1], running over the epoch's batches
    test_loss: float
    test_accuracy: float
    seconds: float  # wall time of the epoch, training and evaluation


@dataclass
class EndEvent:
    status: str  # completed | diverged | stopped
    message: str
    final: dict = field(default_factory=dict)


Event = Union[StartEvent, StepEvent, EpochEvent, EndEvent]


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 images [N, C, H, W] -> float32 in [0, 1]."""
    return x.float().div_(255)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of model on uint8 images x and labels y."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        logits = model(to_float(x[i : i + batch_size]))
        yb = y[i : i + batch_size]
        loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    n = max(len(x), 1)
    return loss_sum / n, correct / n


def _grad_stats(params: list[torch.Tensor], n: int) -> tuple[float, float]:
    total = torch.stack([p.grad.sum() for p in params]).sum()
    total_abs = torch.stack([p.grad.abs().sum() for p in params]).sum()
    return total.item() / n, total_abs.item() / n


def train(
    config: TrainConfig,
    data: Optional[datasets.Dataset] = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Train config's model, yielding StartEvent, StepEvents, EpochEvents and one EndEvent."""
    ds = data or datasets.load(config.dataset)
    device = resolve_device(config.device)
    n_train = config.train_limit or len(ds.x_train)
    n_test = config.test_limit or len(ds.x_test)
    x_train, y_train = ds.x_train[:n_train].to(device), ds.y_train[:n_train].to(device)
    x_test, y_test = ds.x_test[:n_test].to(device), ds.y_test[:n_test].to(device)
    if config.batch_size > len(x_train):
        raise PlaygroundError(
            f"batch_size = {config.batch_size} is larger than the {len(x_train)} training images: "
            f"batch_size must be 1 to {len(x_train)}"
        )

    config.check_model()  # shapes and size, before any weight is allocated
    torch.manual_seed(config.seed)  # initial weights (and dropout masks)
    order = torch.Generator().manual_seed(config.seed)  # batch order, independent of the model
    model = build_model(config.model, ds.info.input_shape, ds.info.num_classes).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    n_params = sum(p.numel() for p in params)
    optimizer = torch.optim.SGD(params, lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()

    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    yield StartEvent(n_params, str(device), steps_per_epoch, steps_per_epoch * config.epochs, len(x_train), len(x_test))

    step, last = 0, None
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x_train), generator=order).to(device)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(x_train), config.batch_size):
            if should_stop():
                yield EndEvent("stopped", f"stopped by the user at step {step} (epoch {epoch})", last or {})
                return
            idx = perm[i : i + config.batch_size]
            xb, yb = to_float(x_train[idx]), y_train[idx]
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
                    last or {},
                )
                return
            event = StepEvent(step, epoch, loss_value)
            if step <= GRAD_EVERY_STEP_UNTIL or step % 10 == 0:
                event.grad_mean, event.grad_abs_mean = _grad_stats(params, n_params)
            optimizer.step()
            loss_sum += loss_value * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            yield event
        test_loss, test_accuracy = evaluate(model, x_test, y_test)
        e = EpochEvent(epoch, loss_sum / len(x_train), correct / len(x_train), test_loss, test_accuracy, time.perf_counter() - t0)
        last = {k: getattr(e, k) for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")}
        yield e
        if not math.isfinite(test_loss):
            yield EndEvent("diverged", f"the test loss became {test_loss} after epoch {epoch}: the run diverged; lower the learning rate.", last)
            return
    yield EndEvent("completed", f"trained {config.epochs} epoch(s)", last or {})
