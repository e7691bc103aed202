"""Widgets that produce a layer spec: a preset, depth/width sliders, or the spec text itself."""

from __future__ import annotations

from typing import Optional

import streamlit as st

from playground import datasets, specs
from playground.errors import PlaygroundError
from playground.models import check_size, preview_model
from playground.ui.state import set_defaults

MODES = ("Preset", "Layers", "Spec text")
WIDTHS = [8, 16, 32, 64, 128, 256, 512, 728, 1024, 2048]


def _current_spec() -> Optional[str]:
    return st.session_state.get("model_spec")


def _prefill_text() -> None:
    # Switching to "Spec text" starts from the model chosen so far, so the student can edit it.
    if st.session_state.model_mode == "Spec text" and _current_spec() is not None:
        st.session_state.spec_text = _current_spec()


def model_picker(dataset: str) -> Optional[str]:
    """Draw the model widgets; return the canonical spec, or None (with an error shown) if it is invalid."""
    mode = st.radio("Build the model from", MODES, key="model_mode", horizontal=True, on_change=_prefill_text)
    try:
        if mode == "Preset":
            name = st.selectbox("Preset", list(specs.PRESETS), key="preset")
            st.caption(specs.PRESETS[name].description)
            spec = specs.resolve(name)
        elif mode == "Layers":
            set_defaults(depth=2, width=512, dropout=0.0)
            c1, c2 = st.columns(2)
            depth = c1.slider("Hidden layers (depth)", 0, 8, key="depth")
            width = c2.select_slider("Units per layer (width)", WIDTHS, key="width")
            activation = c1.selectbox("Activation", specs.ACTIVATIONS, key="activation")
            dropout = c2.slider("Dropout", 0.0, 0.8, step=0.05, key="dropout")
            batchnorm = st.toggle("Batch normalisation after each hidden layer", key="batchnorm")
            spec = specs.mlp_spec(depth, width, activation, dropout, batchnorm)
        else:
            set_defaults(spec_text=specs.PRESETS[specs.DEFAULT_PRESET].spec)
            text = st.text_input(
                "Layer spec",
                key="spec_text",
                help=f"Tokens: {specs.GRAMMAR}. The classifier layer is added for you.",
            )
            spec = specs.normalize(text)
        meta = datasets.info(dataset)
        model = preview_model(spec, meta.input_shape, meta.num_classes)
        n_params = check_size(model)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return None
    st.session_state.model_spec = spec
    st.code(spec or "(empty: a single linear layer)", language=None)
    st.caption(f"**{n_params:,}** trainable parameters, classifier Linear(→ {meta.num_classes}) included.")
    with st.expander("The PyTorch module"):
        st.code(str(model), language=None)
    return spec
