"""python -m playground params / conv: the model's anatomy and convolution by hand, in a terminal."""

from __future__ import annotations

import json

from playground.cli.common import text_table
from playground.errors import PlaygroundError


def register(sub) -> None:
    from playground import datasets, families

    pa = sub.add_parser("params", help="the layer table: output shapes, parameter counts with the arithmetic")
    pa.add_argument(
        "--dataset", default=datasets.DEFAULT_DATASET, help="input shape and classes from this dataset's metadata (no files needed)"
    )
    pa.add_argument("--input", help="an input shape instead of a dataset: CxHxW (e.g. 3x32x32) or F")
    pa.add_argument("--classes", type=int, default=10, help="outputs of the classifier with --input")
    pa.add_argument("--model", default=families.DEFAULT_PRESET, help=f"a layer spec or a preset ({', '.join(families.PRESETS)})")
    pa.add_argument("--json", action="store_true", help="one JSON object on stdout")
    pa.set_defaults(func=cmd_params)

    cv = sub.add_parser("conv", help="a 2D convolution by hand, every output cell's arithmetic, checked against torch")
    cv.add_argument("--image", required=True, help="rows separated by ';', entries by spaces or commas: \"2 1 2; 3 9 1\"")
    cv.add_argument("--kernel", required=True, help='e.g. a Sobel kernel: "-1 0 1; -2 0 2; -1 0 1"')
    cv.add_argument("--padding", type=int, default=0, help="zeros added on every side")
    cv.add_argument("--stride", type=int, default=1)
    cv.add_argument(
        "--mode",
        default="convolution",
        choices=["convolution", "correlation"],
        help="convolution flips the kernel; correlation is what nn.Conv2d computes",
    )
    cv.add_argument("--json", action="store_true", help="one JSON object on stdout")
    cv.set_defaults(func=cmd_conv)


def _input(args) -> tuple[tuple[int, ...], int]:
    """(input shape, classes) from --input CxHxW [--classes N] or from the dataset's metadata."""
    from playground import datasets

    if args.input:
        try:
            shape = tuple(int(n) for n in args.input.lower().replace(",", "x").split("x"))
        except ValueError:
            raise PlaygroundError(f"--input '{args.input}' is not a shape: write CxHxW (e.g. 3x32x32) or F for flat features") from None
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise PlaygroundError(f"--input '{args.input}' is not a shape: write CxHxW (e.g. 3x32x32) or F for flat features")
        return shape, args.classes
    meta = datasets.info(args.dataset)
    return meta.input_shape, meta.num_classes


def cmd_params(args) -> int:
    from playground import families, params

    shape, classes = _input(args)
    table = families.anatomy(families.resolve(args.model), shape, classes)
    if args.json:
        print(json.dumps(table.to_dict(), indent=2))
        return 0
    rows = [["#", "layer", "output", "params", "formula", "worked", "total"]]
    for r in table.rows:
        worked = r.worked + (f"   (+ running stats {r.buffers_worked}, not trained)" if r.buffers else "")
        rows.append([str(r.index), r.layer, params.format_shape(r.output_shape), f"{r.params:,}", r.formula, worked, f"{r.total:,}"])
    print(f"input {params.format_shape(shape)}, {classes} classes")
    print(text_table(rows, right={0, 3, 6}))
    print(
        f"trainable parameters {table.trainable_params:,}; non-trainable {table.non_trainable_params:,}; "
        f"BatchNorm running statistics (not trained) {table.running_stats:,}"
    )
    print(f"mult-adds per image {table.mult_adds:,}; parameter memory {params.format_bytes(table.param_bytes)} (float32)")
    return 0


def cmd_conv(args) -> int:
    from playground import convolve as cv

    image, kernel = cv.parse_matrix(args.image, "image"), cv.parse_matrix(args.kernel, "kernel")
    result = cv.convolve(image, kernel, args.padding, args.stride, args.mode)
    reference = cv.torch_reference(image, kernel, args.padding, args.stride, args.mode)
    agrees = cv.matches(result.output, reference)
    if args.json:
        print(json.dumps(_conv_json(result, agrees), indent=2))
        return 0

    def matrix(m) -> str:
        return text_table([[cv.fmt(x) for x in row] for row in m], right=set(range(len(m[0]))))

    flipped = (
        " (the kernel flipped: rows and columns reversed)"
        if result.mode == "convolution"
        else " (as entered: cross-correlation, what nn.Conv2d computes)"
    )
    print(f"padded image (P = {result.padding}):\n{matrix(result.padded)}\n")
    print(f"kernel used{flipped}:\n{matrix(result.kernel_used)}\n")
    for c in result.cells:
        print(f"out[{c.row}][{c.col}] = {c.expression}")
    print(f"\noutput:\n{matrix(result.output)}")
    print("torch.nn.functional.conv2d " + ("agrees." if agrees else f"gives {reference}: they differ!"))
    return 0 if agrees else 1


def _conv_json(result, agrees: bool) -> dict:
    return {
        "mode": result.mode,
        "padding": result.padding,
        "stride": result.stride,
        "padded": result.padded,
        "kernel_used": result.kernel_used,
        "cells": [{"row": c.row, "col": c.col, "expression": c.expression, "value": c.value} for c in result.cells],
        "output": result.output,
        "torch_agrees": agrees,
    }
