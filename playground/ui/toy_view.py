"""A toy 2D run from the run store: its decision regions after the first epoch and the latest stored,
the network drawn as TensorFlow Playground draws it (every unit's map, the weights), and the loss
per epoch, redrawn while the run trains, with its status and a Stop button."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from playground import datasets
from playground.boundary import Grid
from playground.runs import Run
from playground.ui import charts, me, network_chart, region_map
from playground.ui.network_view import diagnosis_panel
from playground.wording import plural

POLL_SECONDS = 0.4  # the maps are redrawn at least twice a second while a run trains


@dataclass
class View:
    show_test: bool = True  # draw the test points
    discrete: bool = False  # hard regions (the predicted class) instead of P(class 1)


def run_regions(run: Run | None, ds: datasets.Dataset, g: Grid, view: View, from_store: bool = False) -> None:
    """The regions of run (None: the points alone, with what Train will do); polls while it trains.
    from_store: the run was trained before (not by this session's Train): say it comes from the store."""
    first_col, live_col = st.columns(2)
    if run is None:
        first_col.vega_lite_chart(region_map.region_map(ds, g, None, "Training and test points", view.show_test), width="content")
        first_col.caption(region_map.legend_text(ds.info.is_regression))
        live_col.info(
            "Press **Train**: the decision regions appear after the first epoch and are redrawn as the network learns. "
            "The run goes on in the background: you can change page and come back.",
            icon=":material/info:",
        )
        return
    manager = me.jobs()

    @st.fragment(run_every=POLL_SECONDS if run.active else None)
    def panel() -> None:
        now = manager.store.get(run.id)
        if now is None:
            st.info("This run was deleted.")
            return
        job = manager.job(run.id)
        if now.active and job is not None and st.button("Stop", icon=":material/stop:", key=f"toy-stop-{run.id}"):
            manager.stop(job)
            now = manager.store.get(run.id)
        _status(now, job, from_store and not now.active)
        _maps(now, ds, g, view)
        if not now.active:
            diagnosis_panel(now, offer_fixes=False)
        if run.active and not now.active:
            st.rerun()  # ended: one full redraw, then no more polling

    panel()


def _maps(run: Run, ds: datasets.Dataset, g: Grid, view: View) -> None:
    """The regions after the first and the latest stored epoch, the network, the loss per epoch."""
    store = me.jobs().store
    snapshots = store.snapshot_ends(run.id)
    epochs = {e["epoch"]: e for e in store.epochs(run.id)}
    shown = (snapshots[0], snapshots[-1]) if snapshots else ((None, None),)
    for col, (epoch, p), prefix in zip(st.columns(2), shown, ("After the first epoch", "After epoch {}")):
        title = _title(prefix.format(epoch), epochs.get(epoch)) if epoch else "Training and test points"
        col.vega_lite_chart(region_map.region_map(ds, g, p, title, view.show_test, view.discrete), width="content")
    st.caption(region_map.legend_text(ds.info.is_regression))
    network = store.network(run.id)
    if network is not None:
        epoch, nm = network
        st.markdown(f"**Inside the network after epoch {epoch}**: hover a unit to see its map large.")
        st.vega_lite_chart(network_chart.network_chart(nm), width="content")
        st.caption(network_chart.legend_text(nm))
    if len(epochs) > 1:
        st.altair_chart(charts.epoch_metric(list(epochs.values()), "loss"), width="stretch")


def latest_map(run: Run | None, title: str, ds: datasets.Dataset, g: Grid, show_test: bool = True, discrete: bool = False) -> dict:
    """The run's latest stored regions (the points alone before its first epoch), titled."""
    snapshots = [] if run is None else me.jobs().store.snapshot_ends(run.id)
    if not snapshots:
        return region_map.region_map(ds, g, None, title, show_test)
    epoch, p = snapshots[-1]
    return region_map.region_map(ds, g, p, f"{title}: after epoch {epoch}", show_test, discrete)


def _title(prefix: str, epoch: dict | None) -> str:
    if epoch and epoch.get("test_accuracy") is not None:
        return f"{prefix}: test accuracy {epoch['test_accuracy']:.0%}"
    return f"{prefix}: test loss {epoch['test_loss']:.4f}" if epoch else prefix


def _status(run: Run, job, from_store: bool) -> None:
    cfg = run.config
    if run.status == "queued":
        st.info("Queued: it starts when the runs before it finish.", icon=":material/hourglass_top:")
    elif run.status == "running":
        epoch = job.epoch if job else 0
        st.progress(min(epoch / cfg.epochs, 1.0), text=f"Epoch {max(epoch, 1)} of {cfg.epochs} · run {run.id}")
    elif run.status == "completed":
        f = run.final
        when = (
            f"From the run store, nothing trained now: these exact settings were trained on "
            f"{dt.datetime.fromtimestamp(run.finished):%Y-%m-%d %H:%M} as run {run.id}"
            if from_store
            else f"Run {run.id}"
        )
        accuracy = f", test accuracy {f['test_accuracy']:.1%}" if "test_accuracy" in f else " (mean squared error)"
        st.success(
            f"{when}: trained {plural(cfg.epochs, 'epoch')} in {run.seconds or 0:.1f} s: train loss {f.get('train_loss', 0):.4f}, "
            f"test loss {f.get('test_loss', 0):.4f}{accuracy}",
            icon=":material/check_circle:",
        )
    elif run.status == "stopped":
        kept = " The regions so far are kept." if run.started is not None else ""  # a queued run stopped has none
        st.warning(f"Run {run.id}: {me.stopped_message(run)}.{kept}", icon=":material/stop_circle:")
    else:
        st.error(f"Run {run.id} {run.status}: {run.message}", icon=":material/error:")
