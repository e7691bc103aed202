"""Experiments page: sweep one setting over twin runs and compare them, tables filled in."""

import streamlit as st

from playground import datasets, experiments, settings, sweeps
from playground.errors import PlaygroundError
from playground.ui import me, state, sweep_view
from playground.ui.data import dataset_or_stop
from playground.ui.model_builder import dataset_model_builder
from playground.ui.train_form import setting_widget, train_form
from playground.wording import sentence

dataset = st.session_state.dataset
meta = datasets.info(dataset)
st.title("Experiments")
st.caption(
    "Change one thing, compare. The runs of a sweep are twins: identical except for the swept setting, "
    "with the same seed, so the same initial weights and the same batch order."
)
dataset_or_stop(dataset)


def _default_values() -> None:  # a new swept setting starts with its own example values
    state.choose("sweep_values", sweeps.SETTINGS[st.session_state.sweep_param].default_values)


state.prepare("sweep_param")
if st.session_state.sweep_param not in sweeps.SETTINGS:
    state.choose("sweep_param", settings.SWEEP["sweep_param"].default)
state.prepare("sweep_values", sweeps.SETTINGS[st.session_state.sweep_param].default_values)
c = st.columns([1.2, 2.5, 1], vertical_alignment="bottom")
param = state.remember(
    "sweep_param",
    c[0].selectbox(
        "Sweep", list(sweeps.SETTINGS), key="sweep_param", format_func=lambda n: sweeps.SETTINGS[n].title, on_change=_default_values
    ),
)
setting = sweeps.SETTINGS[param]
values_text = state.remember(
    "sweep_values",
    c[1].text_input(f"Values, separated by '{setting.separator}'", key="sweep_values", help=f"e.g. {setting.default_values}"),
)
n_seeds = setting_widget(c[2], "sweep_seeds", help="Repeat every value with seeds 0, 1, ...: the curves show the mean and a min-max band.")

with st.expander("Everything else, held equal (shared with the Train page)"):
    left, right = st.columns(2, gap="large")
    with left:
        spec = dataset_model_builder(dataset, blocks_expanded=False)
    with right:
        base = train_form(dataset, spec)

twins = None
try:
    if base is None:
        raise PlaygroundError("fix the settings held equal first (see above)")
    values = sweeps.parse_values(param, values_text)
    seeds = list(range(int(n_seeds))) if n_seeds > 1 else None
    twins = sweeps.members(base, param, values, seeds)
except PlaygroundError as e:
    st.error(str(e), icon=":material/error:")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


if twins:
    manager = me.jobs()
    fresh = [m for m in twins if manager.store.find_reusable(m.config) is None]
    steps = sum(m.config.total_steps for m in fresh)
    st.caption(
        f"{_count(len(twins), 'run')}: {_count(len(values), 'value')} x {_count(int(n_seeds), 'seed')}; "
        f"{len(twins) - len(fresh)} already trained come from the cache; {steps:,} training steps to go."
        + (" That is a long wait on a laptop: fewer training images or epochs make it a quick demo." if steps > 100_000 else "")
    )
if st.button(
    "Run the sweep", type="primary", icon=":material/play_arrow:", disabled=not twins
):  # stays put, disabled, while the values are wrong
    try:
        sweep, _ = experiments.start(me.jobs(), base, param, values, seeds)
    except PlaygroundError as e:  # class mode: past the class's limits
        st.error(sentence(str(e)), icon=":material/block:")
    else:
        st.session_state.sweep_id = sweep.id

store = me.jobs().store
stored = store.list_sweeps()
if stored:
    ids = [d["id"] for d in stored]
    if st.session_state.get("sweep_id") not in ids:
        st.session_state.sweep_id = ids[0]
    st.divider()
    labels = {d["id"]: sweep_view.sweep_label(d) for d in stored}
    chosen = st.selectbox("Results of sweep", ids, key="sweep_id", format_func=labels.get)
    sweep_view.sweep_results(chosen)
