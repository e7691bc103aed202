"""Stored runs as a table, and short labels that say how chosen runs differ."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from playground import datasets
from playground.runs import Run

FIELDS = ("dataset", "model", "lr", "batch_size", "epochs", "optimizer", "loss", "seed", "train_limit")
SHORT = {"batch_size": "batch", "train_limit": "train images"}


# The table is wider than the page at 1400 px: what tells runs apart comes first (the run, its
# status, its test accuracy, the model), so that it stays in view whatever scrolls off to the right.
COLUMNS = ["run", "status", "test accuracy", "model", "dataset", "lr", "batch", "epochs", "optimizer", "seed", "train images", "params", "seconds", "created"]


def column_config() -> dict:
    """st.dataframe's column_config for runs_frame."""
    return {
        "test accuracy": st.column_config.NumberColumn(format="percent", help="the final test accuracy"),
        "params": st.column_config.NumberColumn(format="localized", help="trainable parameters"),
    }


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run": r.id,
                "status": r.status,
                "test accuracy": r.final.get("test_accuracy"),
                "model": r.config.model or "(linear)",
                "dataset": datasets.info(r.config.dataset).title if r.config.dataset in datasets.REGISTRY else r.config.dataset,
                "lr": r.config.lr,
                "batch": r.config.batch_size,
                "epochs": r.config.epochs,
                "optimizer": r.config.optimizer,
                "seed": r.config.seed,
                "train images": f"{r.config.train_limit:,}" if r.config.train_limit else "all",
                "params": r.params,
                "seconds": round(r.seconds, 1) if r.seconds is not None else None,
                "created": dt.datetime.fromtimestamp(r.created).strftime("%m-%d %H:%M"),
            }
            for r in runs
        ],
        columns=COLUMNS,
    )


def difference_labels(runs: list[Run]) -> dict[int, str]:
    """'#12 lr=0.1' for each run: its id and only the settings that differ among the runs."""
    differing = [f for f in FIELDS if len({getattr(r.config, f) for r in runs}) > 1]
    labels = {}
    for r in runs:
        parts = [f"{SHORT.get(f, f)}={getattr(r.config, f) or '(linear)' if f == 'model' else getattr(r.config, f)}" for f in differing]
        labels[r.id] = " ".join([f"#{r.id}", *parts])
    return labels
