"""The block view of a spec, as the model builder's widgets show it:

    conv block:  conv<C>k<K>[s<S>][p<P>] [bn] [activation] [pool<N> | avgpool<N>]
    fc block:    fc<N> [bn] [activation] [drop<P>]

conv blocks first, then fc blocks, one activation for the whole network (or none). Every block
list is a spec (`to_spec`); a spec's layers are a block list when they have this form
(`layer_blocks`), which all layer-spec presets do. Anything else, e.g. two activations in a row,
stays editable as text. The block form of a model text of any family is families.from_spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.specs import ACTIVATIONS, Layer

POOLS = ("none", "pool2", "avgpool2", "pool3", "avgpool3", "pool4", "avgpool4")
NO_ACTIVATION = "none"


@dataclass
class ConvBlock:
    channels: int = 16  # C_out
    kernel: int = 3  # K
    stride: int = 1  # S
    padding: int = 1  # P
    batchnorm: bool = False
    pool: str = "pool2"  # one of POOLS


@dataclass
class FcBlock:
    units: int = 128
    batchnorm: bool = False
    dropout: float = 0.0


@dataclass
class Blocks:
    conv: list[ConvBlock] = field(default_factory=list)
    fc: list[FcBlock] = field(default_factory=list)
    activation: str = "relu"  # one of ACTIVATIONS or NO_ACTIVATION


def to_spec(blocks: Blocks) -> str:
    act = [] if blocks.activation == NO_ACTIVATION else [blocks.activation]
    tokens: list[str] = []
    for b in blocks.conv:
        tokens.append(Layer("conv", units=b.channels, kernel=b.kernel, stride=b.stride, padding=b.padding).token)
        tokens += (["bn"] if b.batchnorm else []) + act + ([b.pool] if b.pool != "none" else [])
    for f in blocks.fc:
        tokens += [f"fc{f.units}"] + (["bn"] if f.batchnorm else []) + act + ([f"drop{f.dropout:g}"] if f.dropout > 0 else [])
    return " ".join(tokens)


def layer_blocks(layers: list[Layer]) -> tuple[Blocks | None, str]:
    """The block form of a layer spec's layers, or (None, the reason it has none)."""
    blocks = Blocks()
    acts: set[str] = set()
    blocks_without_act = 0
    i = 0
    while i < len(layers):
        head = layers[i]
        if head.kind not in ("conv", "fc"):
            return None, f"'{head.token}' does not follow a conv or fc layer in the block order"
        if head.kind == "conv" and blocks.fc:
            return None, "a conv layer after fc layers"
        i += 1
        batchnorm = i < len(layers) and layers[i].kind == "bn"
        i += batchnorm
        if i < len(layers) and layers[i].kind in ACTIVATIONS:
            acts.add(layers[i].kind)
            i += 1
        else:
            blocks_without_act += 1
        tail = layers[i] if i < len(layers) else None
        if head.kind == "conv":
            pool = "none"
            if tail is not None and tail.kind in ("pool", "avgpool"):
                pool = tail.token
                if pool not in POOLS:
                    return None, f"'{pool}': the builder offers pooling by 2, 3 or 4"
                i += 1
            blocks.conv.append(ConvBlock(head.units, head.kernel, head.stride, head.padding, batchnorm, pool))
        else:
            dropout = 0.0
            if tail is not None and tail.kind == "drop":
                dropout = tail.prob
                i += 1
            blocks.fc.append(FcBlock(head.units, batchnorm, dropout))
    if len(acts) > 1:
        return None, f"it mixes activations ({', '.join(sorted(acts))}); the builder uses one for the whole network"
    if acts and blocks_without_act:
        return None, "some layers have an activation and some do not"
    n_blocks = len(blocks.conv) + len(blocks.fc)
    blocks.activation = acts.pop() if acts else (NO_ACTIVATION if n_blocks else "relu")
    return blocks, ""
