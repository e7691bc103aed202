"""Data page: sample images with class names, shapes, a labelled grid, class counts."""

import streamlit as st

from playground import datasets
from playground.ui import charts
from playground.ui.data import dataset_or_stop, image_array
from playground.ui.state import set_defaults

name = st.session_state.dataset
meta = datasets.info(name)
st.title(f"Data: {meta.title}")
st.caption(meta.description)
ds = dataset_or_stop(name)
C, H, W = meta.input_shape

st.subheader("Three training images of different classes")
trio = datasets.first_of_each_class(ds.y_train, 3)
for col, i in zip(st.columns(6), trio):
    label = int(ds.y_train[i])
    col.image(image_array(ds.x_train[i]), width=112, caption=f"#{i}: {meta.classes[label]} (label {label})")

batch = st.session_state.get("batch_size", 64)
st.markdown(
    f"""
- One training image has shape **[{C}, {H}, {W}]** (channels, height, width): {C * H * W:,} numbers.
- A batch of {batch} images has shape **[{batch}, {C}, {H}, {W}]** (N, C, H, W); its labels have shape **[{batch}]**.
- Stored as whole tensors: `x_train` **{list(ds.x_train.shape)}** of uint8 pixels 0-255 (divided by 255 for training),
  `y_train` **{list(ds.y_train.shape)}**, `x_test` **{list(ds.x_test.shape)}**.
- Read from `{ds.source}`.
"""
)

st.subheader("A labelled sample")
c1, c2, c3 = st.columns([2, 1, 1])
only = c1.selectbox("Class", ["all classes", *meta.classes], key="grid_class")
set_defaults(grid_count=24, grid_start=0)
count = c2.select_slider("Images", [8, 16, 24, 32, 48], key="grid_count")
start = c3.number_input("Starting at image", 0, len(ds.x_train) - 1, step=count, key="grid_start")
indices = datasets.sample_indices(ds.y_train, count, int(start), None if only == "all classes" else meta.classes.index(only))
st.image(
    [image_array(ds.x_train[i], 3) for i in indices],
    caption=[f"#{i} {meta.classes[int(ds.y_train[i])]}" for i in indices],
    width=84,
)

st.subheader("Class balance")
train_counts = datasets.class_counts(ds.y_train, meta.num_classes)
test_counts = datasets.class_counts(ds.y_test, meta.num_classes)
st.altair_chart(charts.class_counts(meta.classes, train_counts, test_counts), width="stretch")
st.caption(f"{len(ds.y_train):,} training and {len(ds.y_test):,} test images. A model that guesses is right {1 / meta.num_classes:.0%} of the time.")
