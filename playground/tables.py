"""The course's tables as DataFrames, and their CSV and Markdown exports."""

from __future__ import annotations

import pandas as pd

NOT_REACHED = "not reached"


def _pct(x) -> str:
    return "-" if x is None else f"{x:.2%}"


def sweep_frame(rows: list[dict], setting_title: str, target: float, seeds: int = 1, mean_over_epochs: bool = False) -> pd.DataFrame:
    """sweep_summary.table rows -> the table a student hands in, one row per value."""
    out = []
    for r in rows:
        row = {setting_title: r["value"], "test accuracy": _pct(r["test_accuracy"])}
        if any(x.get("val_accuracy") is not None for x in rows):
            row["validation accuracy"] = _pct(r.get("val_accuracy"))
            row["train accuracy"] = _pct(r.get("train_accuracy"))
        if seeds > 1:
            row["min - max over seeds"] = f"{_pct(r['test_accuracy_min'])} - {_pct(r['test_accuracy_max'])}"
        if mean_over_epochs:
            row["mean over epochs"] = _pct(r["mean_test_accuracy"])
        # a run that diverged or is not learning has not converged, however flat its curve: say which
        row["converged at epoch"] = (r.get("not_converged") or NOT_REACHED) if r["converged_epoch"] is None else r["converged_epoch"]
        row[f"epoch reaching {target:.0%}"] = NOT_REACHED if r["target_epoch"] is None else r["target_epoch"]
        row["trainable parameters"] = "-" if r["params"] is None else f"{r['params']:,}"
        row["status"] = r["status"]
        row["flags"] = "; ".join(r["flags"])
        out.append(row)
    return pd.DataFrame(out).astype(str)


def to_csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False)


def to_markdown(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, disable_numparse=True) + "\n"
