"""The sidebar every page shares: dataset choice and where things run."""

from __future__ import annotations

import streamlit as st

from playground import datasets
from playground.home import playground_home
from playground.train import resolve_device


def render() -> str:
    """Draw the sidebar; return the chosen dataset name (also in st.session_state.dataset)."""
    names = list(datasets.REGISTRY)
    st.session_state.setdefault("dataset", datasets.DEFAULT_DATASET)
    with st.sidebar:
        name = st.selectbox(
            "Dataset",
            names,
            key="dataset",
            format_func=lambda n: datasets.info(n).title,
            help="Every page works on this dataset.",
        )
        meta = datasets.info(name)
        C, H, W = meta.input_shape
        available, source = datasets.status(name)
        st.caption(f"{C}x{H}x{W} images, {meta.num_classes} classes, {meta.train_size:,} train / {meta.test_size:,} test.")
        if not available:
            st.caption(":orange[Not on this machine yet: the Data page can download it.]")
        st.divider()
        st.caption(f"Device: **{resolve_device('auto')}** · runs stored in `{playground_home()}`")
    return name
