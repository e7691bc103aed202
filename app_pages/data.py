"""Data page: sample images with class names, shapes, a labelled grid, class counts, ZCA whitening."""

import streamlit as st

from playground import augment, datasets
from playground.ui import charts, region_map
from playground.ui.data import augmentation_preview, dataset_or_stop, image_array, normalisation_stats, zca_preview
from playground.ui.state import set_defaults
from playground.ui.train_form import setting_widget

name = st.session_state.dataset
meta = datasets.info(name)
st.title(f"Data: {meta.title}")
st.caption(meta.description)
ds = dataset_or_stop(name)
if meta.is_toy:
    st.altair_chart(region_map.points_chart(ds), width="stretch")
    st.markdown(
        f"- {len(ds.x_train):,} training and {len(ds.x_test):,} test points; one point has shape **[2]** (x, y), "
        f"a batch of 32 has shape **[32, 2]**.\n- Change their number, noise and split on the **Toy 2D** page."
    )
    st.stop()
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
- Stored as whole tensors: `x_train` **{list(ds.x_train.shape)}** of uint8 pixels 0-255 (divided by 255 for training, by default),
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

st.subheader("Augmentation: the same images, as training may see them")
st.caption("Augmentation changes training batches only, each image with its own random draw; validation and test images are never changed.")
allowed = [a for a in augment.AUGMENTATIONS if a != "color" or C == 3]
set_defaults(preview_augment=[a for a in ("flip", "crop") if a in allowed], preview_seed=0)
c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
names = c1.multiselect("Augmentations", allowed, key="preview_augment", format_func=lambda a: f"{a}: {augment.AUGMENTATION_TEXT[a]}")
if c2.button("Draw again", icon=":material/casino:"):
    st.session_state.preview_seed += 1
sample = datasets.sample_indices(ds.y_train, 8)
original, augmented = augmentation_preview(ds, sample, ",".join(names), st.session_state.preview_seed)
st.image(original, caption=[f"#{i} original" for i in sample], width=84)
st.image(augmented, caption=[f"#{i} augmented" for i in sample], width=84)

st.subheader("Normalisation")
mean, std = normalisation_stats(name, str(ds.source))
st.markdown(
    f"Per-channel statistics of the {len(ds.x_train):,} training images, on the [0, 1] scale: "
    f"mean **{', '.join(f'{m:.4f}' for m in mean)}**, standard deviation **{', '.join(f'{s:.4f}' for s in std)}**. "
    "*Standardize* on the Train page subtracts this mean and divides by this deviation, computed again on the "
    "training split of each run (without its validation images), never on test data."
)

st.subheader("Class balance")
train_counts = datasets.class_counts(ds.y_train, meta.num_classes)
test_counts = datasets.class_counts(ds.y_test, meta.num_classes)
st.altair_chart(charts.class_counts(meta.classes, train_counts, test_counts), width="stretch")
st.caption(
    f"{len(ds.y_train):,} training and {len(ds.y_test):,} test images. A model that guesses is right {1 / meta.num_classes:.0%} of the time."
)

st.subheader("ZCA whitening")
st.caption(
    "Whitening removes the correlation between neighbouring pixels, so flat areas turn grey and edges are left. "
    "ZCA, fitted on the training images only, is the *zca* normalisation of the Train page, with this epsilon."
)
c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
eps = setting_widget(c1, "zca_epsilon")  # the Train page's setting: the same value there
with st.spinner(f"Fitting ZCA on {len(ds.x_train):,} training images ({C * H * W:,} x {C * H * W:,} covariance)..."):
    original, whitened, k, D, share = zca_preview(name, str(ds.source), sample, float(eps))
c2.markdown(
    f"Epsilon **{eps:g}** is added to the covariance's eigenvalues: the {k:,} of {D:,} directions whose variance is above it "
    f"({share:.1%} of the variance) are whitened, the others damped."
)
st.image(original, caption=[f"#{i} original" for i in sample], width=84)
st.image(whitened, caption=[f"#{i} whitened" for i in sample], width=84)
st.caption("Each whitened image is rescaled on its own to 0-255 for display: whitened values have no fixed range.")
