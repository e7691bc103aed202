"""The share link: the current configuration lives in the page's URL query parameters, so the
address bar is a link that restores every setting. A tampered link is checked like any input:
the bad settings are named and left at their defaults."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from playground import datasets, specs
from playground.errors import PlaygroundError
from playground.train import TrainConfig


def _float(text: str) -> float:
    return float(text)


def _int(text: str) -> int:
    return int(text)


def _bool(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError("expected 0 or 1")
    return text == "1"


def _list(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


# query parameter -> (session key, parse, format)
FIELDS: dict[str, tuple[str, Callable[[str], Any], Callable[[Any], str]]] = {
    "dataset": ("dataset", str, str),
    "model": ("spec_text", str, str),
    "lr": ("lr", _float, lambda v: f"{v:g}"),
    "epochs": ("epochs", _int, str),
    "batch": ("batch_size", _int, str),
    "seed": ("seed", _int, str),
    "train": ("train_limit", _int, str),
    "opt": ("optimizer", str, str),
    "mom": ("momentum", _float, lambda v: f"{v:g}"),
    "nesterov": ("nesterov", _bool, lambda v: "1" if v else "0"),
    "wd": ("weight_decay", _float, lambda v: f"{v:g}"),
    "sched": ("scheduler", str, str),
    "step": ("step_size", _int, str),
    "gamma": ("gamma", _float, lambda v: f"{v:g}"),
    "loss": ("loss", str, str),
    "smooth": ("label_smoothing", _float, lambda v: f"{v:g}"),
    "norm": ("normalize", str, str),
    "aug": ("augment_list", _list, lambda v: ",".join(v)),
    "val": ("val_split", _float, lambda v: f"{v:g}"),
    "stop": ("early_stopping", _int, str),
}
CONFIG_NAMES = {"spec_text": "model", "augment_list": "augment"}


def restore() -> list[str]:
    """On a session's first run, set the widgets from the URL; return the problems found."""
    if st.session_state.get("share_restored"):
        return []
    st.session_state.share_restored = True
    params = st.query_params
    values, problems = {}, []
    for name, (key, parse, _fmt) in FIELDS.items():
        if name in params:
            try:
                values[key] = parse(params[name])
            except (ValueError, TypeError) as e:
                problems.append(f"{name}={params[name]!r} ({e})")
    if values.get("dataset") is not None and values["dataset"] not in datasets.REGISTRY:
        problems.append(f"dataset={values.pop('dataset')!r} (unknown)")
    checked = {}
    for key, value in values.items():  # each setting checked on its own, as TrainConfig checks it
        field = CONFIG_NAMES.get(key, key)
        try:
            if key == "spec_text":
                value = specs.resolve(value)  # a preset name or a spec
            elif key == "augment_list":
                TrainConfig(dataset=values.get("dataset", datasets.DEFAULT_DATASET), model="", augment=",".join(value))
            elif key not in ("dataset",):
                TrainConfig(model="", **{field: value, **({"val_split": 0.1} if key == "early_stopping" else {})})
            checked[key] = value
        except PlaygroundError as e:
            problems.append(str(e))
    for key, value in checked.items():
        st.session_state[key] = value
    return problems


def write() -> None:
    """Put the current settings in the URL (only those already chosen in this session)."""
    ss = st.session_state
    wanted = {}
    for name, (key, _parse, fmt) in FIELDS.items():
        if key in ss and ss[key] is not None:
            try:
                wanted[name] = fmt(ss[key])
            except (TypeError, ValueError):
                continue
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
