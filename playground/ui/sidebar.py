"""The sidebar every page shares: dataset choice and where things run."""

from __future__ import annotations

import streamlit as st

from playground import datasets
from playground.devices import resolve_device
from playground.home import playground_home
from playground.ui import me, signin, state


def render(own_data: bool = False) -> str:
    """Draw the sidebar; return the chosen dataset name (also in st.session_state.dataset).
    own_data: the page makes its own data (Toy 2D, Backprop): the dataset is named, not offered, there."""
    names = list(datasets.REGISTRY)
    state.prepare("dataset", datasets.default_dataset())  # the one chosen, else Fashion-MNIST if it is here, else an offline set
    if own_data:
        name = state.current("dataset", datasets.default_dataset())
        with st.sidebar:
            st.caption(f"This page makes its own data. The other pages work on **{datasets.info(name).title}**, chosen there.")
            _where()
        return name
    with st.sidebar:
        name = st.selectbox(
            "Dataset",
            names,
            key="dataset",
            format_func=lambda n: datasets.info(n).title,
            help="Every page works on this dataset.",
        )
        state.remember("dataset", name)
        meta = datasets.info(name)
        available, _source = datasets.status(name)
        if meta.is_toy:
            st.caption(f"2D points, {meta.num_classes} classes; the Toy 2D page sets their number and noise.")
        else:
            shape = "x".join(map(str, meta.input_shape))
            st.caption(f"{shape} images, {meta.num_classes} classes, {meta.train_size:,} train / {meta.test_size:,} test.")
        if not available:
            st.caption(":orange[Not on this machine yet: the Data page can download it.]")
        if not datasets.status(datasets.DEFAULT_DATASET)[0] and name != datasets.DEFAULT_DATASET:
            st.info(
                f"Fashion-MNIST is not on this machine, so the playground opened on {meta.title}. "
                "To get Fashion-MNIST, choose it above and press Download (needs internet once), "
                "or `sudo apt-get install dataset-fashion-mnist`.",
                icon=":material/info:",
            )
        _where()
    return name


def _where() -> None:
    """Who is signed in (class mode), the device, whether the trainer is ready, where runs are stored."""
    st.divider()
    viewer = me.viewer()
    if viewer.owner:
        st.caption(f"Signed in as **{viewer.name}** ({'teacher' if viewer.teacher else 'student'})")
        st.button("Sign out", icon=":material/logout:", key="sign_out", on_click=signin.sign_out)
    trainer = "ready" if me.jobs().executor.ready else "starting (PyTorch loads in a few seconds; a run pressed now waits for it)"
    where = f" · runs stored in `{playground_home()}`" if me.at_the_server() else ""  # a student needs no server path
    st.caption(f"Device: **{resolve_device('auto')}** · trainer {trainer}{where}")
