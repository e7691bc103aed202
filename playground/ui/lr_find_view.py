"""The learning-rate finder on the Train page: a button, the finder's progress while it runs where
runs train (the executor's queue, never this process), then the loss against the lr with the two
suggestions, in plain words, and a button that moves the lr slider to the suggestion."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from playground import settings
from playground.classroom.access import OwnJobs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import LrFindEvent
from playground.jobs import FinderJob
from playground.ui import me, state
from playground.ui.charts import LOG_AXIS

SHOWN = "lr_find_shown"  # session state: the FinderJob.key of the finder on screen
POLL_SECONDS = 0.5  # a finder takes seconds: its progress is polled faster than a run's
STEEP_COLOR, VALLEY_COLOR = "#2ca02c", "#9467bd"


def nearest_notch(lr: float) -> float:
    """The lr slider's notch nearest to lr on its log scale."""
    return min(settings.LEARNING_RATES, key=lambda n: abs(math.log(n / lr)))


def lr_finder(config: TrainConfig | None) -> None:
    """The finder's button and, once pressed, its panel: progress, then the chart (left) and what it
    says, with the "Use" buttons (right). A finding for other settings than the form's is not drawn."""
    manager = me.jobs()
    if st.button(
        "Find a learning rate",
        icon=":material/manage_search:",
        key="lr_find_start",
        disabled=config is None,
        help="Trains a copy of this model for 100 steps while the learning rate grows from 0.000001 to 10, and suggests one "
        "(the range test of fastai's and Lightning's lr_find). The run you train afterwards is not changed.",
    ):
        try:
            st.session_state[SHOWN] = manager.find_lr(config).key
        except PlaygroundError as e:
            st.error(str(e), icon=":material/error:")
            return
    job = manager.finder(st.session_state[SHOWN]) if st.session_state.get(SHOWN) else None
    if job is None:
        return
    if job.done and not _for_form(job, config):
        st.caption("The last learning-rate finder ran for other settings (model, data or optimizer): press the button for these.")
        return
    left, right = st.columns(2, gap="large")
    if not job.done:
        with left:
            _live(manager, job)
    elif job.status == "completed" and job.result is not None:
        _result(job.result, left, right, job.config.batch_size)
    elif job.status == "stopped":
        left.warning(f"The learning-rate finder was stopped: {job.message}.", icon=":material/stop_circle:")
    else:
        left.error(f"The learning-rate finder failed: {job.message}", icon=":material/error:")


def _for_form(job: FinderJob, config: TrainConfig | None) -> bool:
    """Whether the finding holds for the form's settings (the lr, epochs and schedule aside)."""
    from playground.lr_find import finder_config  # the finder's module (torch): only once there is a finding

    return config is not None and finder_config(config).key == job.key[0]


def _live(manager: OwnJobs, job: FinderJob) -> None:
    @st.fragment(run_every=POLL_SECONDS)
    def panel() -> None:
        if job.done:
            st.rerun()  # the whole page once: the chart and the "Use" button
        if st.button("Stop", icon=":material/stop:", key="lr_find_stop"):
            manager.stop(job)
        ahead = manager.ahead(job) if job.status == "queued" else 0
        if ahead:
            st.info(
                f"Queued: the finder starts when {'the run or finder' if ahead == 1 else f'the {ahead} runs or finders'} before it {'finishes' if ahead == 1 else 'finish'} (first come, first served).",
                icon=":material/hourglass_top:",
            )
        elif job.status == "queued":
            st.info("Starting the finder: preparing the data and the model.", icon=":material/hourglass_top:")
        else:
            st.progress(min(job.step / max(job.total_steps, 1), 1.0), text=f"Finding a learning rate: step {job.step} of {job.total_steps}")

    panel()


def _result(r: LrFindEvent, left, right, batch_size: int) -> None:
    if not r.lrs:
        left.warning(f"The finder recorded no step: {r.stopped_early}.", icon=":material/warning:")
        return
    left.altair_chart(chart(r), width="stretch")
    right.markdown(explain(r, batch_size))
    with right:
        _use_buttons(r)


NOISY_BATCH = 8  # below this, one batch's loss says too little for the curve to mean much


def explain(r: LrFindEvent, batch_size: int = NOISY_BATCH) -> str:
    """The chart in plain words: where the loss falls fastest, the valley, where it blew up."""
    if r.suggested_lr is None and r.valley_lr is None:
        text = "The smoothed loss did not fall anywhere in the range: try a wider range, or check the model and the data."
    elif r.suggested_lr is not None:
        text = f"The loss falls fastest near **{r.suggested_lr:.2g}**: a good starting learning rate."
    else:
        text = "The loss never fell steadily enough for a steepest point."
    if r.valley_lr is not None:
        text += f" fastai's valley, a more cautious pick, is **{r.valley_lr:.2g}**."
    if r.stopped_early:
        text += f" It blows up past **{r.lrs[-1]:.2g}**, where the finder stopped ({r.stopped_early})."
    else:
        text += (
            f" Its moving average stayed below 4 times its lowest value up to {r.lrs[-1]:.2g}"
            " (single batches, the faint line, may spike before that)."
        )
    if batch_size < NOISY_BATCH:
        text += (
            f" **With batch size {batch_size} each step's loss is mostly noise**, and so are these suggestions:"
            " run the finder at batch size 32 or more, then use its lr (scaled down for small batches)."
        )
    return text + (
        f" {len(r.lrs)} steps from lr {r.start_lr:g} in {r.seconds:.1f} s; the faint line is each batch's loss, the bold one "
        "its moving average (fastai's smoothing), the shaded band the range explored."
    )


def _use_buttons(r: LrFindEvent) -> None:
    picks = [(lr, what) for lr, what in ((r.suggested_lr, "steepest"), (r.valley_lr, "valley")) if lr is not None]
    notches: list[float] = []
    cols = st.columns(len(picks) or 1)
    for col, (lr, what) in zip(cols, picks):
        notch = nearest_notch(lr)
        if notch in notches:
            continue
        notches.append(notch)
        col.button(
            f"Use {notch:g}",
            key=f"lr_use_{what}",
            type="primary" if what == "steepest" else "secondary",
            on_click=state.choose,  # runs before the next rerun draws the slider
            args=("lr", notch),
            help=f"Sets the learning rate slider to {notch:g}, its notch nearest to the {what} suggestion {lr:.3g}.",
        )
        if not math.isclose(notch, lr, rel_tol=1e-9):
            col.caption(f"{what}: {lr:.3g}, snapped to the slider's nearest notch, {notch:g}")


def chart(r: LrFindEvent) -> alt.LayerChart:
    """Loss (faint) and smoothed loss against the lr on a log axis over the range asked for, the
    explored part shaded, the two suggestions as rules. Losses far above the start are cut off."""
    df = pd.DataFrame({"lr": r.lrs, "loss": r.losses, "smoothed": r.smoothed})
    bottom = min(range(len(r.smoothed)), key=r.smoothed.__getitem__)
    top = 1.5 * max(r.smoothed[: bottom + 1])
    x_scale = alt.Scale(type="log", domain=[r.start_lr, r.end_lr])
    decades = [10.0**k for k in range(math.floor(math.log10(r.start_lr)), math.ceil(math.log10(r.end_lr)) + 1)]
    x_axis = alt.Axis(values=[d for d in decades if r.start_lr <= d <= r.end_lr], labelExpr=LOG_AXIS.labelExpr)
    y_scale = alt.Scale(domain=[0, top], clamp=True)

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", title="learning rate (log scale)", scale=x_scale, axis=x_axis)

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", title="loss", scale=y_scale)

    tips = [alt.Tooltip("lr:Q", format=".3g"), alt.Tooltip("loss:Q", format=".4f"), alt.Tooltip("smoothed:Q", format=".4f")]
    raw = alt.Chart(df).mark_line(opacity=0.3, color="#1f77b4", clip=True).encode(x=x("lr"), y=y("loss"), tooltip=tips)
    smooth = alt.Chart(df).mark_line(color="#1f77b4", clip=True).encode(x=x("lr"), y=y("smoothed"), tooltip=tips)
    explored = (
        alt.Chart(pd.DataFrame({"from": [r.lrs[0]], "to": [r.lrs[-1]], "what": [f"explored: lr {r.lrs[0]:.2g} to {r.lrs[-1]:.2g}"]}))
        .mark_rect(opacity=0.07, color="grey")
        .encode(x=x("from"), x2="to:Q", tooltip=["what:N"])
    )
    marks = [
        (lr, what, c)
        for lr, what, c in ((r.suggested_lr, "steepest", STEEP_COLOR), (r.valley_lr, "valley", VALLEY_COLOR))
        if lr is not None
    ]
    layers = [explored, raw, smooth]
    if marks:
        rules = pd.DataFrame({"lr": [m[0] for m in marks], "suggestion": [f"{what} {lr:.2g}" for lr, what, _ in marks]})
        colors = alt.Scale(domain=list(rules["suggestion"]), range=[m[2] for m in marks])
        layers.append(
            alt.Chart(rules)
            .mark_rule(strokeDash=[5, 3], strokeWidth=2)
            .encode(x=x("lr"), color=alt.Color("suggestion:N", scale=colors, title="suggested lr"), tooltip=["suggestion:N"])
        )
    return alt.layer(*layers).properties(title="Loss against the learning rate", height=260)
