"""Labs page: a course assignment as guided steps. Each step asks its question, applies the settings
it needs to the Train page with one click, runs what it needs (from the cache when trained before),
fills its deliverable and keeps the student's answer; the lab exports as a notebook or a report."""

import streamlit as st

from playground.labs import format as lab_format
from playground.ui import lab_view, me

st.title("Labs")
server = me.at_the_server()  # the laptop's user, the teacher: the server's folders and command line are theirs
st.caption(
    "Each lab is one of the course's assignments, step by step: the question, the settings it needs, the runs, and the "
    "table or chart to hand in. Your place and your answers are kept."
    + (
        f" A teacher writes a new lab as a TOML file in `{lab_format.folders()[-1]}` (see the README). "
        "From a terminal: `python -m playground lab run NAME --quick`."
        if server
        else ""
    )
)
lab = lab_view.pick_lab()
if lab is None:
    st.info(f"No lab is installed: the shipped labs are in `{lab_format.SHIPPED}`." if server else "No lab is installed: ask your teacher.")
    st.stop()
p = lab_view.progress_of(lab)
step = lab_view.header(lab, p)
st.subheader(f"Step {step.index} of {len(lab.steps)}: {step.title}")
st.markdown(step.question)
lab_view.settings_box(lab, step, p)
lab_view.deliverable(lab, step, p)
lab_view.answer_box(lab, step, p)
lab_view.explore(step)
st.divider()
lab_view.export(lab, p)
