"""Results page: what a finished run learned and where it fails; exports."""

import streamlit as st

from playground import insight
from playground.errors import PlaygroundError
from playground.ui import errors_view as ev
from playground.ui import me
from playground.ui import network_view as nv
from playground.ui import results_view as rv
from playground.wording import plural

st.title("Results")
store = me.jobs().store
runs, regressions = rv.classifiers(
    [r for r in store.list_runs(limit=500) if r.status in ("completed", "stopped") and insight.has_weights(r.id)]
)
if regressions:
    st.caption(
        f"{plural(regressions, 'regression run')} (toy sets plane and multi-gaussian) {'is' if regressions == 1 else 'are'} not listed: their maps are on the Toy 2D page."
    )
if not runs:
    st.info("No finished run with stored weights yet: train one on the Train page, then come back.", icon=":material/info:")
    st.stop()
ids = [r.id for r in runs]
if st.session_state.get("results_run") not in ids:
    st.session_state.results_run = st.session_state.get("run_id") if st.session_state.get("run_id") in ids else ids[0]
run_id = st.selectbox("Run", ids, key="results_run", format_func=lambda i: rv.run_label(next(r for r in runs if r.id == i)))
run = next(r for r in runs if r.id == run_id)
try:
    p = rv.predictions_of(run)
except PlaygroundError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
st.caption(rv.accuracy_line(run, p))

# "Why it errs" groups the four views that explain mistakes (top losses, most confused, projector,
# saliency) behind one switch: ten tabs would not fit one row, and only the view on screen computes.
tabs = st.tabs(
    ["Confusion matrix", "Gallery", "Why it errs", "Inside the network", "Compare two runs", "What it learned", "Your own image", "Export"]
)
with tabs[0]:
    rv.confusion_tab(run, p)
with tabs[1]:
    rv.gallery_tab(run, p)
with tabs[2]:
    ev.why_tab(run, p)
with tabs[3]:
    nv.network_tab(run)
with tabs[4]:
    rv.compare_tab(run, p, runs)
with tabs[5]:
    rv.learned_tab(run, p)
with tabs[6]:
    upload = rv.upload_tab(run, p)
    if upload is not None:
        st.markdown("**Why it thinks so**")
        ev.saliency_panel(run, p, upload.image, None, "upload", "your image")
with tabs[7]:
    rv.export_tab(run, p)
