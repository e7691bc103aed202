"""Stored runs as a table, and short labels that say how chosen runs differ."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from playground import datasets
from playground.runs import Run

FIELDS = ("dataset", "model", "lr", "batch_size", "epochs", "optimizer", "loss", "seed", "train_limit")
SHORT = {"batch_size": "batch", "train_limit": "train images"}


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run": r.id,
                "created": dt.datetime.fromtimestamp(r.created).strftime("%m-%d %H:%M"),
                "status": r.status,
                "dataset": datasets.info(r.config.dataset).title if r.config.dataset in datasets.REGISTRY else r.config.dataset,
                "model": r.config.model or "(linear)",
                "lr": r.config.lr,
                "epochs": r.config.epochs,
                "batch": r.config.batch_size,
                "optimizer": r.config.optimizer,
                "seed": r.config.seed,
                "train images": f"{r.config.train_limit:,}" if r.config.train_limit else "all",
                "test accuracy": r.final.get("test_accuracy"),
                "params": r.params,
                "seconds": round(r.seconds, 1) if r.seconds is not None else None,
            }
            for r in runs
        ],
        columns=["run", "created", "status", "dataset", "model", "lr", "epochs", "batch", "optimizer", "seed", "train images", "test accuracy", "params", "seconds"],
    )


def difference_labels(runs: list[Run]) -> dict[int, str]:
    """'#12 lr=0.1' for each run: its id and only the settings that differ among the runs."""
    differing = [f for f in FIELDS if len({getattr(r.config, f) for r in runs}) > 1]
    labels = {}
    for r in runs:
        parts = [f"{SHORT.get(f, f)}={getattr(r.config, f) or '(linear)' if f == 'model' else getattr(r.config, f)}" for f in differing]
        labels[r.id] = " ".join([f"#{r.id}", *parts])
    return labels
