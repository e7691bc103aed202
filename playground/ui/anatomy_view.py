"""The Model page's views of an Anatomy: totals, the layer table, where the parameters live,
and "predict, then check"."""

from __future__ import annotations

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from playground.params import Anatomy, format_bytes, format_shape, mark, parse_count

LEGEND = """
| layer | trainable parameters | why |
|---|---|---|
| `Linear(n_in, n_out)` | `(n_in + 1)*n_out` | a weight from every input to every output, plus one bias per output |
| `Conv2d(C_in, C_out, k)` | `(k*k*C_in + 1)*C_out` | each output channel has one k×k filter over all C_in input channels, plus one bias; the same filter slides over every position, so the image size does not appear |
| `BatchNorm(C)` | `2*C` | a scale γ and a shift β per channel; it also keeps a running mean and variance per channel (`2*C` more numbers), which are **statistics, not trained** by the optimizer |
| pooling, activations, dropout, `Flatten` | 0 | fixed operations: nothing to learn |
"""


def totals(a: Anatomy, train_images: int | None = None) -> None:
    c = st.columns(5)
    c[0].metric("Trainable parameters", f"{a.trainable_params:,}")
    c[1].metric(
        "Non-trainable parameters",
        f"{a.non_trainable_params:,}",
        help="frozen parameters (requires_grad=False); none in a model built here",
    )
    c[2].metric(
        "Running statistics",
        f"{a.running_stats:,}",
        help="BatchNorm running mean and variance: buffers, updated in training mode, never by the optimizer",
    )
    c[3].metric("Mult-adds per image", f"{a.mult_adds:,}", help="torchinfo's count: every weight and bias used once per output position")
    c[4].metric(
        "Parameter memory",
        format_bytes(a.param_bytes),
        help="float32: 4 bytes per parameter; training needs as much again for gradients, and more for the optimizer's state",
    )
    if train_images:
        st.caption(
            f"{a.trainable_params:,} parameters for {train_images:,} training images: "
            f"{a.trainable_params / train_images:,.1f} parameters per image."
        )


STATS_COLUMN = "running stats"  # BatchNorm's running mean and variance: counted, not trained


def layer_frame(a: Anatomy, answers: bool = True) -> pd.DataFrame:
    rows, with_stats = [], a.running_stats > 0
    for r in a.rows:
        row = {"#": r.index, "layer": r.layer, "output shape": format_shape(r.output_shape)}
        if answers:
            row |= {
                "parameters": r.params,
                "formula": r.formula,
                "worked": r.worked,
                "running total": r.total,
            } | ({STATS_COLUMN: r.buffers_worked} if with_stats else {})
        rows.append(row)
    return pd.DataFrame(rows)


# Widths in px, 934 in all: the main column is 938 px wide at 1400 px (wide layout, sidebar open),
# so the running statistics are in view, not scrolled off to the right.
LAYER_COLUMNS = {
    "#": st.column_config.NumberColumn(width=30),
    "layer": st.column_config.TextColumn(width=243),
    "output shape": st.column_config.TextColumn(width=92),
    "parameters": st.column_config.NumberColumn(format="localized", width=82),
    "formula": st.column_config.TextColumn(width=135),
    "worked": st.column_config.TextColumn(width=165),
    "running total": st.column_config.NumberColumn(format="localized", width=90),
    STATS_COLUMN: st.column_config.TextColumn(
        width=97, help="BatchNorm's running mean and variance, 2*C numbers per layer: statistics, not trained by the optimizer"
    ),
}


def layer_table(a: Anatomy, answers: bool = True) -> None:
    height = 35 * (len(a.rows) + 1) + 3  # every row visible: the table is the answer sheet
    st.dataframe(layer_frame(a, answers), hide_index=True, column_config=LAYER_COLUMNS, height=height)


def share_chart(a: Anatomy) -> alt.Chart:
    """Which layers hold the parameters: one bar per layer with parameters."""
    df = pd.DataFrame(
        [{"module": f"#{r.index} {r.layer}", "parameters": r.params, "share": r.params / a.trainable_params} for r in a.parametrised],
        columns=["module", "parameters", "share"],
    )
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("module:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("parameters:Q", title="trainable parameters"),
            tooltip=["module:N", alt.Tooltip("parameters:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(title="Where the parameters are", height=alt.Step(26))
    )


def _quiz_key(a: Anatomy) -> str:
    """Answers belong to one model on one input: a new model starts a fresh quiz."""
    text = repr((a.input_shape, a.num_classes, [r.layer for r in a.rows]))
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def predict_then_check(a: Anatomy) -> None:
    """A form with the student's count for every layer with parameters and for the total; after
    Check, each answer marked right or wrong beside the worked answer."""
    key = _quiz_key(a)
    with st.form(f"quiz-{key}"):
        st.markdown("Type your count for each layer with parameters, and the total. Commas and spaces are fine.")
        # One row of three boxes after another, so that the page (and Tab) goes layer 1, 2, 3, ..., total.
        boxes = [(f"#{r.index} {r.layer} → {format_shape(r.output_shape)}", str(r.index), "your count") for r in a.parametrised]
        boxes.append(("Total trainable parameters", "total", "your total"))
        for row in range(0, len(boxes), 3):
            for col, (label, index, hint) in zip(st.columns(3, vertical_alignment="bottom"), boxes[row : row + 3]):
                col.text_input(label, key=f"guess-{key}-{index}", placeholder=hint)
        checked = st.form_submit_button("Check", type="primary", icon=":material/fact_check:")
    if checked:
        st.session_state["quiz_checked"] = key
    if st.session_state.get("quiz_checked") != key:
        return
    results = []
    total_worked = " + ".join(f"{r.params:,}" for r in a.parametrised) + f" = {a.trainable_params:,}"
    for label, index, truth, worked in [(f"#{r.index} {r.layer}", r.index, r.params, r.worked) for r in a.parametrised] + [
        ("Total", "total", a.trainable_params, f"the sum of the {len(a.parametrised)} rows above")
    ]:
        text = st.session_state.get(f"guess-{key}-{index}", "")
        try:
            answer = parse_count(text)
            verdict = {None: "no answer", True: "right", False: "wrong"}[mark(answer, truth)]
        except ValueError as e:
            verdict = f"wrong: {e}"
        results.append({"layer": label, "your answer": text.strip(), "verdict": verdict, "answer": f"{truth:,}", "worked": worked})
    right = sum(r["verdict"] == "right" for r in results)
    (st.success if right == len(results) else st.warning)(f"{right} of {len(results)} right.", icon=":material/grading:")
    colour = {"right": "background-color: #c8f0c8", "no answer": ""}
    styled = pd.DataFrame(results).style.map(lambda v: colour.get(v, "background-color: #f8c8c8"), subset=["verdict"])
    st.dataframe(styled, hide_index=True, width="stretch", column_config=CHECK_COLUMNS)
    st.caption(f"Total: {total_worked}.")  # the long sum as text that wraps, not a cell that runs off the table


CHECK_COLUMNS = {  # 934 px in all, as the layer table
    "layer": st.column_config.TextColumn(width=272),
    "your answer": st.column_config.TextColumn(width=100),
    "verdict": st.column_config.TextColumn(width=190),
    "answer": st.column_config.TextColumn(width=90),
    "worked": st.column_config.TextColumn(width=282),
}
