"""The sums a conv or backprop step works out: shared by the lab's check on load (every sum of a
lab that loads has an answer or says why not) and by the deliverable."""

from __future__ import annotations

from playground import convmath, convolve, datasets, families, worked


def conv_row(calc: dict, lab_settings: dict) -> list[dict]:
    """One conv sum, worked: [{question, formula, worked, answer}] (a receptive field: one row per layer,
    a convolution by hand: one row per output cell)."""
    kind, n = calc["kind"], {k: v for k, v in calc.items() if k != "kind"}
    if kind in ("output", "padding", "kernel", "pool"):
        f = {
            "output": convmath.output_size,
            "padding": convmath.padding_for,
            "kernel": convmath.kernel_for,
            "pool": convmath.pool_output_size,
        }[kind]
        c = f(**n)
        question = {"output": "output size of a convolution", "padding": "padding that gives the output size",
                    "kernel": "kernel size that gives the output size", "pool": "output size of a pooling layer"}[kind]  # fmt: skip
        given = ", ".join(f"{k} = {v}" for k, v in n.items())
        answer = str(c.value) if c.value is not None else "no valid answer"
        return [
            {
                "question": f"{question} ({given})",
                "formula": c.formula,
                "worked": c.worked,
                "answer": answer + (f" ({c.problem})" if c.problem else ""),
            }
        ]
    if kind == "receptive":
        dataset = lab_settings.get("dataset", datasets.default_dataset())
        meta = datasets.info(dataset)
        spec = families.resolve(n["model"])
        return [{"question": f"receptive field after {r.layer}", "formula": "r = r_prev + (k - 1)*j_prev;  j = j_prev*s",
                 "worked": r.worked, "answer": f"{r.field}x{r.field} input pixels"}
                for r in families.receptive_fields(spec, meta.input_shape, meta.num_classes)]  # fmt: skip
    return cell_rows(*by_hand(calc))


def by_hand(calc: dict) -> tuple[convolve.ManualConv, bool]:
    """A convolve sum worked cell by cell, and whether torch's F.conv2d gives the same output."""
    image, kernel = convolve.parse_matrix(calc["image"], "image"), convolve.parse_matrix(calc["kernel"], "kernel")
    m = convolve.convolve(image, kernel, int(calc.get("padding", 0)), int(calc.get("stride", 1)), calc.get("mode", "convolution"))
    return m, convolve.matches(m.output, convolve.torch_reference(image, kernel, m.padding, m.stride, m.mode))


def cell_rows(m: convolve.ManualConv, same: bool) -> list[dict]:
    """One row per output cell with its arithmetic, then the check against torch."""
    flipped = m.mode == "convolution"
    rows = [{"question": f"output cell ({c.row}, {c.col})", "formula": "sum of pixel x kernel over the window" + (" (kernel flipped)" if flipped else ""),
             "worked": c.expression, "answer": convolve.fmt(c.value)} for c in m.cells]  # fmt: skip
    rows.append({"question": "checked against torch", "formula": "F.conv2d" + (" with the kernel flipped" if flipped else ""),
                 "worked": "every cell compared", "answer": "equal" if same else "DIFFERENT"})  # fmt: skip
    return rows


def worked_example(bp: dict) -> worked.Worked:
    """The backprop step's network worked by hand (inputs as the Backprop page takes them)."""
    args = {"sizes": "2,3,2", "x": "0.5,-1.2", "y": "1", **bp}
    return worked.work(worked.example(args["sizes"], str(args["x"]), str(args["y"]), None, int(args.get("seed", 0)),
                                      args.get("activation", "tanh"), args.get("loss", "cross-entropy"), float(args.get("lr", 0.1))))  # fmt: skip
