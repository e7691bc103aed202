"""Toy 2D page: an MLP learns circles, moons, XOR, spirals or two gaussians, and its decision
regions are redrawn while it trains; classical SVM baselines on the same split."""

import streamlit as st

from playground import boundary, datasets, jobs, settings, specs, toy
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.ui import charts, toy_view
from playground.ui.data import TOY_DEFAULTS, toy_params
from playground.ui.state import set_defaults

st.title("Toy 2D")
st.caption("What TensorFlow Playground does, with PyTorch: a small network learns to separate two classes of points in the plane.")

set_defaults(
    toy_set="circles",
    toy_depth=1,
    toy_width=8,
    toy_activation="tanh",
    toy_lr=0.03,
    toy_epochs=100,
    toy_batch=16,
    toy_optimizer="adam",
    **TOY_DEFAULTS,
)
data_col, model_col = st.columns(2, gap="large")
with data_col:
    st.subheader("Data")
    kind = st.selectbox("Toy set", toy.TOY_SETS, key="toy_set", format_func=lambda k: datasets.info(k).description.split(";")[0])
    c = st.columns(2)
    ui = {n: (settings.ALL[n].ui_low, settings.ALL[n].ui_high) for n in ("toy_points", "toy_noise", "toy_train_share", "toy_seed")}
    c[0].slider("Points", *ui["toy_points"], step=20, key="toy_points", help=settings.ALL["toy_points"].help)
    c[1].slider("Noise", *map(float, ui["toy_noise"]), step=0.02, key="toy_noise", help=settings.ALL["toy_noise"].help)
    c[0].slider("Training share", *ui["toy_train_share"], step=0.05, key="toy_train_share", help=settings.ALL["toy_train_share"].help)
    c[1].number_input("Data seed", *ui["toy_seed"], key="toy_seed", help=settings.ALL["toy_seed"].help)
with model_col:
    st.subheader("Network")
    c = st.columns(2)
    depth = c[0].slider("Hidden layers", 0, 5, key="toy_depth")
    width = c[1].slider("Units per layer", 1, 64, key="toy_width")
    activation = c[0].selectbox("Activation", (*specs.ACTIVATIONS, "none"), key="toy_activation")
    lr = c[1].select_slider("Learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], key="toy_lr")
    epochs = c[0].slider("Epochs", 5, 500, step=5, key="toy_epochs")
    batch = c[1].select_slider("Batch size", [1, 4, 8, 16, 32, 64, 128, 256], key="toy_batch")
    optimizer = c[0].selectbox("Optimizer", ("adam", "sgd"), key="toy_optimizer", format_func=str.upper)

spec = specs.mlp_spec(depth, width, activation)
params = toy_params()
try:
    config = TrainConfig(
        dataset=kind,
        model=spec,
        lr=lr,
        epochs=epochs,
        batch_size=batch,
        optimizer=optimizer,
        **params.config_fields(),
    )
    ds = datasets.load(kind, toy_params=params)
except PlaygroundError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
st.code(f"{spec or '(no hidden layer: logistic regression)'}   ->   Linear(-> 2)", language=None)
g = boundary.grid(ds, resolution=boundary.RESOLUTION)

manager = jobs.manager()
if st.button("Train", type="primary", icon=":material/play_arrow:", key="toy_train"):
    job = manager.submit(config)  # in the background, like any run: stored, cached, stoppable
    st.session_state.toy_run = job.run_id
    st.session_state.toy_trained_here = None if job.cached else job.run_id
shown = manager.store.get(st.session_state["toy_run"]) if "toy_run" in st.session_state else None
if shown is None or shown.config.key != config.key:  # the settings changed since: the stored run of these, if any
    shown = manager.store.find_reusable(config)
toy_view.run_regions(shown, ds, g, from_store=shown is not None and st.session_state.get("toy_trained_here") != shown.id)

st.subheader("Compare with a classical baseline")
if st.toggle("Fit a linear SVM and an RBF-kernel SVM on the same split", key="toy_baselines"):
    cols = st.columns(2)
    for col, b in zip(cols, boundary.svm_baselines(ds, g)):
        col.altair_chart(
            charts.decision_regions(ds, g.xs, g.ys, b.probability, f"{b.name}: test accuracy {b.test_accuracy:.0%}", height=260),
            width="stretch",
        )
        col.caption(f"{b.name}: train accuracy {b.train_accuracy:.1%}, test accuracy {b.test_accuracy:.1%}.")
    st.caption(
        "A linear classifier can only draw a straight line: on circles or XOR it is no better than a guess. The RBF kernel bends the boundary, as a hidden layer with a non-linear activation does."
    )
