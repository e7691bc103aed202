"""Per-layer statistics recorded while training: what W&B's `wandb.watch` and ConvNetJS's layer panels
show, for finding vanishing gradients, dead ReLUs and saturated units.

For every layer with weights: the weight norm |W|, the gradient norm |dL/dW| and the update ratio
|delta W| / |W| of the optimizer step. For every activation layer: the mean and standard deviation
of its outputs, the share of dead units (a ReLU unit, a feature or a channel, that is zero for the
whole batch), the share of saturated outputs (tanh or sigmoid within SATURATION of a bound) and a
histogram of the outputs over fixed bins (a heatmap over time, fastai's `color_dim`).

All of it is computed on the device and read back in one transfer per recorded step. With members
(the grouped trainer's stacked twins, [M, ...]) every number is per member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from playground.events import LayerStat

BINS = 40
SATURATION = 0.03  # tanh within 0.03 of -1 or 1, sigmoid within 0.03 of 0 or 1
RANGES = {"ReLU": (0.0, 4.0), "LeakyReLU": (-1.0, 4.0), "GELU": (-1.0, 4.0), "Tanh": (-1.0, 1.0), "Sigmoid": (0.0, 1.0)}
ENABLED = True  # the benchmark switches them off to measure what they cost
EVERY_STEP_UNTIL = 100  # recorded at every step up to here
MAX_POINTS = 2_000  # then spaced so that a run records at most about this many steps
MIN_SPACING = 10
WEIGHTED = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)


def due(step: int, total_steps: int) -> bool:
    """Whether layer statistics are recorded at this (1-based) step of a run of total_steps."""
    spacing = max(MIN_SPACING, math.ceil(total_steps / MAX_POINTS))
    return step <= EVERY_STEP_UNTIL or step % spacing == 0


def _name(i: int, m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return f"#{i} Linear {m.in_features}→{m.out_features}"
    if isinstance(m, nn.Conv2d):
        return f"#{i} Conv2d {m.in_channels}→{m.out_channels} k{m.kernel_size[0]}"
    return f"#{i} {type(m).__name__}"


@dataclass
class _Layer:
    index: int
    name: str
    module: nn.Module


class Recorder:
    """Hooks on a model's layers; `arm()` before a recorded step's forward pass, `before_update()`
    after its backward pass, `collect()` after the optimizer step gives that step's LayerStats.

    With members > 0 the model's weights are stacked ([M, ...], `weights` maps a layer's index to
    its stacked weight tensor and `grads` gives their gradients) and activations are [M, B, ...]."""

    def __init__(self, layers: list[tuple[int, nn.Module]], members: int = 0):
        self.members = members
        self.weighted = [_Layer(i, _name(i, m), m) for i, m in layers if isinstance(m, WEIGHTED)]
        self.activations = [_Layer(i, _name(i, m), m) for i, m in layers if type(m).__name__ in RANGES]
        self.armed = False
        self._acts: list[torch.Tensor] = []
        self._weights: list[torch.Tensor] = []
        self._before: list[torch.Tensor] = []
        for layer in self.activations:
            layer.module.register_forward_hook(self._hook(layer))

    @classmethod
    def of(cls, model: nn.Module) -> Recorder:
        """For one model: its leaf modules, numbered in the order named_modules lists them."""
        leaves = [m for m in model.modules() if not list(m.children())]
        return cls(list(enumerate(leaves)))

    def _hook(self, layer: _Layer):
        low, high = RANGES[type(layer.module).__name__]

        def hook(module, inputs, output):
            if self.armed:
                self._acts.append(_activation_numbers(output.detach(), type(module).__name__, low, high, self.members))

        return hook

    def arm(self) -> None:
        self.armed, self._acts = True, []

    def before_update(self, weights: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        """The weights (one tensor per weighted layer, in order) and their gradients, before the step."""
        dims = self._dims
        self._weights = weights
        self._before = [w.detach().clone() for w in weights]
        self._grad_norms = [torch.linalg.vector_norm(g, dim=dims(g)) for g in grads]

    def _dims(self, t: torch.Tensor) -> tuple[int, ...]:
        return tuple(range(1 if self.members else 0, t.ndim))

    def collect(self, step: int) -> list:
        """The step's LayerStats (a list per member with members), read back in one transfer."""
        dims = self._dims
        rows = []
        for w, before, g in zip(self._weights, self._before, self._grad_norms):
            norm = torch.linalg.vector_norm(before, dim=dims(before))
            delta = torch.linalg.vector_norm(w.detach() - before, dim=dims(before))
            rows.append(torch.stack([norm, g, delta / norm.clamp_min(1e-12)]))
        weighted = torch.stack(rows).tolist() if rows else []  # [layers, 3(, M)]
        acts = [(torch.stack(a[:4]).tolist(), a[4].tolist()) for a in self._acts]
        self.armed, self._acts, self._before = False, [], []
        return self._stats(step, weighted, acts)

    def _stats(self, step: int, weighted: list, acts: list) -> list:
        members = range(self.members) if self.members else [None]
        out = []
        for m in members:
            pick = (lambda v: v) if m is None else (lambda v, m=m: v[m])
            stats = [
                LayerStat(step, layer.index, layer.name, weight_norm=pick(w[0]), grad_norm=pick(w[1]), update_ratio=pick(w[2]))
                for layer, w in zip(self.weighted, weighted)
            ]
            for layer, (a, h) in zip(self.activations, acts):
                kind = type(layer.module).__name__
                dead = pick(a[2]) if kind == "ReLU" else None  # the shares mean something for these kinds only
                saturated = pick(a[3]) if kind in ("Tanh", "Sigmoid") else None
                stats.append(LayerStat(step, layer.index, layer.name, act_mean=pick(a[0]), act_std=pick(a[1]), dead=dead, saturated=saturated,
                                       hist=pick(h)))  # fmt: skip
            out.append(sorted(stats, key=lambda s: s.layer))
        return out if self.members else out[0]


def _activation_numbers(a: torch.Tensor, kind: str, low: float, high: float, members: int) -> list[torch.Tensor]:
    """[mean, std, dead share, saturated share, histogram]: scalars, or [M] and [M, BINS] with members."""
    flat = a.flatten(1) if members else a.flatten()[None]  # [M or 1, everything]
    mean, std = flat.mean(1), flat.std(1)
    if kind == "ReLU":  # a unit (feature or channel) dead for the whole batch
        per_unit = a if members else a[None]  # [M, B, C, ...]
        alive = (per_unit > 0).transpose(1, 2).flatten(2).any(2)  # [M, C]
        dead = 1 - alive.float().mean(1)
    else:
        dead = torch.zeros_like(mean)
    if kind == "Tanh":
        saturated = (flat.abs() > 1 - SATURATION).float().mean(1)
    elif kind == "Sigmoid":
        saturated = ((flat < SATURATION) | (flat > 1 - SATURATION)).float().mean(1)
    else:
        saturated = torch.zeros_like(mean)
    edges = torch.linspace(low, high, BINS + 1, device=a.device)[1:-1]
    bins = torch.bucketize(flat.clamp(low, high), edges)  # out of range: the end bins
    hist = torch.zeros(flat.shape[0], BINS, device=a.device).scatter_add_(1, bins, torch.ones_like(flat)) / flat.shape[1]
    numbers = [mean, std, dead, saturated, hist]
    return numbers if members else [v[0] for v in numbers]
