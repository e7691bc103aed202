"""Steps taken but not yet read back to the host.

Reading a value back (`loss.item()`, `.tolist()`) makes the host wait for the device to finish every
kernel queued before it. On a GPU a step of a small model takes microseconds of arithmetic, so one
read-back per step (the loss, the gradient statistics, the per-layer numbers) left the step waiting
on the device about a millisecond. The loops instead keep each step's numbers as device tensors
here and read all of them back in one transfer: after the first step (the first point, and the first
loss the divergence rule compares with), then at most every READBACK_SECONDS, before an epoch's
evaluation, and before a stop. The events are the same as one read-back per step would give, in the
same order and with the same values; a diverged loss is still reported at its exact step, one
read-back later.

Shapes: with members (the grouped trainer) a loss is [M] and gradient statistics [2, M]; one
model's are a scalar and [2].
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

READBACK_SECONDS = 0.2  # the most a step's numbers wait on the device before they are read back
MAX_PENDING = 2_000  # ... and the most steps that wait (a bound on the tensors kept alive)


@dataclass
class Step:
    """One step's numbers, read back: plain floats (lists per member with members)."""

    step: int
    epoch: int
    loss: float | list[float]
    grad_stats: list | None  # [mean, |mean|] (each [M] with members), or None at steps without them
    layers: object | None  # what the step's `unpack` made of its layer numbers, or None


@dataclass
class _Pending:
    step: int
    epoch: int
    sizes: tuple[int, int, int]  # how many numbers of the transfer are its loss, statistics, layer numbers
    unpack: Callable[[list[float]], object] | None


class Readback:
    """The numbers of the steps taken since the last read-back, on the device."""

    def __init__(self, members: int = 0):
        self.members, self.seconds, self.max_pending = members, READBACK_SECONDS, MAX_PENDING
        self._tensors: list[torch.Tensor] = []
        self._pending: list[_Pending] = []
        self._last = time.monotonic()

    def __len__(self) -> int:
        return len(self._pending)

    def add(
        self,
        step: int,
        epoch: int,
        loss: torch.Tensor,
        grad_stats: torch.Tensor | None = None,
        layers: tuple[torch.Tensor, Callable[[list[float]], object]] | None = None,
    ) -> None:
        """A step's loss, its gradient statistics and its per-layer numbers (a flat tensor and what
        turns its values into LayerStats), all still on the device."""
        flat_layers, unpack = layers if layers is not None else (None, None)
        parts = [t.detach().reshape(-1) if t is not None else None for t in (loss, grad_stats, flat_layers)]
        self._tensors += [t for t in parts if t is not None]
        sizes = tuple(0 if t is None else t.numel() for t in parts)
        self._pending.append(_Pending(step, epoch, sizes, unpack))

    def due(self) -> bool:
        """Whether to read back now: the first step, or READBACK_SECONDS since the last read-back,
        or MAX_PENDING steps waiting."""
        n = len(self._pending)
        return n > 0 and (self._pending[0].step == 1 or n >= self.max_pending or time.monotonic() - self._last >= self.seconds)

    def drain(self) -> list[Step]:
        """Every waiting step's numbers, in one transfer from the device; the buffer is empty after."""
        self._last = time.monotonic()
        if not self._pending:
            return []
        flat = torch.cat([t.float() for t in self._tensors]).tolist()
        out, at = [], 0
        for p in self._pending:
            n_loss, n_stats, n_layers = p.sizes
            loss = flat[at : at + n_loss]
            stats = flat[at + n_loss : at + n_loss + n_stats]
            layer_values = flat[at + n_loss + n_stats : at + n_loss + n_stats + n_layers]
            at += n_loss + n_stats + n_layers
            out.append(Step(p.step, p.epoch, loss if self.members else loss[0], self._stats(stats),
                            p.unpack(layer_values) if p.unpack is not None else None))  # fmt: skip
        self._tensors, self._pending = [], []
        return out

    def _stats(self, values: list[float]) -> list | None:
        """[mean, |mean|]; with members [[M means], [M |means|]]; None at a step without them."""
        if not values:
            return None
        M = self.members
        return [values[:M], values[M:]] if M else values
