"""Build an nn.Sequential from a parsed layer spec, an input shape and a class count.

Shapes are walked symbolically, so a spec that does not fit its input (a kernel larger than the
image, a conv after an fc layer) is refused with a message before any tensor is made.
A shape is (C, H, W) for images and (F,) for flat features.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.specs import Layer, parse

Shape = tuple[int, ...]

_ACTIVATIONS = {"relu": nn.ReLU, "leakyrelu": nn.LeakyReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def conv_output_size(W: int, K: int, S: int = 1, P: int = 0) -> int:
    """O = floor((W - K + 2P) / S) + 1."""
    return (W - K + 2 * P) // S + 1


def _module(layer: Layer, shape: Shape) -> tuple[list[nn.Module], Shape]:
    """The modules for one layer (Flatten first if an fc layer meets an image) and the new shape."""
    image = len(shape) == 3
    if layer.kind == "fc":
        flat = math.prod(shape)
        pre = [nn.Flatten()] if image else []
        return pre + [nn.Linear(flat, layer.units)], (layer.units,)
    if layer.kind in ("conv", "pool", "avgpool"):
        if not image:
            raise PlaygroundError(
                f"'{layer.token}' comes after an fc layer: conv and pool layers need an image, "
                "so put them before the fc layers"
            )
        C, H, W = shape
        K = layer.kernel
        if layer.kind == "conv":
            S, P = layer.stride, layer.padding
            Ho, Wo = conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)
            if Ho < 1 or Wo < 1:
                raise PlaygroundError(
                    f"'{layer.token}': kernel {K} is larger than its padded input {H + 2 * P}x{W + 2 * P}; "
                    "use a smaller kernel, more padding, or fewer pooling layers before it"
                )
            return [nn.Conv2d(C, layer.units, K, stride=S, padding=P)], (layer.units, Ho, Wo)
        Ho, Wo = H // K, W // K
        if Ho < 1 or Wo < 1:
            raise PlaygroundError(
                f"'{layer.token}': pooling a {H}x{W} input by {K} leaves less than one pixel; "
                "use a smaller pool or remove a pooling layer"
            )
        pool = nn.MaxPool2d(K, K) if layer.kind == "pool" else nn.AvgPool2d(K, K)
        return [pool], (C, Ho, Wo)
    if layer.kind == "bn":
        return [nn.BatchNorm2d(shape[0]) if image else nn.BatchNorm1d(shape[0])], shape
    if layer.kind == "drop":
        return [nn.Dropout(layer.prob)], shape
    return [_ACTIVATIONS[layer.kind]()], shape


def build_model(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> nn.Sequential:
    """spec layers + the classifier Linear(-> num_classes), for inputs of input_shape (C, H, W)."""
    layers = parse(spec) if isinstance(spec, str) else spec
    modules: list[nn.Module] = []
    shape: Shape = tuple(input_shape)
    for layer in layers:
        new, shape = _module(layer, shape)
        modules += new
    head, _ = _module(Layer("fc", units=num_classes), shape)
    return nn.Sequential(*modules, *head)


def preview_model(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> nn.Sequential:
    """The same model on PyTorch's meta device: shapes and counts without allocating a weight,
    so checking `fc100000 fc100000` (10 billion parameters) costs nothing."""
    with torch.device("meta"):
        return build_model(spec, input_shape, num_classes)


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
