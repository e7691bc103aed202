"""2D convolution by hand: every output cell as the sum of its products, as on paper.

True convolution flips the kernel (rows and columns) before sliding it; cross-correlation slides
it as it is, and is what nn.Conv2d computes. `torch_reference` gives torch's answer for the same
input, so the page and the tests can check the hand arithmetic against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playground.convmath import conv_output_size
from playground.errors import PlaygroundError

Matrix = list[list[float]]
MODES = ("convolution", "correlation")
MAX_SIDE = 16  # larger matrices are no longer worked by hand

SOBEL_X: Matrix = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
# A dark-to-bright vertical edge: the Sobel kernel answers along the edge, zero elsewhere.
EDGE_IMAGE: Matrix = [[0, 0, 0, 9, 9], [0, 0, 0, 9, 9], [0, 0, 0, 9, 9], [0, 0, 0, 9, 9], [0, 0, 0, 9, 9]]


def parse_matrix(text: str, name: str = "matrix") -> Matrix:
    """'2 1 2; 3 9 1' -> [[2, 1, 2], [3, 9, 1]]: rows separated by ';' or new lines, entries by
    spaces or commas."""
    rows = [r for r in re.split(r"[;\n]+", text or "") if r.strip()]
    if not rows:
        raise PlaygroundError(f"the {name} is empty: write rows separated by ';', e.g. '1 2; 3 4'")
    matrix = []
    for i, row in enumerate(rows, 1):
        entries = [e for e in re.split(r"[\s,]+", row.strip()) if e]
        try:
            matrix.append([float(e) for e in entries])
        except ValueError:
            bad = next(e for e in entries if not _is_number(e))
            raise PlaygroundError(f"the {name}'s row {i} has '{bad}', which is not a number") from None
    widths = {len(r) for r in matrix}
    if len(widths) != 1:
        raise PlaygroundError(
            f"the {name}'s rows have different lengths ({', '.join(str(len(r)) for r in matrix)}): every row needs the same number of entries"
        )
    if len(matrix) > MAX_SIDE or len(matrix[0]) > MAX_SIDE:
        raise PlaygroundError(f"the {name} is {len(matrix)}x{len(matrix[0])}: at most {MAX_SIDE}x{MAX_SIDE} is worked by hand here")
    return matrix


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def fmt(x: float) -> str:
    """2.0 -> '2', -0.5 -> '-0.5'."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Cell:
    row: int  # output position
    col: int
    top: int  # window's top-left corner in the padded image
    left: int
    terms: list[tuple[float, float]]  # (pixel, weight) in reading order
    value: float

    @property
    def expression(self) -> str:
        """'0*(-1) + 2*0 + ... = 5'"""

        def w(x: float) -> str:
            return f"({fmt(x)})" if x < 0 else fmt(x)

        return " + ".join(f"{w(p)}*{w(k)}" for p, k in self.terms) + f" = {fmt(self.value)}"


@dataclass(frozen=True)
class ManualConv:
    mode: str
    padding: int
    stride: int
    padded: Matrix  # the image with P zeros on every side
    kernel: Matrix  # as entered
    kernel_used: Matrix  # flipped for true convolution
    cells: list[Cell]  # in reading order of the output
    output: Matrix


def flip(kernel: Matrix) -> Matrix:
    """Rotate by 180 degrees: reverse the rows and each row."""
    return [list(reversed(r)) for r in reversed(kernel)]


def pad(image: Matrix, P: int) -> Matrix:
    width = len(image[0]) + 2 * P
    zeros = [[0.0] * width for _ in range(P)]
    return zeros + [[0.0] * P + [float(x) for x in r] + [0.0] * P for r in image] + [r[:] for r in zeros]


def convolve(image: Matrix, kernel: Matrix, padding: int = 0, stride: int = 1, mode: str = "convolution") -> ManualConv:
    if mode not in MODES:
        raise PlaygroundError(f"unknown mode '{mode}': choose convolution (kernel flipped) or correlation (as nn.Conv2d)")
    if padding < 0 or stride < 1:
        raise PlaygroundError("padding must be 0 or more and stride 1 or more")
    H, W = len(image), len(image[0])
    kh, kw = len(kernel), len(kernel[0])
    Ho, Wo = conv_output_size(H, kh, stride, padding), conv_output_size(W, kw, stride, padding)
    if Ho < 1 or Wo < 1:
        raise PlaygroundError(
            f"the {kh}x{kw} kernel does not fit in the {H + 2 * padding}x{W + 2 * padding} padded image: "
            "use more padding or a smaller kernel"
        )
    padded = pad(image, padding)
    used = flip(kernel) if mode == "convolution" else [[float(x) for x in r] for r in kernel]
    cells, output = [], []
    for i in range(Ho):
        out_row = []
        for j in range(Wo):
            top, left = i * stride, j * stride
            terms = [(padded[top + a][left + b], used[a][b]) for a in range(kh) for b in range(kw)]
            value = sum(p * k for p, k in terms)
            cells.append(Cell(i, j, top, left, terms, value))
            out_row.append(value)
        output.append(out_row)
    return ManualConv(mode, padding, stride, padded, [[float(x) for x in r] for r in kernel], used, cells, output)


def torch_reference(image: Matrix, kernel: Matrix, padding: int = 0, stride: int = 1, mode: str = "convolution") -> Matrix:
    """The same result from torch.nn.functional.conv2d (which correlates; flip for convolution)."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor(image, dtype=torch.float64)[None, None]
    k = torch.tensor(kernel, dtype=torch.float64)
    if mode == "convolution":
        k = torch.flip(k, dims=(0, 1))
    return F.conv2d(x, k[None, None], padding=padding, stride=stride)[0, 0].tolist()


def matches(a: Matrix, b: Matrix, tol: float = 1e-9) -> bool:
    return len(a) == len(b) and all(
        len(r) == len(s) and all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(r, s)) for r, s in zip(a, b)
    )
