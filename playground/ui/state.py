"""What the student chose, kept across page switches, reruns, live runs and reloads of a link.

Streamlit deletes a widget's value when a run does not draw that widget. Writing each value back
to itself at the top of every run is not enough: when a page switch interrupts a run of the Train
page's polling fragment, Streamlit ends that run with no widget drawn and none of our code run,
and drops every widget's value (measured with 1.67: after Train -> Data -> Train the form was back
at lr 0.1, 5 epochs, batch 64). So the values live in two plain dicts in Session State, which
Streamlit never cleans up:

- "settings": every declared setting (playground.settings: the TrainConfig fields and the sweep),
  by name, in TrainConfig's form ("flip,crop", not a list); the share link is written from it;
- "kept": the other pages' widgets (grid, calculators, filters), by widget key.

keep() runs at the start of every full run: a widget key that is there is copied into its dict, one
that Streamlit cleaned up is put back from the dict, and every key is written again in this run
(else a widget that remounts after a page switch shows its default in the browser, which sends
that default back on the next rerun); record() copies the values again at the end. The forms also
call prepare() just before drawing a widget and remember() with what it returned.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import settings
from playground.settings import Setting

# Widgets of the other pages whose value outlives a page switch (the settings are in playground.settings).
UI_KEYS = (
    "anatomy_input",
    "custom_C",
    "custom_H",
    "custom_W",
    "custom_classes",
    "quiz_mode",
    "grid_class",
    "grid_count",
    "grid_start",
    "preview_augment",
    "calc_kind",
    "cW",
    "cK",
    "cS",
    "cP",
    "cD",
    "cO",
    "cOP",
    "cK_pool",
    "conv_image",
    "conv_kernel",
    "conv_padding",
    "conv_stride",
    "conv_mode",
    "sweep_id",
    "target_accuracy",
    "converge_threshold",
    "converge_patience",
    "mean_over_epochs",
    "history_status",
    "history_dataset",
    "history_model",
    "toy_baselines",
    "results_run",
    "cm_normalized",
    "gallery_class",
    "gallery_mistakes",
    "gallery_count",
)


def chosen() -> dict[str, Any]:
    """Setting name -> value chosen in this session (TrainConfig's form)."""
    return st.session_state.setdefault("settings", {})


def to_widget(s: Setting, value: Any) -> Any:
    if s.widget == "multiselect":  # "flip,crop" -> ["flip", "crop"]
        return [v for v in str(value).split(",") if v]
    return value


def from_widget(s: Setting, value: Any) -> Any:
    if s.widget == "multiselect":
        return ",".join(value)
    return value


def keep() -> None:
    """At the start of a full run: every kept value into its dict, and back onto its widget key.
    Writing the key in this run also makes a remounted widget show the value rather than its
    default (Streamlit tells the browser only about values set through Session State this run)."""
    ss, values = st.session_state, chosen()
    for s in settings.ALL.values():
        if s.session_key in ss:
            values[s.name] = from_widget(s, ss[s.session_key])
        if s.name in values:
            ss[s.session_key] = to_widget(s, values[s.name])
    kept = ss.setdefault("kept", {})
    for key in UI_KEYS:
        if key in ss:
            kept[key] = ss[key]
        if key in kept:
            ss[key] = kept[key]


def record() -> None:
    """At the end of a full run (widgets drawn, keys no longer writable): copy their values into the dicts."""
    ss, values, kept = st.session_state, chosen(), st.session_state.setdefault("kept", {})
    for s in settings.ALL.values():
        if s.session_key in ss:
            values[s.name] = from_widget(s, ss[s.session_key])
    kept.update({key: ss[key] for key in UI_KEYS if key in ss})


def current(name: str, default: Any = None) -> Any:
    """The value of a setting now: its widget's, else the chosen one, else default (else its declared default)."""
    s = settings.ALL[name]
    if s.session_key in st.session_state:
        return from_widget(s, st.session_state[s.session_key])
    return chosen().get(name, s.default if default is None else default)


def prepare(name: str, default: Any = None) -> None:
    """Before drawing a setting's widget: its key holds the chosen value (or the default)."""
    s = settings.ALL[name]
    if s.session_key not in st.session_state:
        st.session_state[s.session_key] = to_widget(s, current(name, default))


def remember(name: str, widget_value: Any) -> Any:
    """After drawing: the widget's value is the chosen one. Returns widget_value."""
    chosen()[name] = from_widget(settings.ALL[name], widget_value)
    return widget_value


def choose(name: str, value: Any) -> None:
    """Set a setting from code (a link, a callback): the dict and the widget's key."""
    s = settings.ALL[name]
    chosen()[name] = value
    st.session_state[s.session_key] = to_widget(s, value)


def set_defaults(**values) -> None:
    """Initial widget values, given once through Session State (widgets then get no value= argument)."""
    for key, value in values.items():
        st.session_state.setdefault(key, value)
