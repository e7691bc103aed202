"""Stored runs as a table, and short labels that say how chosen runs differ."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st

from playground import datasets, features, settings
from playground.runs import Run
from playground.ui.data import TOY_DEFAULTS

FIELDS = (
    "dataset",
    "model",
    "lr",
    "batch_size",
    "epochs",
    "optimizer",
    "loss",
    "seed",
    "train_limit",
    "toy_points",
    "toy_noise",
    "toy_train_share",
    "toy_seed",
)
SHORT = {
    "batch_size": "batch",
    "train_limit": "train images",
    "toy_points": "points",
    "toy_noise": "noise",
    "toy_train_share": "train share",
    "toy_seed": "data seed",
}


# The table is wider than the page at 1400 px: what tells runs apart comes first (the run, its
# status, its test accuracy, the model), so that it stays in view whatever scrolls off to the right.
COLUMNS = [
    "run",
    "status",
    "test accuracy",
    "model",
    "dataset",
    "lr",
    "batch",
    "epochs",
    "optimizer",
    "seed",
    "train images",
    "params",
    "seconds",
    "created",
]


# One look for both tables (the Runs page and the Train page's Recent runs): 97.50%, 1,195,018, and
# a blank cell where a value is not known (a run stopped before its first epoch ended, or before it
# started). Streamlit draws a null as a grey "None" whatever the column's format or a Styler's
# na_rep, so these columns are shown as text, right-aligned and padded to one width: they still
# sort in numeric order (" 97.50%" < "100.00%"), blanks first.
FORMATS = {"test accuracy": "{:>7.2%}", "params": "{:>13,}", "seconds": "{:>10.1f}"}
HELP = {
    "test accuracy": "the final test accuracy (of a stopped run: its last completed epoch); blank if no epoch was completed",
    "params": "trainable parameters; blank for a run that never started",
    "seconds": "training time; blank for a run that never started",
}


def column_config() -> dict:
    """st.dataframe's column_config for styled(runs_frame(...)), on both pages."""
    return {
        **{name: st.column_config.TextColumn(help=text, alignment="right") for name, text in HELP.items()},
        "dataset": st.column_config.TextColumn(help="a toy 2D set with its data settings: points, noise, data seed"),
    }


def styled(df: pd.DataFrame) -> pd.DataFrame:
    """runs_frame's table as both pages draw it: st.dataframe(styled(df), column_config=column_config())."""
    out = df.copy()
    for name, fmt in FORMATS.items():
        out[name] = [fmt.format(v) if pd.notna(v) else "" for v in df[name]]
    return out


def dataset_label(r: Run) -> str:
    """The dataset's title; for a toy set also its data settings, which tell two toy runs apart:
    'Toy 2D: circles · 400 points · noise 0.1 · data seed 3' (and the train share if not the default)."""
    name = r.config.dataset
    if name not in datasets.REGISTRY:
        return name
    meta = datasets.info(name)
    if not meta.is_toy:
        return meta.title
    c = r.config
    share = "" if c.toy_train_share == TOY_DEFAULTS["toy_train_share"] else f" · train share {c.toy_train_share:g}"
    inputs = "" if c.toy_features == settings.ALL["toy_features"].default else f" · inputs {', '.join(features.labels(c.toy_features))}"
    return f"{meta.title} · {c.toy_points:,} points · noise {c.toy_noise:g} · data seed {c.toy_seed}{share}{inputs}"


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    df = pd.DataFrame(
        [
            {
                "run": r.id,
                "status": r.status,
                "test accuracy": r.final.get("test_accuracy", np.nan),
                "model": r.config.model or "(linear)",
                "dataset": dataset_label(r),
                "lr": r.config.lr,
                "batch": r.config.batch_size,
                "epochs": r.config.epochs,
                "optimizer": r.config.optimizer,
                "seed": r.config.seed,
                "train images": f"{r.config.train_limit:,}" if r.config.train_limit else "all",
                "params": r.params,
                "seconds": round(r.seconds, 1) if r.seconds is not None else np.nan,
                "created": dt.datetime.fromtimestamp(r.created).strftime("%m-%d %H:%M"),
            }
            for r in runs
        ],
        columns=COLUMNS,
    )
    # Numbers stay numbers (sortable), with a missing one as a null, never the text "None"
    df["test accuracy"] = df["test accuracy"].astype("float64")
    df["seconds"] = df["seconds"].astype("float64")
    df["params"] = df["params"].astype("Int64")
    return df


def difference_labels(runs: list[Run]) -> dict[int, str]:
    """'#12 lr=0.1' for each run: its id and only the settings that differ among the runs."""
    differing = [f for f in FIELDS if len({getattr(r.config, f) for r in runs}) > 1]
    labels = {}
    for r in runs:
        parts = [f"{SHORT.get(f, f)}={getattr(r.config, f) or '(linear)' if f == 'model' else getattr(r.config, f)}" for f in differing]
        labels[r.id] = " ".join([f"#{r.id}", *parts])
    return labels
