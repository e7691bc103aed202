"""The ResNet family: torchvision's ResNet-18 for transfer learning, "resnet18 [scratch] [r<size>]".

The network itself (its text, the input resize, the new head) is transfer.py; this module adds its
layer table, stage by stage (params.Anatomy rows). It is not a stack of spec layers: no block form,
no receptive-field table, no layer kinds. transfer.py is imported when a method is called, since it
imports PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.errors import PlaygroundError
from playground.families.base import ModelFamily, Preset, Shape
from playground.params import Anatomy, Row

if TYPE_CHECKING:
    from torch import nn

    from playground.transfer import TransferSpec

NO_BLOCKS = "ResNet-18 is torchvision's network, not a stack of blocks"
NO_FIELDS = "the receptive-field table covers spec models; ResNet-18's is 435x435 pixels at its last stage (Araujo et al., 2019)"


class ResNetFamily(ModelFamily):
    name = "resnet18"
    presets = (
        Preset(
            "resnet18",
            "resnet18 r224",
            "Transfer learning: torchvision's ResNet-18 pretrained on ImageNet, inputs resized to 224x224, a new last layer. Slow on a CPU: use few images.",
        ),
    )

    def claims(self, text: str) -> bool:
        from playground.transfer import is_transfer

        return isinstance(text, str) and is_transfer(text)

    def parse(self, text: str) -> TransferSpec:
        from playground.transfer import parse_transfer

        ts = parse_transfer(text)
        if ts is None:
            raise PlaygroundError(f"bad model '{text}': expected resnet18 [scratch] [r<size>]")
        return ts

    def canonical(self, text: str) -> str:
        return self.parse(text).text

    def build(self, text: str, input_shape: Shape, num_classes: int, load_weights: bool = True) -> nn.Sequential:
        from playground.transfer import build

        return build(self.parse(text), tuple(input_shape), num_classes, load_weights)

    def anatomy(self, text: str, input_shape: Shape, num_classes: int) -> Anatomy:
        return _stage_table(self.preview(text, input_shape, num_classes).eval(), tuple(input_shape), num_classes)

    def receptive_fields(self, text: str, input_shape: Shape, num_classes: int) -> list:
        raise PlaygroundError(NO_FIELDS)

    def blocks(self, text: str) -> tuple[None, str]:
        return None, NO_BLOCKS

    def model_code(self, text: str, input_shape: Shape, num_classes: int) -> str:
        return _script(self.parse(text), input_shape[0], num_classes)

    def layers(self, text: str) -> None:
        return None


def _stage_table(model: nn.Sequential, input_shape: Shape, num_classes: int) -> Anatomy:
    """ResNet-18 stage by stage, from its preview in eval mode (batch norm on one example)."""
    import torch
    from torch import nn

    from playground.transfer import blocks_of

    macs: dict[nn.Module, int] = {}

    def hook(module, _inputs, output):  # torchinfo's convention: each weight and bias once per output position
        n = sum(p.numel() for p in module.parameters(recurse=False))
        macs[module] = n * (output.shape[2] * output.shape[3] if isinstance(module, nn.Conv2d) else 1)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    x = torch.empty(1, *input_shape, device="meta")
    rows, total = [], 0
    for i, (name, block) in enumerate(blocks_of(model)):
        x = block(torch.flatten(x, 1) if name == "fc" else x)
        params = sum(p.numel() for p in block.parameters() if p.requires_grad)
        stats = sum(b.numel() for n, b in block.named_buffers() if n.rsplit(".", 1)[-1].startswith("running_"))
        formula, worked = _formula(block, params)
        total += params
        label = f"{name}: {block.__class__.__name__}" + ("  (new head)" if name == "fc" else "")
        mult_adds = sum(macs.get(m, 0) for m in block.modules())
        rows.append(Row(i, label, tuple(x.shape[1:]), params, formula, worked, total, stats, f"{stats:,}" if stats else "", mult_adds))
    for h in handles:
        h.remove()
    return Anatomy(input_shape, num_classes, rows)


def _formula(block: nn.Module, params: int) -> tuple[str, str]:
    """(formula, worked) of one stage's parameter count."""
    from torch import nn

    if isinstance(block, nn.Linear):
        return "(n_in + 1)*n_out", f"({block.in_features} + 1)*{block.out_features} = {params:,}"
    if isinstance(block, nn.Conv2d):
        k = block.kernel_size[0]
        return "k*k*C_in*C_out (no bias)", f"{k}*{k}*{block.in_channels}*{block.out_channels} = {params:,}"
    if isinstance(block, nn.BatchNorm2d):
        return "2*C", f"2*{block.num_features} = {params:,}"
    if params:
        parts = [sum(p.numel() for p in c.parameters()) for c in block.children()]
        return f"{len(parts)} BasicBlocks", " + ".join(f"{n:,}" for n in parts) + f" = {params:,}"
    return "", ""


# The exported script's make_model() (playground.export_code): torchvision's network, its input resize and new head.
RESNET = '''
class ToResNetInput(nn.Module):
    """[N, C, H, W] -> [N, 3, size, size]: bilinear resize, grey repeated to three channels."""

    def __init__(self, channels, size):
        super().__init__()
        self.channels, self.size = channels, size

    def forward(self, x):
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return x.expand(-1, 3, -1, -1) if self.channels == 1 else x


def make_model():
    """torchvision's ResNet-18{weights},
    its last layer replaced for {classes} classes."""
    net = torchvision.models.resnet18(weights={weights_arg})
    net.fc = nn.Linear(net.fc.in_features, {classes})  # the new head, trained from scratch
    return nn.Sequential(ToResNetInput({channels}, {size}), net)
'''


def _script(ts: TransferSpec, channels: int, classes: int) -> str:
    return RESNET.format(
        weights=" pretrained on ImageNet (downloaded once into torch's cache)" if ts.pretrained else " from random weights",
        weights_arg="torchvision.models.ResNet18_Weights.DEFAULT" if ts.pretrained else "None",
        classes=classes,
        channels=channels,
        size=ts.size,
    ).lstrip("\n")
