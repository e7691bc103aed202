"""Grouped sweeps: twins that share an architecture train together, as one batched model.

The members' weights are stacked (torch.func.stack_module_state) and one vmapped forward pass
(functional_call) computes every member's batch at once, so a small model's Python and dispatch
overheads are paid once per step instead of once per member. Each member keeps its own seed (so
its own initial weights and batch order), learning rate, momentum and weight decay; the SGD
update is written out per member exactly as torch.optim.SGD does it. Each member's events equal
those of the same twin trained alone, to float tolerance (tested).

Groupable: plain SGD without a schedule, no dropout or batch norm (their randomness and running
statistics are per call), no augmentation, no early stopping; members that differ only in lr,
momentum, weight decay or seed. Anything else trains one run after another.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from playground import datasets, layerstats, loop, precision, readback
from playground.augment import unit
from playground.config import TrainConfig
from playground.devices import resolve_device
from playground.events import EpochEvent, Event, StepEvent, has_grad_stats
from playground.families import build_model, layer_kinds
from playground.optim import Loss

FREE = ("lr", "momentum", "weight_decay", "seed", "device")  # may differ between members


def groupable(configs: list[TrainConfig]) -> str | None:
    """None if these configs can train as one group, else the reason they cannot."""
    if len(configs) < 2:
        return "a single run"
    first = configs[0].to_dict()
    for c in configs[1:]:
        d = c.to_dict()
        differ = [k for k in d if k not in FREE and d[k] != first[k]]
        if differ:
            return f"the members differ in {', '.join(differ)}"
    c = configs[0]
    if c.optimizer != "sgd" or c.nesterov or c.scheduler != "none":
        return "only plain SGD (momentum and weight decay allowed) without a schedule is grouped"
    if c.augment or c.early_stopping:
        return "augmentation and early stopping are trained one run after another"
    if c.reg != "none" or datasets.info(c.dataset).is_regression:
        return "regularised runs and regression sets are trained one run after another"
    kinds = layer_kinds(c.model)
    if kinds is None:
        return "only layer-spec models are grouped"
    if kinds & {"bn", "drop"}:
        return "batch norm and dropout are trained one run after another"
    return None


class _Group:
    """The members' models stacked into one batched model, with each member's SGD state."""

    def __init__(self, configs: list[TrainConfig], data: datasets.Dataset | None):
        c0, M = configs[0], len(configs)
        meta = datasets.info(c0.dataset)
        self.configs, self.M, self.device = configs, M, resolve_device(c0.device)
        self.splits = loop.make_splits(c0, loop.load_data(c0, data), self.device)
        c0.check_model()
        precision.check(c0.bf16, self.device)
        self.models = []
        for c in configs:  # the same initial weights as the twin trained alone
            torch.manual_seed(c.seed)
            self.models.append(build_model(c.model, c0.input_shape, meta.num_classes).to(self.device))
        self.params, self.buffers = stack_module_state(self.models)
        self.names = list(self.params)
        self.n_params = sum(p[0].numel() for p in self.params.values())
        self.loss_fn = Loss(c0.loss, meta.num_classes, c0.label_smoothing)
        self.transposed: set[str] = set()
        self.batched, self.shared = self._mlp_forward() if self._is_mlp() else self._vmap_forward()
        self.orders = [torch.Generator().manual_seed(c.seed) for c in configs]
        self.alive = [True] * M  # members still training (a diverged member stops; the others go on)
        self.sgd = _SGD(configs, self.params, self.names, self.device)
        # after the forward functions: hooks on the first member's modules see every member's
        # activations on the matrix-product path ([M, B, ...]); the vmap path records weights only
        self.recorder = layerstats.Recorder(list(enumerate(self.models[0])), members=M) if layerstats.ENABLED else None
        self.total_steps = self.splits.sizes.steps_per_epoch(c0.batch_size) * c0.epochs
        self.num_classes, self.first_loss = meta.num_classes, [None] * M

    def _is_mlp(self) -> bool:
        return all(isinstance(m, (nn.Flatten, nn.Linear)) or not list(m.parameters()) for m in self.models[0])

    def _mlp_forward(self):
        """Linear layers as batched matrix products: the fast path for the small models grouping is
        for. Weights kept as [M, in, out]: contiguous gradients, no copies."""
        layers, M = list(self.models[0]), self.M
        for i, module in enumerate(layers):
            if isinstance(module, nn.Linear):
                k = f"{i}.weight"
                self.params[k] = self.params[k].detach().transpose(1, 2).contiguous().requires_grad_()
                self.transposed.add(k)

        def batched(p, b, x):  # x [M, B, ...] -> logits [M, B, classes]
            for i, module in enumerate(layers):
                if isinstance(module, nn.Flatten):
                    x = x.flatten(2)
                elif isinstance(module, nn.Linear):
                    x = torch.baddbmm(p[f"{i}.bias"].unsqueeze(1), x, p[f"{i}.weight"])
                else:
                    x = module(x)
            return x

        return batched, lambda p, b, x: batched(p, b, x.unsqueeze(0).expand(M, *x.shape))

    def _vmap_forward(self):
        base = copy.deepcopy(self.models[0]).to("meta")

        def forward(p, b, x):
            return functional_call(base, (p, b), (x,))

        return vmap(forward, in_dims=(0, 0, 0)), vmap(forward, in_dims=(0, 0, None))  # shared: the same inputs for every member

    def backward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple]:
        """Forward and backward on each member's training examples idx [M, B]: (losses [M],
        logits [M, B, classes], labels [M, B], gradients); no weight has changed yet."""
        sp = self.splits
        xb, yb = unit(sp.x_train[idx]), sp.y_train[idx]
        xb = sp.normalize(xb.flatten(0, 1)).view(xb.shape)
        with precision.products(self.configs[0].bf16, self.device):
            logits = self.batched(self.params, self.buffers, xb).float()
        losses = self.loss_fn(logits.flatten(0, 1), yb.flatten(), reduction="none").view(self.M, -1).mean(1)
        # a diverged member's loss is masked out (where, not a product: its NaN must not spread)
        objective = losses.sum() if all(self.alive) else torch.where(self.sgd.live, losses, 0.0).sum()
        return losses, logits, yb, torch.autograd.grad(objective, [self.params[k] for k in self.names])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's logits [M, B, classes] for the same stored inputs x."""
        with precision.products(self.configs[0].bf16, self.device):
            return self.shared(self.params, self.buffers, self.splits.prep(x)).float()

    def end(self, m: int) -> None:
        """Member m diverged: its weights stay as they are from now on."""
        self.alive[m] = False
        self.sgd.freeze(self.alive)

    def model(self, m: int) -> nn.Module:
        """Member m's trained weights, back in its own module."""
        with torch.no_grad():
            for name, p in self.models[m].named_parameters():
                p.copy_(self.params[name][m].T if name in self.transposed else self.params[name][m])
        return self.models[m]

    def network(self, m: int) -> Callable[[], tuple[nn.Module, Callable]]:
        """Member m's model as it is now and its input transform, when called (EpochEvent.network)."""
        return lambda: (self.model(m), self.splits.prep_points)

    def predictor(self, m: int) -> Callable[[torch.Tensor], torch.Tensor]:
        """Member m's class probabilities at toy points, as train's EpochEvent.predict gives them."""

        @torch.no_grad()
        def predict(points: torch.Tensor) -> torch.Tensor:  # toy points [N, 2]
            return self.logits(self.splits.lift(points.to(self.device)))[m].softmax(dim=1).cpu()

        return predict


class _SGD:
    """torch.optim.SGD (momentum, weight decay), member by member, for stacked parameters: per-member
    factors shaped once to broadcast over each parameter, one kernel per parameter per step, and no
    device-to-host reads."""

    def __init__(self, configs: list[TrainConfig], params: dict[str, torch.Tensor], names: list[str], device: torch.device):
        self.params, self.names, self.device = params, names, device
        self.lr = torch.tensor([c.lr for c in configs], device=device)
        self.plain = all(c.momentum == 0 and c.weight_decay == 0 for c in configs)
        self.momentum = {k: self._shape(torch.tensor([c.momentum for c in configs], device=device), k) for k in names}
        self.uses_momentum = {k: v > 0 for k, v in self.momentum.items()}
        self.decay = {k: self._shape(torch.tensor([c.weight_decay for c in configs], device=device), k) for k in names}
        self.velocity: dict[str, torch.Tensor | None] = {k: None for k in names}
        self.freeze([True] * len(configs))

    def _shape(self, v: torch.Tensor, k: str) -> torch.Tensor:
        return v.view(-1, *([1] * (self.params[k].ndim - 1)))

    def freeze(self, alive: list[bool]) -> None:
        """Step sizes -lr for members still training, 0 for the others."""
        self.live = torch.tensor(alive, device=self.device)
        self.step_size = {k: self._shape(torch.where(self.live, -self.lr, 0.0), k) for k in self.names}

    @torch.no_grad()
    def step(self, grads: tuple) -> None:
        for k, g in zip(self.names, grads):
            p = self.params[k]
            if self.plain:
                p.addcmul_(self.step_size[k], g)
                continue
            d_p = torch.addcmul(g, self.decay[k], p)
            if self.velocity[k] is None:
                self.velocity[k] = d_p.clone()
            else:
                self.velocity[k].mul_(self.momentum[k]).add_(d_p)
            p.addcmul_(self.step_size[k], torch.where(self.uses_momentum[k], self.velocity[k], d_p))


def train_group(
    configs: list[TrainConfig],
    data: datasets.Dataset | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[int, Event]]:
    """Train every config together; yields (member index, event), each member's events in the
    same order and with the same values as train(config) would give."""
    g = _Group(configs, data)
    c0, M = configs[0], g.M
    for m in range(M):
        yield m, loop.start_event(c0, g.splits, g.n_params, g.device)
    extra, last, step = g.splits.extra(), [{} for _ in configs], 0
    for epoch in range(1, c0.epochs + 1):
        clock, tally = loop.Clock(), loop.Tally(g.device, M)
        step, stop = yield from _epoch(g, epoch, step, tally, should_stop, [d | extra for d in last])
        if stop:
            for m in range(M):
                if g.alive[m]:
                    yield m, loop.stopped(step, epoch, last[m] | extra, g.model(m))
            return
        yield from _epoch_events(g, epoch, tally, clock, last, extra)
    for m in range(M):
        if g.alive[m]:
            yield m, loop.completed(c0.epochs, last[m] | extra | {"grouped_with": M}, g.model(m), group=M)


def _epoch(g: _Group, epoch: int, step: int, tally: loop.Tally, should_stop: Callable[[], bool], last: list[dict]):
    """One epoch's steps for every member still training, yielding (member, event); returns (the
    last step, whether the user stopped the group). No step waits on the device: the numbers are
    read back in chunks (playground.readback)."""
    order = loop.epoch_order(len(g.splits.x_train), g.orders, g.device)
    pending = readback.Readback(members=g.M)
    for idx in loop.batches(order, g.configs[0].batch_size):  # idx [M, B]
        if should_stop():
            yield from _read_back(g, pending, last)
            return step, True
        recording = g.recorder is not None and layerstats.due(step + 1, g.total_steps)
        if recording:
            g.recorder.arm()
        losses, logits, yb, grads = g.backward(idx)
        step += 1
        stats = loop.grad_stats(grads, g.n_params, members=True) if has_grad_stats(step) else None
        if recording:
            keys = [f"{layer.index}.weight" for layer in g.recorder.weighted]
            g.recorder.before_update([g.params[k] for k in keys], [grads[g.names.index(k)] for k in keys])
        g.sgd.step(grads)
        pending.add(step, epoch, losses, stats, g.recorder.gather(step) if recording else None)
        tally.add(losses, logits, yb)
        if pending.due():
            yield from _read_back(g, pending, last)
    yield from _read_back(g, pending, last)
    return step, False


def _read_back(g: _Group, pending: readback.Readback, last: list[dict]):
    """Yield (member, event) for the waiting steps of every member still training; a member whose
    loss is no longer finite gets that step's event and its end, and its weights stop changing."""
    for s in pending.drain():
        if s.step == 1:
            g.first_loss = s.loss
        for m in range(g.M):
            if not g.alive[m]:
                continue
            event = StepEvent(s.step, s.epoch, s.loss[m])
            if not math.isfinite(s.loss[m]):
                g.end(m)
                yield m, event
                yield m, loop.diverged_at_step(s.loss[m], s.step, s.epoch, g.configs[m].lr, last[m])
                continue
            if s.grad_stats is not None:
                event.grad_mean, event.grad_abs_mean = s.grad_stats[0][m], s.grad_stats[1][m]
            if s.layers is not None:
                event.layers = s.layers[m]
            yield m, event


def _epoch_events(g: _Group, epoch: int, tally: loop.Tally, clock: loop.Clock, last: list[dict], extra: dict):
    """Evaluate every member; yield (member, EpochEvent) and end the members whose test loss is no
    longer finite. Updates last in place."""
    sp = g.splits
    test_loss, test_acc = (v.tolist() for v in loop.evaluate(g.logits, sp.x_test, sp.y_test, g.loss_fn))
    val_loss, val_acc = (
        (v.tolist() for v in loop.evaluate(g.logits, sp.x_val, sp.y_val, g.loss_fn)) if len(sp.x_val) else ([None] * g.M,) * 2
    )
    train_loss, train_acc = (v.tolist() for v in tally.means())
    seconds = clock.seconds()
    for m in range(g.M):
        if not g.alive[m]:
            continue
        e = EpochEvent(
            epoch, train_loss[m], train_acc[m], test_loss[m], test_acc[m], seconds, g.configs[m].lr, val_loss[m], val_acc[m],
            predict=g.predictor(m), network=g.network(m),
        )  # fmt: skip
        last[m] = loop.metrics(e)
        yield m, e
        end = loop.diverged_after_epoch(e, g.first_loss[m], g.num_classes, g.configs[m].lr, last[m] | extra)
        if end is not None:
            g.end(m)
            yield m, end
