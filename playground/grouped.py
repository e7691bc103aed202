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
import time
from typing import Callable, Iterator, Optional

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from playground import datasets, specs
from playground.augment import unit
from playground.models import build_model
from playground.optim import Loss
from playground.events import GRAD_EVERY_STEP_UNTIL, EndEvent, EpochEvent, Event, StartEvent, StepEvent
from playground.config import TrainConfig
from playground.train import make_splits
from playground.devices import resolve_device

FREE = ("lr", "momentum", "weight_decay", "seed", "device")  # may differ between members


def groupable(configs: list[TrainConfig]) -> Optional[str]:
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
    try:
        kinds = {layer.kind for layer in specs.parse(c.model)}
    except Exception:  # a ResNet or other non-layer spec
        return "only layer-spec models are grouped"
    if kinds & {"bn", "drop"}:
        return "batch norm and dropout are trained one run after another"
    return None


def train_group(
    configs: list[TrainConfig],
    data: Optional[datasets.Dataset] = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[int, Event]]:
    """Train every config together; yields (member index, event), each member's events in the
    same order and with the same values as train(config) would give."""
    M, c0 = len(configs), configs[0]
    meta = datasets.info(c0.dataset)
    ds = data or datasets.load(c0.dataset, toy_params=c0.toy_params if meta.is_toy else None)
    device = resolve_device(c0.device)
    sp = make_splits(c0, ds, device)
    x_train, y_train, x_test, y_test, x_val, y_val = sp.x_train, sp.y_train, sp.x_test, sp.y_test, sp.x_val, sp.y_val
    c0.check_model()

    models = []
    for c in configs:  # the same initial weights as the twin trained alone
        torch.manual_seed(c.seed)
        models.append(build_model(c.model, meta.input_shape, meta.num_classes).to(device))
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    names = list(params)
    n_params = sum(p[0].numel() for p in params.values())
    loss_fn = Loss(c0.loss, meta.num_classes, c0.label_smoothing)

    mlp = all(isinstance(m, (nn.Flatten, nn.Linear)) or not list(m.parameters()) for m in models[0])
    transposed: set[str] = set()
    if mlp:  # Linear layers as batched matrix products: the fast path for the small models grouping is for
        layers = list(models[0])
        for i, module in enumerate(layers):  # weights kept as [M, in, out]: contiguous gradients, no copies
            if isinstance(module, nn.Linear):
                k = f"{i}.weight"
                params[k] = params[k].detach().transpose(1, 2).contiguous().requires_grad_()
                transposed.add(k)

        def batched(p, b, x):  # x [M, B, ...] -> logits [M, B, classes]
            for i, module in enumerate(layers):
                if isinstance(module, nn.Flatten):
                    x = x.flatten(2)
                elif isinstance(module, nn.Linear):
                    x = torch.baddbmm(p[f"{i}.bias"].unsqueeze(1), x, p[f"{i}.weight"])
                else:
                    x = module(x)
            return x

        def shared(p, b, x):
            return batched(p, b, x.unsqueeze(0).expand(M, *x.shape))
    else:
        def forward(p, b, x):
            return functional_call(base, (p, b), (x,))

        batched = vmap(forward, in_dims=(0, 0, 0))
        shared = vmap(forward, in_dims=(0, 0, None))  # the same inputs for every member (evaluation)
    plain = all(c.momentum == 0 and c.weight_decay == 0 for c in configs)

    def shape(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return v.view(-1, *([1] * (like.ndim - 1)))

    # Per-member factors, shaped once to broadcast over each parameter: one kernel per parameter per
    # step for the update, and no device-to-host reads except the step's losses.
    lr = torch.tensor([c.lr for c in configs], device=device)
    alive = [True] * M  # members still training (a diverged member stops; the others go on)
    step_size: dict[str, torch.Tensor] = {}  # -lr, or 0 for a diverged member

    def set_step_sizes() -> torch.Tensor:
        """Step sizes from alive; returns the mask of members still training."""
        live = torch.tensor(alive, device=device)
        for k in names:
            step_size[k] = shape(torch.where(live, -lr, 0.0), params[k])
        return live

    live_mask = set_step_sizes()
    momentum = {k: shape(torch.tensor([c.momentum for c in configs], device=device), params[k]) for k in names}
    uses_momentum = {k: v > 0 for k, v in momentum.items()}
    decay = {k: shape(torch.tensor([c.weight_decay for c in configs], device=device), params[k]) for k in names}
    velocity: dict[str, Optional[torch.Tensor]] = {k: None for k in names}
    orders = [torch.Generator().manual_seed(c.seed) for c in configs]
    last: list[dict] = [{} for _ in configs]

    steps_per_epoch = math.ceil(len(x_train) / c0.batch_size)
    for m in range(M):
        yield m, StartEvent(n_params, str(device), steps_per_epoch, steps_per_epoch * c0.epochs, len(x_train), len(x_test))

    @torch.no_grad()
    def evaluate(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loss_sum = torch.zeros(M, device=device)
        correct = torch.zeros(M, device=device)
        for i in range(0, len(x), 1000):
            logits = shared(params, buffers, sp.prep(x[i : i + 1000]))
            yb = y[i : i + 1000]
            loss_sum += loss_fn(logits.flatten(0, 1), yb.repeat(M), reduction="none").view(M, -1).sum(1)
            correct += (logits.argmax(2) == yb).sum(1)
        n = max(len(x), 1)
        return loss_sum / n, correct / n

    step = 0
    for epoch in range(1, c0.epochs + 1):
        t0 = time.perf_counter()
        perms = torch.stack([torch.randperm(len(x_train), generator=g) for g in orders]).to(device)
        loss_sum = torch.zeros(M, device=device)
        correct = torch.zeros(M, device=device)
        for i in range(0, len(x_train), c0.batch_size):
            if should_stop():
                for m in range(M):
                    if alive[m]:
                        yield m, EndEvent("stopped", f"stopped by the user at step {step} (epoch {epoch})", last[m], _unstack(models[m], params, m, transposed))
                return
            idx = perms[:, i : i + c0.batch_size]  # [M, B]
            xb, yb = unit(x_train[idx]), y_train[idx]
            xb = sp.normalize(xb.flatten(0, 1)).view(xb.shape)
            logits = batched(params, buffers, xb)  # [M, B, classes]
            losses = loss_fn(logits.flatten(0, 1), yb.flatten(), reduction="none").view(M, -1).mean(1)
            # a diverged member's loss is masked out (where, not a product: its NaN must not spread)
            objective = losses.sum() if all(alive) else torch.where(live_mask, losses, 0.0).sum()
            grads = torch.autograd.grad(objective, [params[k] for k in names])
            step += 1
            values = losses.detach().tolist()
            stats = step <= GRAD_EVERY_STEP_UNTIL or step % 10 == 0
            if stats:  # [2, M]: sums of dL/dw and of |dL/dw| per member, read back once
                g_stats = torch.stack([
                    sum(g.sum(dim=tuple(range(1, g.ndim))) for g in grads), sum(g.abs().sum(dim=tuple(range(1, g.ndim))) for g in grads),
                ]).div_(n_params).tolist()
            with torch.no_grad():
                for k, g in zip(names, grads):  # torch.optim.SGD, member by member
                    p = params[k]
                    if plain:
                        p.addcmul_(step_size[k], g)
                        continue
                    d_p = torch.addcmul(g, decay[k], p)
                    if velocity[k] is None:
                        velocity[k] = d_p.clone()
                    else:
                        velocity[k].mul_(momentum[k]).add_(d_p)
                    p.addcmul_(step_size[k], torch.where(uses_momentum[k], velocity[k], d_p))
                correct += (logits.argmax(2) == yb).sum(1)
                loss_sum += losses.detach() * yb.shape[1]
            for m in range(M):
                if not alive[m]:
                    continue
                event = StepEvent(step, epoch, values[m])
                if not math.isfinite(values[m]):
                    alive[m] = False
                    live_mask = set_step_sizes()
                    yield m, event
                    yield m, EndEvent(
                        "diverged",
                        f"the loss became {values[m]} at step {step} (epoch {epoch}): the run diverged. "
                        f"The learning rate {configs[m].lr:g} is probably too high; try {configs[m].lr / 10:g}.",
                        last[m],
                    )
                    continue
                if stats:
                    event.grad_mean, event.grad_abs_mean = g_stats[0][m], g_stats[1][m]
                yield m, event
        test_loss, test_acc = evaluate(x_test, y_test)
        val_loss, val_acc = evaluate(x_val, y_val) if len(x_val) else (None, None)
        seconds = time.perf_counter() - t0
        for m in range(M):
            if not alive[m]:
                continue
            e = EpochEvent(
                epoch, loss_sum[m].item() / len(x_train), correct[m].item() / len(x_train), test_loss[m].item(), test_acc[m].item(), seconds,
                configs[m].lr, None if val_loss is None else val_loss[m].item(), None if val_acc is None else val_acc[m].item(),
            )
            last[m] = {k: getattr(e, k) for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "val_loss", "val_accuracy") if getattr(e, k) is not None}
            yield m, e
    extra = {"normalization": sp.normalize.describe(), "validation_size": len(x_val), "grouped_with": M}
    for m in range(M):
        if alive[m]:
            yield m, EndEvent("completed", f"trained {c0.epochs} epoch(s) (in a group of {M} twins)", last[m] | extra, _unstack(models[m], params, m, transposed))


def _unstack(model: nn.Module, params: dict[str, torch.Tensor], m: int, transposed: set[str]) -> nn.Module:
    """Member m's trained weights, back in its own module."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name][m].T if name in transposed else params[name][m])
    return model


def bench_sweep(quick: bool, progress: Callable[[str], None] = lambda s: None, device: str = "cpu") -> dict:
    """A 4-value lr sweep, one run after another against grouped, on three models."""
    from playground.train import train

    cases = [
        ("fc64 relu on digits", TrainConfig(dataset="digits", model="fc64 relu", epochs=3 if quick else 10, batch_size=32, device=device)),
        ("toy MLP on circles", TrainConfig(dataset="circles", model="fc16 tanh fc16 tanh", epochs=10 if quick else 40, batch_size=16, device=device)),
        ("quickstart MLP on Fashion-MNIST", TrainConfig(model="fc512 relu fc512 relu", epochs=1, batch_size=64, train_limit=10_000 if quick else 0, device=device)),
    ]
    lrs = [1.0, 0.1, 0.01, 0.001]
    rows = []
    for name, base in cases:
        configs = [base.__class__(**{**base.to_dict(), "lr": lr}) for lr in lrs]
        progress(f"sweep: {name}")
        list(train(configs[0]))  # warm-up: data loaded, caches filled
        # Two rounds, interleaved (one after another, one run, grouped; then again), keeping each
        # one's faster time: this machine's speed drifts by tens of percent from second to second.
        sequential = one = grouped = float("inf")
        for round_ in range(2):
            t0 = time.perf_counter()
            runs = [list(train(c)) for c in configs]
            sequential = min(sequential, time.perf_counter() - t0)
            t0 = time.perf_counter()
            list(train(configs[1]))
            one = min(one, time.perf_counter() - t0)
            t0 = time.perf_counter()
            events = list(train_group(configs))
            grouped = min(grouped, time.perf_counter() - t0)
            if round_ == 0:
                solo_runs, group_events = runs, events
        solo = [[e.loss for e in run if isinstance(e, StepEvent)] for run in solo_runs]
        solo_acc = [run[-1].final.get("test_accuracy") for run in solo_runs]
        together: list[list[float]] = [[] for _ in configs]
        group_acc: list = [None] * len(configs)
        for m, e in group_events:
            if isinstance(e, StepEvent):
                together[m].append(e.loss)
            elif isinstance(e, EndEvent):
                group_acc[m] = e.final.get("test_accuracy")
        # Rounding differs (batched products sum in another order); a chaotic run (lr 1 on the quickstart
        # MLP bounces between 10% and 30%) amplifies it step after step. So: per member.
        members = []
        for lr, s_, t_, a, b, run in zip(lrs, solo, together, solo_acc, group_acc, solo_runs):
            rel = max((abs(x - y) / max(abs(y), 1e-3) for x, y in zip(s_[:100], t_[:100])), default=0.0)
            members.append({"lr": lr, "solo_status": run[-1].status, "max_loss_difference_first_100_steps": rel,
                            "test_accuracy_difference": None if a is None or b is None else abs(a - b)})
        calm = [m for m in members if m["lr"] <= 0.1 and m["solo_status"] == "completed"]
        diff = max((m["max_loss_difference_first_100_steps"] for m in calm), default=0.0)
        acc_diff = max((m["test_accuracy_difference"] or 0.0 for m in calm), default=0.0)
        rows.append({
            "name": name, "members": len(configs), "one_run_seconds": one, "sequential_seconds": sequential, "grouped_seconds": grouped,
            "grouped_over_one_run": grouped / one, "grouped_over_sequential": grouped / sequential,
            "max_loss_difference_first_100_steps": diff, "max_test_accuracy_difference": acc_diff, "per_member": members,
        })
    return {"lrs": lrs, "rows": rows}
