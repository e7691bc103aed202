"""The Labs page's parts: the lab and step pickers, a step's settings applied to the Train page with
one click, its runs started and redrawn while they train, its deliverable, the student's answer,
and the export. Where the student is (step, mode, runs, answers) lives in the run store
(playground.labs.progress), so a page switch, a reload or a restart loses none of it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from playground import datasets, settings
from playground.errors import PlaygroundError
from playground.labs import deliver, figures, format, notebook, progress
from playground.labs.deliver import Filled
from playground.labs.format import Lab, Step
from playground.labs.progress import Progress
from playground.runs import REUSABLE
from playground.ui import me, state
from playground.ui.export_view import export_expander
from playground.wording import plural, sentence

POLL_SECONDS = 1.0
PAGES = {  # labs.steps.PAGES -> (file, title)
    "data": ("app_pages/data.py", "Data"),
    "model": ("app_pages/model.py", "Model"),
    "train": ("app_pages/train.py", "Train"),
    "results": ("app_pages/results.py", "Results"),
    "toy": ("app_pages/toy.py", "Toy 2D"),
    "experiments": ("app_pages/experiments.py", "Experiments"),
    "runs": ("app_pages/runs.py", "Runs"),
    "conv": ("app_pages/conv.py", "Conv arithmetic"),
    "backprop": ("app_pages/backprop.py", "Backprop by hand"),
}


def pick_lab() -> Lab | None:
    """The lab chosen (kept in the link as lab=NAME), checked; a teacher's broken lab file is named with
    its line and field, and the others stay usable."""
    title = format.titles()
    if not title:
        return None
    names = list(title)
    state.prepare("lab")
    if st.session_state["lab"] not in names:
        st.session_state["lab"] = names[0]
    name = st.selectbox("Lab", names, format_func=title.get, key="lab")
    state.remember("lab", name)
    try:
        with st.spinner("Checking the lab ..."):
            return format.find(name)
    except PlaygroundError as e:
        st.error(f"This lab file cannot be used: {e}", icon=":material/error:")
        return None


def progress_of(lab: Lab) -> Progress:
    """This session's copy of the stored progress (read once per session and lab)."""
    key = f"lab-progress-{lab.name}"
    if key not in st.session_state:
        st.session_state[key] = progress.load(me.jobs().store, lab.name)
    p = st.session_state[key]
    p.step = min(max(p.step, 1), len(lab.steps))
    return p


def save(p: Progress) -> None:
    progress.save(me.jobs().store, p)


def _done(lab: Lab, p: Progress, step: Step) -> bool:
    """A step is done when what it fills is there: its runs started (training steps) and its answer typed (if asked)."""
    ran = step.do not in deliver.TRAINS or p.runs_of(step.index) is not None
    return ran and (not step.prompt or bool(p.answers.get(step.index, "").strip()))


def header(lab: Lab, p: Progress) -> Step:
    """The mode, the progress through the lab and the step picker; the step on screen."""
    if lab.about:
        st.markdown(lab.about)

    def set_mode() -> None:
        p.quick = st.session_state[f"lab-quick-{lab.name}"]
        save(p)

    st.toggle("Quick mode", value=p.quick, key=f"lab-quick-{lab.name}", on_change=set_mode,
              help="Offline datasets, fewer images and epochs: every step fills in seconds to minutes. Off: the lab as the assignment asks it.")  # fmt: skip
    if p.quick:
        st.caption(f"Quick mode: {lab.quick_text()}. Switch it off for the full lab on the real data.")
    done = [_done(lab, p, s) for s in lab.steps]
    st.progress(sum(done) / len(lab.steps), text=f"{sum(done)} of {len(lab.steps)} steps done")

    def go(to: int) -> None:
        p.step = to
        save(p)

    labels = [f"{s.index}. {s.title}" + (" ✓" if d else "") for s, d in zip(lab.steps, done)]
    c = st.columns([1, 6, 1], vertical_alignment="bottom")
    c[0].button(
        "Back", icon=":material/arrow_back:", disabled=p.step <= 1, on_click=go, args=(p.step - 1,), key="lab-back", width="stretch"
    )
    st.session_state[f"lab-step-{lab.name}"] = labels[p.step - 1]
    c[1].selectbox(
        "Step", labels, key=f"lab-step-{lab.name}", on_change=lambda: go(labels.index(st.session_state[f"lab-step-{lab.name}"]) + 1)
    )
    c[2].button("Next", icon=":material/arrow_forward:", disabled=p.step >= len(lab.steps), on_click=go, args=(p.step + 1,), key="lab-next",
                width="stretch")  # fmt: skip
    return lab.steps[p.step - 1]


def _name(n: str) -> str:
    """A setting as the Train page labels it ("Epochs"), or its name in words ("test limit")."""
    return settings.ALL[n].label or n.replace("_", " ")


def settings_box(lab: Lab, step: Step, p: Progress) -> None:
    """The settings the step needs beside the Train page's now; Apply sets them there and says what changed."""
    if step.do in ("read", "conv", "backprop"):
        return
    config = lab.config(step, p.quick)
    wanted = {n: getattr(config, n) for n in lab.settings_of(step, p.quick)}  # as the Train page keeps them ("base" -> its layers)
    rows = [{"setting": _name(n), "this step": settings.show(n, v), "your Train page now": settings.show(n, state.current(n))}
            for n, v in wanted.items()]  # fmt: skip
    with st.expander("The settings of this step", expanded=False):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        changed = {n: v for n, v in wanted.items() if state.current(n) != v}
        if st.button("Apply them to the Train page", icon=":material/tune:", disabled=not changed, key=f"apply-{lab.name}-{step.index}"):
            said = [f"{_name(n)}: {settings.show(n, state.current(n))} → {settings.show(n, v)}" for n, v in changed.items()]
            for n, v in changed.items():
                state.choose(n, v)
            st.session_state["lab_applied"] = said
            st.rerun()
        if said := st.session_state.pop("lab_applied", None):
            st.success("Applied to the Train page:\n\n" + "\n".join(f"- {s}" for s in said), icon=":material/check:")
        elif not changed:
            st.caption("The Train page has these settings now.")


def draw(filled: Filled) -> None:
    """A deliverable: sample images, tables, charts (two a row) and facts."""
    if filled.images:
        cols = st.columns(max(len(filled.images), 3))
        for col, (caption, image) in zip(cols, filled.images):
            col.image(figures.png(image), caption=caption, width=150)
    for t in filled.tables:
        st.markdown(f"**{t.title}**")
        st.dataframe(pd.DataFrame(t.rows).astype(str), hide_index=True, width="stretch") if t.rows else st.caption("No rows yet.")
    charts = [c for c in filled.charts if c.points]
    cols = st.columns(2) if len(charts) > 1 else [st.container()]
    for i, c in enumerate(charts):
        cols[i % len(cols)].altair_chart(figures.chart(c), width="stretch")
    if filled.facts:
        st.markdown("\n".join(f"- {f}" for f in filled.facts))


def _start(lab: Lab, step: Step, p: Progress) -> None:
    config = lab.config(step, p.quick)
    try:
        with st.spinner(f"Getting {datasets.info(config.dataset).title} ready ..."):
            datasets.prepare(config.dataset)
        started, _ = deliver.start(lab, step, p.quick, me.jobs())
    except PlaygroundError as e:
        st.session_state["lab_error"] = str(e)
        return
    p.set_runs(step.index, started)
    save(p)


def _stop(started: deliver.Started) -> None:
    manager = me.jobs()
    for rid in started.run_ids:
        if (job := manager.job(rid)) is not None:
            manager.stop(job)


def deliverable(lab: Lab, step: Step, p: Progress) -> None:
    """A training step: its Run button, then its deliverable redrawn while it trains; the others at once."""
    store = me.jobs().store
    if step.do not in deliver.TRAINS:
        try:
            draw(_filled_now(lab.name, step.index, p.quick))
        except PlaygroundError as e:
            st.error(str(e), icon=":material/error:")
        return
    started = p.runs_of(step.index)
    if started is not None and all(store.get(r) is None for r in started.run_ids):
        started = None  # its runs were deleted on the Runs page: run it again
    if error := st.session_state.pop("lab_error", None):
        st.error(sentence(error), icon=":material/error:")
    if started is None:
        n = len(deliver.configs(lab, step, p.quick))
        st.button(f"Run this step ({n} run{'s' * (n > 1)})", type="primary", icon=":material/play_arrow:", key=f"run-{lab.name}-{step.index}",
                  on_click=_start, args=(lab, step, p))  # fmt: skip
        st.caption("A run trained before with the same settings comes from the cache at once.")
        return
    if not deliver.training(store, started) and (
        cut := [r for r in map(store.get, started.run_ids) if r is not None and r.status not in REUSABLE]
    ):
        st.button(f"Run again ({len(cut)} of {plural(len(started.run_ids), 'run')} did not finish: {', '.join(sorted({r.status for r in cut}))})",
                  icon=":material/replay:", key=f"rerun-{lab.name}-{step.index}", on_click=_start, args=(lab, step, p),
                  help="The runs that finished come from the cache; the others train again.")  # fmt: skip
    live(lab, step, p, started)


def live(lab: Lab, step: Step, p: Progress, started: deliver.Started) -> None:
    store = me.jobs().store
    training = deliver.training(store, started)

    @st.fragment(run_every=POLL_SECONDS if training else None)
    def redraw() -> None:
        filled = deliver.fill(lab, step, p.quick, store, started)
        if filled.training:
            runs = [store.get(r) for r in started.run_ids]
            finished = sum(r is not None and not r.active for r in runs)
            st.progress(
                finished / len(runs),
                text=f"Training: {finished} of {plural(len(runs), 'run')} finished · the deliverable fills in as they train",
            )
            st.button("Stop", icon=":material/stop_circle:", key=f"stop-{lab.name}-{step.index}", on_click=_stop, args=(started,))
        draw(filled)
        if not filled.training:
            for rid, label in zip(started.run_ids, started.labels):
                if (run := store.get(rid)) is not None:  # the code behind each run of the step
                    export_expander(run, "The code of this run" if step.do == "train" else f"The code of the run with {label}")
        key = f"lab-live-{lab.name}-{step.index}"
        was, st.session_state[key] = st.session_state.get(key, False), filled.training
        if was and not filled.training:
            st.rerun()  # the last run finished: the whole page once more (the step is done), then no polling

    redraw()


@st.cache_data(show_spinner="Working it out ...", max_entries=64)
def _filled_now(lab_name: str, index: int, quick: bool) -> Filled:
    """A step that trains nothing, worked out once per lab file version and mode."""
    lab = format.find(lab_name)
    return deliver.fill(lab, lab.steps[index - 1], quick, me.jobs().store)


def answer_box(lab: Lab, step: Step, p: Progress) -> None:
    if not step.prompt:
        return
    key = f"lab-answer-{lab.name}-{step.index}"
    if key not in st.session_state:
        st.session_state[key] = p.answers.get(step.index, "")

    def keep() -> None:
        p.answer(step.index, st.session_state[key])
        save(p)

    st.text_area(step.prompt, key=key, on_change=keep, height=120, max_chars=progress.MAX_ANSWER,
                 placeholder="Your answer, in your own words. It is kept with the lab and goes into the export.")  # fmt: skip


def explore(step: Step) -> None:
    if step.page:
        path, title = PAGES[step.page]
        st.page_link(path, label=f"Explore further on the {title} page", icon=":material/open_in_new:")


def export(lab: Lab, p: Progress) -> None:
    """The lab as a notebook or an HTML report: what is filled so far, the answers typed, each run's code."""

    def steps() -> list:
        store = me.jobs().store
        return [(deliver.fill(lab, s, p.quick, store, p.runs_of(s.index)), p.answers.get(s.index, "")) for s in lab.steps]

    st.markdown("**Hand it in**")
    c = st.columns(2)
    c[0].download_button("Notebook (.ipynb)", lambda: notebook.text(lab, steps(), p.quick, "ipynb"), f"{lab.name}.ipynb",
                         "application/x-ipynb+json", icon=":material/download:", key=f"export-ipynb-{lab.name}", width="stretch")  # fmt: skip
    c[1].download_button("Report (.html)", lambda: notebook.text(lab, steps(), p.quick, "html"), f"{lab.name}.html", "text/html",
                         icon=":material/download:", key=f"export-html-{lab.name}", width="stretch")  # fmt: skip
    terminal = (
        f" From a terminal, training what is missing: `python -m playground lab export {lab.name} --format ipynb -o {lab.name}.ipynb`."
    )
    st.caption("Steps not run yet are exported with their code and without results." + (terminal if me.at_the_server() else ""))
