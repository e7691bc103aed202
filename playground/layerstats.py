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
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from playground.events import LayerStat

BINS = 40
SATURATION = 0.03  # tanh within 0.03 of -1 or 1, sigmoid within 0.03 of 0 or 1
RANGES = {"ReLU": (0.0, 4.0), "LeakyReLU": (-1.0, 4.0), "GELU": (-1.0, 4.0), "Tanh": (-1.0, 1.0), "Sigmoid": (0.0, 1.0)}
ENABLED = True  # the benchmark switches them off to measure what they cost
# When: every step of the first 10, every 5th up to step 100, then every 20th or sparser, so that a
# run records at most about MAX_POINTS steps. Each recorded step costs about 1.7 ms on this 2-core
# CPU for the quickstart MLP (a step is about 3 ms): this keeps a first epoch's overhead near 4%.
EVERY_STEP_UNTIL = 10
DENSE_UNTIL, DENSE_SPACING = 100, 5
MAX_POINTS = 2_000
MIN_SPACING = 20
WEIGHTED = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)


def due(step: int, total_steps: int) -> bool:
    """Whether layer statistics are recorded at this (1-based) step of a run of total_steps."""
    if step <= EVERY_STEP_UNTIL:
        return True
    if step <= DENSE_UNTIL:
        return step % DENSE_SPACING == 0
    return step % max(MIN_SPACING, math.ceil(total_steps / MAX_POINTS)) == 0


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

    @torch.no_grad()
    def before_update(self, weights: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        """The weights (one tensor per weighted layer, in order) and their gradients, before the step.

        The update ratio |delta W| / |W| is measured on at most SAMPLE evenly spaced weights of each
        layer (all of a small layer's), numerator and denominator alike: copying a big layer's
        weights at every recorded step cost more than the rest of the statistics together."""
        self._weights = [self._sample(w) for w in weights]
        self._before = [w.clone() for w in self._weights]
        self._norms = [self._norm(w) for w in weights]
        self._grad_norms = [self._norm(g) for g in grads]

    def _sample(self, w: torch.Tensor) -> torch.Tensor:
        """A view of at most SAMPLE evenly spaced weights (per member), in memory order (a view, so it
        follows the optimizer's in-place update; any dense layout, channels-last included)."""
        w = w.detach()
        if self.members:
            return w.flatten(1)[:, :: -(-w[0].numel() // SAMPLE)]
        k = -(-w.numel() // SAMPLE)
        return torch.as_strided(w, (-(-w.numel() // k),), (k,), w.storage_offset())

    def _dims(self, t: torch.Tensor) -> tuple[int, ...]:
        return tuple(range(1 if self.members else 0, t.ndim))

    @torch.no_grad()
    def collect(self, step: int) -> list:
        """The step's LayerStats (a list per member with members), read back in one transfer."""
        flat, unpack = self.gather(step)
        return unpack(flat.tolist())

    @torch.no_grad()
    def gather(self, step: int) -> tuple[torch.Tensor, Callable[[list[float]], list]]:
        """The step's numbers as one flat tensor still on the device, and what turns its values (read
        back later, playground.readback) into the step's LayerStats."""
        rows = [torch.stack([norm, g, self._norm(w - b) / self._norm(b).clamp_min(1e-12)])
                for norm, g, w, b in zip(self._norms, self._grad_norms, self._weights, self._before)]  # fmt: skip
        numbers = [torch.stack(rows).flatten()] if rows else []  # [layers, 3(, M)]
        numbers += [torch.cat([torch.stack(a[:4]).flatten(), a[4].flatten()]) for a in self._acts]
        n_acts = len(self._acts)
        self.armed, self._acts = False, []
        flat = torch.cat(numbers) if numbers else torch.zeros(0, device=self._device())

        def unpack(values: list[float]) -> list:
            weighted, acts = self._unflatten(values, n_acts)
            return self._stats(step, weighted, acts)

        return flat, unpack

    def _device(self) -> torch.device:
        first = next((p for layer in self.weighted for p in layer.module.parameters()), None)
        return first.device if first is not None else torch.device("cpu")

    def _norm(self, t: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(t, dim=self._dims(t))

    def _unflatten(self, flat: list[float], n_acts: int) -> tuple[list, list]:
        """The transfer's numbers back in shape: weighted [layers][3](M), activations ([4](M), [BINS] or [M][BINS])."""
        M = self.members or 1
        per = 3 * M
        weighted = [flat[i * per : (i + 1) * per] for i in range(len(self.weighted))]
        weighted = [[w[k * M : (k + 1) * M] if self.members else w[k] for k in range(3)] for w in weighted]
        acts, at = [], len(self.weighted) * per
        for _ in range(n_acts):
            head = flat[at : at + 4 * M]
            hist = flat[at + 4 * M : at + 4 * M + BINS * M]
            at += 4 * M + BINS * M
            numbers = [head[k * M : (k + 1) * M] if self.members else head[k] for k in range(4)]
            acts.append((numbers, [hist[m * BINS : (m + 1) * BINS] for m in range(M)] if self.members else hist))
        return weighted, acts

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
    """[mean, std, dead share, saturated share, histogram]: [M] and [M, BINS] (M = 1 without members).

    The dead share reads every output; the others are computed on at most SAMPLE evenly spaced
    outputs of the batch (all of them in a small layer): plenty for a share or a 40-bin histogram,
    and on a CPU each temporary of a big layer's size cost more than all the arithmetic."""
    per_member = a if members else a[None]  # [M, B, C, ...]
    full = per_member.flatten(1)
    x = full[:, :: -(-full.shape[1] // SAMPLE)].contiguous().float()  # float32 (a bfloat16 output with config.bf16)
    mean = x.mean(1, keepdim=True)
    centred = x - mean
    std = ((centred * centred).sum(1) / max(x.shape[1] - 1, 1)).sqrt()
    zero = torch.zeros_like(std)
    if kind == "ReLU":  # a unit (a feature, or a channel at any position) zero for the whole batch
        largest = per_member.amax(1)  # [M, C, ...]: ReLU outputs are >= 0, so 0 means dead
        dead = (largest.flatten(2).amax(2) if largest.ndim > 2 else largest).le(0).float().mean(1)
    else:
        dead = zero
    if kind == "Tanh":
        saturated = (x.abs() > 1 - SATURATION).float().mean(1)
    elif kind == "Sigmoid":
        saturated = ((x < SATURATION) | (x > 1 - SATURATION)).float().mean(1)
    else:
        saturated = zero
    return [mean[:, 0], std, dead, saturated, histogram(x, low, high)]


SAMPLE = 4096


def histogram(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """[M, BINS]: the share of each row's values in BINS equal bins over [low, high] (values outside,
    infinities and NaN count in the end bins)."""
    x = torch.nan_to_num(x, nan=high, posinf=high, neginf=low)  # a diverged layer's NaN: counted in the top bin
    index = ((x.clamp(low, high) - low) * (BINS / (high - low))).long().clamp_(max=BINS - 1)
    counts = torch.zeros(x.shape[0], BINS, device=x.device).scatter_add_(1, index, torch.ones_like(x))
    return counts / x.shape[1]
