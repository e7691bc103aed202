"""The layer-spec language: one string describes an architecture.

    "fc512 relu fc512 relu"                                  the quickstart MLP
    "conv6k5 relu pool2 conv16k5 relu pool2 fc120 relu fc84 relu"   LeNet

Tokens are separated by spaces or commas and are case-insensitive:

    fc<N>                       Linear with N outputs (Flatten inserted where needed)
    conv<C>[k<K>][s<S>][p<P>]   Conv2d, C output channels, kernel K=3, stride S=1, padding P=0
    pool<K> / avgpool<K>        MaxPool2d(K, K) / AvgPool2d(K, K)
    bn                          BatchNorm2d after conv layers, BatchNorm1d after fc layers
    relu leakyrelu tanh sigmoid gelu
    drop<P>                     Dropout with probability P, 0 <= P < 1

The classifier Linear(-> classes) is always appended and never written: "" is one linear layer.
Only this grammar is accepted; nothing a user types is evaluated.

This module knows only layer specs. The questions asked of a model text of any family (its
canonical form, a preset's text) are families.normalize, families.resolve and families.PRESETS;
the layer specs' presets are in families/layers.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playground.errors import PlaygroundError

ACTIVATIONS = ("relu", "leakyrelu", "tanh", "sigmoid", "gelu")
GRAMMAR = "fc<N>, conv<C>[k<K>][s<S>][p<P>], pool<K>, avgpool<K>, bn, " + ", ".join(ACTIVATIONS) + ", drop<P>"
MAX_UNITS = 100_000  # a width or channel count beyond this is a typo, not an experiment
MAX_LAYERS = 100  # tokens in one spec: deeper than this is a paste accident, not a playground model
MAX_KERNEL = 1_000


@dataclass(frozen=True)
class Layer:
    kind: str  # fc | conv | pool | avgpool | bn | drop | one of ACTIVATIONS
    units: int = 0  # fc: out_features; conv: C_out
    kernel: int = 0  # conv, pool, avgpool: K
    stride: int = 1  # conv: S
    padding: int = 0  # conv: P (zeros on each side)
    prob: float = 0.0  # drop: P

    @property
    def token(self) -> str:
        """The canonical text of this layer; parse(token) gives it back."""
        if self.kind == "fc":
            return f"fc{self.units}"
        if self.kind == "conv":
            s = f"s{self.stride}" if self.stride != 1 else ""
            p = f"p{self.padding}" if self.padding else ""
            return f"conv{self.units}k{self.kernel}{s}{p}"
        if self.kind in ("pool", "avgpool"):
            return f"{self.kind}{self.kernel}"
        if self.kind == "drop":
            return f"drop{self.prob:g}"
        return self.kind


class SpecError(PlaygroundError):
    def __init__(self, token: str, position: int, count: int, expected: str):
        self.token, self.position = token, position
        super().__init__(f"bad layer '{token}' (token {position} of {count}): {expected}")


_PATTERNS = {
    "fc": re.compile(r"fc(\d+)"),
    "conv": re.compile(r"conv(\d+)(?:k(\d+))?(?:s(\d+))?(?:p(\d+))?"),
    "avgpool": re.compile(r"avgpool(\d+)"),
    "pool": re.compile(r"pool(\d+)"),
    "drop": re.compile(r"drop(\d*\.?\d+)"),
}
_EXPECTED = {
    "fc": "expected fc<N> with N a whole number of units, e.g. fc512",
    "conv": "expected conv<C>[k<K>][s<S>][p<P>] with whole numbers, e.g. conv32k3p1 or conv8k3s2p1",
    "avgpool": "expected avgpool<K> with K a whole number, e.g. avgpool2",
    "pool": "expected pool<K> with K a whole number, e.g. pool2",
    "drop": "expected drop<P> with P a probability from 0 up to (not including) 1, e.g. drop0.25",
}


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", (text or "").strip().lower()) if t]


def parse(text: str) -> list[Layer]:
    """Parse a spec string; raise SpecError naming the first bad token and what was expected."""
    toks = tokens(text)
    if len(toks) > MAX_LAYERS:
        raise PlaygroundError(f"the spec has {len(toks)} layers: at most {MAX_LAYERS}; describe a smaller network")
    return [_parse_token(tok, i + 1, len(toks)) for i, tok in enumerate(toks)]


def _parse_token(tok: str, position: int, count: int) -> Layer:
    def fail(expected: str) -> SpecError:
        return SpecError(tok, position, count, expected)

    if tok in ACTIVATIONS or tok == "bn":
        return Layer(tok)
    kind = next((k for k in _PATTERNS if tok.startswith(k)), None)
    if kind is None:
        raise fail(f"unknown layer; expected one of {GRAMMAR}")
    m = _PATTERNS[kind].fullmatch(tok)
    if not m:
        raise fail(_EXPECTED[kind])
    if kind == "drop":
        prob = float(m.group(1))
        if not 0 <= prob < 1:
            raise fail(_EXPECTED["drop"])
        return Layer("drop", prob=prob)
    numbers = [int(g) if g is not None else None for g in m.groups()]
    if kind == "fc":
        layer = Layer("fc", units=numbers[0])
    elif kind == "conv":
        C, K, S, P = numbers
        layer = Layer("conv", units=C, kernel=3 if K is None else K, stride=1 if S is None else S, padding=P or 0)
    else:
        layer = Layer(kind, kernel=numbers[0])
    if layer.kind in ("fc", "conv") and not 1 <= layer.units <= MAX_UNITS:
        raise fail(f"the number of {'units' if kind == 'fc' else 'channels'} must be 1 to {MAX_UNITS:,}")
    if layer.kind != "fc" and not 1 <= layer.kernel <= MAX_KERNEL:
        raise fail(f"the kernel size must be 1 to {MAX_KERNEL}")
    if layer.stride < 1 or layer.padding > MAX_KERNEL:
        raise fail(f"the stride must be at least 1 and the padding at most {MAX_KERNEL}")
    return layer


def format_spec(layers: list[Layer]) -> str:
    return " ".join(layer.token for layer in layers)


def mlp_spec(depth: int, width: int, activation: str = "relu", dropout: float = 0.0, batchnorm: bool = False) -> str:
    """`depth` hidden layers of `width` units: fc [bn] act [drop], repeated; canonical text."""
    block = [f"fc{width}"] + (["bn"] if batchnorm else []) + ([activation] if activation != "none" else [])
    block += [f"drop{dropout:g}"] if dropout > 0 else []
    return format_spec(parse(" ".join(block * depth)))
