"""The families, in order, and the one test of which family a model text belongs to.

Every family's presets are listed here too, in the families' order (the layer specs' first); the
default preset is the layer specs' "base", the PyTorch quickstart MLP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.families.base import ModelFamily, Preset
from playground.families.layers import LayerFamily
from playground.families.resnet import ResNetFamily

if TYPE_CHECKING:
    from playground.specs import Layer

LAYERS = LayerFamily()
RESNET = ResNetFamily()
FAMILIES: tuple[ModelFamily, ...] = (LAYERS, RESNET)  # their presets are listed in this order

PRESETS: dict[str, Preset] = {p.name: p for family in FAMILIES for p in family.presets}
DEFAULT_PRESET = "base"


def family_of(spec: str | list[Layer]) -> ModelFamily:
    """The family that reads this model: the first other family that claims the text, else the
    layer family (whose parser then accepts the text or names its bad token); a list of Layers is
    a layer spec."""
    if isinstance(spec, str):
        for family in FAMILIES:
            if family is not LAYERS and family.claims(spec):
                return family
    return LAYERS


def layer_kinds(spec: str | list[Layer]) -> set[str] | None:
    """The kinds of layer in the model ({"fc", "relu", "bn", ...}), or None when it is not a stack of
    spec layers (a ResNet); PlaygroundError for bad text."""
    layers = family_of(spec).layers(spec)
    return None if layers is None else {layer.kind for layer in layers}
