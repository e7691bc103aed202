"""What every unit of a toy 2D network computes over the plane, as TensorFlow Playground draws its
neurons: for each layer (the input features, each hidden layer, the output) each unit's value at
every point of a coarse grid, and the weights between consecutive layers.

The worker computes them (units_on_grid) after the epochs it stores decision regions for and keeps
the latest with the run; the Toy 2D page draws them (playground.ui.network_chart). Only the first
MAX_UNITS units of a layer are kept: a drawing of 64 units a layer is no longer readable.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np

MAX_UNITS = 8  # units kept (and drawn) per layer, as TensorFlow Playground's most
RESOLUTION = 22  # grid points per side of each unit's map


@dataclass
class NetworkMaps:
    resolution: int  # r: each map is r x r values, row-major over (y, x), y and x ascending
    names: list[list[str]]  # per layer (inputs, hidden..., output): each kept unit's name, e.g. "x1", "h1.3", "P(class 1)"
    maps: list[np.ndarray]  # per layer: float32 [kept units, r*r], the unit's value over the grid
    weights: list[np.ndarray]  # per pair of consecutive layers l -> l+1: float32 [kept units of l+1, kept units of l]
    units: list[int]  # per layer: how many units it has (kept or not)
    kinds: list[str]  # per layer: "input" | "hidden" | "output"
    ranges: list[tuple[float, float]]  # per layer: (low, high) of what its units can output, e.g. (-1, 1) for tanh

    def to_bytes(self) -> bytes:
        """One blob for the run store (numpy's npz with a JSON header)."""
        head = {"resolution": self.resolution, "names": self.names, "units": self.units, "kinds": self.kinds, "ranges": self.ranges}
        arrays = {f"map{i}": m for i, m in enumerate(self.maps)} | {f"w{i}": w for i, w in enumerate(self.weights)}
        buf = io.BytesIO()
        np.savez(buf, head=np.frombuffer(json.dumps(head).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> NetworkMaps:
        z = np.load(io.BytesIO(blob))
        head = json.loads(z["head"].tobytes().decode())
        L = len(head["names"])
        return cls(
            head["resolution"],
            head["names"],
            [z[f"map{i}"] for i in range(L)],
            [z[f"w{i}"] for i in range(L - 1)],
            head["units"],
            head["kinds"],
            [tuple(r) for r in head["ranges"]],
        )


def drawable(model) -> bool:
    """A sequence of linear layers with what goes between them (activations, batch norm, dropout):
    the networks of the Toy 2D page."""
    from torch import nn

    return (
        isinstance(model, nn.Sequential)
        and any(isinstance(m, nn.Linear) for m in model)
        and not any(isinstance(m, (nn.Conv2d, nn.Sequential)) for m in model)
    )


def _range(modules: list) -> tuple[float, float]:
    """What a hidden layer's units can output, from the last activation between two linear layers."""
    from torch import nn

    for m in reversed(modules):
        if isinstance(m, nn.Tanh):
            return (-1.0, 1.0)
        if isinstance(m, nn.Sigmoid):
            return (0.0, 1.0)
        if isinstance(m, nn.ReLU):
            return (0.0, float("inf"))
    return (-float("inf"), float("inf"))


def of_model(model, inputs, input_names: list[str], resolution: int = RESOLUTION) -> NetworkMaps:
    """Each unit's value at every grid point: inputs [r*r, F] are what the model sees there (features,
    normalised). A hidden layer's units are what the next linear layer takes (after its activation);
    the output is P(class 1) = softmax(z)[1] = sigmoid(z1 - z0), so its weights are row 1 - row 0."""
    import torch
    from torch import nn

    modules = list(model)
    names, maps, weights, units, kinds, ranges = [], [], [], [], [], []
    between: list = []  # the modules since the last linear layer
    x = inputs
    with torch.no_grad():
        for m in modules:
            if isinstance(m, nn.Linear):
                first = not maps
                units.append(x.shape[1])
                keep = x[:, :MAX_UNITS]
                maps.append(keep.T.float().cpu().numpy())
                kinds.append("input" if first else "hidden")
                ranges.append((-float("inf"), float("inf")) if first else _range(between))
                names.append(list(input_names[:MAX_UNITS]) if first else [f"h{len(maps) - 1}.{j + 1}" for j in range(keep.shape[1])])
                weights.append(m.weight[:MAX_UNITS, :MAX_UNITS].float().cpu().numpy())
                between = []
            else:
                between.append(m)
            x = m(x)
        regression = x.shape[1] == 1  # one output: the predicted value itself
        out = x[:, 0] if regression else x.softmax(dim=1)[:, 1]
    if not regression:  # the output layer's [2, kept]: P(class 1) depends on row 1 - row 0
        last = weights.pop()
        weights.append((last[1:2] - last[0:1]).astype(np.float32))
    names.append(["prediction" if regression else "P(class 1)"])
    maps.append(out[None].float().cpu().numpy())
    units.append(1)
    kinds.append("output")
    ranges.append((-1.0, 1.0) if regression else (0.0, 1.0))
    return NetworkMaps(resolution, names, maps, weights, units, kinds, ranges)
