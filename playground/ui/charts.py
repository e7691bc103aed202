"""Altair charts of a run's curves. Inputs are the run store's rows (lists of dicts)."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from playground.wording import plural

PENALTY = "regularisation term"  # the loss chart's line of rate x sum |w| (or w²/2), runs with config.reg

SPLIT_COLORS = alt.Scale(domain=["train", "validation", "test", PENALTY], range=["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"])
SPLIT_KEYS = {"train": "train", "validation": "val", "test": "test"}


def _split_scale(df: pd.DataFrame) -> alt.Scale:
    """Train, validation and test colours, for the splits the data has."""
    present = [s for s in SPLIT_COLORS.domain if s in set(df["split"])] or ["train", "test"]
    colours = dict(zip(SPLIT_COLORS.domain, SPLIT_COLORS.range))
    return alt.Scale(domain=present, range=[colours[s] for s in present])


def _long(epochs: list[dict], metric: str) -> pd.DataFrame:
    """Per-epoch rows -> one row per (epoch, split) for train_<metric> and test_<metric>."""
    rows = [
        {"epoch": e["epoch"], "split": split, metric: e[f"{key}_{metric}"]}
        for e in epochs
        for split, key in SPLIT_KEYS.items()
        if e.get(f"{key}_{metric}") is not None
    ]
    if metric == "loss":  # the regularisation term, on the loss's scale: what the optimizer also minimises
        rows += [{"epoch": e["epoch"], "split": PENALTY, metric: e["penalty"]} for e in epochs if e.get("penalty") is not None]
    return pd.DataFrame(rows, columns=["epoch", "split", metric])


LOG_SPAN = 1e3  # losses spanning more than three orders of magnitude are drawn on a log scale
EPOCH_AXIS = alt.Axis(tickMinStep=1, format="d")  # whole epochs: "1", never "1.000000"
STEP_AXIS = alt.Axis(tickMinStep=1, format=",d")  # whole steps: "1, 2, 3", never "1.5"
NOT_FINITE_COLOR = "#d62728"


def finite_losses(values) -> pd.Series:
    """Losses as floats, with nan, inf and missing values as NaN (a chart leaves them out)."""
    v = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype(float)
    return v.where(np.isfinite(v))


# On a log axis: 0.01, 1, 100, then 1e+04 ... rather than 10000000000
LOG_AXIS = alt.Axis(labelExpr="datum.value >= 1e4 || datum.value < 1e-3 ? format(datum.value, '.0e') : format(datum.value, '~g')")


def loss_axis(floor: float | None) -> alt.Axis:
    return LOG_AXIS if floor is not None else alt.Axis()


def loss_scale(values: pd.Series, zero: bool = True) -> tuple[alt.Scale, float | None]:
    """A log scale when the finite positive losses span more than LOG_SPAN (a blow-up: 2.3 at the
    start, 7e35 at the spike, which a linear axis would flatten to 0), else a linear one. The second
    value is the floor to clip the values at on a log scale (the smallest positive loss: an exact 0
    has no logarithm), None on a linear one."""
    positive = values[values > 0]
    if len(positive) and positive.max() > LOG_SPAN * positive.min():
        return alt.Scale(type="log"), float(positive.min())
    return alt.Scale(zero=zero), None


def log_note(values: pd.Series) -> str:
    positive = values[values > 0]
    return f"log scale: the loss spans {positive.min():.2g} to {positive.max():.2g}"


def not_finite_marks(df: pd.DataFrame, x_field: str, tooltip: list) -> alt.Chart:
    """A red dashed vertical line at each x of df where the loss was nan or inf (nothing to plot there)."""
    return (
        alt.Chart(df.assign(note="the loss was nan or inf"))
        .mark_rule(color=NOT_FINITE_COLOR, strokeDash=[2, 2], strokeWidth=1.5)
        .encode(x=f"{x_field}:Q", tooltip=[*tooltip, "note:N"])
    )


def step_loss(steps: list[dict], num_classes: int) -> alt.LayerChart:
    """Mini-batch loss at every step, its moving average, and ln(classes), the loss of a blind guess.
    A blow-up is drawn on a log scale (see loss_scale); steps whose loss was nan or inf are red lines."""
    df = pd.DataFrame(steps, columns=["step", "epoch", "loss"])
    df["loss"] = finite_losses(df["loss"])
    bad = df["loss"].isna()  # nan or inf (or None: a store of one row per step kept a nan as NULL)
    df["smoothed"] = df["loss"].rolling(max(len(df) // 50, 1), min_periods=1).mean()
    scale, floor = loss_scale(df["loss"])
    df["shown"] = df["loss"].clip(lower=floor) if floor is not None else df["loss"]  # an exact 0 at the bottom of a log axis
    df["smoothed"] = df["smoothed"].clip(lower=floor) if floor is not None else df["smoothed"]
    title = "loss per batch" + (" (log scale)" if floor is not None else "")
    base = alt.Chart(df).encode(x=alt.X("step:Q", title="step", axis=STEP_AXIS))
    raw = base.mark_line(opacity=0.3, color="#1f77b4").encode(
        y=alt.Y("shown:Q", title=title, scale=scale, axis=loss_axis(floor)),
        tooltip=["step:Q", alt.Tooltip("epoch:Q", format="d"), alt.Tooltip("loss:Q", format=".4g")],
    )
    smooth = base.mark_line(color="#1f77b4").encode(y="smoothed:Q")
    chance = (
        alt.Chart(pd.DataFrame({"y": [math.log(num_classes)], "label": [f"ln({num_classes}) = {math.log(num_classes):.2f}: guessing"]}))
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(y="y:Q", tooltip=["label:N"])
    )
    layers = [raw, smooth, chance]
    notes = [log_note(df["loss"])] if floor is not None else []
    if bad.any():
        layers.append(not_finite_marks(df.loc[bad, ["step", "epoch"]], "step", ["step:Q", alt.Tooltip("epoch:Q", format="d")]))
        notes.append(f"red lines: {plural(int(bad.sum()), 'step')} whose loss was nan or inf")
    return alt.layer(*layers).properties(
        title=alt.Title("Loss per step", subtitle="; ".join(notes)) if notes else "Loss per step", height=260
    )


def epoch_metric(epochs: list[dict], metric: str) -> alt.Chart:
    """Train and test curves of 'accuracy' or 'loss' per epoch; a loss that blew up on a log scale."""
    df = _long(epochs, metric)
    fmt = ".1%" if metric == "accuracy" else ".4g"
    if metric == "accuracy":
        y = alt.Y(f"{metric}:Q", title=metric, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    else:
        df[metric] = finite_losses(df[metric])
        scale, floor = loss_scale(df[metric])
        if floor is not None:
            df[metric] = df[metric].clip(lower=floor)
        y = alt.Y(f"{metric}:Q", title=metric + (" (log scale)" if floor is not None else ""), scale=scale, axis=loss_axis(floor))
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=EPOCH_AXIS),
            y=y,
            color=alt.Color("split:N", scale=_split_scale(df), title=None),
            tooltip=[alt.Tooltip("epoch:Q", format="d"), "split:N", alt.Tooltip(f"{metric}:Q", format=fmt)],
        )
        .properties(title=f"{metric.capitalize()} per epoch", height=260)
    )


GRADIENT_AXIS = {"grad_mean": "mean dL/dw", "grad_abs_mean": "mean |dL/dw|"}


def gradient(steps: list[dict], column: str, title: str) -> alt.Chart:
    """A gradient statistic over the steps where it was recorded."""
    df = pd.DataFrame([s for s in steps if s.get(column) is not None], columns=["step", "epoch", column])
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=14, color="#2ca02c"), color="#2ca02c")
        .encode(
            x=alt.X("step:Q", title="step", axis=STEP_AXIS),
            y=alt.Y(f"{column}:Q", title=GRADIENT_AXIS[column], axis=alt.Axis(format=".1e")),
            tooltip=["step:Q", "epoch:Q", alt.Tooltip(f"{column}:Q", format=".3e")],
        )
        .properties(title=title, height=220)
    )


def learning_rate(epochs: list[dict], scheduler: str) -> alt.Chart:
    df = pd.DataFrame([e for e in epochs if e.get("lr") is not None], columns=["epoch", "lr"])
    return (
        alt.Chart(df)
        .mark_line(point=True, color="#9467bd")
        .encode(
            x=alt.X("epoch:Q", axis=EPOCH_AXIS),
            y=alt.Y("lr:Q", title="learning rate", axis=alt.Axis(format=".1e")),
            tooltip=["epoch:Q", alt.Tooltip("lr:Q", format=".2e")],
        )
        .properties(title=f"Learning rate per epoch ({scheduler} schedule)", height=220)
    )


def class_counts(classes: tuple[str, ...], train: list[int], test: list[int]) -> alt.Chart:
    df = pd.DataFrame(
        [{"class": c, "split": "train", "images": n} for c, n in zip(classes, train)]
        + [{"class": c, "split": "test", "images": n} for c, n in zip(classes, test)]
    )
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort=list(classes), title=None, axis=alt.Axis(labelAngle=-40)),
            xOffset="split:N",
            y=alt.Y("images:Q", title="images"),
            color=alt.Color("split:N", scale=alt.Scale(domain=["train", "test"], range=["#1f77b4", "#ff7f0e"]), title=None),
            tooltip=["class:N", "split:N", "images:Q"],
        )
        .properties(title="Images per class", height=280)
    )


def confusion_matrix(counts, classes: tuple[str, ...], normalized: bool) -> alt.Chart:
    """Rows: true class, columns: predicted class; click a cell to see its images."""
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    df = pd.DataFrame(
        [
            {"true": classes[i], "predicted": classes[j], "count": int(counts[i, j]), "share": float(share[i, j])}
            for i in range(len(classes))
            for j in range(len(classes))
        ]
    )
    value = "share" if normalized else "count"
    pick = alt.selection_point(fields=["true", "predicted"], name="cell")
    base = alt.Chart(df).encode(
        x=alt.X("predicted:N", sort=list(classes), title="predicted class", axis=alt.Axis(labelAngle=-40, labelOverlap=False)),
        y=alt.Y("true:N", sort=list(classes), title="true class", axis=alt.Axis(labelOverlap=False)),
    )
    cells = (
        base.mark_rect()
        .encode(
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"), legend=None),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
            tooltip=["true:N", "predicted:N", "count:Q", alt.Tooltip("share:Q", format=".1%", title="share of the true class")],
        )
        .add_params(pick)
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text(f"{value}:Q", format=".0%" if normalized else "d"),
        color=alt.condition(alt.datum.share > 0.5, alt.value("white"), alt.value("#333")),
    )
    side = confusion_side(len(classes))
    # autosize pad: width and height are the cells' square; the labels and titles come on top of it
    # (Streamlit's default, fit, squeezes everything into the height: a 2x2 matrix became a strip)
    return (cells + text).properties(
        title="Confusion matrix (click a cell)", width=side, height=side, autosize=alt.AutoSizeParams(type="pad", contains="padding")
    )


CONFUSION_MIN_SIDE = 240  # px: a 2x2 matrix is a square of 120 px cells, not a strip
CLASS_BARS_MIN_HEIGHT = 120  # px of bars: two classes get two readable bars, not a line


def confusion_side(num_classes: int) -> int:
    """The matrix's width and height in px: square, 40 px a cell, at least CONFUSION_MIN_SIDE."""
    return max(CONFUSION_MIN_SIDE, 40 * num_classes)


def class_bars(classes: tuple[str, ...], values, field: str, title: str, color: str) -> alt.Chart:
    """One horizontal bar per class for a share in [0, 1] (accuracy, probability)."""
    df = pd.DataFrame({"class": list(classes), field: [float(v) for v in values]})
    return (
        alt.Chart(df)
        .mark_bar(color=color)
        .encode(
            # few classes: thinner bars with space between them (0.1 for ten classes, 0.5 for two)
            y=alt.Y(
                "class:N",
                sort=list(classes),
                title=None,
                axis=alt.Axis(labelOverlap=False),
                scale=alt.Scale(paddingInner=max(0.1, 0.6 - 0.05 * len(classes))),
            ),
            x=alt.X(f"{field}:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
            tooltip=["class:N", alt.Tooltip(f"{field}:Q", format=".1%")],
        )
        # fit-x: the width fits the column, the height is the bars' own (labels and titles on top)
        .properties(
            title=title, height=max(CLASS_BARS_MIN_HEIGHT, 26 * len(classes)), autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
    )


def class_accuracy(classes: tuple[str, ...], accuracy) -> alt.Chart:
    return class_bars(classes, accuracy, "accuracy", "Test accuracy per class", "#4e79a7")


def probabilities(classes: tuple[str, ...], probs) -> alt.Chart:
    return class_bars(classes, probs, "probability", "The model's class probabilities", "#59a14f")
