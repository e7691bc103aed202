"""The symbolic walk of a layer spec over an input shape, without PyTorch.

`plan(spec, input_shape, num_classes)` gives one `Step` per module of the nn.Sequential that
models.layer_model makes (Flatten included, the classifier last), with the shape going in and
coming out. Parameter tables, receptive fields and the model builder all read this one walk, so
a spec that does not fit its input (a kernel larger than the image, a conv after an fc layer) is
refused with the same message everywhere, before any tensor is made.

A shape is (C, H, W) for images and (F,) for flat features, without the batch dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.convmath import conv_output_size
from playground.errors import PlaygroundError
from playground.specs import ACTIVATIONS, Layer, parse

Shape = tuple[int, ...]

MODULE_NAMES = {
    "fc": "Linear",
    "conv": "Conv2d",
    "pool": "MaxPool2d",
    "avgpool": "AvgPool2d",
    "drop": "Dropout",
    "relu": "ReLU",
    "leakyrelu": "LeakyReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "gelu": "GELU",
}
assert set(ACTIVATIONS) <= set(MODULE_NAMES)


@dataclass(frozen=True)
class Step:
    module: str  # PyTorch class name: Flatten, Linear, Conv2d, MaxPool2d, BatchNorm1d, ReLU, ...
    layer: Layer | None  # the spec layer it comes from; None for an inserted Flatten
    in_shape: Shape
    out_shape: Shape
    classifier: bool = False  # the Linear(-> classes) that every model ends with

    @property
    def label(self) -> str:
        """The module as PyTorch would construct it, e.g. Conv2d(1, 32, kernel_size=3, padding=1)."""
        L = self.layer
        if self.module == "Linear":
            return f"Linear({math.prod(self.in_shape)}, {L.units})"
        if self.module == "Conv2d":
            extra = (f", stride={L.stride}" if L.stride != 1 else "") + (f", padding={L.padding}" if L.padding else "")
            return f"Conv2d({self.in_shape[0]}, {L.units}, kernel_size={L.kernel}{extra})"
        if self.module in ("MaxPool2d", "AvgPool2d"):
            return f"{self.module}({L.kernel})"
        if self.module.startswith("BatchNorm"):
            return f"{self.module}({self.in_shape[0]})"
        if self.module == "Dropout":
            return f"Dropout(p={L.prob:g})"
        return f"{self.module}()"


def _step(layer: Layer, shape: Shape) -> list[Step]:
    """The steps for one layer (a Flatten first if an fc layer meets an image)."""
    image = len(shape) == 3
    if layer.kind == "fc":
        pre = [Step("Flatten", None, shape, (math.prod(shape),))] if image else []
        flat = (math.prod(shape),)
        return [*pre, Step("Linear", layer, flat, (layer.units,))]
    if layer.kind in ("conv", "pool", "avgpool"):
        if not image:
            raise PlaygroundError(
                f"'{layer.token}' comes after an fc layer: conv and pool layers need an image, so put them before the fc layers"
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
            return [Step("Conv2d", layer, shape, (layer.units, Ho, Wo))]
        Ho, Wo = H // K, W // K
        if Ho < 1 or Wo < 1:
            raise PlaygroundError(
                f"'{layer.token}': pooling a {H}x{W} input by {K} leaves less than one pixel; use a smaller pool or remove a pooling layer"
            )
        return [Step(MODULE_NAMES[layer.kind], layer, shape, (C, Ho, Wo))]
    if layer.kind == "bn":
        return [Step("BatchNorm2d" if image else "BatchNorm1d", layer, shape, shape)]
    return [Step(MODULE_NAMES[layer.kind], layer, shape, shape)]


def plan(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> list[Step]:
    """Every module of the model, in order, with its input and output shapes."""
    layers = parse(spec) if isinstance(spec, str) else spec
    shape: Shape = tuple(input_shape)
    steps: list[Step] = []
    for layer in layers:
        steps += _step(layer, shape)
        shape = steps[-1].out_shape
    head = _step(Layer("fc", units=num_classes), shape)
    return steps + head[:-1] + [Step("Linear", head[-1].layer, head[-1].in_shape, head[-1].out_shape, classifier=True)]
