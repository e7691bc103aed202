"""Entry point: `streamlit run streamlit_app.py` (see README)."""

import streamlit as st

from playground import jobs
from playground.ui import challenge_view, me, share, sidebar, signin, state

st.set_page_config(page_title="Deep-learning playground", page_icon=":material/neurology:", layout="wide")
jobs.manager().executor.start()  # the training process warms up while the student reads the page
signin.gate()  # class mode: the sign-in page until this browser has signed in (laptop mode: nobody to sign in)
class_pages = (
    [st.Page("app_pages/classroom.py", title="Class", icon=":material/groups:", url_path="class")]
    if me.viewer().teacher and me.viewer().owner
    else []
)
if challenge_view.current() is not None:  # class mode, once the teacher has set a challenge
    class_pages.append(st.Page("app_pages/challenge.py", title="Challenge", icon=":material/emoji_events:", url_path="challenge"))

page = st.navigation(
    [
        st.Page("app_pages/data.py", title="Data", icon=":material/image:", url_path="data"),
        st.Page("app_pages/model.py", title="Model", icon=":material/account_tree:", url_path="model"),
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="start", default=True),  # served at /
        st.Page("app_pages/results.py", title="Results", icon=":material/insights:", url_path="results"),
        st.Page("app_pages/toy.py", title="Toy 2D", icon=":material/scatter_plot:", url_path="toy"),
        st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/history:", url_path="runs"),
        st.Page("app_pages/conv.py", title="Conv arithmetic", icon=":material/calculate:", url_path="conv"),
        st.Page("app_pages/backprop.py", title="Backprop by hand", icon=":material/function:", url_path="backprop"),
        st.Page("app_pages/labs.py", title="Labs", icon=":material/school:", url_path="labs"),
        *class_pages,
        # /train opens the Train page too (a default page is served at / only; its url_path is not matched)
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train", visibility="hidden"),
    ]
)
state.keep()  # the settings Streamlit dropped with their widgets come back before anything is drawn
if problems := share.restore():  # shown until dismissed: a rerun must not hide what the link lost
    st.session_state.link_problems = problems
sidebar.render(own_data=page.url_path in ("toy", "backprop", "labs"))
if st.session_state.get("link_problems"):
    st.warning(
        "This link has settings the playground cannot use as they are:\n\n" + "\n".join(f"- {p}" for p in st.session_state.link_problems),
        icon=":material/link_off:",
    )
    if st.button("Understood", key="link_problems_seen", icon=":material/check:"):
        st.session_state.link_problems = []
        st.rerun()
share.write()  # at once: a slow page must not leave the address bar without the settings
try:
    page.run()
finally:  # also after st.stop() or st.rerun(): the address bar holds what the page now shows
    state.record()
    share.write()
