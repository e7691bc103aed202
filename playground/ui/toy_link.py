"""Open a stored toy 2D run on the Toy 2D page: its widgets set from the run's config.

The Toy page builds its run from its own declared settings (settings.TOY_PAGE: toy_set, toy_depth,
toy_width, ...), the toy data settings and the input features, and shows the run in st.session_state.toy_run when the widgets' config
is that run's. So a run opens there only if the page's widgets can express it: an MLP of equal fc
layers with one activation (specs.mlp_spec), values the page's sliders offer, and no other setting
changed from its default; otherwise toy_page_settings says why not.
"""

from __future__ import annotations

import streamlit as st

from playground import families, settings, specs
from playground.config import TrainConfig
from playground.runs import Run

TOY_PAGE = "app_pages/toy.py"
DATA_SETTINGS = ("toy_points", "toy_noise", "toy_train_share", "toy_seed", "toy_features")
PAGE = settings.TOY_PAGE  # the Toy page's widgets, declared with their ranges
PAGE_DEFAULTS = {"toy_width": PAGE["toy_width"].default, "toy_activation": PAGE["toy_activation"].default}  # for a run with no hidden layer


def _mlp(spec: str) -> tuple[int, int, str] | str:
    """(depth, width, activation) of a spec that specs.mlp_spec writes, else why it is not one."""
    b, why = families.from_spec(spec)
    if b is None:
        return why
    if b.conv:
        return "it has conv layers"
    if any(f.batchnorm or f.dropout for f in b.fc):
        return "it has batch norm or dropout"
    if len({f.units for f in b.fc}) > 1:
        return "its hidden layers differ in width"
    if not b.fc:
        return 0, PAGE_DEFAULTS["toy_width"], PAGE_DEFAULTS["toy_activation"]
    depth, width, act = len(b.fc), b.fc[0].units, b.activation
    if specs.mlp_spec(depth, width, act) != families.normalize(spec):
        return "its layers are not hidden fc layers with one activation"
    return depth, width, act


def toy_page_settings(run: Run) -> tuple[dict, str]:
    """(setting name -> value for the Toy page, "") or ({}, why the Toy page cannot show this run)."""
    c = run.config
    mlp = _mlp(c.model or "")
    if isinstance(mlp, str):
        return (
            {},
            f"the Toy 2D page builds hidden fc layers of one width with one activation; run {run.id}'s model '{c.model}' does not fit: {mlp}",
        )
    depth, width, act = mlp
    values = {
        "toy_set": c.dataset, "toy_depth": depth, "toy_width": width, "toy_activation": act, "toy_lr": c.lr, "toy_epochs": c.epochs,
        "toy_batch": c.batch_size, "toy_optimizer": c.optimizer, "toy_reg": c.reg, "toy_reg_rate": c.reg_rate,
    }  # fmt: skip
    problems = [
        f"{PAGE[n].label.lower()} {settings.show(n, v)} (the page takes {PAGE[n].allowed})"
        for n, v in values.items()
        if settings.problem(n, v)
    ]
    for name in DATA_SETTINGS[:4]:
        s = settings.ALL[name]
        if not s.ui_low <= getattr(c, name) <= s.ui_high:
            problems.append(f"{name.replace('_', ' ')} {getattr(c, name):g} (the page offers {s.ui_low:g} to {s.ui_high:g})")
    page = TrainConfig(
        dataset=c.dataset, model=specs.mlp_spec(depth, width, act), lr=c.lr, epochs=c.epochs, batch_size=c.batch_size,
        optimizer=c.optimizer, reg=c.reg, reg_rate=c.reg_rate, **{n: getattr(c, n) for n in DATA_SETTINGS},
    )  # fmt: skip
    if not problems and page.key != c.key:
        problems.append("settings the Toy page does not have (e.g. a seed, momentum, a scheduler or a validation split)")
    if problems:
        return {}, f"the Toy 2D page cannot set run {run.id}'s " + "; ".join(problems)
    return values | {n: getattr(c, n) for n in DATA_SETTINGS}, ""


def open_on_toy_page(run: Run) -> str:
    """Set the Toy page's widgets to the run's settings and switch to it; returns why not, if it cannot."""
    from playground.ui.state import choose

    values, why = toy_page_settings(run)
    if not values:
        return why
    for name, value in values.items():
        choose(name, value)  # declared settings: their dict and their widget key
    st.session_state.pop("toy_features_pills", None)  # the feature toggles start again from the run's features
    st.session_state.toy_run = run.id
    st.switch_page(TOY_PAGE)
    return ""
