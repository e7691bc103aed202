"""Model families: the kinds of model a user can write as text, behind one interface (base.py).

    layers.py   layer specs, "conv8 relu pool2 fc32 relu drop0.5"
    resnet.py   torchvision's ResNet-18, "resnet18 [scratch] [r<size>]"

`family_of(text)` picks the family that reads a model text. The rest of the playground asks it, not
the text: specs.resolve, models.build_model, params.anatomy, receptive.receptive_fields and
blocks.from_spec delegate here, and no other module tests which family a text belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from playground.families.base import ModelFamily, Preset
from playground.families.layers import LayerFamily
from playground.families.resnet import ResNetFamily

if TYPE_CHECKING:
    from playground.specs import Layer

__all__ = ["FAMILIES", "LAYERS", "PRESETS", "RESNET", "ModelFamily", "Preset", "family_of", "layer_kinds"]

LAYERS = LayerFamily()
RESNET = ResNetFamily()
FAMILIES: tuple[ModelFamily, ...] = (LAYERS, RESNET)  # their presets are listed in this order

PRESETS: dict[str, Preset] = {p.name: p for family in FAMILIES for p in family.presets}


def family_of(spec: str | list[Layer]) -> ModelFamily:
    """The family that reads this model: the first other family that claims the text, else the
    layer family (whose parser then accepts the text or names its bad token); a list of Layers is
    a layer spec."""
    if isinstance(spec, str):
        for family in FAMILIES:
            if family is not LAYERS and family.claims(spec):
                return family
    return LAYERS


def layer_kinds(spec: str | list[Layer]) -> Optional[set[str]]:
    """The kinds of layer in the model ({"fc", "relu", "bn", ...}), or None when it is not a stack of
    spec layers (a ResNet); PlaygroundError for bad text."""
    layers = family_of(spec).layers(spec)
    return None if layers is None else {layer.kind for layer in layers}
