"""Step through a toy 2D run by hand, as TensorFlow Playground's play, pause and step buttons do: the
same model, data and batch order as the run that Train would start (train.Training), advanced one
mini-batch at a time or for a short burst, in the caller's process. A toy network's step takes
microseconds, so a burst of at most BURST_SECONDS per redraw costs the web page nothing; a whole run
still belongs to Train (stored, cached, in the worker).

Each single step also works the batch's backpropagation out by hand (playground.backprop): every
unit's forward values and gradients, checked against the gradients autograd gave the optimizer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from playground import backprop, features, loop, unitmaps
from playground.config import TrainConfig
from playground.train import Training

BURST_SECONDS = 0.05  # the most training one Play redraw does
_ACTIVATIONS = {nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.ReLU: "relu"}


def hand_activation(model: nn.Module) -> str | None:
    """The activation backprop.forward_backward can work by hand for this model, or None (another
    activation, batch norm or dropout between the linear layers)."""
    kinds = set()
    for m in model:
        if isinstance(m, nn.Linear):
            continue
        if type(m) not in _ACTIVATIONS:
            return None
        kinds.add(_ACTIVATIONS[type(m)])
    if len(kinds) > 1:
        return None
    return kinds.pop() if kinds else "none"


@dataclass
class StepDetail:
    """One mini-batch worked by hand: the forward values and gradients of every unit."""

    step: int  # 1-based, as the run counts it
    epoch: int
    batch: list[int]  # the training points' indices
    worked: backprop.Pass | None  # None: no hand formulas here (another activation, or a regression set)
    reg_grads: list[torch.Tensor]  # per linear layer: the regularisation's part of dL/dW (zeros without one)
    autograd: list[tuple[torch.Tensor, torch.Tensor]]  # per linear layer: (dL/dW, dL/db) as autograd computed them
    max_difference: float | None  # largest |hand - autograd| over every weight's gradient


class Stepper:
    """A toy run advanced by hand. step() takes one mini-batch (with its StepDetail); play() as many as
    fit in BURST_SECONDS."""

    def __init__(self, config: TrainConfig):
        self.config, self.run = config, Training(config, None)
        self.steps, self.epoch, self.batches = 0, 0, iter(())
        self.activation = hand_activation(self.run.model)
        self.linears = [m for m in self.run.model if isinstance(m, nn.Linear)]

    @property
    def done(self) -> bool:
        return self.steps >= self.run.total_steps

    def _next_batch(self) -> torch.Tensor:
        idx = next(self.batches, None)
        if idx is None:  # a new epoch: a new shuffle from the run's own generator
            self.epoch += 1
            order = loop.epoch_order(len(self.run.splits.x_train), [self.run.order], self.run.device)[0]
            self.batches = loop.batches(order, self.config.batch_size)
            idx = next(self.batches)
        return idx

    def _take(self, idx: torch.Tensor) -> None:
        self.run.model.train()
        self.run.backward(idx)
        self.run.optimizer.step()
        self.steps += 1

    def play(self, seconds: float = BURST_SECONDS) -> int:
        """Train for about `seconds` (at least one step, never past the run's last step); returns the steps taken."""
        end, taken = time.perf_counter() + seconds, 0
        while not self.done and (taken == 0 or time.perf_counter() < end):
            self._take(self._next_batch())
            taken += 1
        return taken

    def step(self) -> StepDetail:
        """One mini-batch, worked by hand before the optimizer steps."""
        idx = self._next_batch()
        sp, c = self.run.splits, self.config
        worked = None
        if self.activation is not None and not self.run.regression:
            x, y = sp.prep(sp.x_train[idx]), sp.y_train[idx]
            worked = backprop.forward_backward(backprop.weights_of(self.run.model), x, y, self.activation, c.loss)
        self.run.model.train()
        self.run.backward(idx)  # autograd's gradients, the penalty's included
        autograd = [(m.weight.grad.detach().double().clone(), m.bias.grad.detach().double().clone()) for m in self.linears]
        reg = [_reg_grad(c.reg, c.reg_rate, m.weight.detach().double()) for m in self.linears]
        self.run.optimizer.step()
        self.steps += 1
        difference = None
        if worked is not None:
            difference = max(
                max((lw.grad_W + r - aw).abs().max().item(), (lw.grad_b - ab).abs().max().item())
                for lw, r, (aw, ab) in zip(worked.layers, reg, autograd)
            )
        return StepDetail(self.steps, self.epoch, idx.tolist(), worked, reg, autograd, difference)

    def losses(self) -> dict:
        """Train and test loss and accuracy of the model as it is now."""
        sp = self.run.splits
        (train_loss, train_acc), (test_loss, test_acc) = self.run.evaluate(sp.x_train, sp.y_train), self.run.evaluate(sp.x_test, sp.y_test)
        return {"train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss, "test_accuracy": test_acc}

    def predict(self, points: torch.Tensor):
        """P(class 1) at toy points [N, 2] (numpy); a regression set's predicted value."""
        return self.run.predict(points)[:, -1].numpy()

    def network(self, points: torch.Tensor) -> unitmaps.NetworkMaps:
        """Every unit's map over a coarse grid of points, and the weights (as the worker stores them)."""
        inputs = self.run.splits.prep_points(points.to(self.run.device))
        return unitmaps.of_model(self.run.model.eval(), inputs, features.labels(self.config.toy_features))


def _reg_grad(kind: str, rate: float, W: torch.Tensor) -> torch.Tensor:
    """d(penalty)/dW: rate x sign(W) for L1, rate x W for L2 (optim.penalty)."""
    if kind == "l1":
        return rate * W.sign()
    if kind == "l2":
        return rate * W
    return torch.zeros_like(W)
