"""The Results page's "Why it errs" tab for one finished run: the top losses, the class pairs it
confuses most, the embedding projector (before and after training) and saliency maps; the
saliency panel also explains an uploaded image. Engine: interpret.py, projector.py, saliency.py."""

from __future__ import annotations

import base64
import io

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from playground import datasets, insight, interpret, projector, saliency
from playground.errors import PlaygroundError
from playground.home import weights_path
from playground.optim import LOSS_TEXT
from playground.runs import Run
from playground.ui import me
from playground.ui import results_view as rv
from playground.ui.data import image_array
from playground.ui.state import set_defaults

VIEWS = ("Top losses", "Most confused", "Projector", "Saliency")
TOP_COUNTS = (6, 12, 24, 48)
PROBABILITIES = ("p(predicted)", "p(true)")  # the top-loss table's columns shown as percentages
SHOWN_PX = 112  # saliency images and the projector's picked image are drawn this wide
SALIENCY_COLUMNS = [2, 1, 1]  # the method and what it shows; the map for the predicted class; for the chosen class


def _mtime(run: Run) -> float:
    return weights_path(run.id).stat().st_mtime


@st.cache_data(show_spinner="Computing the loss of every test image...", max_entries=8)
def losses(run_id: int, mtime: float) -> np.ndarray:  # keyed by the weights file's time, as the predictions
    run = me.jobs().store.get(run_id)
    p = rv.predictions(run_id, mtime)
    meta = datasets.info(run.config.dataset)
    return interpret.test_losses(insight.load_model(run), p.splits, interpret.loss_of(run.config, meta.num_classes))


def why_tab(run: Run, p: insight.Predictions) -> None:
    set_defaults(why_view=VIEWS[0])
    view = st.segmented_control("Look at", VIEWS, key="why_view", required=True)
    {"Top losses": top_losses_view, "Most confused": most_confused_view, "Projector": projector_view, "Saliency": saliency_view}[view](
        run, p
    )


# --- top losses ---------------------------------------------------------------------------------


def _share(v: float) -> str:
    """A probability as a whole percentage; a tiny one as "<1%", never a misleading "0%"."""
    return "<1%" if v < 0.005 else f"{v:.0%}"


def _loss_caption(row) -> str:
    """Four short lines (Markdown): the loss, the ranking's key, first; then as the gallery's captions,
    "#12 Shirt" and ✗ with the predicted class and its probability (✓ if right); last, the
    probability the model gave the true class."""
    right = row["true"] == row["predicted"]
    verdict = f":green[✓ {_share(row['p(predicted)'])}]" if right else f":red[✗ {row['predicted']} {_share(row['p(predicted)'])}]"
    return f"loss {row['loss']:.3g}  \n\\#{row['image']} {row['true']}  \n{verdict}  \ntrue class {_share(row['p(true)'])}"


def _open_saliency(i: int) -> None:
    st.session_state.why_view, st.session_state.saliency_index = "Saliency", i


def top_losses_view(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    set_defaults(top_count=12)
    count = st.select_slider("Images", TOP_COUNTS, key="top_count")
    table = interpret.top_loss_table(p, losses(run.id, _mtime(run)), count, meta.classes)
    smoothing = f", label smoothing {run.config.label_smoothing:g}" if run.config.label_smoothing else ""
    st.markdown(
        f"The **{len(table)}** test {'points' if meta.is_toy else 'images'} with the highest loss ({LOSS_TEXT[run.config.loss]}{smoothing}), "
        "highest first: the model's worst mistakes, its least sure right answers, and sometimes a wrong label in the data."
    )
    if not meta.is_toy:
        st.image(
            [image_array(p.splits.x_test[i], 4) for i in table["image"]],
            caption=[_loss_caption(row) for _, row in table.iterrows()],
            width=rv.GALLERY_WIDTH,
        )
        st.caption(
            "Under each image: its loss; its index and true class; ✗ and the class it predicted, with that probability; "
            "the probability it gave the true class."
        )
    st.dataframe(
        table.assign(**{c: 100 * table[c] for c in PROBABILITIES}),
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.2f%%") for c in PROBABILITIES}
        | {"loss": st.column_config.NumberColumn(format="%.4f")},
    )
    if meta.is_toy:
        return
    shown = [int(i) for i in table["image"]]
    if st.session_state.get("top_explain") not in shown:
        st.session_state.top_explain = shown[0]
    c = st.columns([3, 1], vertical_alignment="bottom")
    pick = c[0].selectbox("Explain one of them", shown, key="top_explain", format_func=lambda i: f"#{i}: {meta.classes[int(p.y[i])]}")
    c[1].button("Saliency map", on_click=_open_saliency, args=(pick,), icon=":material/visibility:", key="top_saliency")


# --- most confused ------------------------------------------------------------------------------


def _pair(true: str, predicted: str) -> str:
    return f"{true} → {predicted}"


def _pick_pair(key: str, pairs: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    if rows:
        st.session_state.confused_pair = pairs[rows[0]]


def most_confused_view(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    table = interpret.most_confused(p.y, p.pred, meta.classes)
    if table.empty:
        st.success("No mistakes on the test set: no class is confused with another.", icon=":material/check_circle:")
        return
    st.markdown(
        "The class pairs the model mixes up most: *true* class → class it *predicted* instead, with the share of the true class's images."
    )
    pairs = [_pair(t, q) for t, q in zip(table["true"], table["predicted"])]
    key = f"confused-{run.id}"
    st.dataframe(
        table.assign(share=100 * table["share"]),
        hide_index=True,
        height=min(38 + 35 * len(table), 300),
        key=key,
        on_select=lambda: _pick_pair(key, pairs),
        selection_mode="single-row",
        column_config={"share": st.column_config.NumberColumn("share of the true class", format="%.1f%%")},
    )
    if st.session_state.get("confused_pair") not in pairs:
        st.session_state.confused_pair = pairs[0]
    counts = dict(zip(pairs, table["count"]))
    pair = st.selectbox("Open a pair (or select a row)", pairs, key="confused_pair", format_func=lambda s: f"{s} ({counts[s]})")
    true, predicted = table.iloc[pairs.index(pair)][["true", "predicted"]]
    idx = insight.select(p.y, p.pred, meta.classes.index(true), meta.classes.index(predicted))
    st.markdown(f"**{len(idx):,}** test {'points' if meta.is_toy else 'images'} of *{true}* predicted as *{predicted}*.")
    if not meta.is_toy:
        rv.gallery(p, idx, meta.classes)


# --- projector ----------------------------------------------------------------------------------


def thumbnail(image) -> str:
    """A uint8 image [C, H, W] -> a PNG data URL, twice its size (the projector's hover image)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image_array(image, 2)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@st.cache_data(show_spinner="Reading the penultimate layer for the test images...", max_entries=4)
def embedding(run_id: int, mtime: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """(features, pixels, whether the features are the pixels) of the first MAX_POINTS test images."""
    run = me.jobs().store.get(run_id)
    p = rv.predictions(run_id, mtime)
    model = insight.load_model(run)
    n = min(projector.MAX_POINTS, len(p.y))
    return interpret.penultimate(model, p.splits, n), interpret.pixels(p.splits, n), interpret.sees_pixels(model)


@st.cache_data(show_spinner=False, max_entries=8)
def projection(run_id: int, mtime: float, method: str) -> pd.DataFrame:
    """One row per projected test image: both projections, its classes and its hover image."""
    features, pixels, _ = embedding(run_id, mtime)
    p = rv.predictions(run_id, mtime)
    classes = datasets.info(me.jobs().store.get(run_id).config.dataset).classes
    before, after = projector.project_both(pixels, features, method)
    n = len(features)
    return pd.DataFrame(
        {
            "image": np.arange(n),
            "class": [classes[c] for c in p.y[:n]],
            "predicted": [classes[c] for c in p.pred[:n]],
            "result": np.where(p.y[:n] == p.pred[:n], "right", "wrong"),
            "pixels_x": before[:, 0],
            "pixels_y": before[:, 1],
            "features_x": after[:, 0],
            "features_y": after[:, 1],
            "thumbnail": [thumbnail(p.splits.x_test[i]) for i in range(n)],
        }
    )


def projector_chart(df: pd.DataFrame, classes: tuple[str, ...], method: str, features: str) -> alt.HConcatChart:
    """Two scatters of the same images, coloured by true class, wrong ones as crosses; hover shows
    the image, a click picks it in both."""
    pick = alt.selection_point(fields=["image"], name="point", on="click")
    colour = alt.Color("class:N", scale=alt.Scale(domain=list(classes), scheme="tableau10" if len(classes) <= 10 else "category20"))
    tooltip = [alt.Tooltip("thumbnail:N", title="image"), alt.Tooltip("image:Q", title="test image"), "class:N", "predicted:N"]

    def panel(kind: str, title: str) -> alt.Chart:
        return (
            alt.Chart(df, title=title, name=kind)
            .mark_point(filled=True)
            .encode(
                x=alt.X(f"{kind}_x:Q", title=f"{method} 1", axis=alt.Axis(labels=False, ticks=False)),
                y=alt.Y(f"{kind}_y:Q", title=f"{method} 2", axis=alt.Axis(labels=False, ticks=False)),
                color=colour,
                shape=alt.Shape("result:N", scale=alt.Scale(domain=["right", "wrong"], range=["circle", "cross"]), title="prediction"),
                opacity=alt.condition(pick, alt.value(0.85), alt.value(0.15)),
                size=alt.condition(pick, alt.value(200), alt.value(22), empty=False),  # the picked image, in both plots
                tooltip=tooltip,
            )
            .properties(width=300, height=300)
        )

    chart = alt.hconcat(panel("pixels", "Raw pixels (no training)").add_params(pick), panel("features", features))
    chart.params[0].views = ["pixels", "features"]  # one selection for both views (add_params on both warns and merges them)
    return chart


def _explain_caption(method: str, n: int, same: bool) -> str:
    how = (
        "PCA keeps the two directions in which the images differ most (a linear view: distances are real)."
        if method == "PCA"
        else "t-SNE places images that are near neighbours near each other (clusters are real; the distances between clusters and their sizes are not)."
    )
    text = (
        f"The same {n:,} test images twice, one dot each, coloured by their true class; crosses are the model's mistakes. "
        f"**Left**: the raw pixels, squeezed to 2 numbers: what the images look like before any training. "
        f"**Right**: the {'pixels again' if same else 'numbers the last layer receives'}, squeezed the same way: how the trained network sees them. "
        "Training should pull each class into its own cluster; crosses that sit inside another class's cluster are the images it mixes up. "
    )
    note = " This model is a single linear layer: its last layer sees the pixels themselves, so the two plots are the same." if same else ""
    return text + how + note + " Hover a dot to see its image; click one to pick it."


def projector_view(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    if meta.is_toy:
        st.info("Toy points are two numbers already: the Toy 2D page draws them with the decision regions.", icon=":material/info:")
        return
    set_defaults(projector_method="PCA")
    method = st.segmented_control("Projection", projector.METHODS, key="projector_method", required=True)
    n = min(projector.MAX_POINTS, len(p.y))
    try:
        with st.spinner(
            f"{method} of {n:,} test images, before and after training" + (" (t-SNE takes a while)..." if method == "t-SNE" else "...")
        ):
            df = projection(run.id, _mtime(run), method)
        same = embedding(run.id, _mtime(run))[2]
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return
    chart = projector_chart(df, meta.classes, method, "Raw pixels again (a linear model)" if same else "Penultimate layer (after training)")
    event = st.altair_chart(chart, on_select="rerun", key=f"projector-{run.id}-{method}", width="content")
    st.caption(_explain_caption(method, n, same))
    picked = (event or {}).get("selection", {}).get("point") or []
    if picked:
        i = int(picked[0]["image"])
        c = st.columns([1, 6], vertical_alignment="center")
        c[0].image(image_array(p.splits.x_test[i], max(1, SHOWN_PX // meta.input_shape[-1])), width=SHOWN_PX)
        c[1].markdown(f"**#{i}**: true *{meta.classes[int(p.y[i])]}*, predicted *{meta.classes[int(p.pred[i])]}* ({p.probs[i].max():.0%}).")
        c[1].button("Saliency map", on_click=_open_saliency, args=(i,), icon=":material/visibility:", key="projector_saliency")


# --- saliency -----------------------------------------------------------------------------------

SALIENCY_TEXT = {
    saliency.GRAD_CAM: "where the last conv layer looked (its coarse grid, resized)",
    saliency.INPUT_GRADIENT: "pixels whose change would move the class score most",
    saliency.GRADIENT_X_INPUT: "each pixel's push on the score: red up, blue down",
}


def saliency_view(run: Run, p: insight.Predictions) -> None:
    meta = datasets.info(run.config.dataset)
    if meta.is_toy:
        st.info(saliency.NOT_IMAGES[0].upper() + saliency.NOT_IMAGES[1:] + ".", icon=":material/info:")
        return
    set_defaults(saliency_index=int(interpret.top_losses(losses(run.id, _mtime(run)), 1)[0]))  # the worst mistake
    if not 0 <= st.session_state.saliency_index < len(p.y):
        st.session_state.saliency_index = 0
    i = st.columns([1, 2])[0].number_input(
        "Test image", 0, len(p.y) - 1, key="saliency_index", help="its index, as under the gallery's images; it starts at the top loss"
    )
    saliency_panel(run, p, p.splits.x_test[i].cpu(), int(p.y[i]), "test", f"#{i}, true class {meta.classes[int(p.y[i])]}")


def saliency_panel(run: Run, p: insight.Predictions, image, true: int | None, key: str, label: str) -> None:
    """Each method's map for the predicted class and for a chosen one (default: the true class, or
    the second most likely for an uploaded image), over a uint8 image [C, H, W]."""
    meta = datasets.info(run.config.dataset)
    model = insight.load_model(run)
    try:
        methods = saliency.methods_for(model, meta.input_shape)
    except PlaygroundError as e:
        st.info(str(e), icon=":material/info:")
        return
    probs = insight.classify(model, p.splits, image)
    predicted, second = (int(c) for c in np.argsort(-probs, kind="stable")[:2])
    default = true if true is not None else second
    what = "its true class" if true is not None else "the second most likely"
    chosen = st.columns([1, 2])[0].selectbox(
        "Compare with the class",
        [None, *range(meta.num_classes)],
        key=f"saliency_class_{key}",
        format_func=lambda c: (
            f"{what}: {meta.classes[default]} ({_share(probs[default])})" if c is None else f"{meta.classes[c]} ({_share(probs[c])})"
        ),
    )
    target = default if chosen is None else chosen
    scale = max(1, SHOWN_PX // meta.input_shape[-1])
    c = st.columns(SALIENCY_COLUMNS, vertical_alignment="bottom")
    c[0].image(image_array(image, scale), caption=label, width=SHOWN_PX)
    c[1].markdown(f"For the predicted class  \n**{meta.classes[predicted]}** ({_share(probs[predicted])})")
    c[2].markdown(f"For the class  \n**{meta.classes[target]}** ({_share(probs[target])})")
    x = p.splits.prep(image[None])
    for method in methods:
        c = st.columns(SALIENCY_COLUMNS, vertical_alignment="center")
        c[0].markdown(f"**{method}**  \n{SALIENCY_TEXT[method]}")
        for col, t in zip(c[1:], (predicted, target)):
            heat = saliency.attribution(model, x, t, method)
            col.image(image_array_rgb(saliency.overlay(image.numpy(), heat, saliency.SIGNED[method]), scale), width=SHOWN_PX)
    st.caption(
        "Colour marks where a map is strong; where it is weak the image shows through. The class score is the network's output for "
        "that class before the softmax; a map for another class shows what would have been evidence for it."
    )


def image_array_rgb(rgb: np.ndarray, scale: int) -> np.ndarray:
    """[H, W, 3] -> upscaled by `scale` with square pixels."""
    return np.kron(rgb, np.ones((scale, scale, 1), dtype=np.uint8))
