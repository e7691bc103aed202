"""Layer-by-layer parameter arithmetic with the working shown, as a student writes it by hand.

    Linear       (n_in + 1)*n_out            weights n_in*n_out, one bias per output
    Conv2d       (k*k*C_in + 1)*C_out        one k x k x C_in filter and one bias per output channel
    BatchNorm    2*C trainable (gamma, beta) + 2*C running statistics (mean, var), not trained

Every number is checked in the tests against torch and torchinfo. Mult-adds follow torchinfo's
convention for one input: each weight and bias is used once per output position (Linear: once,
Conv2d: H_out*W_out times, BatchNorm: once). `worked` strings are plain arithmetic in Python
syntax, so a student can paste the left-hand side into a Python prompt.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from playground.shapes import Shape, Step, plan
from playground.specs import Layer

BYTES_PER_PARAM = 4  # float32


@dataclass(frozen=True)
class Row:
    index: int  # position in the nn.Sequential (model[index])
    layer: str  # the module as PyTorch constructs it
    output_shape: Shape  # without the batch dimension
    params: int  # trainable parameters of this layer
    formula: str  # in symbols; "" for a layer without parameters
    worked: str  # the numbers put in, "= params" at the end
    total: int  # running total of trainable parameters up to and including this row
    buffers: int = 0  # running statistics (BatchNorm mean and var): stored, never trained
    buffers_worked: str = ""
    mult_adds: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["output_shape"] = list(self.output_shape)
        return d


@dataclass(frozen=True)
class Anatomy:
    input_shape: Shape
    num_classes: int
    rows: list[Row]

    @property
    def trainable_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def non_trainable_params(self) -> int:
        return 0  # nothing is frozen in a model built from a spec

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def running_stats(self) -> int:
        return sum(r.buffers for r in self.rows)

    @property
    def mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.rows)

    @property
    def param_bytes(self) -> int:
        return self.total_params * BYTES_PER_PARAM

    @property
    def parametrised(self) -> list[Row]:
        """The rows a student has to count: those with trainable parameters."""
        return [r for r in self.rows if r.params]

    def to_dict(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "layers": [r.to_dict() for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "running_stats": self.running_stats,
            "mult_adds": self.mult_adds,
            "param_bytes": self.param_bytes,
        }


def _arith(step: Step) -> tuple[int, str, str, int, str, int]:
    """(params, formula, worked, buffers, buffers_worked, mult_adds) of one step."""
    if step.module == "Linear":
        n_in, n_out = step.in_shape[0], step.out_shape[0]
        n = (n_in + 1) * n_out
        return n, "(n_in + 1)*n_out", f"({n_in} + 1)*{n_out} = {n:,}", 0, "", n
    if step.module == "Conv2d":
        k, C_in, (C_out, H, W) = step.layer.kernel, step.in_shape[0], step.out_shape
        n = (k * k * C_in + 1) * C_out
        return n, "(k*k*C_in + 1)*C_out", f"({k}*{k}*{C_in} + 1)*{C_out} = {n:,}", 0, "", n * H * W
    if step.module.startswith("BatchNorm"):
        C = step.in_shape[0]
        return 2 * C, "2*C", f"2*{C} = {2 * C:,}", 2 * C, f"2*{C} = {2 * C:,}", 2 * C
    return 0, "", "", 0, "", 0


def layer_anatomy(spec: str | list[Layer], input_shape: Shape, num_classes: int) -> Anatomy:
    """The layer table of a layer spec, one row per step of shapes.plan (families.anatomy: of any model)."""
    rows, total = [], 0
    for i, step in enumerate(plan(spec, input_shape, num_classes)):
        params, formula, worked, buffers, buffers_worked, mult_adds = _arith(step)
        total += params
        label = step.label + ("  (classifier)" if step.classifier else "")
        rows.append(Row(i, label, step.out_shape, params, formula, worked, total, buffers, buffers_worked, mult_adds))
    return Anatomy(tuple(input_shape), num_classes, rows)


def format_shape(shape: Shape) -> str:
    return " x ".join(str(n) for n in shape)


def format_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def parse_count(text: str) -> int | None:
    """A student's answer: '401920', '401,920', '401 920' or '401_920' -> 401920; '' -> None."""
    cleaned = re.sub(r"[\s,_']", "", text or "")
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise ValueError(f"'{text}' is not a whole number")
    return int(cleaned)


def mark(answer: int | None, truth: int) -> bool | None:
    """True/False for an answer, None for no answer."""
    return None if answer is None else answer == truth


LINEAR_KINDS = ("fc", "conv", "avgpool", "bn", "drop")  # affine maps (batch norm and dropout at evaluation)


def collapse_layers(layers: list[Layer], input_shape: Shape, num_classes: int) -> tuple[int, int, str] | None:
    """If the layers have no non-linearity, every layer is affine and the whole stack is one affine
    map from the inputs to the classes: (layers, its parameter count, the worked count); else None
    (families.collapsed_linear: of any model text)."""
    if not layers or any(layer.kind not in LINEAR_KINDS for layer in layers):
        return None
    n_in = 1
    for d in input_shape:
        n_in *= d
    n = (n_in + 1) * num_classes
    return sum(layer.kind in ("fc", "conv") for layer in layers) + 1, n, f"({n_in} + 1)*{num_classes} = {n:,}"
