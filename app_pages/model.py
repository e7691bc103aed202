"""Model page: build a network, see every layer's parameters worked out, predict them first."""

import streamlit as st

from playground import datasets
from playground.errors import PlaygroundError
from playground.families import anatomy, collapsed_linear
from playground.ui import anatomy_view
from playground.ui.model_builder import model_builder, module_text
from playground.ui.state import set_defaults

st.title("Model anatomy")
meta = datasets.info(st.session_state.dataset)

set_defaults(anatomy_input="dataset")
source = st.radio(
    "Input",
    ("dataset", "custom"),
    key="anatomy_input",
    horizontal=True,
    format_func=lambda s: (
        f"{meta.title} images ({'x'.join(map(str, meta.input_shape))}, {meta.num_classes} classes)" if s == "dataset" else "Another shape"
    ),
    help="Counts need only the input's shape, never the image files.",
)
if source == "custom":
    set_defaults(custom_C=3, custom_H=32, custom_W=32, custom_classes=10)
    c = st.columns(4)
    C = c[0].number_input("Channels C", 1, 512, key="custom_C")
    H = c[1].number_input("Height H", 1, 1024, key="custom_H")
    W = c[2].number_input("Width W", 1, 1024, key="custom_W")
    classes = c[3].number_input("Classes", 1, 10_000, key="custom_classes")
    input_shape, num_classes, train_images = (C, H, W), classes, None
else:
    input_shape, num_classes, train_images = meta.input_shape, meta.num_classes, meta.train_size

spec = model_builder(input_shape, num_classes)
if spec is None:
    st.stop()
try:
    table = anatomy(spec, input_shape, num_classes)
except PlaygroundError:  # already shown by the builder; nothing to count
    st.stop()

collapsed = collapsed_linear(spec, input_shape, num_classes)
if collapsed:
    layers, n, worked = collapsed
    st.info(
        f"**No non-linearity.** Without an activation (or max-pooling) between them, these {layers} weight layers are "
        f"all affine maps, and a composition of affine maps is one affine map: the whole network computes the same kind "
        f"of function as a single Linear layer from the input to the classes, which has {worked} parameters, against "
        f"{table.trainable_params:,} here. The extra layers add parameters, not expressive power; add an activation "
        "to let depth pay off.",
        icon=":material/linear_scale:",
    )

st.subheader("Layer by layer")
quiz = st.toggle("Predict first: hide the counts and check my own", key="quiz_mode")
if quiz:
    anatomy_view.layer_table(table, answers=False)
    anatomy_view.predict_then_check(table)
else:
    anatomy_view.totals(table, train_images)
    anatomy_view.layer_table(table)
    st.altair_chart(anatomy_view.share_chart(table), width="stretch")
with st.expander("How each layer is counted"):
    st.markdown(anatomy_view.LEGEND)
with st.expander("Check it in Python"):
    st.markdown("The same model in PyTorch, and the line that counts its trainable parameters:")
    st.code(module_text(spec, input_shape, num_classes), language="python")
    st.code("sum(p.numel() for p in model.parameters() if p.requires_grad)" + f"  # {table.trainable_params:,}", language="python")
    st.page_link("app_pages/conv.py", label="Receptive fields and conv arithmetic", icon=":material/calculate:")
