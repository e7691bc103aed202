"""Datasets in the app: load once per process, offer the download when files are missing."""

from __future__ import annotations

from typing import Optional

import numpy as np
import streamlit as st

from playground import datasets
from playground.errors import PlaygroundError


@st.cache_resource(show_spinner=False)
def _load(name: str, folder: str) -> datasets.Dataset:  # keyed by folder too: another $PLAYGROUND_HOME, other files
    return datasets.load(name)


def dataset_or_stop(name: str) -> datasets.Dataset:
    """The loaded dataset; if it cannot be had, say how to get it (with a download button) and stop the page."""
    available, _ = datasets.status(name)
    if not available:
        st.warning(datasets.how_to_get(name), icon=":material/cloud_download:")
        if st.button(f"Download {datasets.info(name).title} now (needs internet, about 30 MB)", type="primary"):
            _download(name)
        st.stop()
    try:
        with st.spinner(f"Loading {datasets.info(name).title}..."):
            return _load(name, str(datasets.raw_dir(name)))
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


def _download(name: str) -> None:
    bar = st.progress(0.0, text="Connecting...")

    def progress(done: int, total: Optional[int], what: str) -> None:
        fraction = min(done / total, 1.0) if total else 0.0
        bar.progress(fraction, text=f"{what}: {done / 1e6:.1f} of {total / 1e6 if total else 0:.1f} MB")

    try:
        datasets.prepare(name, progress)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return
    st.rerun()


def image_array(x, scale: int = 4) -> np.ndarray:
    """One uint8 image tensor [C, H, W] -> an array st.image shows crisply, upscaled by `scale`."""
    a = x.numpy()
    a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return np.kron(a, np.ones((scale, scale) + (1,) * (a.ndim - 2), dtype=np.uint8))
