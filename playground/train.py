"""The training loop of one model, written as a generator of events.

The loop follows pytorch/examples mnist/main.py (explicit train()/eval(), no_grad evaluation,
device passed in) but batches by slicing a shuffled index into the whole dataset tensor instead
of a per-sample DataLoader. It yields events and never prints; callers store or draw them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from playground import datasets, layerstats, loop, precision, readback
from playground.augment import Augmenter, unit
from playground.config import TrainConfig
from playground.devices import resolve_device, set_cpu_threads
from playground.events import EpochEvent, Event, StepEvent, has_grad_stats
from playground.families import build_model, preview_model
from playground.models import eval_batch_size
from playground.optim import Loss, make_optimizer, make_scheduler, penalty, regularized

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


class Training:
    """One model with its data, optimizer and schedule, on its device: what the loop steps."""

    def __init__(self, config: TrainConfig, data: datasets.Dataset | None):
        meta = datasets.info(config.dataset)
        self.config, self.device = config, resolve_device(config.device)
        set_cpu_threads(tiny=meta.is_toy)
        precision.check(config.bf16, self.device)
        self.splits = loop.make_splits(config, loop.load_data(config, data), self.device)
        config.check_model()  # shapes and size, before any weight is allocated
        self.eval_batch = eval_batch_size(preview_model(config.model, config.input_shape, meta.num_classes), config.input_shape)
        self.augment = Augmenter(config.augment, torch.Generator(device=self.device).manual_seed(config.seed + 1))
        torch.manual_seed(config.seed)  # initial weights (and dropout masks)
        self.order = torch.Generator().manual_seed(config.seed)  # batch order, independent of the model
        self.model = build_model(config.model, config.input_shape, meta.num_classes).to(self.device)
        self.channels_last = CHANNELS_LAST and self.device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in self.model.modules())
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.n_params = sum(p.numel() for p in self.params)
        self.weights = regularized(self.params)  # what config.reg penalises
        self.optimizer = make_optimizer(self.params, config)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.loss_fn = Loss(config.loss, meta.num_classes, config.label_smoothing)
        self.recorder = layerstats.Recorder.of(self.model) if layerstats.ENABLED else None
        self.total_steps = self.splits.sizes.steps_per_epoch(config.batch_size) * config.epochs
        self.num_classes, self.first_loss = meta.num_classes, None
        self.regression = meta.is_regression  # one output, a real target: no accuracy

    def prep(self, x: torch.Tensor, training: bool = False) -> torch.Tensor:
        """Stored inputs -> the model's input (augmented in training)."""
        u = unit(x)
        out = self.splits.normalize(self.augment(u) if training and self.augment else u)
        return out.contiguous(memory_format=torch.channels_last) if self.channels_last else out

    def backward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward and backward on the training examples idx: (loss, logits, labels); the
        optimizer has not stepped yet."""
        sp = self.splits
        xb, yb = self.prep(sp.x_train[idx], training=True), sp.y_train[idx]
        logits = self.forward(xb)
        loss = self.loss_fn(logits, yb)
        self.optimizer.zero_grad(set_to_none=True)
        reg = self.penalty()
        (loss if reg is None else loss + reg).backward()
        return loss, logits, yb

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model's float32 outputs for prepared inputs x (its products in bfloat16 with config.bf16)."""
        with precision.products(self.config.bf16, self.device):
            return self.model(x).float()

    def penalty(self) -> torch.Tensor | None:
        """The regularisation term of the loss (None without one); the loss the step reports leaves it out."""
        return penalty(self.config.reg, self.config.reg_rate, self.weights)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        self.model.eval()
        loss, accuracy = loop.evaluate(lambda xb: self.forward(self.prep(xb)), x, y, self.loss_fn, self.eval_batch)
        return loss.item(), accuracy.item()

    @torch.no_grad()
    def predict(self, points: torch.Tensor) -> torch.Tensor:
        """Class probabilities of the model as it is now at toy points [N, 2] (a grid), on the CPU
        (a regression set's: the predicted value [N, 1])."""
        self.model.eval()
        out = self.forward(self.splits.prep_points(points.to(self.device)))
        return (out if self.regression else out.softmax(dim=1)).cpu()

    def network(self) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
        """The model as it is now and what turns toy points into its inputs (EpochEvent.network)."""
        return self.model, self.splits.prep_points


def train(
    config: TrainConfig,
    data: datasets.Dataset | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Train config's model, yielding StartEvent, StepEvents, EpochEvents and one EndEvent."""
    run = Training(config, data)
    yield loop.start_event(config, run.splits, run.n_params, run.device)
    early = loop.EarlyStopping(config.early_stopping) if config.early_stopping and len(run.splits.x_val) else None
    extra, last, step = run.splits.extra(), {}, 0
    for epoch in range(1, config.epochs + 1):
        clock, lr_now = loop.Clock(), run.optimizer.param_groups[0]["lr"]
        tally = loop.Tally(run.device)
        step, end = yield from _epoch(run, epoch, step, tally, should_stop, last | extra)
        if end is not None:
            yield end
            return
        e = _epoch_event(run, epoch, tally, clock, lr_now)
        last = loop.metrics(e)
        yield e
        if run.scheduler is not None:
            run.scheduler.step()
        end = loop.diverged_after_epoch(e, run.first_loss, run.num_classes, config.lr, last | extra)
        if end is None and early is not None:
            end = early.update(e.val_loss, last, run.model, extra)
        if end is not None:
            yield end
            return
    yield early.finish(config.epochs, run.model, extra) if early is not None else loop.completed(config.epochs, last | extra, run.model)


def _epoch(run: Training, epoch: int, step: int, tally: loop.Tally, should_stop: Callable[[], bool], last: dict):
    """One epoch's steps, yielding their StepEvents; returns (the last step, the run's EndEvent if
    it ended during the epoch, else None). No step waits on the device: its numbers are read back
    in chunks (playground.readback)."""
    run.model.train()
    order = loop.epoch_order(len(run.splits.x_train), [run.order], run.device)[0]
    pending = readback.Readback()
    for idx in loop.batches(order, run.config.batch_size):
        if should_stop():
            end = yield from _read_back(run, pending, last)
            return step, end or loop.stopped(step, epoch, last, run.model)
        recording = run.recorder is not None and layerstats.due(step + 1, run.total_steps)
        if recording:
            run.recorder.arm()
        loss, logits, yb = run.backward(idx)
        step += 1
        stats = loop.grad_stats([p.grad for p in run.params], run.n_params) if has_grad_stats(step) else None
        if recording:
            weights = [layer.module.weight for layer in run.recorder.weighted]
            run.recorder.before_update(weights, [w.grad for w in weights])
        run.optimizer.step()
        pending.add(step, epoch, loss, stats, run.recorder.gather(step) if recording else None)
        tally.add(loss, logits, yb)
        if pending.due():
            end = yield from _read_back(run, pending, last)
            if end is not None:
                return step, end
    end = yield from _read_back(run, pending, last)
    return step, end


def _read_back(run: Training, pending: readback.Readback, last: dict):
    """Yield the waiting steps' StepEvents; returns the run's EndEvent if one of them diverged (its
    event is the last one yielded), else None."""
    for s in pending.drain():
        if s.step == 1:
            run.first_loss = s.loss
        if not math.isfinite(s.loss):
            yield StepEvent(s.step, s.epoch, s.loss)
            return loop.diverged_at_step(s.loss, s.step, s.epoch, run.config.lr, last)
        event = StepEvent(s.step, s.epoch, s.loss, layers=s.layers)
        if s.grad_stats is not None:
            event.grad_mean, event.grad_abs_mean = s.grad_stats
        yield event
    return None


def _epoch_event(run: Training, epoch: int, tally: loop.Tally, clock: loop.Clock, lr_now: float) -> EpochEvent:
    """Evaluate on the test and validation splits; the epoch's event."""
    sp = run.splits
    test_loss, test_accuracy = run.evaluate(sp.x_test, sp.y_test)
    val_loss, val_accuracy = run.evaluate(sp.x_val, sp.y_val) if len(sp.x_val) else (None, None)
    train_loss, train_accuracy = (v.item() for v in tally.means())
    if run.regression:  # accuracy means nothing for a real target
        train_accuracy = test_accuracy = val_accuracy = None
    with torch.no_grad():
        reg = run.penalty()
    return EpochEvent(
        epoch, train_loss, train_accuracy, test_loss, test_accuracy, clock.seconds(), lr_now, val_loss, val_accuracy,
        None if reg is None else reg.item(), run.predict, run.network,
    )  # fmt: skip
