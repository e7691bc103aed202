"""What the rest of the playground asks about a model written as text, for a model of any family:
each question goes to the family that reads the text (registry.family_of), which answers it with
the concept modules of its own kind of model (specs, models, params, ... for layer specs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playground.families.registry import PRESETS, family_of
from playground.params import collapse_layers

if TYPE_CHECKING:
    from torch import nn

    from playground.blocks import Blocks
    from playground.params import Anatomy
    from playground.receptive import FieldRow
    from playground.shapes import Shape
    from playground.specs import Layer


def normalize(text: str) -> str:
    """The canonical form of a model text, in its family: lower case, single spaces, defaults written out."""
    return family_of(text).canonical(text)


def resolve(text_or_preset: str) -> str:
    """A preset name or a spec string -> the canonical spec string."""
    key = (text_or_preset or "").strip().lower()
    if key in PRESETS:
        return normalize(PRESETS[key].spec)
    return normalize(text_or_preset)


def build_model(spec: str | list[Layer], input_shape: Shape, num_classes: int, load_weights: bool = True) -> nn.Sequential:
    """The model of any family for inputs of input_shape (C, H, W) and num_classes outputs: for a
    layer spec its layers + the classifier Linear(-> num_classes) (models.layer_model)."""
    return family_of(spec).build(spec, input_shape, num_classes, load_weights)


def preview_model(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> nn.Sequential:
    """The same model on PyTorch's meta device: shapes and counts without allocating a weight,
    so checking `fc100000 fc100000` (10 billion parameters) costs nothing."""
    return family_of(spec).preview(spec, input_shape, num_classes)


def anatomy(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> Anatomy:
    """The layer table of a model (of any family) for inputs of input_shape and num_classes outputs."""
    return family_of(spec).anatomy(spec, input_shape, num_classes)


def receptive_fields(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> list[FieldRow]:
    """One row per conv or pool layer, in order, until the first Flatten; PlaygroundError with the
    reason for a model of a family without this table."""
    return family_of(spec).receptive_fields(spec, input_shape, num_classes)


def from_spec(spec: str) -> tuple[Blocks | None, str]:
    """(blocks, "") or (None, the reason this model has no block form), for a model of any family."""
    return family_of(spec).blocks(spec)


def collapsed_linear(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> tuple[int, int, str] | None:
    """If the model is a stack of spec layers without a non-linearity, the whole stack is one affine
    map from the inputs to the classes: (layers, its parameter count, the worked count); else None."""
    layers = family_of(spec).layers(spec)  # None: not a stack of spec layers
    return None if layers is None else collapse_layers(layers, input_shape, num_classes)
