"""Train page: pick a model and hyperparameters, train in the background, watch the curves."""

import streamlit as st

from playground import datasets
from playground.errors import PlaygroundError
from playground.families import anatomy
from playground.ui import challenge_view, me
from playground.ui.data import dataset_or_stop
from playground.ui.lr_find_view import lr_finder
from playground.ui.model_builder import dataset_model_builder
from playground.ui.run_view import run_panel, runs_table
from playground.ui.train_form import run_differs_notice, train_form
from playground.wording import plural, sentence

dataset = st.session_state.dataset
st.title("Train")
dataset_or_stop(dataset)

model_col, hyper_col = st.columns(2, gap="large")
with model_col:
    st.subheader("Model")
    spec = dataset_model_builder(dataset, blocks_expanded=False)
    if spec is not None:
        meta = datasets.info(dataset)
        n_params = anatomy(spec, meta.input_shape, meta.num_classes).trainable_params
        st.caption(f"**{n_params:,}** trainable parameters, the classifier Linear(→ {meta.num_classes}) included.")
        st.page_link("app_pages/model.py", label="Worked out layer by layer on the Model page", icon=":material/calculate:")
with hyper_col:
    st.subheader("Training")
    config = train_form(dataset, spec)  # an invalid spec (None): the widgets stay, disabled

manager = me.jobs()
if "run_id" not in st.session_state and config is not None and (live := manager.unfinished(config)) is not None:
    st.session_state.run_id, st.session_state.cached_run = live.run_id, None  # a reload, a new tab: the run these settings are training
busy = [j for j in manager.active() if j.run_id != st.session_state.get("run_id")]
if busy:
    st.caption(f"{plural(len(busy), 'other run')} queued or running: a new run starts after {'it' if len(busy) == 1 else 'them'}.")
if st.button("Train", type="primary", icon=":material/play_arrow:", disabled=config is None):
    try:
        job = manager.submit(config)
    except PlaygroundError as e:  # class mode: past the class's limits
        st.error(sentence(str(e)), icon=":material/block:")
    else:
        st.session_state.run_id = job.run_id
        st.session_state.cached_run = job.run_id if job.cached else None
        if job.cached:
            st.toast("This exact configuration was trained before: its results come from the cache.", icon=":material/bolt:")
challenge_view.enter_button(config)  # class mode, while the teacher's challenge is open

lr_finder(config)  # the range test, its suggestion and a button that sets the lr slider (drawn after Train: still the first button)

st.caption(
    ":material/link: The address bar holds these settings: copy it to share this exact setup (dataset, model, hyperparameters, seed)."
)

if "run_id" in st.session_state:
    st.divider()
    st.subheader(f"Run {st.session_state.run_id}")
    shown_as = challenge_view.as_run_shown(st.session_state.run_id, config)  # a challenge entry: on the public test half
    run_differs_notice(st.session_state.run_id, shown_as)  # the run shown is not what the form now says
    run_panel(st.session_state.run_id)
    st.page_link(
        "app_pages/results.py", label="Confusion matrix, mistakes, filters and exports on the Results page", icon=":material/insights:"
    )

st.divider()
st.subheader("Recent runs")
picked = runs_table()
if picked is not None and picked != st.session_state.get("picked_run"):  # act on a new selection only
    st.session_state.picked_run = st.session_state.run_id = picked
    st.session_state.cached_run = None
    st.rerun()
