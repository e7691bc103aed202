"""Open a stored toy 2D run on the Toy 2D page: its widgets set from the run's config.

The Toy page builds its run from its own widgets (toy_set, toy_depth, toy_width, ...) and the four
declared toy data settings, and shows the run in st.session_state.toy_run when the widgets' config
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
# What the Toy page's widgets offer (app_pages/toy.py)
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
BATCHES = (1, 4, 8, 16, 32, 64, 128, 256)
OPTIMIZERS = ("adam", "sgd")
MAX_DEPTH, MAX_WIDTH = 5, 64
DATA_SETTINGS = ("toy_points", "toy_noise", "toy_train_share", "toy_seed")
PAGE_DEFAULTS = {"toy_width": 8, "toy_activation": "tanh"}  # the Toy page's, for a run with no hidden layer


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
    """(widget key -> value for the Toy page, "") or ({}, why the Toy page cannot show this run)."""
    c = run.config
    mlp = _mlp(c.model or "")
    if isinstance(mlp, str):
        return (
            {},
            f"the Toy 2D page builds hidden fc layers of one width with one activation; run {run.id}'s model '{c.model}' does not fit: {mlp}",
        )
    depth, width, act = mlp
    problems = []
    if depth > MAX_DEPTH or not 1 <= width <= MAX_WIDTH:
        problems.append(f"at most {MAX_DEPTH} hidden layers of 1 to {MAX_WIDTH} units")
    if c.lr not in LRS:
        problems.append(f"learning rate {c.lr:g} (the page offers {', '.join(f'{v:g}' for v in LRS)})")
    if c.batch_size not in BATCHES:
        problems.append(f"batch size {c.batch_size}")
    if not (5 <= c.epochs <= 500 and c.epochs % 5 == 0):
        problems.append(f"{c.epochs} epochs (the page offers 5 to 500 in steps of 5)")
    if c.optimizer not in OPTIMIZERS:
        problems.append(f"optimizer {c.optimizer}")
    for name in DATA_SETTINGS:
        s = settings.ALL[name]
        if not s.ui_low <= getattr(c, name) <= s.ui_high:
            problems.append(f"{name.replace('_', ' ')} {getattr(c, name):g} (the page offers {s.ui_low:g} to {s.ui_high:g})")
    page = TrainConfig(
        dataset=c.dataset,
        model=specs.mlp_spec(depth, width, act),
        lr=c.lr,
        epochs=c.epochs,
        batch_size=c.batch_size,
        optimizer=c.optimizer,
        **{n: getattr(c, n) for n in DATA_SETTINGS},
    )
    if not problems and page.key != c.key:
        problems.append("settings the Toy page does not have (e.g. a seed, momentum, a scheduler or a validation split)")
    if problems:
        return {}, f"the Toy 2D page cannot set run {run.id}'s " + "; ".join(problems)
    return {
        "toy_set": c.dataset,
        "toy_depth": depth,
        "toy_width": width,
        "toy_activation": act,
        "toy_lr": c.lr,
        "toy_epochs": c.epochs,
        "toy_batch": c.batch_size,
        "toy_optimizer": c.optimizer,
        **{n: getattr(c, n) for n in DATA_SETTINGS},
    }, ""


def open_on_toy_page(run: Run) -> str:
    """Set the Toy page's widgets to the run's settings and switch to it; returns why not, if it cannot."""
    from playground.ui.state import choose

    values, why = toy_page_settings(run)
    if not values:
        return why
    kept = st.session_state.setdefault("kept", {})
    for key, value in values.items():
        if key in DATA_SETTINGS:
            choose(key, value)  # declared settings: their dict and their widget key
        else:
            st.session_state[key] = kept[key] = value  # the Toy page's own widgets: kept across the page switch
    st.session_state.toy_run = run.id
    st.switch_page(TOY_PAGE)
    return ""
