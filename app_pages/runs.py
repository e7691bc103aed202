"""Runs page: every stored run; filter, compare any two or more, re-open one, delete."""

import functools

import streamlit as st

from playground import datasets
from playground.classroom import roster
from playground.runs import ACTIVE
from playground.ui import me, sweep_view
from playground.ui.export_view import export_expander
from playground.ui.history import column_config, difference_labels, runs_frame, styled
from playground.ui.toy_link import open_on_toy_page
from playground.wording import plural

store = me.jobs().store


@functools.cache
def who(owner: str) -> str:
    person = roster.by_owner(store.store, owner)
    return person.name if person is not None else "(before class mode)"


def _delete() -> None:
    """Delete the picked runs (not those still queued or running); runs before the widgets are drawn."""
    busy = []
    for run_id in st.session_state.history_pick:
        run = store.get(run_id)
        if run is not None and run.status in ACTIVE:
            busy.append(run_id)
        elif run is not None:
            store.delete(run_id)
    st.session_state.history_pick, st.session_state.history_confirm = [], False
    if busy:
        st.session_state.history_notice = f"Runs {busy} are still queued or running: stop them first. The others were deleted."


st.title("Run history")
runs = store.list_runs(limit=2000)
if not runs:
    st.info("No runs yet: train one on the Train page or run a sweep on the Experiments page.", icon=":material/info:")
    st.stop()

c = st.columns([1.2, 1.2, 2])
statuses = c[0].multiselect("Status", sorted({r.status for r in runs}), key="history_status", placeholder="any")
names = c[1].multiselect("Dataset", sorted({r.config.dataset for r in runs}), key="history_dataset", placeholder="any")
text = c[2].text_input("Model contains", key="history_model", placeholder="e.g. conv or fc512")
shown = [
    r
    for r in runs
    if (not statuses or r.status in statuses)
    and (not names or r.config.dataset in names)
    and (text.strip().lower() in (r.config.model or "(linear)"))
]
st.caption(f"{len(shown):,} of {plural(len(runs), 'run')}.")
frame = runs_frame(shown)
whose = me.viewer().owner and me.viewer().teacher  # class mode: the teacher sees whose each run is
if whose:
    frame.insert(1, "student", [who(r.owner) for r in shown])
st.dataframe(styled(frame), hide_index=True, width="stretch", column_config=column_config())

by_id = {r.id: r for r in runs}
picked = st.multiselect(
    "Runs to compare, re-open or delete",
    [r.id for r in shown],
    key="history_pick",
    format_func=lambda i: (
        f"#{i} {who(by_id[i].owner) + ' · ' if whose else ''}{by_id[i].config.model or '(linear)'} · lr {by_id[i].config.lr:g} · {by_id[i].status}"
    ),
)
chosen = [by_id[i] for i in picked if i in by_id]
c = st.columns([1.3, 1, 2.7], vertical_alignment="center")
toy_run = len(chosen) == 1 and chosen[0].config.dataset in datasets.REGISTRY and datasets.info(chosen[0].config.dataset).is_toy
if toy_run:  # the Train page has no toy settings: the Toy 2D page shows this run with its regions
    if c[0].button("Open on the Toy 2D page", icon=":material/open_in_new:", key="history_open_toy"):
        st.session_state.history_notice = f"Cannot open it there: {open_on_toy_page(chosen[0])}."  # switches page when it can
elif c[0].button("Open in the Train page", icon=":material/open_in_new:", disabled=len(chosen) != 1):
    st.session_state.run_id = st.session_state.picked_run = chosen[0].id
    st.session_state.cached_run = None
    st.switch_page("app_pages/train.py")
confirm = c[2].checkbox(f"Yes, delete {plural(len(chosen), 'run')} and their curves", key="history_confirm", disabled=not chosen)
c[1].button("Delete", icon=":material/delete:", disabled=not (chosen and confirm), on_click=_delete)
if notice := st.session_state.pop("history_notice", None):
    st.warning(notice, icon=":material/warning:")

if len(chosen) >= 2:
    st.subheader(f"Comparing {len(chosen)} runs")
    labels = difference_labels(chosen)
    st.dataframe(styled(runs_frame(chosen)), hide_index=True, width="stretch", column_config=column_config())
    classes = {datasets.info(r.config.dataset).num_classes for r in chosen if r.config.dataset in datasets.REGISTRY}
    data = sweep_view.series(store, [(labels[r.id], r.config.seed, r.id) for r in chosen])
    sweep_view.charts(data, "run", max(classes) if classes else 10)
elif len(chosen) == 1:
    st.caption("Pick one more run to compare.")
    export_expander(chosen[0])
