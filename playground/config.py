"""TrainConfig: everything that decides a run's outcome, validated, hashable, JSON-serialisable."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields

from playground import datasets, specs
from playground.augment import NORMALIZATIONS, parse_augment
from playground.errors import PlaygroundError
from playground.models import check_memory, check_size, preview_model
from playground.optim import LOSSES, OPTIMIZERS, SCHEDULERS
from playground.toy import ToyParams

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = datasets.DEFAULT_DATASET  # registry name, see playground.datasets
    model: str = specs.PRESETS[specs.DEFAULT_PRESET].spec  # layer spec or preset name
    lr: float = 0.1  # learning rate, > 0 (the start of the schedule)
    epochs: int = 5  # full passes over the training images
    batch_size: int = 64  # images per optimizer step
    optimizer: str = "sgd"  # one of OPTIMIZERS
    momentum: float = 0.0  # SGD and RMSprop
    nesterov: bool = False  # SGD with momentum only
    weight_decay: float = 0.0  # L2 penalty (decoupled for AdamW)
    scheduler: str = "none"  # lr schedule stepped after every epoch: one of SCHEDULERS
    step_size: int = 1  # step schedule: multiply the lr by gamma every step_size epochs
    gamma: float = 0.5  # step and exponential schedules: the factor
    loss: str = "cross-entropy"  # one of LOSSES
    label_smoothing: float = 0.0  # share of the target spread over all classes
    normalize: str = "scale"  # scale | standardize (training-split statistics) | none
    augment: str = ""  # comma list of augment.AUGMENTATIONS, training batches only
    val_split: float = 0.0  # share of the training images held out for validation
    val_seed: int = 0  # which images are held out
    early_stopping: int = 0  # stop after this many epochs without a better validation loss (0 = off)
    seed: int = 0  # fixes initial weights, dropout and batch order: same seed, same twins
    train_limit: int = 0  # train on the first N training images only (0 = all)
    test_limit: int = 0  # evaluate on the first N test images only (0 = all)
    toy_points: int = 400  # toy 2D sets: points in train and test together
    toy_noise: float = 0.1  # toy 2D sets: Gaussian noise on every point
    toy_train_share: float = 0.7  # toy 2D sets: the rest is the test set
    toy_seed: int = 0  # toy 2D sets: fixes the points and the split
    device: str = "auto"  # auto picks cuda, then mps, then cpu; not part of the cache key

    def __post_init__(self):
        # Canonical text, so "FC512,ReLU" and "fc512 relu" are one config (and one cache entry).
        object.__setattr__(self, "model", specs.resolve(self.model))
        meta = datasets.info(self.dataset)
        object.__setattr__(self, "augment", parse_augment(self.augment, meta.input_shape))
        self.validate()

    def validate(self) -> None:
        def number(x) -> bool:
            return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

        def whole(x) -> bool:
            return isinstance(x, int) and not isinstance(x, bool)

        checks = [
            ("lr", number(self.lr) and 0 < self.lr <= 100, "a number above 0 and at most 100"),
            ("epochs", whole(self.epochs) and 1 <= self.epochs <= 1000, "a whole number from 1 to 1000"),
            ("batch_size", whole(self.batch_size) and 1 <= self.batch_size <= 100_000, "a whole number from 1 to 100000"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
            ("momentum", number(self.momentum) and 0 <= self.momentum < 1, "from 0 up to (not including) 1"),
            ("nesterov", isinstance(self.nesterov, bool) and (not self.nesterov or (self.optimizer == "sgd" and self.momentum > 0)), "used with SGD and a momentum above 0 only"),
            ("weight_decay", number(self.weight_decay) and 0 <= self.weight_decay <= 1, "from 0 to 1"),
            ("scheduler", self.scheduler in SCHEDULERS, f"one of {', '.join(SCHEDULERS)}"),
            ("step_size", whole(self.step_size) and 1 <= self.step_size <= 1000, "a whole number of epochs from 1 to 1000"),
            ("gamma", number(self.gamma) and 0 < self.gamma <= 1, "above 0 and at most 1"),
            ("loss", self.loss in LOSSES, f"one of {', '.join(LOSSES)}"),
            ("label_smoothing", number(self.label_smoothing) and 0 <= self.label_smoothing <= 0.5, "from 0 to 0.5"),
            ("normalize", self.normalize in NORMALIZATIONS, f"one of {', '.join(NORMALIZATIONS)}"),
            ("val_split", number(self.val_split) and 0 <= self.val_split <= 0.5, "from 0 (no validation set) to 0.5"),
            ("val_seed", whole(self.val_seed) and 0 <= self.val_seed < 2**31, "a whole number from 0 to 2147483647"),
            ("early_stopping", whole(self.early_stopping) and 0 <= self.early_stopping <= 100 and (self.early_stopping == 0 or self.val_split > 0),
             "0 (off) or a patience of 1 to 100 epochs, with a validation split above 0"),
            ("seed", whole(self.seed) and 0 <= self.seed < 2**31, "a whole number from 0 to 2147483647"),
            ("train_limit", whole(self.train_limit) and self.train_limit >= 0, "0 (all) or a positive number of images"),
            ("test_limit", whole(self.test_limit) and self.test_limit >= 0, "0 (all) or a positive number of images"),
            ("device", self.device in DEVICES, f"one of {', '.join(DEVICES)}"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise PlaygroundError(f"{name} = {getattr(self, name)!r} is not allowed: {name} must be {allowed}")
        meta = datasets.info(self.dataset)
        if meta.is_toy:
            self.toy_params.validate()
        n = self.train_limit or (round(self.toy_points * self.toy_train_share) if meta.is_toy else meta.train_size)
        n = min(n, meta.train_size) if not meta.is_toy else n
        n_train = n - int(round(n * self.val_split))
        if self.batch_size > n_train:
            raise PlaygroundError(
                f"batch_size = {self.batch_size} is larger than the {n_train:,} training {'points' if meta.is_toy else 'images'}: "
                f"batch_size must be 1 to {n_train:,}"
            )

    @property
    def toy_params(self) -> ToyParams:
        return ToyParams(self.toy_points, self.toy_noise, self.toy_train_share, self.toy_seed)

    def check_model(self) -> None:
        """Raise PlaygroundError if the spec does not fit this dataset's images, or the model or a
        batch's activations would not fit in memory (metadata only, nothing allocated)."""
        meta = datasets.info(self.dataset)
        check_size(preview_model(self.model, meta.input_shape, meta.num_classes))
        check_memory(self.model, meta.input_shape, meta.num_classes, self.batch_size)

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
