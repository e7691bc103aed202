"""Overlaid curves of several runs, one colour per run or per swept value. With several seeds
per value the line is the mean over seeds and a band spans their min and max.

Input: a list of Series, each one run's label, seed, per-epoch rows and per-step rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd


@dataclass
class Series:
    label: str  # the colour: a swept value or a run's name
    seed: int
    epochs: list[dict]
    steps: list[dict]  # step, epoch, loss, grad_mean, grad_abs_mean
    steps_per_epoch: int


def _colour(labels: list[str], title: str) -> alt.Color:
    return alt.Color("label:N", title=title, scale=alt.Scale(domain=labels, scheme="tableau10"), sort=labels)


def _mean_band(df: pd.DataFrame, x: str, y: str, labels: list[str], title: str, y_axis: dict, fmt: str) -> alt.LayerChart | alt.Chart:
    """Mean over seeds per (label, x), with a min-max band when there is more than one seed."""
    agg = df.groupby(["label", x], sort=False)[y].agg(["mean", "min", "max", "count"]).reset_index()
    axis = alt.Axis(tickMinStep=1, format="d") if x in ("epoch", "step") else alt.Axis()
    base = alt.Chart(agg).encode(x=alt.X(f"{x}:Q", title="epoch" if x in ("epoch", "epoch_pos") else x, axis=axis), color=_colour(labels, title))
    tooltip = ["label:N", alt.Tooltip(f"{x}:Q", format=".2f" if x == "epoch_pos" else "d"), alt.Tooltip("mean:Q", format=fmt, title=y)]
    if agg["count"].max() > 1:
        tooltip += [alt.Tooltip("min:Q", format=fmt), alt.Tooltip("max:Q", format=fmt), alt.Tooltip("count:Q", title="seeds")]
    line = base.mark_line(point=x == "epoch").encode(y=alt.Y("mean:Q", **y_axis), tooltip=tooltip)
    if agg["count"].max() > 1:
        band = base.mark_area(opacity=0.18).encode(y="min:Q", y2="max:Q")
        return band + line
    return line


def epoch_overlay(series: list[Series], column: str, title: str, setting_title: str) -> alt.Chart:
    """A per-epoch metric (test_accuracy, train_loss, ...) of every series."""
    labels = list(dict.fromkeys(s.label for s in series))
    rows = [{"label": s.label, "seed": s.seed, "epoch": e["epoch"], column: e[column]} for s in series for e in s.epochs if e.get(column) is not None]
    df = pd.DataFrame(rows, columns=["label", "seed", "epoch", column])
    accuracy = column.endswith("accuracy")
    y = dict(title=column.replace("_", " "), axis=alt.Axis(format=".0%") if accuracy else alt.Axis(), scale=alt.Scale(zero=False))
    if df.empty:
        return alt.Chart(df).mark_line().properties(title=title, height=240)
    return _mean_band(df, "epoch", column, labels, setting_title, y, ".2%" if accuracy else ".4f").properties(title=title, height=240)


def step_loss_overlay(series: list[Series], setting_title: str, num_classes: int, max_points: int = 400) -> alt.Chart:
    """Training loss against epochs (step / steps per epoch, so runs with different batch sizes
    line up), smoothed by a moving average so that several runs stay readable."""
    labels = list(dict.fromkeys(s.label for s in series))
    frames = []
    for s in series:
        df = pd.DataFrame(s.steps, columns=["step", "epoch", "loss"])
        if df.empty:
            continue
        df["loss"] = df["loss"].where(df["loss"].map(math.isfinite))
        df["smoothed"] = df["loss"].rolling(max(len(df) // 40, 1), min_periods=1).mean()
        k = max(len(df) // max_points, 1)
        df = df.iloc[::k]
        df = df.assign(label=s.label, seed=s.seed, epoch_pos=df["step"] / max(s.steps_per_epoch, 1))
        frames.append(df[["label", "seed", "epoch_pos", "smoothed"]])
    df = pd.concat(frames) if frames else pd.DataFrame(columns=["label", "seed", "epoch_pos", "smoothed"])
    if df.empty:
        return alt.Chart(df).mark_line().properties(title="Training loss (smoothed)", height=240)
    df["epoch_pos"] = df["epoch_pos"].round(3)
    y = dict(title="loss (smoothed)", scale=alt.Scale(zero=False))
    lines = _mean_band(df, "epoch_pos", "smoothed", labels, setting_title, y, ".4f")
    chance = alt.Chart(pd.DataFrame({"y": [math.log(num_classes)], "note": [f"ln({num_classes}): equal guesses"]})).mark_rule(
        strokeDash=[4, 4], color="grey"
    ).encode(y="y:Q", tooltip=["note:N"])
    return (lines + chance).properties(title="Training loss (smoothed)", height=240)


def gradient_overlay(series: list[Series], setting_title: str, until: int = 100) -> alt.Chart:
    """Mean gradient over all trainable parameters for the first `until` steps of every series."""
    labels = list(dict.fromkeys(s.label for s in series))
    rows = [
        {"label": s.label, "seed": s.seed, "step": st["step"], "grad_mean": st["grad_mean"]}
        for s in series
        for st in s.steps
        if st["step"] <= until and st.get("grad_mean") is not None
    ]
    df = pd.DataFrame(rows, columns=["label", "seed", "step", "grad_mean"])
    y = dict(title="mean dL/dw", axis=alt.Axis(format=".1e"))
    if df.empty:
        return alt.Chart(df).mark_line().properties(title=f"Mean gradient, first {until} steps", height=240)
    return _mean_band(df, "step", "grad_mean", labels, setting_title, y, ".3e").properties(title=f"Mean gradient, first {until} steps", height=240)
