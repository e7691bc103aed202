"""Conv arithmetic page: size calculators, receptive fields of the current model, and a
convolution worked by hand and checked against torch."""

import streamlit as st

from playground import datasets
from playground.errors import PlaygroundError
from playground.ui import conv_view
from playground.ui.model_builder import current_spec

st.title("Convolution arithmetic")
sizes, field, hand = st.tabs(["Sizes", "Receptive field", "Convolution by hand"])

with sizes:
    st.markdown("One side of a square input; the same formula holds for height and width separately.")
    conv_view.calculators()

with field:
    meta = datasets.info(st.session_state.dataset)
    spec = current_spec()
    st.markdown(
        f"Receptive field of every conv and pool layer of the current model on {meta.title} "
        f"({'x'.join(map(str, meta.input_shape))}): how many input pixels one unit can see."
    )
    st.code(spec or "(empty: a single linear layer)", language=None)
    st.page_link("app_pages/model.py", label="Change the model", icon=":material/build:")
    st.markdown(
        "Starting from r = 1 and j = 1 at the input: **r ← r + (k − 1)·j**, then **j ← j·s** "
        "(j is the distance in input pixels between neighbouring units; padding moves the field but does not widen it)."
    )
    try:
        conv_view.receptive_field_table(spec, meta.input_shape, meta.num_classes)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")

with hand:
    conv_view.by_hand()
