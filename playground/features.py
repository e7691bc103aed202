"""The input features of a toy 2D run, as TensorFlow Playground offers them: x1, x2, x1², x2², x1·x2,
sin(x1), sin(x2), any subset. The network sees the chosen features of each point instead of the
point itself, so its input width is the number of features; with x1² and x2² a network without a
hidden layer separates circles, which x1 and x2 alone cannot.

TensorFlow Playground's points span about [-6, 6]; ours span about [-1.2, 1.2] (scikit-learn's
sets). Its sin(X1) shows about two waves across the data; sin(x1) on our scale would be nearly a
straight line, so our sine features are sin(5·x1) and sin(5·x2): the same waves across the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from playground.errors import PlaygroundError

if TYPE_CHECKING:
    import torch

SIN_FREQUENCY = 5.0  # see the module docstring
DEFAULT = "x1,x2"

# name -> (how the pages write it, its value at points p [N, 2]); the order is the canonical one.
# Tensor methods only: the settings table imports this module, and it stays free of torch.
FEATURES: dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "x1": ("x1", lambda p: p[:, 0]),
    "x2": ("x2", lambda p: p[:, 1]),
    "x1sq": ("x1²", lambda p: p[:, 0] ** 2),
    "x2sq": ("x2²", lambda p: p[:, 1] ** 2),
    "x1x2": ("x1·x2", lambda p: p[:, 0] * p[:, 1]),
    "sinx1": ("sin(5·x1)", lambda p: (SIN_FREQUENCY * p[:, 0]).sin()),
    "sinx2": ("sin(5·x2)", lambda p: (SIN_FREQUENCY * p[:, 1]).sin()),
}
RULE = f"a comma list of {', '.join(FEATURES)} (at least one)"


def parse(text: str) -> tuple[str, ...]:
    """'x2, X1SQ,x2' -> ('x2', 'x1sq') in the canonical order, duplicates dropped; PlaygroundError
    naming an unknown feature and the known ones."""
    names = [t.strip().lower() for t in str(text).split(",") if t.strip()]
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise PlaygroundError(f"unknown input feature '{unknown[0]}': choose from {', '.join(FEATURES)}")
    if not names:
        raise PlaygroundError(f"toy_features is empty: it must be {RULE}")
    return tuple(n for n in FEATURES if n in names)


def canonical(text: str) -> str:
    """The one way to write a feature list (one config, one cache entry, one link)."""
    return ",".join(parse(text))


def labels(text: str) -> list[str]:
    return [FEATURES[n][0] for n in parse(text)]


class Lift:
    """Points [N, 2] -> their features [N, F], float32 (identity for the default x1, x2)."""

    def __init__(self, text: str):
        self.names = parse(text)

    @property
    def width(self) -> int:
        return len(self.names)

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        if self.names == ("x1", "x2"):
            return points
        import torch

        return torch.stack([FEATURES[n][1](points) for n in self.names], dim=1)
