"""Model families: the kinds of model a user can write as text, behind one interface (base.py).

    layers.py    layer specs, "conv8 relu pool2 fc32 relu drop0.5"
    resnet.py    torchvision's ResNet-18, "resnet18 [scratch] [r<size>]"
    registry.py  the families in order, their presets, and family_of(text): which family reads a text
    api.py       the questions asked of a model text of any family: normalize, resolve, build_model,
                 preview_model, anatomy, receptive_fields, from_spec, collapsed_linear

Imports go one way: this package imports the concept modules (specs, shapes, models, params,
receptive, blocks, transfer), each of which implements its concept for one family and never imports
this package. The rest of the playground asks this package about a model text, and no other module
tests which family a text belongs to.
"""

from playground.families.api import (
    anatomy,
    build_model,
    collapsed_linear,
    from_spec,
    normalize,
    preview_model,
    receptive_fields,
    resolve,
)
from playground.families.base import ModelFamily, Preset
from playground.families.registry import DEFAULT_PRESET, FAMILIES, LAYERS, PRESETS, RESNET, family_of, layer_kinds

__all__ = [
    "DEFAULT_PRESET",
    "FAMILIES",
    "LAYERS",
    "PRESETS",
    "RESNET",
    "ModelFamily",
    "Preset",
    "anatomy",
    "build_model",
    "collapsed_linear",
    "family_of",
    "from_spec",
    "layer_kinds",
    "normalize",
    "preview_model",
    "receptive_fields",
    "resolve",
]
