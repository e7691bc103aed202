"""Datasets in the app: load once per process, offer the download when files are missing."""

from __future__ import annotations

import numpy as np
import streamlit as st

from playground import augment, datasets, settings, zca
from playground.errors import PlaygroundError
from playground.toy import ToyParams


@st.cache_resource(show_spinner=False)
def _load(name: str, folder: str) -> datasets.Dataset:  # keyed by folder too: another $PLAYGROUND_HOME, other files
    return datasets.load(name)


TOY_DEFAULTS = {
    name: settings.ALL[name].default for name in ToyParams().config_fields()
}  # the toy data settings, declared in playground.settings


def toy_params() -> ToyParams:
    """The toy-set settings chosen on the Toy 2D page or in a link (or the defaults)."""
    from playground.ui import state

    return ToyParams(*(state.current(name) for name in TOY_DEFAULTS))


def dataset_or_stop(name: str) -> datasets.Dataset:
    """The loaded dataset; if it cannot be had, say how to get it (with a download button) and stop the page."""
    if datasets.info(name).is_toy:
        try:
            return datasets.load(name, toy_params=toy_params())
        except PlaygroundError as e:
            st.error(str(e), icon=":material/error:")
            st.stop()
    available, _ = datasets.status(name)
    if not available:
        st.warning(datasets.how_to_get(name), icon=":material/cloud_download:")
        if st.button(f"Download {datasets.info(name).title} now (needs internet, about {datasets.download_mb(name)} MB)", type="primary"):
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

    def progress(done: int, total: int | None, what: str) -> None:
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


def augmentation_preview(ds: datasets.Dataset, indices: list[int], names: str, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    x = ds.x_train[indices]
    aug = augment.preview(x, names, seed) if names else x
    return [image_array(i, 3) for i in x], [image_array(i, 3) for i in aug]


@st.cache_data(show_spinner=False)
def normalisation_stats(name: str, folder: str) -> tuple[list[float], list[float]]:
    n = augment.Normalizer.fit("standardize", _load(name, folder).x_train)
    return n.mean.tolist(), n.std.tolist()


@st.cache_resource(show_spinner=False)
def zca_basis(name: str, folder: str) -> zca.Eig:
    """Sigma's eigendecomposition for the training images: the costly part, once per dataset and process."""
    return zca.decompose(_load(name, folder).x_train)


@st.cache_data(show_spinner=False)
def zca_preview(name: str, folder: str, indices: list[int], eps: float) -> tuple[list[np.ndarray], list[np.ndarray], int, int, float]:
    """Training images, their whitened copies (each rescaled to 0-255), and at eps: the directions
    whitened (variance above eps), all D directions, and the share of the variance they hold."""
    eig, x = zca_basis(name, folder), _load(name, folder).x_train[indices]
    whitened = [image_array(i, 3) for i in zca.preview(eig, x, eps)]
    return [image_array(i, 3) for i in x], whitened, int((eps < eig.S).sum()), len(eig.S), eig.whitened(eps)
