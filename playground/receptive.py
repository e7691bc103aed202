"""Receptive field of every spatial layer of a model: how many input pixels (per side) one
output unit of that layer can see.

The recurrence, starting from the input (r_0 = 1, j_0 = 1):
    r_l = r_(l-1) + (k_l - 1)*j_(l-1)      receptive field
    j_l = j_(l-1)*s_l                      jump: input pixels between neighbouring units
Padding moves the field but does not change its size; activations, batch norm and dropout act
per unit and change nothing. After Flatten every unit sees the whole image.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.shapes import Shape, plan
from playground.specs import Layer


@dataclass(frozen=True)
class FieldRow:
    index: int  # position in the nn.Sequential
    layer: str
    k: int  # kernel size
    s: int  # stride
    jump: int  # j_l
    field: int  # r_l, in input pixels per side
    worked: str  # the recurrence with the numbers put in


def layer_fields(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> list[FieldRow]:
    """The table of a layer spec, from the steps of shapes.plan: one row per conv or pool layer, in
    order, until the first Flatten (families.receptive_fields: of any model text)."""
    rows, r, j = [], 1, 1
    for i, step in enumerate(plan(spec, input_shape, num_classes)):
        if step.module == "Flatten" or len(step.in_shape) != 3:
            break
        if step.module not in ("Conv2d", "MaxPool2d", "AvgPool2d"):
            continue
        k = step.layer.kernel
        s = step.layer.stride if step.module == "Conv2d" else k
        r_new, j_new = r + (k - 1) * j, j * s
        worked = f"r = {r} + ({k} - 1)*{j} = {r_new};  j = {j}*{s} = {j_new}"
        rows.append(FieldRow(i, step.label, k, s, j_new, r_new, worked))
        r, j = r_new, j_new
    return rows
