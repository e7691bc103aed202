"""What every model family answers about a model written as text.

A family is a stateless object; each method takes the model's text (as typed, or canonical) and
raises PlaygroundError for text the family cannot read. The answers a family does not have (a
receptive-field table, a block form, a list of layers) are refused with the reason, or None.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from playground.blocks import Blocks
    from playground.params import Anatomy
    from playground.receptive import FieldRow
    from playground.specs import Layer

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Preset:
    name: str
    spec: str
    description: str


class ModelFamily(ABC):
    name: str  # a short name for messages and tests
    presets: tuple[Preset, ...] = ()  # listed in the model builder, in this order

    @abstractmethod
    def claims(self, text: str) -> bool:
        """Whether the text is written in this family (it may still be bad text of the family)."""

    @abstractmethod
    def parse(self, text: str) -> object:
        """The family's own form of the text (e.g. a list of Layers); PlaygroundError for bad text."""

    @abstractmethod
    def canonical(self, text: str) -> str:
        """Lower case, single spaces, defaults written out: canonical(canonical(t)) == canonical(t)."""

    @abstractmethod
    def build(self, text: str, input_shape: Shape, num_classes: int, load_weights: bool = True) -> nn.Sequential:
        """The model as an nn.Sequential, for inputs of input_shape (without the batch dimension) and num_classes outputs;
        load_weights=False builds without pretrained weights (nothing is downloaded)."""

    def preview(self, text: str, input_shape: Shape, num_classes: int) -> nn.Sequential:
        """The same model on PyTorch's meta device: shapes and counts without allocating or downloading a weight."""
        import torch

        with torch.device("meta"):
            return self.build(text, input_shape, num_classes, load_weights=False)

    @abstractmethod
    def anatomy(self, text: str, input_shape: Shape, num_classes: int) -> Anatomy:
        """The layer table: parameters, formulas, worked numbers, output shapes."""

    @abstractmethod
    def receptive_fields(self, text: str, input_shape: Shape, num_classes: int) -> list[FieldRow]:
        """One row per conv or pool layer; PlaygroundError with the reason for a family without a table."""

    @abstractmethod
    def blocks(self, text: str) -> tuple[Blocks | None, str]:
        """(the model builder's blocks, "") or (None, why this model has no block form)."""

    @abstractmethod
    def layers(self, text: str) -> list[Layer] | None:
        """The stack of spec layers, or None for a model that is not one."""

    def model_code(self, text: str, input_shape: Shape, num_classes: int) -> str | None:
        """For an exported script (playground.export_code): `def make_model()` building this network in
        plain torch/torchvision, or None where the network is a stack of spec layers (the exporter
        writes those module by module)."""
        return None
