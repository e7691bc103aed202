"""TrainConfig: everything that decides a run's outcome, validated, hashable, JSON-serialisable."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, fields

from playground import datasets, families, features, settings
from playground.augment import parse_augment
from playground.errors import PlaygroundError
from playground.models import check_memory, check_size
from playground.sizes import SplitSizes, split_sizes, toy_train_count
from playground.toy import ToyParams

DEVICES = settings.DEVICES


def _default(name: str):
    return settings.SETTINGS[name].default


@dataclass(frozen=True)
class TrainConfig:
    """Each field's default, allowed values and help are declared once, in playground.settings."""

    dataset: str = _default("dataset")  # registry name, see playground.datasets
    model: str = _default("model")  # layer spec or preset name
    lr: float = _default("lr")  # learning rate, > 0 (the start of the schedule)
    epochs: int = _default("epochs")  # full passes over the training images
    batch_size: int = _default("batch_size")  # images per optimizer step
    optimizer: str = _default("optimizer")  # one of OPTIMIZERS
    momentum: float = _default("momentum")  # SGD and RMSprop
    nesterov: bool = _default("nesterov")  # SGD with momentum only
    weight_decay: float = _default("weight_decay")  # L2 penalty (decoupled for AdamW)
    reg: str = _default("reg")  # none | l1 | l2: a penalty on the weights added to the loss
    reg_rate: float = _default("reg_rate")  # its rate (ignored with reg none)
    scheduler: str = _default("scheduler")  # lr schedule stepped after every epoch: one of SCHEDULERS
    step_size: int = _default("step_size")  # step schedule: multiply the lr by gamma every step_size epochs
    gamma: float = _default("gamma")  # step and exponential schedules: the factor
    loss: str = _default("loss")  # one of LOSSES
    label_smoothing: float = _default("label_smoothing")  # share of the target spread over all classes
    normalize: str = _default("normalize")  # scale | standardize (training-split statistics) | none | zca (whitening, training split)
    zca_epsilon: float = _default("zca_epsilon")  # zca only: added to the covariance's eigenvalues (ignored by the other modes)
    augment: str = _default("augment")  # comma list of augment.AUGMENTATIONS, training batches only
    val_split: float = _default("val_split")  # share of the training images held out for validation
    val_seed: int = _default("val_seed")  # which images are held out
    early_stopping: int = _default("early_stopping")  # stop after this many epochs without a better validation loss (0 = off)
    seed: int = _default("seed")  # fixes initial weights, dropout and batch order: same seed, same twins
    train_limit: int = _default("train_limit")  # train on the first N training images only (0 = all)
    test_limit: int = _default("test_limit")  # evaluate on the first N test images only (0 = all)
    toy_points: int = _default("toy_points")  # toy 2D sets: points in train and test together
    toy_noise: float = _default("toy_noise")  # toy 2D sets: Gaussian noise on every point
    toy_train_share: float = _default("toy_train_share")  # toy 2D sets: the rest is the test set
    toy_seed: int = _default("toy_seed")  # toy 2D sets: fixes the points and the split
    toy_features: str = _default("toy_features")  # toy 2D sets: the network's inputs (playground.features)
    device: str = _default("device")  # auto picks cuda, then mps, then cpu; not part of the cache key
    bf16: bool = _default("bf16")  # bfloat16 matrix products (playground.precision); part of the key: the numbers differ

    def __post_init__(self):
        # Canonical text, so "FC512,ReLU" and "fc512 relu" are one config (and one cache entry).
        object.__setattr__(self, "model", families.resolve(self.model))
        meta = datasets.info(self.dataset)
        object.__setattr__(self, "augment", parse_augment(self.augment, meta.input_shape))
        if meta.is_toy:
            object.__setattr__(self, "toy_features", features.canonical(self.toy_features))
        if meta.is_regression:  # a real target: the squared error is the loss (Loss uses it for one output)
            object.__setattr__(self, "loss", "mse")
        self.validate()

    def validate(self) -> None:
        meta = datasets.info(self.dataset)
        for s in settings.SETTINGS.values():  # each setting on its own (the toy ones for toy sets only)
            if s.name not in ("dataset", "model", "augment") and (meta.is_toy or not s.toy_only):
                settings.check(s.name, getattr(self, s.name))
        # Rules that tie settings together.
        rules = [
            ("nesterov", not self.nesterov or (self.optimizer == "sgd" and self.momentum > 0), "used with SGD and a momentum above 0 only"),
            (
                "early_stopping",
                self.early_stopping == 0 or self.val_split > 0,
                "0 (off) without a validation split: a patience of 1 to 100 epochs works with a validation split above 0",
            ),
        ]
        for name, ok, allowed in rules:
            if not ok:
                raise PlaygroundError(f"{name} = {getattr(self, name)!r} is not allowed: {name} must be {allowed}")
        self.sizes.check_batch(self.batch_size, "points" if meta.is_toy else "images")

    @property
    def toy_params(self) -> ToyParams:
        return ToyParams(self.toy_points, self.toy_noise, self.toy_train_share, self.toy_seed)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """What the model takes: the dataset's image shape, or (number of features,) for toy sets."""
        meta = datasets.info(self.dataset)
        return (len(features.parse(self.toy_features)),) if meta.is_toy else meta.input_shape

    @property
    def sizes(self) -> SplitSizes:
        """The run's split sizes, from the dataset's metadata (no data loaded)."""
        meta = datasets.info(self.dataset)
        available = toy_train_count(self.toy_points, self.toy_train_share) if meta.is_toy else meta.train_size
        return split_sizes(available, self.train_limit, self.val_split)

    @property
    def total_steps(self) -> int:
        return self.sizes.steps_per_epoch(self.batch_size) * self.epochs

    def check_model(self) -> None:
        """Raise PlaygroundError if the spec does not fit this dataset's images, or the model or a
        batch's activations would not fit in memory (metadata only, nothing allocated)."""
        _check_fits(self.model, self.input_shape, datasets.info(self.dataset).num_classes, self.batch_size)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def stored(cls, d: dict) -> TrainConfig:
        """A config the run store wrote: it was made canonical and checked when its run was created,
        so it is taken as written (a field added since gets its default, a field dropped since is
        ignored) and not checked again. Checking costs about 0.2 ms a config (its model spec parsed
        again), 0.4 s for the teacher's first list of 2,000 runs; and a run stays listable after a
        rule has tightened. A config made from it with dataclasses.replace is checked as usual."""
        config, defaults = object.__new__(cls), _defaults()
        config.__dict__.update(defaults)  # a frozen dataclass's fields live in its __dict__
        config.__dict__.update((k, v) for k, v in d.items() if k in defaults)
        return config

    @property
    def key(self) -> str:
        """Cache key: the fields away from their defaults, but not the device (the same experiment on
        another device is the same run) nor a setting that changes nothing (a rate without its
        regularisation, a ZCA epsilon without ZCA). Defaults left out: a setting added later keeps every stored run's key."""
        d = {k: v for k, v in self.to_dict().items() if v != _default(k)}
        d.pop("device", None)
        if self.reg == "none":
            d.pop("reg_rate", None)
        if self.normalize != "zca":
            d.pop("zca_epsilon", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


@functools.cache
def _defaults() -> dict:
    """Field name -> default, in field order."""
    return {f.name: f.default for f in fields(TrainConfig)}


@functools.lru_cache(maxsize=512)
def _check_fits(model: str, input_shape: tuple[int, ...], num_classes: int, batch_size: int) -> None:
    """check_model's work, once per model, shape and batch (a meta-device forward pass costs about 0.1 s;
    a sweep or a lab asks for the same one many times). A refusal raises and is not remembered."""
    preview = families.preview_model(model, input_shape, num_classes)
    check_size(preview)
    check_memory(preview, input_shape, batch_size)
