"""Entry point: `streamlit run streamlit_app.py` (see README)."""

import streamlit as st

from playground.ui import share, sidebar
from playground.ui.state import keep_widget_state

st.set_page_config(page_title="Deep-learning playground", page_icon=":material/neurology:", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/data.py", title="Data", icon=":material/image:", url_path="data"),
        st.Page("app_pages/model.py", title="Model", icon=":material/account_tree:", url_path="model"),
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", default=True),
        st.Page("app_pages/results.py", title="Results", icon=":material/insights:", url_path="results"),
        st.Page("app_pages/toy.py", title="Toy 2D", icon=":material/scatter_plot:", url_path="toy"),
        st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/history:", url_path="runs"),
        st.Page("app_pages/conv.py", title="Conv arithmetic", icon=":material/calculate:", url_path="conv"),
    ]
)
keep_widget_state()
problems = share.restore()
sidebar.render()
if problems:
    st.warning("This link had settings that are not allowed; they were left at their defaults: " + "; ".join(problems), icon=":material/link_off:")
share.write()
page.run()
