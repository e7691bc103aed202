"""Transfer learning: torchvision's ResNet-18, pretrained on ImageNet (or from random weights),
its input resized and its last layer replaced for the dataset's classes.

Written as a spec of its own: "resnet18 r224" (pretrained, inputs resized to 224x224) or
"resnet18 scratch r64" (random weights, 64x64). Grey images are repeated to three channels.
The weights (45 MB) are downloaded once by torchvision into its cache; offline, training a
pretrained ResNet says so, and "scratch" still works.

The rest of the playground reaches this network through its model family, families/resnet.py.
"""

from __future__ import annotations

import re
import urllib.error
from dataclasses import dataclass

import torch
from torch import nn

from playground.errors import PlaygroundError

_PATTERN = re.compile(r"resnet18(?:[\s,]+(scratch))?(?:[\s,]+r(\d+))?")
DEFAULT_SIZE = 224


@dataclass(frozen=True)
class TransferSpec:
    pretrained: bool = True
    size: int = DEFAULT_SIZE  # inputs are resized to size x size

    @property
    def text(self) -> str:
        return "resnet18" + ("" if self.pretrained else " scratch") + f" r{self.size}"


def is_transfer(text: str) -> bool:
    """Whether the text is meant as a ResNet (it may still be a bad one): its first word starts with resnet."""
    return (text or "").strip().lower().startswith("resnet")


def parse_transfer(text: str) -> TransferSpec | None:
    """A TransferSpec for 'resnet18 [scratch] [r<size>]', None for any other spec."""
    if not is_transfer(text):
        return None
    m = _PATTERN.fullmatch(text.strip().lower())
    if not m:
        raise PlaygroundError(f"bad model '{text}': expected resnet18 [scratch] [r<size>], e.g. resnet18 r224 or resnet18 scratch r64")
    size = int(m.group(2) or DEFAULT_SIZE)
    if not 32 <= size <= 512:
        raise PlaygroundError(f"resnet18 input size r{size}: use 32 to 512 pixels")
    return TransferSpec(pretrained=m.group(1) is None, size=size)


class ToResNetInput(nn.Module):
    """[N, C, H, W] -> [N, 3, size, size]: bilinear resize, grey repeated to three channels."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        self.channels, self.size = channels, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return x.expand(-1, 3, -1, -1) if self.channels == 1 else x

    def extra_repr(self) -> str:
        return f"channels={self.channels} -> 3, size={self.size}"


def build(ts: TransferSpec, input_shape: tuple[int, ...], num_classes: int, load_weights: bool = True) -> nn.Sequential:
    from torchvision.models import ResNet18_Weights, resnet18

    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise PlaygroundError("ResNet-18 needs images with 1 or 3 channels, not toy points")
    weights = ResNet18_Weights.DEFAULT if ts.pretrained and load_weights else None
    try:
        net = resnet18(weights=weights)
    except (urllib.error.URLError, OSError, RuntimeError) as e:
        raise PlaygroundError(
            f"the pretrained ResNet-18 weights could not be downloaded ({getattr(e, 'reason', e)}): "
            "connect to the internet once (torchvision keeps them in its cache), or choose "
            f"'resnet18 scratch r{ts.size}' to train the same network from random weights"
        ) from None
    net.fc = nn.Linear(net.fc.in_features, num_classes)  # the new head, trained from scratch
    return nn.Sequential(ToResNetInput(input_shape[0], ts.size), net)


def blocks_of(model: nn.Sequential) -> list[tuple[str, nn.Module]]:
    """The top-level stages, for the layer table: input, conv1, bn1, relu, maxpool, layer1-4, avgpool, fc."""
    return [("input", model[0])] + [(name, m) for name, m in model[1].named_children()]
