"""The Conv arithmetic page's parts: size calculators, the receptive-field table, and the
convolution worked by hand."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from playground import convmath
from playground import convolve as cv
from playground.errors import PlaygroundError
from playground.families import receptive_fields
from playground.ui.state import set_defaults

WINDOW = "background-color: #ffe08a"
CURRENT = "background-color: #ffb347; font-weight: bold"


def show_calc(calc: convmath.Calc, what: str) -> None:
    st.code(calc.formula + "\n" + calc.worked, language=None)
    if calc.value is None:
        st.error(f"No valid {what}: {calc.problem}", icon=":material/block:")
    else:
        st.success(f"{what[0].upper() + what[1:]}: **{calc.value}**", icon=":material/check:")
        if calc.problem:
            st.caption(calc.problem)


CALCULATORS = ("Output size", "Padding that keeps the size", "Kernel size from sizes", "Pooling output", "Transposed conv output")


def calculators() -> None:
    set_defaults(calc_kind=CALCULATORS[0], cW=28, cK=3, cS=1, cP=0, cD=1, cO=24, cOP=0, cK_pool=2)
    kind = st.radio("Calculator", CALCULATORS, key="calc_kind", horizontal=True)
    c = st.columns(5)
    W = c[0].number_input("Input size W", 1, 4096, key="cW")
    try:
        if kind == "Output size":
            K, S, P, D = (
                c[1].number_input("Kernel K", 1, 512, key="cK"),
                c[2].number_input("Stride S", 1, 64, key="cS"),
                c[3].number_input("Padding P", 0, 512, key="cP"),
                c[4].number_input("Dilation D", 1, 16, key="cD"),
            )
            show_calc(convmath.output_size(W, K, S, P, D), "output size O")
        elif kind == "Padding that keeps the size":
            K, S, D = (
                c[1].number_input("Kernel K", 1, 512, key="cK"),
                c[2].number_input("Stride S", 1, 64, key="cS"),
                c[3].number_input("Dilation D", 1, 16, key="cD"),
            )
            O = c[4].number_input("Output size O (W keeps it)", 0, 4096, value=None, key="cO_same", placeholder=str(W))
            show_calc(convmath.padding_for(W, K, S, D, O), "padding P")
        elif kind == "Kernel size from sizes":
            O, S, P = (
                c[1].number_input("Output size O", 1, 4096, key="cO"),
                c[2].number_input("Stride S", 1, 64, key="cS"),
                c[3].number_input("Padding P", 0, 512, key="cP"),
            )
            show_calc(convmath.kernel_for(W, O, S, P), "kernel size K")
        elif kind == "Pooling output":
            K = c[1].number_input("Pool size K", 1, 512, key="cK_pool")
            S = c[2].number_input("Stride S (empty: = K)", 1, 64, value=None, key="cS_pool", placeholder="= K")
            P = c[3].number_input("Padding P", 0, 512, key="cP")
            show_calc(convmath.pool_output_size(W, K, S, P), "output size O")
        else:
            K, S, P, D = (
                c[1].number_input("Kernel K", 1, 512, key="cK"),
                c[2].number_input("Stride S", 1, 64, key="cS"),
                c[3].number_input("Padding P", 0, 512, key="cP"),
                c[4].number_input("Dilation D", 1, 16, key="cD"),
            )
            op = st.number_input("Output padding", 0, 63, key="cOP")
            show_calc(convmath.transposed_output_size(W, K, S, P, op, D), "output size O")
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")


def receptive_field_table(spec: str, input_shape: tuple[int, ...], num_classes: int) -> None:
    rows = receptive_fields(spec, input_shape, num_classes)
    if not rows:
        st.info("This model has no conv or pool layers: every unit of its first fc layer sees the whole image.", icon=":material/info:")
        return
    df = pd.DataFrame(
        [
            {
                "#": r.index,
                "layer": r.layer,
                "k": r.k,
                "s": r.s,
                "jump j": r.jump,
                "receptive field r": f"{r.field}x{r.field}",
                "worked": r.worked,
            }
            for r in rows
        ]
    )
    st.dataframe(df, hide_index=True, width="stretch")
    last = rows[-1]
    H = input_shape[1]
    st.caption(
        f"A unit after layer #{last.index} sees a {last.field}x{last.field} patch of the {H}x{input_shape[2]} input"
        + (" (more than the image: part of its field is padding)." if last.field > H else ".")
        + " The fc layers after Flatten see all of it."
    )


def _sobel_example() -> None:
    ss = st.session_state
    ss.conv_image = "\n".join(" ".join(cv.fmt(x) for x in row) for row in cv.EDGE_IMAGE)
    ss.conv_kernel = "\n".join(" ".join(cv.fmt(x) for x in row) for row in cv.SOBEL_X)
    ss.conv_padding, ss.conv_stride, ss.conv_mode, ss.conv_cell = 1, 1, "convolution", 1


def _matrix_view(m: cv.Matrix, cells: set[tuple[int, int]], style: str):
    df = pd.DataFrame([[cv.fmt(x) for x in row] for row in m])
    return df.style.apply(lambda col: [style if (i, col.name) in cells else "" for i in range(len(col))], axis=0)


def _inputs() -> tuple[int, int, str]:
    """The image, kernel, padding, stride and operation widgets: (P, S, mode)."""
    set_defaults(
        conv_image="2 1 2; 3 9 1", conv_kernel="-1 0 1; -2 0 2; -1 0 1", conv_padding=1, conv_stride=1, conv_mode="convolution", conv_cell=1
    )
    left, right = st.columns(2)
    left.text_area("Image: one row per line (or rows separated by ';')", key="conv_image", height=130)
    right.text_area("Kernel", key="conv_kernel", height=130)
    c = st.columns([1, 1, 2, 1.3], vertical_alignment="bottom")
    P = c[0].number_input("Padding", 0, 5, key="conv_padding")
    S = c[1].number_input("Stride", 1, 5, key="conv_stride")
    mode = c[2].radio(
        "Operation",
        cv.MODES,
        key="conv_mode",
        horizontal=True,
        format_func={"convolution": "convolution (kernel flipped)", "correlation": "cross-correlation (nn.Conv2d)"}.get,
    )
    c[3].button("Sobel example", on_click=_sobel_example, icon=":material/auto_fix_high:")
    return P, S, mode


def _matrices(result, cell, kernel, P: int, mode: str) -> None:
    """The padded image with the cell's window, the kernel (and its flip), the output with the cell."""
    kh, kw = len(kernel), len(kernel[0])
    window = {(cell.top + a, cell.left + b) for a in range(kh) for b in range(kw)}
    a, b, o = st.columns([len(result.padded[0]) + 1, kw + 2, len(result.output[0]) + 1])
    a.markdown(f"**Padded image** (P = {P}), window of cell ({cell.row}, {cell.col})")
    a.dataframe(_matrix_view(result.padded, window, WINDOW), hide_index=True)
    if mode == "convolution":
        b.markdown("**Kernel** as entered")
        b.dataframe(_matrix_view(result.kernel, set(), ""), hide_index=True)
        b.markdown("**flipped** (used)")
    else:
        b.markdown("**Kernel** as entered (used)")
    b.dataframe(_matrix_view(result.kernel_used, set(), ""), hide_index=True)
    o.markdown("**Output**")
    o.dataframe(_matrix_view(result.output, {(cell.row, cell.col)}, CURRENT), hide_index=True)


def _check_against_torch(result, image, kernel, P: int, S: int, mode: str) -> None:
    reference = cv.torch_reference(image, kernel, P, S, mode)
    if cv.matches(result.output, reference):
        st.success(
            "torch.nn.functional.conv2d gives the same output" + (" (with the kernel flipped)." if mode == "convolution" else "."),
            icon=":material/check:",
        )
    else:  # a bug in the hand arithmetic: say so rather than hide it
        st.error(f"torch gives {reference}: the hand computation differs", icon=":material/error:")


def by_hand() -> None:
    P, S, mode = _inputs()
    try:
        image, kernel = cv.parse_matrix(st.session_state.conv_image, "image"), cv.parse_matrix(st.session_state.conv_kernel, "kernel")
        result = cv.convolve(image, kernel, P, S, mode)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return
    n = len(result.cells)
    st.session_state.conv_cell = min(st.session_state.conv_cell, n)
    index = (
        st.slider("Output cell", 1, n, key="conv_cell", disabled=n == 1, help="step through the output cells in reading order")
        if n > 1
        else 1
    )
    cell = result.cells[index - 1]
    _matrices(result, cell, kernel, P, mode)
    st.code(f"out[{cell.row}][{cell.col}] = {cell.expression}", language=None)
    if mode == "convolution":
        st.caption(
            "True convolution turns the kernel by 180° (rows and columns reversed) before sliding it; "
            "nn.Conv2d skips the flip (cross-correlation). For a learned kernel the difference does not matter: it learns the flipped weights."
        )
    _check_against_torch(result, image, kernel, P, S, mode)
    with st.expander(f"All {n} cells"):
        st.code("\n".join(f"out[{c.row}][{c.col}] = {c.expression}" for c in result.cells), language=None)
