"""Toy 2D page: what TensorFlow Playground does, with PyTorch. A small network learns two classes of
points in the plane from the input features chosen; its decision regions, every unit's own map and
the weights are redrawn while it trains; classical SVM baselines on the same split."""

import streamlit as st

from playground import boundary, datasets, features, specs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.toy import ToyParams
from playground.ui import me, region_map, state, step_view, toy_twins, toy_view
from playground.ui.toy_controls import DATA, control, feature_control, fixed_text, hidden, section
from playground.wording import sentence

st.title("Toy 2D")
st.caption(
    "What TensorFlow Playground does, with PyTorch: a small network learns to separate two classes of points in the plane "
    "(or, on the regression sets plane and multi-gaussian, a value at each point)."
)
if task := state.current("toy_task"):
    st.info(task, icon=":material/school:")
if fixed := fixed_text():
    st.caption(f"Fixed by this link: {fixed}.")


def regenerate() -> None:
    """New points: the next data seed (TensorFlow Playground's Regenerate)."""
    state.choose("toy_seed", (int(state.current("toy_seed")) + 1) % 10_001)


data_col, net_col, train_col = st.columns(3, gap="large")
with data_col:
    section(st, "Data", ("toy_set", *DATA))
    kind = control(st, "toy_set")
    c = st.columns(2)
    points, noise, share = (control(col, n) for col, n in zip((c[0], c[1], c[0]), DATA[:3]))
    seed = control(c[1], "toy_seed")
    if "toyseed" not in hidden():
        st.button("Regenerate", icon=":material/refresh:", key="toy_regenerate", on_click=regenerate, help="New points: the next data seed")
with net_col:
    section(st, "Network", ("toy_depth", "toy_width", "toy_activation"))
    c = st.columns(2)
    depth, width = control(c[0], "toy_depth"), control(c[1], "toy_width")
    activation = control(c[0], "toy_activation")
with train_col:
    section(st, "Training", ("toy_lr", "toy_epochs", "toy_batch", "toy_optimizer", "toy_reg", "toy_reg_rate"))
    c = st.columns(2)
    lr, epochs = control(c[0], "toy_lr"), control(c[1], "toy_epochs")
    batch, optimizer = control(c[0], "toy_batch"), control(c[1], "toy_optimizer")
    reg = control(c[0], "toy_reg")
    reg_rate = control(c[1], "toy_reg_rate", disabled=reg == "none")

chosen_features = feature_control(st)  # full width: the seven pills do not fit a column
spec = specs.mlp_spec(depth, width, activation)
params = ToyParams(points, noise, share, seed)
try:
    config = TrainConfig(
        dataset=kind,
        model=spec,
        lr=lr,
        epochs=epochs,
        batch_size=batch,
        optimizer=optimizer,
        reg=reg,
        reg_rate=reg_rate,
        toy_features=chosen_features,
        **params.config_fields(),
    )
    ds = datasets.load(kind, toy_params=params)
except PlaygroundError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
inputs = ", ".join(features.labels(chosen_features))
out = "Linear(-> 1): the predicted value, squared error" if ds.info.is_regression else "Linear(-> 2): softmax, cross-entropy"
st.code(f"inputs ({inputs})  ->  {spec or '(no hidden layer)'}  ->  {out}", language=None)
g = boundary.grid(ds, resolution=boundary.RESOLUTION)

manager = me.jobs()
c = st.columns([1, 1.2, 1.4, 2.4], vertical_alignment="center")  # room for "Discretise output" in full
if c[0].button("Train", type="primary", icon=":material/play_arrow:", key="toy_train"):
    try:
        job = manager.submit(config)  # in the background, like any run: stored, cached, stoppable
    except PlaygroundError as e:  # class mode: past the class's limits
        st.error(sentence(str(e)), icon=":material/block:")
    else:
        st.session_state.toy_run = job.run_id
        st.session_state.toy_trained_here = None if job.cached else job.run_id
view = toy_view.View(show_test=control(c[1], "toy_show_test"), discrete=control(c[2], "toy_discrete"))
shown = manager.store.get(st.session_state["toy_run"]) if "toy_run" in st.session_state else None
if shown is None or shown.config.key != config.key:  # the settings changed since (or a new session): the run of these, if any
    shown = manager.store.find_reusable(config)
    if shown is None and (job := manager.unfinished(config)) is not None:  # training or queued now, started elsewhere
        shown = manager.store.get(job.run_id)
        st.session_state.toy_run = job.run_id  # this session's run from now on: Stop then shows it stopped, not gone
toy_view.run_regions(shown, ds, g, view, from_store=shown is not None and st.session_state.get("toy_trained_here") != shown.id)

st.subheader("Twin runs side by side")
toy_twins.twin_section(config, {"width": width, "activation": activation}, ds, g, view.show_test, view.discrete)

st.subheader("Play, pause and step")
step_view.step_through(config, ds, g, view.show_test, view.discrete)

st.subheader("Compare with a classical baseline")
if ds.info.is_regression:
    st.caption("The SVM baselines are classifiers: choose a classification set (circles, moons, xor, spiral or gaussians) to compare.")
elif st.toggle("Fit a linear SVM and an RBF-kernel SVM on the same split", key="toy_baselines"):
    cols = st.columns(3)
    accuracy = f": test accuracy {shown.final['test_accuracy']:.0%}" if shown is not None and "test_accuracy" in shown.final else ""
    cols[0].vega_lite_chart(toy_view.latest_map(shown, f"The network{accuracy}", ds, g, view.show_test, view.discrete), width="content")
    cols[0].caption("The network of the settings above (its latest map; press Train if there is none).")
    for col, b in zip(cols[1:], boundary.svm_baselines(ds, g)):
        title = f"{b.name}: test accuracy {b.test_accuracy:.0%}"
        col.vega_lite_chart(region_map.region_map(ds, g, b.probability, title, view.show_test, view.discrete), width="content")
        col.caption(f"{b.name}: train accuracy {b.train_accuracy:.1%}, test accuracy {b.test_accuracy:.1%}.")
    st.caption(
        "The same grid, the same points. A linear classifier can only draw a straight line: on circles or XOR it is no better than a guess. "
        "The RBF kernel bends the boundary, as a hidden layer with a non-linear activation does. The baselines see the points themselves, "
        "not the features chosen above."
    )
