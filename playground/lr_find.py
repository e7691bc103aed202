"""The learning-rate finder: Leslie Smith's range test, as fastai's `Learner.lr_find` and
Lightning's `Tuner.lr_find` run it.

From the run's own initial weights (its seed, its model, built as playground.train builds it) and on
its own training batches (optimizer, loss, normalisation, batch size, augmentation), train for up to
`steps` steps while the learning rate grows exponentially from start_lr to end_lr, recording the
mini-batch loss of each step. The loss is smoothed as fastai smooths it (a debiased exponential
moving average, beta 0.98), and the test ends early when the smoothed loss passes 4 times its lowest
value, or the loss is no longer finite (it exploded). Two suggestions:

- the steepest descent: where the smoothed loss falls fastest against log lr (Lightning's default
  `suggestion()`: the minimum of its gradient, skipping the first tenth and the last point; here
  only on the way down to the lowest smoothed loss, see `steepest`);
- fastai's "valley" (its default `SuggestionMethod.Valley`): the longest descending stretch of the
  smoothed loss, and the point about halfway down it (fastai's docs say "roughly 2/3"; its
  arithmetic takes a third plus a sixth), skipping the first tenth and the last 5 points.

The finder changes nothing of the run it advises: its model is a copy built from the same seed, and
the process's random state is restored afterwards (torch.random.fork_rng), so the run trained later
starts from the same weights and sees the same batches and dropout masks as without it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch

from playground import loop, settings
from playground.config import TrainConfig
from playground.devices import resolve_device
from playground.errors import PlaygroundError
from playground.events import BY_USER, LrFindEvent
from playground.train import Training

DEFAULT_START_LR, DEFAULT_END_LR, DEFAULT_STEPS = 1e-6, 10.0, 100  # fastai: 1e-7 to 10 in 100 steps; Lightning: 1e-8 to 1 in 100
MIN_STEPS, MAX_STEPS = 10, 1000  # the valley search takes time quadratic in the steps
BETA = 0.98  # fastai's AvgSmoothLoss (and Lightning's _LRCallback)
EXPLODED = 4.0  # stop once the smoothed loss passes this many times its lowest value (fastai, Lightning)

LrFinding = LrFindEvent  # plain data (no torch): the worker forwards it as it is


def check_range(start_lr: float, end_lr: float, steps: int) -> None:
    """PlaygroundError naming the first value that is not allowed."""
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise PlaygroundError(f"{name} = {value!r} is not allowed: {name} must be a number above 0")
    if start_lr >= end_lr:
        raise PlaygroundError(f"start_lr = {start_lr:g} is not allowed: start_lr must be below end_lr ({end_lr:g})")
    if isinstance(steps, bool) or not isinstance(steps, int) or not MIN_STEPS <= steps <= MAX_STEPS:
        raise PlaygroundError(f"steps = {steps!r} is not allowed: steps must be a whole number from {MIN_STEPS} to {MAX_STEPS:,}")


def finder_config(config: TrainConfig) -> TrainConfig:
    """config with what the finder never uses at its defaults (the lr, the epochs, the schedule, early
    stopping, the test subset): configs that differ only there get the same finding."""
    ignored = ("lr", "epochs", "scheduler", "step_size", "gamma", "early_stopping", "test_limit")
    return dataclasses.replace(config, **{name: settings.SETTINGS[name].default for name in ignored})


def lr_at(step: int, start_lr: float, end_lr: float, steps: int) -> float:
    """The lr of 0-based step: start_lr at the first step, end_lr at the last (Lightning's
    _ExponentialLR; fastai's stops one step short of end_lr)."""
    return start_lr * (end_lr / start_lr) ** (step / (steps - 1))


class Smoother:
    """fastai's AvgSmoothLoss: avg = beta * avg + (1 - beta) * loss, reported as avg / (1 - beta^n)
    (the debiasing: the average starts at 0). Keeps the lowest value, for the explosion check."""

    def __init__(self, beta: float = BETA):
        self.beta, self.avg, self.n, self.best = beta, 0.0, 0, math.inf

    def add(self, loss: float) -> float:
        self.n += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        value = self.avg / (1 - self.beta**self.n)
        self.best = min(self.best, value)
        return value

    def exploded(self, value: float) -> bool:
        return value > EXPLODED * self.best


def smooth(losses: list[float], beta: float = BETA) -> list[float]:
    smoother = Smoother(beta)
    return [smoother.add(x) for x in losses]


def steepest(lrs: list[float], smoothed: list[float], skip_begin: int, skip_end: int = 1) -> int | None:
    """Index of the steepest descent of the smoothed loss against log lr, or None where the smoothed
    loss never falls. Lightning's suggestion(): the first skip_begin and the last skip_end points
    left out, the gradient np.gradient's (central differences, one-sided at the two ends); its
    minimum is looked for only on the way down, up to the lowest smoothed loss. (After a blow-up the
    smoothed loss can fall again while the average forgets the spike: that is no descent, and
    Lightning's whole-window minimum picks it; measured on digits, lr 7.2 where 1.4 trains.)"""
    lo, hi = skip_begin, len(smoothed) - skip_end
    if hi - lo < 2:
        return None
    x, y = [math.log(v) for v in lrs[lo:hi]], smoothed[lo:hi]
    n = len(y)
    grads = [(y[min(i + 1, n - 1)] - y[max(i - 1, 0)]) / (x[min(i + 1, n - 1)] - x[max(i - 1, 0)]) for i in range(n)]
    bottom = min(range(n), key=y.__getitem__)
    if bottom == 0:
        return None
    return lo + min(range(bottom + 1), key=grads.__getitem__)


def valley(smoothed: list[float], skip_begin: int, skip_end: int = 5) -> int | None:
    """Index of fastai's valley suggestion, or None where the smoothed loss never falls: the longest
    run of ever lower losses (not necessarily adjacent; its start and length as fastai counts them),
    and the point a third plus a sixth of the way down it. fastai's `valley`, step for step, on the
    points skip_begin to -skip_end."""
    losses = smoothed[skip_begin : len(smoothed) - skip_end]
    n = len(losses)
    if n < 2:
        return None
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    if max_end == 0:
        return None
    sections = (max_end - max_start) / 3
    # fastai's index can be -1 (a longest descent of 2 points from the first): Python then reads the last point
    return skip_begin + max(max_start + int(sections) + int(sections / 2), 0)


def find_lr(
    config: TrainConfig,
    data=None,
    start_lr: float = DEFAULT_START_LR,
    end_lr: float = DEFAULT_END_LR,
    steps: int = DEFAULT_STEPS,
    should_stop: Callable[[], bool] = lambda: False,
    on_step: Callable[[int, int, float], None] | None = None,
) -> LrFinding:
    """Run the range test for config (its dataset, or data); on_step(step, epoch, loss) after each
    step. Raises PlaygroundError for a range not allowed or a config that cannot train."""
    check_range(start_lr, end_lr, steps)
    clock = loop.Clock()
    device = resolve_device(config.device)
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        run = Training(finder_config(config), data)
        lrs, losses, smoothed, stopped = _range_test(run, start_lr, end_lr, steps, should_stop, on_step)
    skip_begin = steps // 10  # fastai's num_it // 10; Lightning skips 10 of its 100
    best, low = steepest(lrs, smoothed, skip_begin), valley(smoothed, skip_begin)
    return LrFinding(
        lrs,
        losses,
        smoothed,
        None if best is None else lrs[best],
        None if low is None else lrs[low],
        stopped,
        start_lr,
        end_lr,
        steps,
        clock.seconds(),
    )


def _range_test(run: Training, start_lr: float, end_lr: float, steps: int, should_stop, on_step):
    """(lrs, losses, smoothed, why it stopped early or None). A non-finite loss is not recorded."""
    lrs, losses, smoothed, smoother = [], [], [], Smoother()
    run.model.train()
    epoch = 0
    while True:  # as many epochs (fresh shuffles, as training draws them) as the steps need
        epoch += 1
        order = loop.epoch_order(len(run.splits.x_train), [run.order], run.device)[0]
        for idx in loop.batches(order, run.config.batch_size):
            step = len(lrs)
            if step == steps:
                return lrs, losses, smoothed, None
            if should_stop():
                return lrs, losses, smoothed, f"stopped {BY_USER} at step {step}"
            lr = lr_at(step, start_lr, end_lr, steps)
            for group in run.optimizer.param_groups:
                group["lr"] = lr
            value = run.backward(idx)[0].item()
            if not math.isfinite(value):
                return lrs, losses, smoothed, f"the loss exploded at lr {lr:.3g} (step {step + 1}): it became {value}"
            lrs.append(lr)
            losses.append(value)
            smoothed.append(smoother.add(value))
            if on_step is not None:
                on_step(step + 1, epoch, value)
            if smoother.exploded(smoothed[-1]):
                why = f"its smoothed value {smoothed[-1]:.3g} passed {EXPLODED:g} × its lowest, {smoother.best:.3g}"
                return lrs, losses, smoothed, f"the loss exploded at lr {lr:.3g} (step {step + 1}): {why}"
            run.optimizer.step()
