"""Twin runs on the Toy 2D page: the same points, the network of the settings above and a twin that
differs in one setting (lr 0.03 and lr 3, 2 units and 8), trained together as any two runs are
(jobs.submit_group: grouped when they can be) and drawn side by side, redrawn live."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import datasets, settings, sweeps
from playground.boundary import Grid
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.runs import Run
from playground.ui import me
from playground.ui.toy_controls import control
from playground.ui.toy_view import latest_map
from playground.wording import sentence

POLL_SECONDS = 0.4


def twin_value(param: str, text: str) -> Any:
    """The one value typed for the twin's setting; PlaygroundError in the sweep's words otherwise."""
    values = sweeps.parse_values(param, text)
    if len(values) != 1:
        raise PlaygroundError(f"type one value for the twin's {settings.TWIN_SETTINGS[param]}, not {len(values)}")
    return values[0]


def _value_of(config: TrainConfig, param: str, page: dict) -> Any:
    return page[param] if param in page else getattr(config, param)


def twin_section(config: TrainConfig, page: dict, ds: datasets.Dataset, g: Grid, show_test: bool, discrete: bool) -> None:
    """page: the Toy page's values that are not TrainConfig fields (width, activation)."""
    c = st.columns([1, 1, 1], vertical_alignment="bottom")
    param = control(c[0], "toy_twin")
    if not param:
        st.caption("Choose a setting for a twin: the same points, two networks that differ in that one setting, trained side by side.")
        return
    text = control(c[1], "toy_twin_value")
    if not text.strip():
        st.caption(
            f"Type the twin's {settings.TWIN_SETTINGS[param]} (this page's is {sweeps.label(param, _value_of(config, param, page))})."
        )
        return
    try:
        value = twin_value(param, text)
        twin = sweeps.SETTINGS[param].apply(config, value)
        twin.check_model()
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return
    manager = me.jobs()
    if c[2].button("Train both", icon=":material/play_arrow:", key="toy_train_twins", type="primary"):
        try:
            st.session_state.toy_twin_runs = [j.run_id for j in manager.submit_group([config, twin])]
        except PlaygroundError as e:  # class mode: past the class's limits
            st.error(sentence(str(e)), icon=":material/block:")
    pair = [(config, sweeps.label(param, _value_of(config, param, page))), (twin, sweeps.label(param, value))]
    runs = [_run_of(cfg) for cfg, _ in pair]
    if all(r is None for r in runs):
        st.caption("Press **Train both**: each map appears after the first epoch and is redrawn as its network learns.")
        return

    @st.fragment(run_every=POLL_SECONDS if any(r is not None and r.active for r in runs) else None)
    def both() -> None:
        now = [None if r is None else manager.store.get(r.id) for r in runs]
        for col, (_cfg, label), run in zip(st.columns(2), pair, now):
            col.vega_lite_chart(latest_map(run, f"{settings.TWIN_SETTINGS[param]} {label}", ds, g, show_test, discrete), width="content")
            col.caption(_status(run))
        if any(r is not None and r.active for r in runs) and not any(r is not None and r.active for r in now):
            st.rerun()  # both ended: stop polling

    both()


def _run_of(config: TrainConfig) -> Run | None:
    """The run of config this session started, else the stored one."""
    store = me.jobs().store
    for run_id in st.session_state.get("toy_twin_runs", []):
        run = store.get(run_id)
        if run is not None and run.config.key == config.key:
            return run
    return store.find_reusable(config)


def _status(run: Run | None) -> str:
    if run is None:
        return "Not trained yet."
    if run.active:
        return f"Run {run.id}: {run.status}."
    f = run.final
    accuracy = f" · test accuracy {f['test_accuracy']:.1%}" if "test_accuracy" in f else ""
    return f"Run {run.id} {run.status}{accuracy}{' · trained with its twin as one group' if f.get('grouped_with') else ''}."
