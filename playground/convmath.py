"""Convolution arithmetic with the working shown: output sizes, padding, kernel size, pooling,
transposed convolution. Pure integer arithmetic, checked in the tests against nn.Conv2d,
nn.MaxPool2d and nn.ConvTranspose2d.

Symbols: W input size (one side), K kernel, S stride, P zero padding per side, D dilation,
O output size. Each calculator returns a `Calc`: the formula in symbols, the same with the
numbers put in, the value, and, for an impossible combination, why (`problem`) instead of a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from playground.errors import PlaygroundError


@dataclass(frozen=True)
class Calc:
    formula: str  # in symbols, e.g. "O = floor((W + 2*P - D*(K - 1) - 1)/S) + 1"
    worked: str  # the numbers put in, e.g. "O = floor((28 + 2*1 - 1*(3 - 1) - 1)/1) + 1 = 28"
    value: int | None  # None when there is no valid answer
    problem: str | None = None  # why there is no valid answer (or a caveat)


_NAMES = {"W": "input size W", "K": "kernel size K", "S": "stride S", "D": "dilation D", "O": "output size O"}


def _check_positive(**values: int) -> None:
    for name, v in values.items():
        if v is None or int(v) != v or v < 1:
            raise PlaygroundError(f"the {_NAMES[name]} must be a whole number of at least 1, not {v}")


def _check_padding(P: int) -> None:
    if int(P) != P or P < 0:
        raise PlaygroundError(f"the padding P must be a whole number of at least 0, not {P}")


def conv_output_size(W: int, K: int, S: int = 1, P: int = 0, D: int = 1) -> int:
    """O = floor((W + 2P - D(K-1) - 1)/S) + 1, which is floor((W - K + 2P)/S) + 1 for D = 1."""
    return (W + 2 * P - D * (K - 1) - 1) // S + 1


def output_size(W: int, K: int, S: int = 1, P: int = 0, D: int = 1) -> Calc:
    """Output size of a convolution (nn.Conv2d) along one side."""
    _check_positive(W=W, K=K, S=S, D=D)
    _check_padding(P)
    if D == 1:
        formula = "O = floor((W - K + 2*P)/S) + 1"
        inner = f"({W} - {K} + 2*{P})/{S}"
    else:
        formula = "O = floor((W + 2*P - D*(K - 1) - 1)/S) + 1"
        inner = f"({W} + 2*{P} - {D}*({K} - 1) - 1)/{S}"
    O = conv_output_size(W, K, S, P, D)
    worked = f"O = floor({inner}) + 1 = {O}"
    if O < 1:
        span = D * (K - 1) + 1
        return Calc(
            formula,
            worked,
            None,
            f"the kernel spans {span} pixels but the padded input is only {W + 2 * P}: "
            "there is no position to put it; use a smaller kernel or more padding",
        )
    rest = (W + 2 * P - D * (K - 1) - 1) % S
    note = f"the division leaves {rest}: the last {rest} pixel(s) of the padded input are never covered" if rest else None
    return Calc(formula, worked, O, note)


def padding_for(W: int, K: int, S: int = 1, D: int = 1, O: int | None = None) -> Calc:
    """Zero padding per side that gives output size O (default: O = W, 'same' size)."""
    O = W if O is None else O
    _check_positive(W=W, K=K, S=S, D=D, O=O)
    formula = "P = ((O - 1)*S - W + D*(K - 1) + 1)/2"
    exact = Fraction((O - 1) * S - W + D * (K - 1) + 1, 2)
    worked = f"P = (({O} - 1)*{S} - {W} + {D}*({K} - 1) + 1)/2 = {_frac(exact)}"
    if exact < 0 and conv_output_size(W, K, S, 0, D) != O:
        return Calc(
            formula,
            worked,
            None,
            f"even with no padding the output is {conv_output_size(W, K, S, 0, D)}, larger than {O}: padding only makes it larger; use a larger kernel or stride",
        )
    # With S > 1 the floor lets a range of paddings give O; take the smallest P >= 0 that does.
    P = max(0, math.ceil(exact))
    if conv_output_size(W, K, S, P, D) == O and (exact.denominator == 1 or S > 1):
        return Calc(formula, worked + (f" -> P = {P}" if exact != P else ""), P)
    problem = (
        f"{_frac(exact)} is not a whole number: with an even (effective) kernel size no symmetric padding keeps the size "
        "(PyTorch's padding='same' pads one pixel more on one side); use an odd kernel"
        if S == 1
        else f"no padding gives exactly {O} with stride {S}"
    )
    return Calc(formula, worked, None, problem)


def kernel_for(W: int, O: int, S: int = 1, P: int = 0) -> Calc:
    """Kernel size that turns input size W into output size O (D = 1); with S > 1 the largest."""
    _check_positive(W=W, O=O, S=S)
    _check_padding(P)
    formula = "K = W + 2*P - (O - 1)*S"
    K = W + 2 * P - (O - 1) * S
    worked = f"K = {W} + 2*{P} - ({O} - 1)*{S} = {K}"
    if K < 1:
        return Calc(
            formula,
            worked,
            None,
            f"an output of {O} needs more input than {W} + 2*{P} pixels at stride {S}; add padding or lower the stride",
        )
    note = None
    if S > 1:
        smallest = next(k for k in range(max(1, K - S + 1), K + 1) if conv_output_size(W, k, S, P) == O)
        if smallest != K:
            note = f"because of the floor, every K from {smallest} to {K} gives {O}"
    return Calc(formula, worked, K, note)


def pool_output_size(W: int, K: int, S: int | None = None, P: int = 0) -> Calc:
    """Output size of nn.MaxPool2d / nn.AvgPool2d (stride defaults to the kernel size)."""
    S = K if S is None else S
    _check_positive(W=W, K=K, S=S)
    _check_padding(P)
    formula = "O = floor((W - K + 2*P)/S) + 1"
    O = conv_output_size(W, K, S, P)
    worked = f"O = floor(({W} - {K} + 2*{P})/{S}) + 1 = {O}"
    if 2 * P > K:
        return Calc(
            formula, worked, None, f"PyTorch allows padding of at most half the kernel ({K // 2}); a pool window would see only padding"
        )
    if O < 1:
        return Calc(formula, worked, None, f"the {K}x{K} window does not fit in {W + 2 * P} pixels; use a smaller pool")
    return Calc(formula, worked, O)


def transposed_output_size(W: int, K: int, S: int = 1, P: int = 0, output_padding: int = 0, D: int = 1) -> Calc:
    """Output size of nn.ConvTranspose2d (the inverse shape map of a convolution)."""
    _check_positive(W=W, K=K, S=S, D=D)
    _check_padding(P)
    formula = "O = (W - 1)*S - 2*P + D*(K - 1) + output_padding + 1"
    O = (W - 1) * S - 2 * P + D * (K - 1) + output_padding + 1
    worked = f"O = ({W} - 1)*{S} - 2*{P} + {D}*({K} - 1) + {output_padding} + 1 = {O}"
    if not 0 <= output_padding < max(S, D):
        return Calc(
            formula, worked, None, f"output_padding must be at least 0 and smaller than the stride or the dilation (here below {max(S, D)})"
        )
    if O < 1:
        return Calc(formula, worked, None, "the padding removes more than the transposed convolution produces; lower P")
    return Calc(formula, worked, O)


def _frac(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"
