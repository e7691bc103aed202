"""What a training loop yields, in order: one StartEvent, StepEvents, an EpochEvent after each epoch,
one EndEvent. Plain data (no torch import), so the run store, the executor and the pages can use
them without the loop."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StartEvent:
    params: int  # trainable parameters
    device: str
    steps_per_epoch: int
    total_steps: int
    train_size: int
    test_size: int


@dataclass
class LayerStat:
    """One layer's numbers at one step (see playground.layerstats): the weight fields for a layer with
    weights, the activation fields for an activation layer; the others None."""

    step: int
    layer: int  # the module's position in the model
    name: str  # e.g. "#1 Linear 784→512"
    weight_norm: float | None = None  # |W|
    grad_norm: float | None = None  # |dL/dW|
    update_ratio: float | None = None  # |delta W| / |W| of the optimizer step
    act_mean: float | None = None
    act_std: float | None = None
    dead: float | None = None  # share of ReLU units zero for the whole batch
    saturated: float | None = None  # share of tanh/sigmoid outputs within 0.03 of a bound
    hist: list[float] | None = None  # share of outputs in each of layerstats.BINS fixed bins


@dataclass
class StepEvent:
    step: int  # 1-based, counted over all epochs
    epoch: int  # 1-based
    loss: float  # mini-batch loss before this step's update
    grad_mean: float | None = None  # mean of dL/dw over all trainable weights
    grad_abs_mean: float | None = None  # mean of |dL/dw|
    layers: list[LayerStat] | None = None  # per-layer statistics, at the steps layerstats.due picks


@dataclass
class EpochEvent:
    epoch: int
    train_loss: float  # running mean over the epoch's batches (train mode)
    train_accuracy: float  # fraction in [0, 1], running over the epoch's batches
    test_loss: float
    test_accuracy: float
    seconds: float  # wall time of the epoch, training and evaluation
    lr: float | None = None  # the learning rate used during this epoch
    val_loss: float | None = None  # on the held-out validation split, if any
    val_accuracy: float | None = None
    penalty: float | None = None  # the regularisation term at the epoch's end (config.reg not none)
    # class probabilities of the model as it is now, for stored inputs [N, ...] (decision boundaries)
    predict: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)  # tensor [N, ...] -> probabilities [N, classes]
    # toy 2D runs: the trained model as it is now (for its units' maps, playground.unitmaps); stays in the worker
    network: Callable[[], Any] | None = field(default=None, repr=False, compare=False)  # () -> (nn.Sequential, lift: points -> inputs)


BY_USER = "by the user"  # who stopped a run, in its message, when the stop named nobody else (the run's own user)
_WHO = re.compile(r"^stopped (?:while queued )?by (.+?)(?: at step \d+.*|: it never started)?$")


def stopped_by(message: str, by: str) -> str:
    """A stopped run's message naming who stopped it, `by` ('the teacher (Tess)'): 'stopped by the
    teacher (Tess) at step 40 (epoch 1)'. As it was when the stop named nobody."""
    return message.replace(BY_USER, f"by {by}", 1) if by else message


def stopped_while_queued(by: str = "") -> str:
    """The message of a run stopped before it started."""
    return f"stopped while queued{f' by {by}' if by else ''}: it never started"


def who_stopped(message: str) -> str:
    """Who a stopped run's message says stopped it ('the teacher (Tess)'); '' for its own user."""
    found = _WHO.match(message)
    return "" if found is None or f"by {found.group(1)}" == BY_USER else found.group(1)


@dataclass
class EndEvent:
    status: str  # completed | diverged | stopped
    message: str
    final: dict = field(default_factory=dict)
    model: Any | None = field(default=None, repr=False, compare=False)  # the trained model (best weights with early stopping)


@dataclass
class LrFindEvent:
    """The learning-rate finder's result (playground.lr_find), the one event of a finder task before
    its EndEvent: the lr and the mini-batch loss of every step, the smoothed loss, the suggestions."""

    lrs: list[float]  # the learning rate of each step, growing exponentially from start_lr
    losses: list[float]  # the mini-batch loss of each step, before its update
    smoothed: list[float]  # fastai's debiased exponential moving average of losses
    suggested_lr: float | None  # where the smoothed loss falls fastest against log lr (Lightning's default)
    valley_lr: float | None  # fastai's "valley": about halfway down the longest descent
    stopped_early: str | None  # why the finder ended before its last step (the loss exploded), else None
    start_lr: float  # the range asked for
    end_lr: float
    steps: int  # the steps asked for (len(lrs) is fewer if it stopped early)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


Event = StartEvent | StepEvent | EpochEvent | EndEvent

GRAD_EVERY_STEP_UNTIL = 100  # StepEvents carry gradient statistics at every step up to here, then every 10th


def has_grad_stats(step: int) -> bool:
    """Whether the loop records gradient statistics at this (1-based) step."""
    return step <= GRAD_EVERY_STEP_UNTIL or step % 10 == 0
