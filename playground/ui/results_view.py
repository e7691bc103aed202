"""The Results page's tabs for one finished run: confusion matrix and per-class accuracy, the
gallery, two runs compared image by image, what the first layer learned, your own image, export.
The "Why it errs" tab (top losses, most confused, projector, saliency) is errors_view.py."""

from __future__ import annotations

import io
import json
import re

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from playground import datasets, insight
from playground.errors import PlaygroundError
from playground.home import weights_path
from playground.runs import Run
from playground.ui import charts, me
from playground.ui.data import image_array
from playground.ui.state import set_defaults

ANY = "any"


def classifiers(runs: list[Run]) -> tuple[list[Run], int]:
    """(the classification runs, how many regression runs were left out): this page's views are of classes."""
    kept = [r for r in runs if r.config.dataset not in datasets.REGISTRY or not datasets.info(r.config.dataset).is_regression]
    return kept, len(runs) - len(kept)


@st.cache_resource(show_spinner="Computing the test predictions...", max_entries=8)
def predictions(run_id: int, mtime: float) -> insight.Predictions:  # keyed by the weights file's time too
    run = me.jobs().store.get(run_id)
    return insight.predict(run)


def predictions_of(run: Run) -> insight.Predictions:
    return predictions(run.id, weights_path(run.id).stat().st_mtime)


GALLERY_WIDTH = 120  # px per image: its two-line caption fits under it for every dataset's class names


def _caption(i: int, y: int, pred: int, probs: np.ndarray, classes: tuple[str, ...]) -> str:
    """Two short lines (Markdown): the index and the true class; then ✓ and the model's confidence,
    or ✗ and the class it predicted with its probability. "#12 T-shirt/top" / "✗ Shirt 62%"."""
    verdict = f":green[✓ {probs[pred]:.0%}]" if y == pred else f":red[✗ {classes[pred]} {probs[pred]:.0%}]"
    return f"\\#{i} {classes[y]}  \n{verdict}"


def gallery(p: insight.Predictions, indices: np.ndarray, classes: tuple[str, ...], limit: int = 24) -> None:
    if len(indices) == 0:
        st.caption("No test images here.")
        return
    shown = indices[:limit]
    st.image(
        [image_array(p.splits.x_test[i], 4) for i in shown],
        caption=[_caption(int(i), int(p.y[i]), int(p.pred[i]), p.probs[i], classes) for i in shown],
        width=GALLERY_WIDTH,
    )
    st.caption(
        ("The first " if len(indices) > limit else "") + f"{len(shown)} of {len(indices):,}. Under each image: its index and true class; "
        "then ✓ and the model's confidence, or ✗ and the class it predicted, with that probability."
    )


def confusion_tab(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    counts = insight.confusion(p.y, p.pred, meta.num_classes)
    normalized = st.toggle("Row-normalised (share of each true class)", key="cm_normalized")
    left, right = st.columns([3, 2])
    event = left.altair_chart(
        charts.confusion_matrix(counts, meta.classes, normalized), on_select="rerun", key=f"cm-{run.id}", width="content"
    )  # square: its own size
    right.altair_chart(charts.class_accuracy(meta.classes, insight.per_class_accuracy(counts)), width="stretch")
    picked = (event or {}).get("selection", {}).get("cell") or []
    if picked:  # a click on a cell sets the two boxes below
        st.session_state.cm_true, st.session_state.cm_pred = picked[0]["true"], picked[0]["predicted"]
    set_defaults(cm_true=meta.classes[0], cm_pred=meta.classes[0])
    c = st.columns(2)
    true = c[0].selectbox("True class", meta.classes, key="cm_true")
    pred = c[1].selectbox("Predicted class", meta.classes, key="cm_pred")
    idx = insight.select(p.y, p.pred, meta.classes.index(true), meta.classes.index(pred))
    st.markdown(f"**{len(idx):,}** test {'points' if meta.is_toy else 'images'} of *{true}* predicted as *{pred}*.")
    if not meta.is_toy:
        gallery(p, idx, meta.classes)


def gallery_tab(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    if meta.is_toy:
        st.info("Toy points have no images: the Toy 2D page draws the decision regions instead.")
        return
    set_defaults(gallery_class=ANY, gallery_mistakes=False, gallery_count=24)
    c = st.columns([2, 1, 1], vertical_alignment="bottom")
    only = c[0].selectbox("Class", (ANY, *meta.classes), key="gallery_class")
    mistakes = c[1].toggle("Mistakes only", key="gallery_mistakes")
    count = c[2].select_slider("Images", [12, 24, 48, 96], key="gallery_count")
    idx = insight.select(p.y, p.pred, None if only == ANY else meta.classes.index(only), mistakes_only=mistakes)
    wrong = int((p.y != p.pred).sum())
    st.caption(f"{wrong:,} of {len(p.y):,} test images are misclassified ({wrong / len(p.y):.1%}).")
    gallery(p, idx, meta.classes, count)


def compare_tab(run: Run, p: insight.Predictions, others: list[Run]) -> None:
    meta = datasets.info(run.config.dataset)
    same = [r for r in others if r.id != run.id and r.config.dataset == run.config.dataset and r.config.test_limit == run.config.test_limit]
    if not same:
        st.info("Train another run on the same dataset (e.g. with augmentation) to compare them image by image.")
        return
    other = st.selectbox(
        "Compare with", [r.id for r in same], key="compare_other", format_func=lambda i: next(_label(r) for r in same if r.id == i)
    )
    q = predictions_of(next(r for r in same if r.id == other))
    try:
        right_a, right_b = insight.disagreements(p, q)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return
    c = st.columns(2)
    with c[0]:
        st.markdown(f"**Right in run {run.id}, wrong in run {other}**: {len(right_a):,} images")
        if not meta.is_toy:
            gallery(q, right_a, meta.classes, 12)
    with c[1]:
        st.markdown(f"**Wrong in run {run.id}, right in run {other}**: {len(right_b):,} images")
        if not meta.is_toy:
            gallery(p, right_b, meta.classes, 12)
    st.caption(f"Each caption shows the wrong run's prediction: run {other}'s on the left, run {run.id}'s on the right.")


def learned_tab(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    model = insight.load_model(run)
    try:
        label, images = insight.first_layer(model, meta.input_shape)
    except PlaygroundError as e:
        st.info(str(e), icon=":material/info:")
        return
    st.markdown(f"**First layer**: {label}. Grey is 0, light is positive, dark is negative.")
    scale = max(1, 48 // images.shape[-1])
    st.image([image_array(_t(i), scale) for i in images], width=max(48, images.shape[-1] * scale))
    if not any(m.__class__.__name__ == "Conv2d" for m in model.modules()):
        st.caption("An MLP's first-layer unit responds to a whole-image pattern; a CNN's filters are small and shared across positions.")
        return
    st.markdown("**Feature maps**: the output of every convolution for one test image.")
    set_defaults(fmap_index=0)
    i = st.number_input("Test image", 0, len(p.y) - 1, key="fmap_index")
    st.image(image_array(p.splits.x_test[i], 4), caption=f"#{i}: {meta.classes[int(p.y[i])]}", width=112)
    for title, maps in insight.feature_maps(model, p.splits.prep(p.splits.x_test[i : i + 1].cpu())):
        st.caption(title)
        st.image([image_array(_t(m[None]), max(1, 56 // m.shape[-1])) for m in maps], width=56)


def _t(a: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a))


def upload_tab(run: Run, p: insight.Predictions) -> insight.Upload | None:
    """The uploaded image classified; it is returned for the saliency maps drawn under it."""
    meta = datasets.info(run.config.dataset)
    if meta.is_toy:
        st.info("Toy sets take points, not images.")
        return None
    C, H, W = meta.input_shape
    file = st.file_uploader("A PNG or JPEG image (at most 5 MB)", type=["png", "jpg", "jpeg"], key="upload")
    invert = st.radio(
        "Invert light and dark",
        ("auto", "yes", "no"),
        key="upload_invert",
        horizontal=True,
        help="MNIST-style sets are light on dark; a photo of ink on paper is the opposite: auto inverts a mostly light grey image",
    )
    if file is None:
        st.caption(
            f"It is cropped to its centred square and resized to {H}x{W} ({'grey' if C == 1 else 'colour'}), as the training images."
        )
        return None
    try:
        up = insight.prepare_upload(file.getvalue(), meta.input_shape, None if invert == "auto" else invert == "yes")
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return None
    probs = insight.classify(insight.load_model(run), p.splits, up.image)
    c = st.columns([1, 2])
    c[0].image(
        image_array(up.image, max(1, 112 // W)),
        caption=f"{up.original_size[0]}x{up.original_size[1]} -> {H}x{W}" + (", inverted" if up.inverted else ""),
        width=112,
    )
    c[1].altair_chart(charts.probabilities(meta.classes, probs), width="stretch")
    st.success(f"Predicted: **{meta.classes[int(probs.argmax())]}** ({probs.max():.0%}).", icon=":material/psychology:")
    return up


def _chart_bytes(chart: alt.Chart, fmt: str) -> bytes:
    if fmt == "svg":
        buf = io.StringIO()
        chart.save(buf, format="svg")
        return buf.getvalue().encode()
    buf = io.BytesIO()
    chart.save(buf, format="png", scale_factor=2)
    return buf.getvalue()


def export_tab(run: Run, p: insight.Predictions) -> None:
    store = me.jobs().store
    meta = datasets.info(run.config.dataset)
    c = st.columns(3)
    c[0].download_button(
        "Weights (state_dict, .pt)",
        weights_path(run.id).read_bytes(),
        f"run-{run.id}.pt",
        "application/octet-stream",
        icon=":material/download:",
    )
    c[1].download_button(
        "Config (JSON)",
        json.dumps(run.config.to_dict(), indent=2),
        f"run-{run.id}-config.json",
        "application/json",
        icon=":material/download:",
    )
    c[2].download_button(
        "Metrics per epoch (CSV)",
        pd.DataFrame(store.epochs(run.id)).to_csv(index=False),
        f"run-{run.id}-epochs.csv",
        "text/csv",
        icon=":material/download:",
    )
    how = (
        f'python -m playground params --dataset {run.config.dataset} --model "{run.config.model}"'
        if me.at_the_server()  # a student has no shell on the class server: Export as code on the Train page writes the model
        else f'"{run.config.model}" (the Train page\'s Export as code writes it)'
    )
    st.code(
        f"import torch\nmodel = ...  # build the same spec: {how}\nmodel.load_state_dict(torch.load('run-{run.id}.pt', weights_only=True))",
        language="python",
    )
    cols, epochs = store.step_columns(run.id), store.epochs(run.id)
    counts = insight.confusion(p.y, p.pred, meta.num_classes)
    options = {
        "loss per step": lambda: charts.step_loss(cols.rows(slice(None, None, max(1, len(cols) // 2000))), meta.num_classes),
        "accuracy per epoch": lambda: charts.epoch_metric(epochs, "accuracy"),
        "loss per epoch": lambda: charts.epoch_metric(epochs, "loss"),
        "confusion matrix": lambda: charts.confusion_matrix(counts, meta.classes, False),
        "accuracy per class": lambda: charts.class_accuracy(meta.classes, insight.per_class_accuracy(counts)),
    }
    c = st.columns([2, 1, 1], vertical_alignment="bottom")
    which = c[0].selectbox("Chart", list(options), key="export_chart")
    fmt = c[1].radio("Format", ("png", "svg"), key="export_format", horizontal=True)
    c[2].download_button(
        "Download chart",
        _chart_bytes(options[which](), fmt),
        f"run-{run.id}-{which.replace(' ', '-')}.{fmt}",
        f"image/{'svg+xml' if fmt == 'svg' else 'png'}",
        icon=":material/download:",
    )


def _label(r: Run) -> str:
    acc = r.final.get("test_accuracy")
    return (
        f"#{r.id} {r.config.model or '(linear)'} · {datasets.info(r.config.dataset).title if r.config.dataset in datasets.REGISTRY else r.config.dataset} · lr {r.config.lr:g}"
        + (f" · {acc:.1%}" if acc is not None else "")
    )


_STOP = re.compile(r"at step ([\d,]+) \(epoch (\d+)\)")


def accuracy_line(run: Run, p: insight.Predictions) -> str:
    """The caption under the run picker. A stopped run's weights are those at the stop (mid-epoch),
    evaluated again here: say so, next to what its last completed epoch scored (the picker's number)."""
    things = "test points" if datasets.info(run.config.dataset).is_toy else "test images"
    acc = float((p.pred == p.y).mean())
    if run.status != "stopped":
        return f"Test accuracy {acc:.2%} on {len(p.y):,} {things} · {run.message}"
    m = _STOP.search(run.message or "")
    at = f" (step {m[1]}, epoch {m[2]})" if m else ""
    line = f"Test accuracy {acc:.2%} of the weights at the stop{at}, re-evaluated on the {len(p.y):,} {things}"
    last = run.final.get("test_accuracy")
    if last is None:
        return line + "; no epoch was completed before the stop."
    epoch = run.final.get("epoch")
    return line + f"; the last completed epoch{f' ({epoch})' if epoch else ''} scored {last:.2%}."


def run_label(r: Run) -> str:
    return _label(r)
