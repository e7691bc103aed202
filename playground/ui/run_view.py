"""A run's progress, metrics and curves, redrawn live while it trains; the table of past runs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from playground import datasets
from playground.classroom.access import OwnJobs
from playground.events import GRAD_EVERY_STEP_UNTIL, who_stopped
from playground.jobs import Job
from playground.runs import Run
from playground.step_chunks import thin
from playground.ui import charts, me
from playground.ui.export_view import export_expander
from playground.ui.history import runs_frame
from playground.ui.network_view import network_section
from playground.wording import plural

# Redraws share the laptop's cores with the training process (and the browser draws every chart
# again), so while a run is live the page polls slowly, thins the per-step curves hard and draws two
# charts. A queued run's panel is a status line and a Stop button, polled as slowly.
POLL_SECONDS = 1.5
FIRST_POLL_SECONDS = 0.3  # only while a started run has no curve point yet (about a second)
LIVE_CHART_STEPS = 300
FINAL_CHART_STEPS = 2000


def _status(run: Run, job: Job | None, cached: bool) -> None:
    cfg = run.config
    if run.status == "queued":
        ahead = [j for j in me.jobs().active() if j.run_id < run.id]
        if ahead:
            st.info(
                f"Queued: it starts when {'the run' if len(ahead) == 1 else f'the {len(ahead)} runs'} before it {'finishes' if len(ahead) == 1 else 'finish'}. Stop takes it off the queue.",
                icon=":material/hourglass_top:",
            )
            first = ahead[0]
            if st.button(f"Show run {first.run_id}, training now", icon=":material/visibility:", key=f"show-{first.run_id}-from-{run.id}"):
                st.session_state.run_id, st.session_state.cached_run = first.run_id, None
                st.rerun()  # the whole page: its panel is another run's
        elif _finder_training(me.jobs()):
            st.info("Queued: it starts when the learning-rate finder ahead of it finishes (seconds). Stop takes it off the queue.",
                    icon=":material/hourglass_top:")  # fmt: skip
        elif others := (me.jobs().ahead(job) if job is not None and job.task is not None else 0):  # class mode: other students' runs
            st.info(
                f"Queued: {plural(others, 'run')} of the class {'goes' if others == 1 else 'go'} before it (the students take turns). Stop takes it off the queue.",
                icon=":material/hourglass_top:",
            )
        else:  # nothing ahead of it but, in a fresh app, the worker's start-up
            st.info("Starting: preparing the data and the model.", icon=":material/hourglass_top:")
    elif run.status == "running":
        step = job.step if job else 0
        total = run.total_steps or 1
        epoch = max(job.epoch if job else 1, 1)
        st.progress(min(step / total, 1.0), text=f"Epoch {epoch} of {cfg.epochs} · step {step:,} of {total:,} · {run.seconds:.0f} s")
    elif run.status == "completed":
        when = dt.datetime.fromtimestamp(run.finished).strftime("%Y-%m-%d %H:%M")
        prefix = f"Served from the cache: this exact configuration was trained on {when}" if cached else "Completed"
        st.success(f"{prefix} in {run.seconds:.1f} s on {run.device}.", icon=":material/check_circle:")
    elif run.status == "stopped" and run.started is None:
        by = f" by {who}" if (who := who_stopped(run.message)) else ""
        st.warning(f"Stopped before it started: it was taken off the queue{by} and will not run.", icon=":material/stop_circle:")
    elif run.status == "stopped":
        st.warning(f"{me.stopped_message(run)}. The curves so far are kept.", icon=":material/stop_circle:")
    elif run.status == "diverged":
        st.error(f"Diverged: {run.message}", icon=":material/warning:")
    else:  # failed, interrupted
        st.error(f"{run.status.capitalize()}: {run.message}", icon=":material/error:")
    if run.final.get("grouped_with"):
        st.caption(
            f":material/group_work: Trained in one group with its {plural(run.final['grouped_with'] - 1, 'sweep twin')}: the twins' "
            "weights are stacked and updated together. Its numbers equal a run alone's to about 1e-6 over the first 100 steps; "
            "a chaotic run (a learning rate near divergence) can amplify that rounding and end elsewhere."
        )


def _metrics(run: Run, epochs: list[dict]) -> None:
    f = run.final or (epochs[-1] if epochs else {})  # while it trains: the latest epoch's
    cols = st.columns(5)
    cols[0].metric("Test accuracy", f"{f['test_accuracy']:.2%}" if "test_accuracy" in f else "-")
    cols[1].metric("Test loss", f"{f['test_loss']:.4f}" if "test_loss" in f else "-")
    if f.get("val_accuracy") is not None:
        cols[2].metric(
            "Validation accuracy",
            f"{f['val_accuracy']:.2%}",
            help=f"train accuracy {f['train_accuracy']:.2%}" + (f"; best epoch {f['best_epoch']}" if "best_epoch" in f else ""),
        )
    else:
        cols[2].metric("Train accuracy", f"{f['train_accuracy']:.2%}" if "train_accuracy" in f else "-")
    cols[3].metric("Trainable parameters", f"{run.params:,}" if run.params else "-")
    cols[4].metric("Time", f"{run.seconds:.1f} s" if run.seconds is not None else "-")


def _curves(run: Run, epochs: list[dict]) -> None:
    cols = me.jobs().store.step_columns(run.id)  # numpy columns: dicts only for the points drawn
    if not len(cols) and not run.active:
        st.caption("This run has no curve points.")
        return
    num_classes = datasets.info(run.config.dataset).num_classes
    left, right = st.columns(2)
    if not len(cols):  # starting: the chart's frame and the guessing line now, the points as they come
        left.altair_chart(charts.step_loss([], num_classes), width="stretch")
        right.caption(
            f"Waiting for the first steps. The first loss should be near the dashed line, ln({num_classes}): "
            "the loss of a model that guesses every class with equal probability."
        )
        return
    if run.active:
        left.altair_chart(charts.step_loss(cols.rows(thin(len(cols), LIVE_CHART_STEPS)), num_classes), width="stretch")
        left.caption(f"Latest step {cols.step[-1]:,}: loss {cols.loss[-1]:.4f}")
        right.altair_chart(charts.epoch_metric(epochs, "accuracy"), width="stretch")
        st.caption("Loss per epoch, the gradient curves and the table appear when the run ends.")
        return
    first = cols.rows(cols.step <= GRAD_EVERY_STEP_UNTIL)
    steps = cols.rows(thin(len(cols), FINAL_CHART_STEPS))
    left.altair_chart(charts.step_loss(steps, num_classes), width="stretch")
    if epochs:
        right.altair_chart(charts.epoch_metric(epochs, "accuracy"), width="stretch")
        left.altair_chart(charts.epoch_metric(epochs, "loss"), width="stretch")
    else:
        right.caption("No epoch finished, so there are no per-epoch accuracy and loss curves.")
    right.altair_chart(charts.gradient(first, "grad_mean", f"Mean gradient dL/dw, first {GRAD_EVERY_STEP_UNTIL} steps"), width="stretch")
    if run.config.scheduler != "none" and epochs:
        left.altair_chart(charts.gradient(steps, "grad_abs_mean", "Mean |dL/dw| over the whole run"), width="stretch")
        right.altair_chart(charts.learning_rate(epochs, run.config.scheduler), width="stretch")
    else:
        st.altair_chart(charts.gradient(steps, "grad_abs_mean", "Mean |dL/dw| over the whole run"), width="stretch")
    st.caption(
        "Gradients are averaged over all trainable parameters, at every step for the first 100 steps and "
        "every 10th step after. What to expect: the signed mean hovers around zero from the start (positive and "
        "negative gradients cancel), so its size says little; the mean |dL/dw| is the one that shows learning. "
        "It often rises over the first steps, while the loss falls fastest and the last layer's gradients grow, "
        "then shrinks as the loss flattens out: a gradient that stays near zero from step 1 means nothing learns "
        "(a dead or saturated network), one that keeps growing means the steps are too large. Train metrics are "
        "running means over each epoch's batches; validation and test metrics are computed after each epoch in eval mode."
    )
    if run.final.get("normalization"):
        st.caption(f"Inputs: {run.final['normalization']}." + (f" Augmentation: {run.config.augment}." if run.config.augment else ""))
    if epochs:
        with st.expander("Per-epoch table"):
            st.dataframe(pd.DataFrame(epochs).dropna(axis=1, how="all").set_index("epoch"), width="stretch")


def run_panel(run_id: int) -> None:
    """Status, metrics and curves of one run; polls while the run is queued or running."""
    manager = me.jobs()
    first = manager.store.get(run_id)
    every = _cadence(manager, first)
    # Starting (nothing queued ahead) or started without a curve point yet: poll fast, so that the
    # first point shows within about a second of Train; queued behind others or drawing: slowly.
    # A change of cadence redraws the page once (a fragment's cadence is fixed when it is drawn).

    @st.fragment(run_every=every)
    def panel() -> None:
        run = manager.store.get(run_id)
        if run is None:
            st.info("This run was deleted.")
            return
        job = manager.job(run_id)
        if run.active and job is not None and st.button("Stop", icon=":material/stop:", key=f"stop-{run_id}"):
            manager.stop(job)  # a queued run is off the queue at once; a running one ends within a step
            run = manager.store.get(run_id)
        _status(run, job, cached=st.session_state.get("cached_run") == run_id)
        if run.status == "queued":
            return  # nothing to draw yet: the panel stays as cheap as a finished run's
        epochs = manager.store.epochs(run_id)
        _metrics(run, epochs)
        _curves(run, epochs)
        network_section(run)
        if not run.active:
            export_expander(run)
        if _cadence(manager, run) != every:
            st.rerun()  # first points drawn, started, or ended: redraw once at the new cadence

    panel()


def _finder_training(manager: OwnJobs) -> bool:
    """A learning-rate finder holds the trainer now (a run queued behind it waits a few seconds)."""
    return any(f.status == "running" for f in manager.active_finders())


def _cadence(manager: OwnJobs, run: Run | None) -> float | None:
    """Seconds between polls of a run's panel: fast until its first curve point, unless it waits
    behind other runs; None once it ended."""
    if run is None or not run.active:
        return None
    if run.status == "queued":
        ahead = any(j.run_id < run.id for j in manager.active()) or _finder_training(manager)
        return POLL_SECONDS if ahead else FIRST_POLL_SECONDS
    return FIRST_POLL_SECONDS if manager.store.first_loss(run.id) is None else POLL_SECONDS


def runs_table(limit: int = 20) -> int | None:
    """Recent runs from the store; returns the run id the user selected, if any."""
    from playground.ui.history import column_config, styled  # the Runs page's look: 97.50%, 1,195,018, blank if unknown

    runs = me.jobs().store.list_runs(limit)
    if not runs:
        st.caption("No runs yet.")
        return None
    df = runs_frame(runs)
    event = st.dataframe(
        styled(df),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="runs_table",
        column_config=column_config(),
    )
    rows = event.selection.rows if event else []
    return int(df.iloc[rows[0]]["run"]) if rows else None
