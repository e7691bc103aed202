"""The share link: the settings chosen (st.session_state["settings"], see ui/state.py) live in the
page's URL query parameters, so the address bar is a link that restores every one of them. The
keys come from playground.settings (lr, epochs, batch, ..., sweep, values, seeds); a setting at its
default is left out of the link. A tampered link is checked like any input: each bad setting is
named in a warning with the value used instead; nothing is changed silently."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import datasets, families, features, settings, sweeps
from playground.augment import parse_augment
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.labs import format as labs_format
from playground.ui import state, toy_controls, toy_twins

BY_KEY = {s.share: s for s in settings.ALL.values() if s.share}


def _check(s: settings.Setting, value: Any, values: dict) -> Any:
    """The value as the app keeps it, or PlaygroundError saying why not."""
    settings.check(s.name, value)
    if s.name == "dataset":
        datasets.info(value)  # "unknown dataset 'x': choose one of ..."
    elif s.name == "model":
        value = families.resolve(value)  # a preset name or a spec, canonical
    elif s.name == "augment":
        value = parse_augment(value, datasets.info(values.get("dataset", datasets.default_dataset())).input_shape)
    elif s.name == "device":
        from playground.devices import available_devices

        if value not in available_devices():
            raise PlaygroundError(
                f"device = {value!r} is not available on this machine: device must be one of {', '.join(available_devices())}"
            )
    elif s.name == "sweep_param" and value not in sweeps.SETTINGS:
        raise PlaygroundError(
            f"sweep = {value!r} is not a setting the Experiments page can sweep: choose one of {', '.join(sweeps.SETTINGS)}"
        )
    elif s.name == "sweep_values":
        sweeps.parse_values(values.get("sweep_param", "lr"), value)
    elif s.name == "toy_features":
        value = features.canonical(value)
    elif s.name == "toy_twin_value" and values.get("toy_twin"):
        toy_twins.twin_value(values["toy_twin"], value)
    elif s.name == "toy_hide":
        value = toy_controls.check_hide(value)
    elif s.name == "toy_task":
        value = toy_controls.check_task(value)
    elif s.name == "lab" and value not in labs_format.paths():
        raise PlaygroundError(f"lab = {value!r} is not a lab here: choose one of {', '.join(labs_format.paths())}")
    if s.ui_low is not None and not s.ui_low <= value <= s.ui_high:
        raise PlaygroundError(f"{s.name} = {value!r} is not allowed here: the Toy 2D page takes {s.ui_low:g} to {s.ui_high:g}")
    return value


SHOWN_CHARS = 60  # a link's value longer than this is cut in the warning


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _words(s: settings.Setting, message: str) -> str:
    """A Toy 2D or Backprop widget's problem in the words of its label ("learning rate"), not its internal name."""
    page_only = s.name.startswith("toy_") or s.section == "backprop page"
    return message.replace(s.name, s.label.lower()) if page_only and s.label else message


def _used(s: settings.Setting, text: str) -> str:
    """What the page does instead of the link's bad value."""
    if s.name == "toy_hide":
        kept = toy_controls.known_hide(text)
        return f"hid {kept.replace(',', ', ')} only" if kept else "ignored it"
    if s.name == "sweep_values":
        param = state.current("sweep_param")
        return f"used {sweeps.SETTINGS[param].default_values if param in sweeps.SETTINGS else 'the example values'} instead"
    if s.name == "dataset":
        return f"used {state.current('dataset', datasets.default_dataset())} instead"
    used = settings.show(s.name, state.current(s.name))
    return f"used {used} instead" if str(used).strip() else "ignored it"


def restore() -> list[str]:
    """On a session's first run, set the settings from the URL; return the problems found, each
    naming the link's text, what is wrong and what was used instead."""
    ss = st.session_state
    if ss.get("share_restored"):
        return []
    ss.share_restored = True
    params = st.query_params.to_dict()
    problems = [f"`{k}={_shown(v)}` is not a setting of the playground (ignored)" for k, v in params.items() if k not in BY_KEY]
    values: dict[str, Any] = {}
    for s in settings.ALL.values():  # in declaration order: the dataset before augment, the swept setting before its values
        if s.share not in params:
            continue
        text = params[s.share]
        try:
            values[s.name] = _check(s, settings.parse(s.name, text), values)
        except PlaygroundError as e:
            problems.append(f"`{s.share}={_shown(text)}`: {_words(s, str(e))}; {_used(s, text)}")
            if s.name == "toy_hide" and toy_controls.known_hide(text):
                values[s.name] = toy_controls.known_hide(text)
    fields = {k: v for k, v in values.items() if k in settings.SETTINGS}
    try:  # the rules that tie settings together; the values are kept, the form names them too
        TrainConfig(**{**settings.defaults(), "dataset": datasets.default_dataset(), "device": "auto", **fields})
    except PlaygroundError as e:
        problems.append(f"these settings of the link do not fit together: {e}")
    for name, value in values.items():
        state.choose(name, value)
    return problems


def _default(name: str, values: dict) -> Any:
    if name == "sweep_values":
        return sweeps.SETTINGS[values.get("sweep_param", "lr")].default_values if values.get("sweep_param", "lr") in sweeps.SETTINGS else ""
    return settings.ALL[name].default


def link() -> dict[str, str]:
    """The query parameters of the settings chosen: dataset and model always, others when not at their default."""
    values = state.chosen()
    out = {}
    for s in settings.ALL.values():
        if s.share and s.name in values and (s.name in ("dataset", "model") or values[s.name] != _default(s.name, values)):
            out[s.share] = settings.format(s.name, values[s.name])
    return out


def write() -> None:
    """Put the chosen settings in the URL."""
    wanted = link()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
