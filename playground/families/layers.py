"""The layer-spec family: "conv8 relu pool2 fc32 relu drop0.5", a stack of layers and the classifier.

Its grammar is specs.py, its walk over an input shape shapes.py; the answers come from the modules
of each concept, which know only layer specs: models.layer_model, params.layer_anatomy,
receptive.layer_fields and blocks.layer_blocks. models is imported when a model is built, since it
imports PyTorch. Every method also takes a list of Layers for the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.blocks import Blocks, layer_blocks
from playground.families.base import ModelFamily, Preset, Shape
from playground.params import Anatomy, layer_anatomy
from playground.receptive import FieldRow, layer_fields
from playground.specs import Layer, format_spec, parse

if TYPE_CHECKING:
    from torch import nn

Spec = str | list[Layer]


class LayerFamily(ModelFamily):
    name = "layers"
    presets = (
        Preset("base", "fc512 relu fc512 relu", "The PyTorch quickstart MLP: two hidden layers of 512."),
        Preset("wider", "fc1024 relu fc728 relu", "Wider hidden layers (1024 and 728 units)."),
        Preset("deeper", "fc512 relu fc512 relu fc512 relu fc512 relu", "Four hidden layers of 512."),
        Preset(
            "cnn",
            "conv32k3p1 bn relu pool2 conv64k3 bn relu pool2 fc600 relu drop0.25 fc120 relu",
            "The course's small CNN: two conv blocks with batch norm, then two fc layers.",
        ),
        Preset("lenet", "conv6k5 relu pool2 conv16k5 relu pool2 fc120 relu fc84 relu", "LeNet-5 style, as in the CIFAR-10 tutorial."),
        Preset("linear", "", "A single linear layer from pixels to classes (multinomial logistic regression)."),
    )

    def claims(self, text: str) -> bool:
        """Any text: the family of last resort, whose parser names the first bad token."""
        return True

    def parse(self, spec: Spec) -> list[Layer]:
        return parse(spec) if isinstance(spec, str) else list(spec)

    def canonical(self, spec: Spec) -> str:
        return format_spec(self.parse(spec))

    def build(self, spec: Spec, input_shape: Shape, num_classes: int, load_weights: bool = True) -> nn.Sequential:
        from playground.models import layer_model  # PyTorch

        return layer_model(spec, input_shape, num_classes)  # no pretrained weights to load

    def anatomy(self, spec: Spec, input_shape: Shape, num_classes: int) -> Anatomy:
        return layer_anatomy(spec, input_shape, num_classes)

    def receptive_fields(self, spec: Spec, input_shape: Shape, num_classes: int) -> list[FieldRow]:
        return layer_fields(spec, input_shape, num_classes)

    def blocks(self, spec: Spec) -> tuple[Blocks | None, str]:
        return layer_blocks(self.parse(spec))

    def layers(self, spec: Spec) -> list[Layer]:
        return self.parse(spec)
