"""Conv calculators against the shapes PyTorch's own layers produce (on the meta device: no
memory, only shapes), the receptive field against gradients, the manual convolution against
F.conv2d."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from playground import convmath
from playground.convolve import EDGE_IMAGE, SOBEL_X, convolve, flip, matches, parse_matrix, torch_reference
from playground.errors import PlaygroundError
from playground.families import receptive_fields

sizes = st.integers(1, 40)
kernels = st.integers(1, 9)
strides = st.integers(1, 4)
paddings = st.integers(0, 4)
dilations = st.integers(1, 3)


def _torch_side(layer: nn.Module, W: int):
    """The output side of a layer on a W x W input, or None where PyTorch refuses the input."""
    try:
        return layer(torch.empty(1, 1, W, W, device="meta")).shape[-1]
    except RuntimeError:
        return None


@settings(max_examples=200, deadline=None)
@given(W=sizes, K=kernels, S=strides, P=paddings, D=dilations)
def test_output_size_equals_conv2d(W, K, S, P, D):
    calc = convmath.output_size(W, K, S, P, D)
    expected = _torch_side(nn.Conv2d(1, 1, K, stride=S, padding=P, dilation=D, device="meta"), W)
    assert calc.value == expected
    assert calc.worked.endswith(f"= {convmath.conv_output_size(W, K, S, P, D)}")
    assert (calc.value is None) == (calc.problem is not None and "no position" in calc.problem)


@settings(max_examples=200, deadline=None)
@given(W=sizes, K=kernels, S=strides, D=dilations)
def test_padding_that_keeps_the_size(W, K, S, D):
    calc = convmath.padding_for(W, K, S, D)
    fits = [P for P in range(0, D * K + W * S) if convmath.conv_output_size(W, K, S, P, D) == W]
    if calc.value is None:
        assert calc.problem
        if S == 1:  # no symmetric padding at all gives the size back
            assert not fits
    else:
        assert calc.value == min(fits)
        assert _torch_side(nn.Conv2d(1, 1, K, stride=S, padding=calc.value, dilation=D, device="meta"), W) == W


def test_padding_examples():
    assert convmath.padding_for(28, 3).value == 1
    assert convmath.padding_for(28, 5).value == 2
    even = convmath.padding_for(28, 4)
    assert even.value is None and "not a whole number" in even.problem and even.worked.endswith("/2 = 1.5")


@settings(max_examples=200, deadline=None)
@given(W=sizes, O=sizes, S=strides, P=paddings)
def test_kernel_size_from_input_and_output(W, O, S, P):
    calc = convmath.kernel_for(W, O, S, P)
    if calc.value is None:
        assert all(convmath.conv_output_size(W, K, S, P) != O for K in range(1, W + 2 * P + 1))
    else:
        assert _torch_side(nn.Conv2d(1, 1, calc.value, stride=S, padding=P, device="meta"), W) == O
        assert _torch_side(nn.Conv2d(1, 1, calc.value + 1, stride=S, padding=P, device="meta"), W) != O


def test_kernel_that_turns_512_into_508():
    calc = convmath.kernel_for(512, 508)
    assert calc.value == 5 and calc.worked == "K = 512 + 2*0 - (508 - 1)*1 = 5"


@settings(max_examples=200, deadline=None)
@given(W=sizes, K=kernels, S=st.one_of(st.none(), strides), P=paddings)
def test_pool_output_size_equals_maxpool2d(W, K, S, P):
    calc = convmath.pool_output_size(W, K, S, P)
    assert calc.value == _torch_side(nn.MaxPool2d(K, S, P), W)
    assert calc.value == _torch_side(nn.AvgPool2d(K, S, P), W)


@settings(max_examples=200, deadline=None)
@given(W=sizes, K=kernels, S=strides, P=paddings, op=st.integers(0, 3), D=dilations)
def test_transposed_output_size_equals_convtranspose2d(W, K, S, P, op, D):
    calc = convmath.transposed_output_size(W, K, S, P, op, D)
    layer = nn.ConvTranspose2d(1, 1, K, stride=S, padding=P, output_padding=op, dilation=D, device="meta") if op < max(S, D) else None
    expected = _torch_side(layer, W) if layer is not None else None
    assert calc.value == expected


def test_bad_inputs_are_errors_not_crashes():
    with pytest.raises(PlaygroundError, match="stride S must be a whole number of at least 1"):
        convmath.output_size(28, 3, S=0)
    with pytest.raises(PlaygroundError, match="padding P"):
        convmath.output_size(28, 3, P=-1)
    assert convmath.output_size(3, 5).problem.startswith("the kernel spans 5 pixels")


# Receptive field: the input pixels that reach one output unit, measured by its gradient.


@pytest.mark.parametrize(
    "spec",
    ["conv1k3", "conv1k3 conv1k3", "conv1k5s2 conv1k3", "conv1k3 avgpool2 conv1k3 avgpool2 conv1k3", "conv1k7s2p3 avgpool3 conv1k3p1"],
)
def test_receptive_field_equals_the_gradient_footprint(spec):
    shape = (1, 96, 96)
    rows = receptive_fields(spec, shape, 10)
    from playground.families import build_model

    model = build_model(spec, shape, 10)
    spatial = nn.Sequential(*[m for m in model if isinstance(m, (nn.Conv2d, nn.AvgPool2d))])
    for m in spatial:
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)
    x = torch.zeros(1, *shape, requires_grad=True)
    y = spatial(x)
    H = y.shape[-1]
    y[0, 0, H // 2, H // 2].backward()
    rows_hit = x.grad[0, 0].abs().sum(dim=1).nonzero()
    footprint = int(rows_hit.max() - rows_hit.min() + 1)
    assert rows[-1].field == footprint


def test_receptive_field_table():
    rows = receptive_fields("conv8k3 relu conv8k3 pool2 conv8k3 fc10", (1, 28, 28), 10)
    assert [r.field for r in rows] == [3, 5, 6, 10]
    assert [r.jump for r in rows] == [1, 1, 2, 2]
    assert rows[2].worked == "r = 5 + (2 - 1)*1 = 6;  j = 1*2 = 2"
    assert receptive_fields("fc10", (1, 28, 28), 10) == []


# Manual convolution


matrices = st.integers(1, 6).flatmap(
    lambda h: st.integers(1, 6).flatmap(lambda w: st.lists(st.lists(st.integers(-9, 9), min_size=w, max_size=w), min_size=h, max_size=h))
)


@settings(max_examples=100, deadline=None)
@given(image=matrices, kernel=matrices, P=st.integers(0, 2), S=st.integers(1, 3), mode=st.sampled_from(["convolution", "correlation"]))
def test_manual_convolution_equals_torch(image, kernel, P, S, mode):
    try:
        result = convolve(image, kernel, P, S, mode)
    except PlaygroundError:
        assert len(kernel) > len(image) + 2 * P or len(kernel[0]) > len(image[0]) + 2 * P
        return
    k = torch.tensor(kernel, dtype=torch.float64)
    k = torch.flip(k, (0, 1)) if mode == "convolution" else k
    expected = F.conv2d(torch.tensor(image, dtype=torch.float64)[None, None], k[None, None], padding=P, stride=S)[0, 0].tolist()
    assert matches(result.output, expected)
    assert matches(torch_reference(image, kernel, P, S, mode), expected)
    assert [c.value for c in result.cells] == [v for row in result.output for v in row]


def test_sobel_by_hand():
    conv = convolve(EDGE_IMAGE, SOBEL_X, padding=1, mode="convolution")
    corr = convolve(EDGE_IMAGE, SOBEL_X, padding=1, mode="correlation")
    assert conv.kernel_used == flip(SOBEL_X) == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    assert matches(conv.output, [[-v for v in row] for row in corr.output])  # Sobel is antisymmetric
    assert corr.output[2] == [0, 0, 36, 36, -36]  # the zero padding makes an edge of its own on the right
    first = conv.cells[0]
    assert (first.top, first.left) == (0, 0)
    assert first.expression == "0*1 + 0*0 + 0*(-1) + 0*2 + 0*0 + 0*(-2) + 0*1 + 0*0 + 0*(-1) = 0"
    assert len(conv.padded) == 7 and conv.padded[0] == [0] * 7


def test_issue_example_shapes():
    out = convolve(parse_matrix("2 1 2; 3 9 1"), parse_matrix("-1 0 1; -2 0 2; -1 0 1"), padding=1, stride=1)
    assert len(out.output) == 2 and len(out.output[0]) == 3


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("1 2; 3", "different lengths"), ("1 x; 3 4", "'x', which is not a number"), ("; ".join(["1"] * 17), "at most 16x16")],
)
def test_matrix_errors(text, message):
    with pytest.raises(PlaygroundError, match=message):
        parse_matrix(text, "image")


def test_matrix_parsing_accepts_commas_and_lines():
    assert parse_matrix("1, 2\n3,4") == [[1, 2], [3, 4]]
