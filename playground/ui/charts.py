"""Altair charts of a run's curves. Inputs are the run store's rows (lists of dicts)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

SPLIT_COLORS = alt.Scale(domain=["train", "test"], range=["#1f77b4", "#ff7f0e"])


def _long(epochs: list[dict], metric: str) -> pd.DataFrame:
    """Per-epoch rows -> one row per (epoch, split) for train_<metric> and test_<metric>."""
    rows = [
        {"epoch": e["epoch"], "split": split, metric: e[f"{split}_{metric}"]}
        for e in epochs
        for split in ("train", "test")
        if e[f"{split}_{metric}"] is not None
    ]
    return pd.DataFrame(rows, columns=["epoch", "split", metric])


def step_loss(steps: list[dict], num_classes: int) -> alt.Chart:
    """Mini-batch loss at every step, its moving average, and ln(classes), the loss of a blind guess."""
    df = pd.DataFrame(steps, columns=["step", "epoch", "loss"])
    df["smoothed"] = df["loss"].rolling(max(len(df) // 50, 1), min_periods=1).mean()
    base = alt.Chart(df).encode(x=alt.X("step:Q", title="step"))
    raw = base.mark_line(opacity=0.3, color="#1f77b4").encode(
        y=alt.Y("loss:Q", title="training loss (cross-entropy)"), tooltip=["step:Q", "epoch:Q", alt.Tooltip("loss:Q", format=".4f")]
    )
    smooth = base.mark_line(color="#1f77b4").encode(y="smoothed:Q")
    chance = (
        alt.Chart(pd.DataFrame({"y": [math.log(num_classes)], "label": [f"ln({num_classes}) = {math.log(num_classes):.2f}: guessing"]}))
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(y="y:Q", tooltip=["label:N"])
    )
    return (raw + smooth + chance).properties(title="Loss per step", height=260)


def epoch_metric(epochs: list[dict], metric: str) -> alt.Chart:
    """Train and test curves of 'accuracy' or 'loss' per epoch."""
    df = _long(epochs, metric)
    fmt = ".1%" if metric == "accuracy" else ".4f"
    y = alt.Y(f"{metric}:Q", title=metric, axis=alt.Axis(format=".0%") if metric == "accuracy" else alt.Axis())
    if metric == "accuracy":
        y = y.scale(domain=[0, 1])
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
            y=y,
            color=alt.Color("split:N", scale=SPLIT_COLORS, title=None),
            tooltip=["epoch:Q", "split:N", alt.Tooltip(f"{metric}:Q", format=fmt)],
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
            x=alt.X("step:Q", title="step"),
            y=alt.Y(f"{column}:Q", title=GRADIENT_AXIS[column], axis=alt.Axis(format=".1e")),
            tooltip=["step:Q", "epoch:Q", alt.Tooltip(f"{column}:Q", format=".3e")],
        )
        .properties(title=title, height=220)
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
            color=alt.Color("split:N", scale=SPLIT_COLORS, title=None),
            tooltip=["class:N", "split:N", "images:Q"],
        )
        .properties(title="Images per class", height=280)
    )
