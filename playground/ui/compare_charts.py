"""Overlaid curves of several runs, one colour per run or per swept value. With several seeds
per value the line is the mean over seeds and a band spans their min and max.

Input: a list of Series, each one run's label, seed, per-epoch rows and per-step rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd

from playground.step_chunks import StepColumns
from playground.ui.charts import EPOCH_AXIS, STEP_AXIS, finite_losses, log_note, loss_axis, loss_scale, not_finite_marks


@dataclass
class Series:
    label: str  # the colour: a swept value or a run's name
    seed: int
    epochs: list[dict]
    steps: list[dict] | StepColumns  # step, epoch, loss, grad_mean, grad_abs_mean: rows, or the store's columns
    steps_per_epoch: int


def _step_frame(steps: list[dict] | StepColumns) -> pd.DataFrame:
    """step, epoch, loss of every step (NaN where no loss)."""
    if isinstance(steps, StepColumns):
        return steps.frame()[["step", "epoch", "loss"]]
    return pd.DataFrame(steps, columns=["step", "epoch", "loss"])


def _first_grads(steps: list[dict] | StepColumns, until: int) -> list[dict]:
    """The steps up to `until` that have a mean gradient."""
    if isinstance(steps, StepColumns):
        return steps.rows(steps.has["grad_mean"] & (steps.step <= until))
    return [st for st in steps if st["step"] <= until and st.get("grad_mean") is not None]


LONG_LABEL = 24  # characters: longer labels (a model's layers) go in a legend below the chart, in full


PLOT_HEIGHT = 240


def long_labels(labels: list[str]) -> bool:
    """Labels too long for a legend beside a half-width chart (a model's layers)."""
    return max((len(x) for x in labels), default=0) > LONG_LABEL


def _height(labels: list[str]) -> int:
    """The chart's height: the plot's, and a legend's below it (Streamlit fits the whole chart,
    legend included, into this height)."""
    return PLOT_HEIGHT + (28 * len(labels) + 50 if long_labels(labels) else 0)


def _colour(labels: list[str], title: str) -> alt.Color:
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=0) if long_labels(labels) else alt.Legend()
    return alt.Color("label:N", title=title, scale=alt.Scale(domain=labels, scheme="tableau10"), sort=labels, legend=legend)


def _mean_band(df: pd.DataFrame, x: str, y: str, labels: list[str], title: str, y_axis: dict, fmt: str) -> alt.LayerChart | alt.Chart:
    """Mean over seeds per (label, x), with a min-max band when there is more than one seed."""
    agg = df.groupby(["label", x], sort=False)[y].agg(["mean", "min", "max", "count"]).reset_index()
    axis = EPOCH_AXIS if x == "epoch" else STEP_AXIS if x == "step" else alt.Axis()
    base = alt.Chart(agg).encode(
        x=alt.X(f"{x}:Q", title="epoch" if x in ("epoch", "epoch_pos") else x, axis=axis), color=_colour(labels, title)
    )
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
    rows = [
        {"label": s.label, "seed": s.seed, "epoch": e["epoch"], column: e[column]}
        for s in series
        for e in s.epochs
        if e.get(column) is not None
    ]
    df = pd.DataFrame(rows, columns=["label", "seed", "epoch", column])
    accuracy = column.endswith("accuracy")
    y = dict(title=column.replace("_", " "), axis=alt.Axis(format=".0%") if accuracy else alt.Axis(), scale=alt.Scale(zero=False))
    if not accuracy:  # a loss: nan and inf left out, a blow-up on a log scale
        df[column] = finite_losses(df[column])
        y["scale"], floor = loss_scale(df[column], zero=False)
        if floor is not None:
            df[column] = df[column].clip(lower=floor)
            y |= dict(title=y["title"] + " (log scale)", axis=loss_axis(floor))
    if df.empty:
        return alt.Chart(df).mark_line().properties(title=title, height=_height(labels))
    return _mean_band(df, "epoch", column, labels, setting_title, y, ".2%" if accuracy else ".4g").properties(
        title=title, height=_height(labels)
    )


def step_loss_overlay(series: list[Series], setting_title: str, num_classes: int, max_points: int = 400) -> alt.LayerChart | alt.Chart:
    """Training loss against epochs (step / steps per epoch, so runs with different batch sizes
    line up), smoothed by a moving average so that several runs stay readable. A blow-up is drawn on
    a log scale (charts.loss_scale); the first step where a run's loss was nan or inf, a red line."""
    labels = list(dict.fromkeys(s.label for s in series))
    frames, bad = [], []
    for s in series:
        df = _step_frame(s.steps)
        if df.empty:
            continue
        df["loss"] = finite_losses(df["loss"])
        df["epoch_pos"] = df["step"] / max(s.steps_per_epoch, 1)
        bad.append(df.loc[df["loss"].isna(), ["epoch_pos"]].head(1).assign(label=s.label))  # where it became nan or inf
        df["smoothed"] = df["loss"].rolling(max(len(df) // 40, 1), min_periods=1).mean()
        k = max(len(df) // max_points, 1)
        df = df.iloc[::k]
        frames.append(df.assign(label=s.label, seed=s.seed)[["label", "seed", "epoch_pos", "smoothed"]])
    df = pd.concat(frames) if frames else pd.DataFrame(columns=["label", "seed", "epoch_pos", "smoothed"])
    if df.empty:
        return alt.Chart(df).mark_line().properties(title="Training loss (smoothed)", height=_height(labels))
    df["epoch_pos"] = df["epoch_pos"].round(3)
    scale, floor = loss_scale(df["smoothed"], zero=False)
    notes = [log_note(df["smoothed"])] if floor is not None else []
    if floor is not None:
        df["smoothed"] = df["smoothed"].clip(lower=floor)
    y = dict(title="loss (smoothed" + (", log scale)" if floor is not None else ")"), scale=scale, axis=loss_axis(floor))
    layers = [_mean_band(df, "epoch_pos", "smoothed", labels, setting_title, y, ".4g")]
    layers.append(
        alt.Chart(pd.DataFrame({"y": [math.log(num_classes)], "note": [f"ln({num_classes}): equal guesses"]}))
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(y="y:Q", tooltip=["note:N"])
    )
    bad = pd.concat(bad).drop_duplicates() if bad else pd.DataFrame()
    if len(bad):
        layers.append(not_finite_marks(bad, "epoch_pos", ["label:N", alt.Tooltip("epoch_pos:Q", format=".2f", title="epoch")]))
        notes.append("red lines: where a run's loss became nan or inf")
    title = alt.Title("Training loss (smoothed)", subtitle="; ".join(notes)) if notes else "Training loss (smoothed)"
    return alt.layer(*layers).properties(title=title, height=_height(labels))


def gradient_overlay(series: list[Series], setting_title: str, until: int = 100) -> alt.Chart:
    """Mean gradient over all trainable parameters for the first `until` steps of every series."""
    labels = list(dict.fromkeys(s.label for s in series))
    rows = [
        {"label": s.label, "seed": s.seed, "step": st["step"], "grad_mean": st["grad_mean"]}
        for s in series
        for st in _first_grads(s.steps, until)
    ]
    df = pd.DataFrame(rows, columns=["label", "seed", "step", "grad_mean"])
    y = dict(title="mean dL/dw", axis=alt.Axis(format=".1e"))
    if df.empty:
        return alt.Chart(df).mark_line().properties(title=f"Mean gradient, first {until} steps", height=_height(labels))
    return _mean_band(df, "step", "grad_mean", labels, setting_title, y, ".3e").properties(
        title=f"Mean gradient, first {until} steps", height=_height(labels)
    )
