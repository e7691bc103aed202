"""A layer spec's model, and the size and memory checks on a built model of any family.

A layer spec becomes an nn.Sequential with one module per step of shapes.plan, which has already
refused a spec that does not fit its input. The checks take a built module: check_size any, the
activation checks a preview on PyTorch's meta device, so they cost nothing however big the model.
Building or previewing a model of any family from its text is families.build_model and
families.preview_model."""

from __future__ import annotations

import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.shapes import Shape, Step, plan
from playground.specs import Layer

_ACTIVATIONS = {"ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "GELU": nn.GELU}


def _module(step: Step) -> nn.Module:
    L = step.layer
    if step.module == "Flatten":
        return nn.Flatten()
    if step.module == "Linear":
        return nn.Linear(step.in_shape[0], L.units)
    if step.module == "Conv2d":
        return nn.Conv2d(step.in_shape[0], L.units, L.kernel, stride=L.stride, padding=L.padding)
    if step.module == "MaxPool2d":
        return nn.MaxPool2d(L.kernel, L.kernel)
    if step.module == "AvgPool2d":
        return nn.AvgPool2d(L.kernel, L.kernel)
    if step.module == "BatchNorm2d":
        return nn.BatchNorm2d(step.in_shape[0])
    if step.module == "BatchNorm1d":
        return nn.BatchNorm1d(step.in_shape[0])
    if step.module == "Dropout":
        return nn.Dropout(L.prob)
    return _ACTIVATIONS[step.module]()


def layer_model(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> nn.Sequential:
    """A layer spec's nn.Sequential: one module per step of shapes.plan."""
    return nn.Sequential(*(_module(step) for step in plan(spec, input_shape, num_classes)))


MAX_PARAMS = 200_000_000  # weights + gradients alone would need 1.6 GB; beyond this a laptop swaps or dies


def check_size(model: nn.Module) -> int:
    """The trainable parameter count, or a PlaygroundError if the model is too big to train here."""
    n = count_params(model)
    if n > MAX_PARAMS:
        raise PlaygroundError(
            f"this model has {n:,} trainable parameters (about {n * 4 / 1e9:.1f} GB of weights, as much again "
            f"for gradients): the limit is {MAX_PARAMS:,}; use fewer or narrower layers"
        )
    return n


def count_params(model: nn.Module, trainable: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)


MAX_ACTIVATION_BYTES = 4_000_000_000  # activations and their gradients for one training batch


def activation_numbers(preview: nn.Module, input_shape: Shape) -> tuple[int, int]:
    """(sum, largest) of the numbers every layer of a model outputs for one image of input_shape, from a
    forward pass of its preview on the meta device (nothing is allocated); puts the preview in eval mode."""
    model = preview.eval()
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel())) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(torch.empty(1, *input_shape, device="meta"))
    for h in hooks:
        h.remove()
    return sum(sizes), max(sizes, default=1)


def check_memory(preview: nn.Module, input_shape: Shape, batch_size: int) -> None:
    """Refuse, with the estimate, a batch whose activations (kept for the backward pass) and their
    gradients would not fit: 2 x 4 bytes x batch x the numbers all layers output per image."""
    total, _ = activation_numbers(preview, input_shape)
    need = 8 * batch_size * total
    if need > MAX_ACTIVATION_BYTES:
        raise PlaygroundError(
            f"a batch of {batch_size} needs about {need / 1e9:.1f} GB for the layers' outputs and their gradients "
            f"({total:,} numbers per image): the limit is {MAX_ACTIVATION_BYTES / 1e9:.0f} GB; "
            f"use a batch of at most {max(1, MAX_ACTIVATION_BYTES // (8 * total)):,} or smaller layers"
        )


def eval_batch_size(preview: nn.Module, input_shape: Shape, budget: int = 400_000_000) -> int:
    """Images per evaluation batch: 1000, fewer when the largest layer output would pass `budget` bytes."""
    _, largest = activation_numbers(preview, input_shape)
    return max(1, min(1000, budget // (4 * largest)))
