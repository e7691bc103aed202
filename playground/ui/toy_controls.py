"""The Toy 2D page's controls, each drawn from its declaration (playground.settings: TOY_PAGE and the
toy data settings), with what a teacher's link does to them: a control named in its `hide` is not
drawn (the link's value, or the default, is used), and its `task` text is shown above the page."""

from __future__ import annotations

from typing import Any

from playground import features, settings
from playground.errors import PlaygroundError
from playground.ui import state
from playground.ui.train_form import setting_widget

DATA = ("toy_points", "toy_noise", "toy_train_share", "toy_seed")  # playground.toy.ToyParams, as TrainConfig fields
STEPS = {"toy_points": 20, "toy_noise": 0.02, "toy_train_share": 0.05}  # the data sliders' steps
MAX_TASK = 500  # characters of a teacher's instruction


DATA_LABELS = {"toy_points": "Points", "toy_noise": "Noise", "toy_train_share": "Training share", "toy_seed": "Data seed"}


def hidden() -> set[str]:
    """The link keys of the controls a teacher's link hides."""
    return {k.strip() for k in str(state.current("toy_hide")).split(",") if k.strip()}


def section(col, title: str, names: tuple[str, ...]) -> None:
    """A section's heading, unless the link hides every control in it (an empty heading says nothing)."""
    if any(settings.ALL[n].share not in hidden() for n in names):
        col.subheader(title)


def fixed_text() -> str:
    """The hidden controls and the values they keep ("Points 400 · Noise 0.1"), in the page's order;
    "" when the link hides nothing. A student sees what the teacher fixed, if not the control."""
    keys = hidden()
    by_share = {s.share: s for s in settings.ALL.values() if s.name.startswith("toy_")}
    return " · ".join(
        f"{DATA_LABELS.get(s.name) or s.label or 'Input features'} {_shown(s)}"
        for s in (by_share[k] for k in settings.TOY_CONTROLS if k in keys)
        if _shown(s)
    )


def _shown(s: settings.Setting) -> str:
    value = state.current(s.name)
    if s.name == "toy_features":
        return ", ".join(features.labels(value))
    return settings.show(s.name, value)


def check_hide(text: str) -> str:
    """A `hide` list as the link gives it -> its canonical text; PlaygroundError naming an unknown control."""
    unknown = [k for k in _keys(text) if k not in settings.TOY_CONTROLS]
    if unknown:
        raise PlaygroundError(f"hide = {unknown[0]!r} is not a Toy 2D control: hide must be {settings.TOY_PAGE['toy_hide'].rule}")
    return known_hide(text)


def known_hide(text: str) -> str:
    """The controls of a `hide` list that are Toy 2D controls, canonical (a link's typo hides the rest)."""
    keys = _keys(text)
    return ",".join(k for k in settings.TOY_CONTROLS if k in keys)


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def check_task(text: str) -> str:
    if len(text) > MAX_TASK:
        raise PlaygroundError(f"task is {len(text)} characters long: a teacher's instruction takes at most {MAX_TASK}")
    return text


def control(col, name: str, disabled: bool = False) -> Any:
    """Draw the setting's widget in col (unless the link hides it) and return its value."""
    s = settings.ALL[name]
    if s.share in hidden():
        return state.current(name)
    state.prepare(name)
    if name in DATA:
        low, high = (float(v) for v in (s.ui_low, s.ui_high)) if s.type is float else (int(s.ui_low), int(s.ui_high))
        if name == "toy_seed":
            return col.number_input(DATA_LABELS[name], low, high, key=name, help=s.help)
        return col.slider(DATA_LABELS[name], low, high, step=STEPS[name], key=name, help=s.help)
    return setting_widget(col, name, disabled)


def feature_control(col) -> str:
    """The input features as toggles (TensorFlow Playground's feature tiles): a comma list."""
    s = settings.ALL["toy_features"]
    chosen = features.parse(state.current("toy_features"))
    if s.share in hidden():
        return ",".join(chosen)
    picked = col.pills(
        "Input features",
        list(features.FEATURES),
        selection_mode="multi",
        default=list(chosen),
        format_func=lambda n: features.FEATURES[n][0],
        key="toy_features_pills",
        help=s.help + ". The network's first layer takes one input per feature.",
    )
    if not picked:
        col.caption(":orange[At least one feature is needed: x1 and x2 are used.]")
        picked = ["x1", "x2"]
    state.choose("toy_features", features.canonical(",".join(picked)))
    return features.canonical(",".join(picked))
