"""A sweep's progress, overlaid curves, filled-in table and flags; redrawn while members train.
Also the comparison of any chosen runs (the Runs page) with the same charts."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from playground import datasets, experiments, sweep_summary, sweeps, tables
from playground.experiments import SweepRun
from playground.runs import ACTIVE, Run, RunStore
from playground.ui import me
from playground.ui.compare_charts import Series, epoch_overlay, gradient_overlay, long_labels, step_loss_overlay
from playground.ui.state import set_defaults

POLL_SECONDS = 2.0


def series(store: RunStore, items: list[tuple[str, int, int]]) -> list[Series]:
    """(label, seed, run_id) -> chart series, skipping runs deleted since."""
    out = []
    for label, seed, run_id in items:
        run = store.get(run_id)
        if run is not None:
            out.append(Series(label, seed, store.epochs(run_id), store.step_columns(run_id), run.steps_per_epoch or 1))
    return out


def charts(data: list[Series], setting_title: str, num_classes: int) -> None:
    """Two charts a row; one a row, legend below, when the labels are long (a model's layers)."""
    drawn = [
        epoch_overlay(data, "test_accuracy", "Test accuracy per epoch", setting_title),
        step_loss_overlay(data, setting_title, num_classes),
        epoch_overlay(data, "train_accuracy", "Training accuracy per epoch", setting_title),
        epoch_overlay(data, "test_loss", "Test loss per epoch", setting_title),
        epoch_overlay(data, "train_loss", "Training loss per epoch", setting_title),
        gradient_overlay(data, setting_title),
    ]
    places = [st.container()] if long_labels([s.label for s in data]) else st.columns(2)
    for i, chart in enumerate(drawn):
        places[i % len(places)].altair_chart(chart, width="stretch")


def analysis_settings() -> tuple[float, float, int, bool]:
    set_defaults(target_accuracy=0.9, converge_threshold=0.005, converge_patience=2, mean_over_epochs=False)
    c = st.columns(4)
    target = c[0].number_input("Target test accuracy", 0.05, 1.0, step=0.01, format="%.2f", key="target_accuracy")
    threshold = c[1].number_input(
        "Converged: change below",
        0.0001,
        0.5,
        step=0.001,
        format="%.4f",
        key="converge_threshold",
        help="A run has converged at the first epoch after which its test accuracy changes by less than this from one epoch to the next ... "
        "A run that diverged or is not learning (near chance) has not converged, however flat its curve: the table says which.",
    )
    patience = c[2].number_input("... for epochs in a row", 1, 10, key="converge_patience")
    mean = c[3].toggle("Also the mean over epochs", key="mean_over_epochs")
    return target, threshold, int(patience), mean


def _progress(sweep: SweepRun, runs: list[Run]) -> bool:
    """Overall and current-run progress; True while any member is queued or running."""
    manager = me.jobs()
    done = sum(r.status not in ACTIVE for r in runs)
    live = [r for r in runs if r.status == "running"]
    text = f"{done} of {len(runs)} runs finished"
    if live:
        run = live[0]
        job = manager.job(run.id)
        step, total = (job.step, job.total_steps) if job else (0, run.total_steps or 0)
        where = f"epoch {max(job.epoch if job else 1, 1)} of {run.config.epochs}, step {step:,} of {total:,}"
        if len(live) > 1:  # twins of one architecture train as one group: all at the same step
            text += f" · {len(live)} runs training together as one group: {where}"
        else:
            m = next(m for m in sweep.members if m["run_id"] == run.id)
            text += f" · now {sweeps.SETTINGS[sweep.setting].title} = {m['label']}: {where}"
        frac = (done + len(live) * (step / total if total else 0)) / len(runs)
    else:
        frac = done / len(runs)
    if done < len(runs):
        st.progress(min(frac, 1.0), text=text)
        if st.button("Stop the sweep", icon=":material/stop_circle:", key=f"stop-sweep-{sweep.id}"):
            for r in runs:
                job = manager.job(r.id)
                if job is not None:
                    manager.stop(job)
    return done < len(runs)


def sweep_results(sweep_id: int) -> None:
    """The results of one sweep; polls while it runs (a fragment, so the rest of the page stays put)."""
    store = me.jobs().store
    sweep = experiments.load(store, sweep_id)
    if sweep is None:
        st.info("This sweep is no longer stored.")
        return
    target, threshold, patience, mean = analysis_settings()

    @st.fragment(run_every=POLL_SECONDS if _any_active(store, sweep) else None)
    def live() -> None:
        runs = [r for r in (store.get(i) for i in sweep.run_ids) if r is not None]
        if not runs:
            st.info("The runs of this sweep have been deleted.")
            return
        active = _progress(sweep, runs)
        setting = sweeps.SETTINGS[sweep.setting]
        outcomes = experiments.outcomes(store, sweep)
        num_classes = experiments.num_classes(sweep)
        rows = sweep_summary.table(outcomes, num_classes, target, threshold, patience)
        df = tables.sweep_frame(rows, setting.title, target, seeds=len(sweep.seeds), mean_over_epochs=mean)
        # a model's label carries its layers: past 360 px it is cut here (the legends show it whole),
        # so that the accuracy, epochs and parameter columns stay in view at 1400 px
        wide = any(len(r["value"]) > 45 for r in rows)
        config = {setting.title: st.column_config.TextColumn(width=360)} if wide else None
        st.dataframe(df.drop(columns=["flags"]), hide_index=True, width="stretch", column_config=config)
        for r in rows:
            for flag in r["flags"]:
                st.warning(f"**{setting.title} = {r['value']}**: {flag}", icon=":material/flag:")
        if not active:
            c1, c2, _ = st.columns([1, 1, 3])
            name = f"sweep-{sweep.id}-{sweep.setting}"
            c1.download_button("Table as CSV", tables.to_csv(df), f"{name}.csv", "text/csv", icon=":material/download:")
            c2.download_button("Table as Markdown", tables.to_markdown(df), f"{name}.md", "text/markdown", icon=":material/download:")
        items = [(m["label"], m["seed"], m["run_id"]) for m in sweep.members]
        charts(series(store, items), setting.title, num_classes)
        key = f"sweep-live-{sweep.id}"
        was_live, st.session_state[key] = st.session_state.get(key, False), active
        if was_live and not active:
            st.rerun()  # the last member finished: redraw the page once, without polling

    live()


def _any_active(store: RunStore, sweep: SweepRun) -> bool:
    return any(r is not None and r.status in ACTIVE for r in (store.get(i) for i in sweep.run_ids))


def sweep_label(d: dict) -> str:
    when = dt.datetime.fromtimestamp(d["created"]).strftime("%Y-%m-%d %H:%M")
    labels = ", ".join(dict.fromkeys(m["label"] for m in d["members"]))
    title = sweeps.SETTINGS[d["setting"]].title if d["setting"] in sweeps.SETTINGS else d["setting"]
    return f"#{d['id']} {title}: {labels} ({datasets.info(d['base'].dataset).title}, {when})"
