"""What a training loop yields, in order: one StartEvent, StepEvents, an EpochEvent after each epoch,
one EndEvent. Plain data (no torch import), so the run store, the executor and the pages can use
them without the loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
class StepEvent:
    step: int  # 1-based, counted over all epochs
    epoch: int  # 1-based
    loss: float  # mini-batch loss before this step's update
    grad_mean: float | None = None  # mean of dL/dw over all trainable weights
    grad_abs_mean: float | None = None  # mean of |dL/dw|


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
    # class probabilities of the model as it is now, for stored inputs [N, ...] (decision boundaries)
    predict: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)  # tensor [N, ...] -> probabilities [N, classes]


@dataclass
class EndEvent:
    status: str  # completed | diverged | stopped
    message: str
    final: dict = field(default_factory=dict)
    model: Any | None = field(default=None, repr=False, compare=False)  # the trained model (best weights with early stopping)


Event = StartEvent | StepEvent | EpochEvent | EndEvent

GRAD_EVERY_STEP_UNTIL = 100  # StepEvents carry gradient statistics at every step up to here, then every 10th


def has_grad_stats(step: int) -> bool:
    """Whether the loop records gradient statistics at this (1-based) step."""
    return step <= GRAD_EVERY_STEP_UNTIL or step % 10 == 0
