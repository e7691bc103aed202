"""Hyperparameter widgets -> a TrainConfig, each drawn from its declaration in playground.settings.
The essentials are always visible; optimizer details, schedule, loss, normalisation, augmentation
and validation sit in expanders. Every value drawn is kept in st.session_state["settings"]
(ui/state.py), so it survives page switches and live runs, and goes into the share link."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import augment, datasets, settings
from playground.config import TrainConfig
from playground.devices import available_devices, bf16_unavailable
from playground.errors import PlaygroundError
from playground.sizes import toy_train_count
from playground.ui import me, state
from playground.ui.data import toy_params
from playground.wording import sentence


def _help(s: settings.Setting) -> str:
    return " ".join(t for t in (s.help[0].upper() + s.help[1:] + ".", s.note) if t)


def setting_widget(where, name: str, disabled: bool = False, options: list | None = None, format_func=None, help: str | None = None) -> Any:
    """Draw one setting's widget as declared, with the chosen value; return (and keep) its value."""
    s = settings.ALL[name]
    state.prepare(name)
    key, now = s.session_key, st.session_state[s.session_key]
    common = dict(key=key, disabled=disabled, help=help or _help(s))
    if s.widget == "select_slider":  # a valid value off the notches (a link's lr=0.05) becomes a notch
        fmt = format_func or (lambda v: f"{v:g}")
        value = where.select_slider(s.label, settings.with_value(s.notches, now), format_func=fmt, **common)
    elif s.widget == "number":
        low, high = s.widget_range()
        cast = int if s.type is int else float
        value = where.number_input(
            s.label,
            None if low is None else cast(low),
            None if high is None else cast(high),
            step=cast(s.step or 1),
            format=s.fmt,
            **common,
        )
    elif s.widget == "select":
        opts = options if options is not None else list(s.choices) or settings.with_value(s.notches, now)
        value = where.selectbox(s.label, opts, format_func=format_func or (lambda c: s.choice_text.get(c, c)), **common)
    elif s.widget == "checkbox":
        value = where.checkbox(s.label, **common)
    elif s.widget == "multiselect":
        value = where.multiselect(s.label, options or [], **common)
    elif s.widget == "text":
        value = where.text_input(s.label, **common)
    else:
        raise ValueError(f"{name} has no widget")
    return state.from_widget(s, state.remember(name, value))


def _bf16_widget(where, device: str, off: bool) -> bool:
    """The bfloat16 checkbox: on offer where the device has bfloat16 units; a link that asks for it
    elsewhere is told so (and trains in float32), never silently changed."""
    why = bf16_unavailable(device)
    if why is None:
        return setting_widget(where, "bf16", off)
    s = settings.SETTINGS["bf16"]
    state.prepare("bf16")  # the setting keeps its value (the link's, else the default) without a widget
    # drawn off (what the run does), apart from the setting's own state, which keeps the link's value
    where.checkbox(s.label, value=False, disabled=True, key="bf16_unavailable", help=f"{_help(s)} Not here: {why}.")
    if state.current("bf16"):
        where.caption(f"The link asks for bfloat16 products, but {why}: this run multiplies in float32.")
    return False


def _optimizer_options(off: bool) -> dict:
    c = st.columns(3)
    optimizer = setting_widget(c[0], "optimizer", off)
    momentum = setting_widget(c[1], "momentum", off or optimizer in ("adam", "adamw"))
    weight_decay = setting_widget(c[2], "weight_decay", off)
    nesterov = setting_widget(st, "nesterov", off or not (optimizer == "sgd" and momentum > 0))
    c = st.columns(3)
    scheduler = setting_widget(c[0], "scheduler", off)
    step_size = setting_widget(c[1], "step_size", off or scheduler != "step")
    gamma = setting_widget(c[2], "gamma", off or scheduler not in ("step", "exponential"))
    c = st.columns(3)
    reg = setting_widget(c[0], "reg", off)
    reg_rate = setting_widget(c[1], "reg_rate", off or reg == "none")
    return dict(
        reg=reg,
        reg_rate=reg_rate,
        optimizer=optimizer,
        momentum=0.0 if optimizer in ("adam", "adamw") else momentum,
        nesterov=nesterov and optimizer == "sgd" and momentum > 0,
        weight_decay=weight_decay,
        scheduler=scheduler,
        step_size=int(step_size),
        gamma=gamma,
    )


def _data_options(meta: datasets.DatasetInfo, off: bool) -> dict:
    c = st.columns(2)
    loss = setting_widget(c[0], "loss", off, help="; ".join(f"{k}: {v}" for k, v in _loss_text().items()))
    smoothing = setting_widget(c[1], "label_smoothing", off)
    normalize = setting_widget(c[0], "normalize", off)
    zca_epsilon = setting_widget(c[0], "zca_epsilon", off or normalize != "zca")
    allowed = [] if meta.is_toy else [a for a in augment.AUGMENTATIONS if a != "color" or meta.input_shape[0] == 3]
    state.prepare("augment")
    dropped = [a for a in st.session_state.augment_list if a not in allowed]
    if dropped:  # chosen for another dataset: said, not dropped silently
        st.session_state.augment_list = [a for a in st.session_state.augment_list if a in allowed]
        c[1].caption(f":orange[Augmentation {', '.join(dropped)} does not apply to {meta.title}: left out.]")
    names = setting_widget(
        c[1],
        "augment",
        off or not allowed,
        options=allowed,
        help="; ".join(f"{a}: {augment.AUGMENTATION_TEXT[a]}" for a in allowed) or "not for toy points",
    )
    c = st.columns(2)
    val_split = setting_widget(c[0], "val_split", off)
    patience = setting_widget(c[1], "early_stopping", off or val_split == 0)
    return dict(
        loss=loss,
        label_smoothing=smoothing,
        normalize=normalize,
        zca_epsilon=zca_epsilon,
        augment=names,
        val_split=val_split,
        early_stopping=int(patience) if val_split > 0 else 0,
    )


def _loss_text() -> dict:
    from playground.optim import LOSS_TEXT

    return LOSS_TEXT


def train_form(dataset: str, spec: str | None, disabled: bool = False) -> TrainConfig | None:
    """Draw the hyperparameter widgets; return the config, or None with the reason shown. With no
    valid spec (None) the widgets stay on screen, disabled, and keep their values."""
    meta = datasets.info(dataset)
    off = disabled or spec is None
    c1, c2 = st.columns(2)
    lr = setting_widget(c1, "lr", off)
    batch_size = setting_widget(c2, "batch_size", off)
    epochs = setting_widget(c1, "epochs", off)
    size = toy_train_count(toy_params().points, toy_params().train_share) if meta.is_toy else meta.train_size
    subset = setting_widget(
        c2,
        "train_limit",
        off,
        format_func=lambda n: f"all {size:,}" if n == 0 else f"first {n:,}",
        help="Fewer images train faster: handy for a quick demo. The test set is always complete.",
    )
    seed = setting_widget(c1, "seed", off, help="Fixes the initial weights and the batch order.")
    device = setting_widget(c2, "device", off, options=available_devices())
    bf16 = _bf16_widget(c1, device, off)
    with st.expander("Optimizer and learning-rate schedule"):
        opt = _optimizer_options(off)
    with st.expander("Loss, normalisation, augmentation, validation"):
        data = _data_options(meta, off)
    hidden = {n: state.current(n) for n in ("val_seed", "test_limit")}  # no widget: from a link or the defaults
    if meta.is_toy:
        hidden["toy_features"] = state.current("toy_features")  # chosen on the Toy 2D page
    extra = [
        f"{settings.SETTINGS[n].help.split(' (')[0]}: {settings.show(n, v)}" for n, v in hidden.items() if v != settings.SETTINGS[n].default
    ]
    if extra:
        st.caption("From the link, without a widget here: " + "; ".join(extra) + ".")
    if spec is None:
        st.caption("Training is off until the model above is valid; these settings are kept.")
        return None
    p = toy_params()
    try:
        return TrainConfig(
            dataset=dataset,
            model=spec,
            lr=lr,
            epochs=int(epochs),
            batch_size=batch_size,
            seed=int(seed),
            train_limit=subset,
            device=device,
            bf16=bf16,
            **p.config_fields(),
            **hidden,
            **opt,
            **data,
        )
    except PlaygroundError as e:
        st.error(sentence(str(e)), icon=":material/error:")
        return None


def differences(ran: TrainConfig, form: TrainConfig) -> list[tuple[str, str, str, str]]:
    """The settings (not the device) in which a run's config differs from the form's: (setting, its
    name on the page, the run's value, the form's) as ('lr', 'lr', '0.03', '0.1')."""
    out = []
    for s in settings.SETTINGS.values():
        a, b = getattr(ran, s.name), getattr(form, s.name)
        if s.name != "device" and a != b and (not s.toy_only or datasets.info(form.dataset).is_toy):
            name = s.share if s.share in ("lr",) else (s.label or s.name.replace("_", " ")).lower()
            out.append((s.name, name, settings.show(s.name, a), settings.show(s.name, b)))
    return out


def run_differs_notice(run_id: int, config: TrainConfig | None) -> None:
    """Under the run's title: say so when the run shown is not what the form above now says."""
    run = me.jobs().store.get(run_id)
    if run is None or config is None or run.config.key == config.key:
        return
    diffs = differences(run.config, config)
    if not diffs:
        return
    used = ", ".join(f"{n} {a}" for _, n, a, _ in diffs)
    now = ", ".join(f"{n} {b}" for _, n, _, b in diffs)
    st.info(
        f"This run used {used}; the form above now says {now}. Press **Train** to run the form's settings, "
        "or put this run's settings back in the form to change them from there.",
        icon=":material/difference:",
    )
    differing = tuple(name for name, *_ in diffs)
    st.button("Use this run's settings", icon=":material/settings_backup_restore:", on_click=_use_settings, args=(run.config, differing))


def _use_settings(config: TrainConfig, names: tuple[str, ...]) -> None:
    """The form (and the sidebar's dataset) set to a run's settings, where they differ from it."""
    for name in names:
        state.choose(name, getattr(config, name))
