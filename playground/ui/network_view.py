"""Why a run behaves as it does: its diagnosis, each finding with a button that trains the twin run
with the one change it suggests, and the "Inside the network" charts."""

from __future__ import annotations

import streamlit as st

from playground import diagnosis
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.runs import Run
from playground.ui import layer_charts, me, state

SEVERE = ("diverged", "not_learning")


def _train_twin(run: Run, fix: dict) -> None:
    """A button's callback: the form's settings take the fix, and the twin run starts."""
    try:
        twin = TrainConfig.from_dict(run.config.to_dict() | fix)
    except PlaygroundError as e:
        st.session_state.twin_error = str(e)
        return
    for name, value in fix.items():
        state.choose(name, value)
    try:
        job = me.jobs().submit(twin)
    except PlaygroundError as e:  # class mode: past the class's limits
        st.session_state.twin_error = str(e)
        return
    st.session_state.run_id, st.session_state.cached_run = job.run_id, job.run_id if job.cached else None


def diagnosis_panel(run: Run, offer_fixes: bool = True, layers: list[dict] | None = None) -> None:
    """The run's findings in plain words, the serious ones first, each with its one-click twin (on
    the Train page, where the twin's curves are drawn: offer_fixes)."""
    findings = diagnosis.of_run(me.jobs().store, run, layers)
    if not findings:
        if run.status == "completed":
            st.caption(":material/health_and_safety: Diagnosis: nothing odd in the curves or inside the network.")
        return
    st.markdown("**Diagnosis**")
    for f in findings:
        show = st.error if f.code in SEVERE else st.warning
        text, button = st.columns([4, 1.3], vertical_alignment="center")
        with text:
            show(f.message[0].upper() + f.message[1:], icon=":material/troubleshoot:")
        if (
            offer_fixes
            and f.fix
            and button.button(
                f"Try {f.fix_label}",
                key=f"fix-{run.id}-{f.code}",
                on_click=_train_twin,
                args=(run, f.fix),
                help="Train the twin run with this one change (the form takes it too)",
            )
        ):
            st.rerun()  # the whole page: the form shows the change, the panel the twin run
    if "twin_error" in st.session_state:
        st.error(st.session_state.pop("twin_error"), icon=":material/error:")


def inside_the_network(run: Run, rows: list[dict] | None = None) -> None:
    """Per-layer charts: gradient norms, update ratios, dead and saturated shares, output histograms
    (rows: the run's layer_stats, if the caller has read them already)."""
    rows = me.jobs().store.layer_stats(run.id) if rows is None else rows
    if not rows:
        st.caption("No per-layer statistics were recorded for this run (it was trained before they were).")
        return
    df = layer_charts.frame(rows)
    left, right = st.columns(2)
    left.altair_chart(layer_charts.per_layer_lines(df, "grad_norm", "Gradient norm |dL/dW| per layer", log=True), width="stretch")
    right.altair_chart(
        layer_charts.per_layer_lines(df, "update_ratio", "Update ratio |ΔW| / |W| per step", log=True, guide=1e-3), width="stretch"
    )
    for column, field, title, none in (
        (left, "dead", "Dead ReLU units (share)", "No ReLU layer: no dead units to count."),
        (right, "saturated", "Saturated tanh/sigmoid outputs (share)", "No tanh or sigmoid layer: nothing to saturate."),
    ):
        if field in df and df[field].notna().any():
            column.altair_chart(layer_charts.per_layer_lines(df, field, title), width="stretch")
        else:
            column.caption(none)
    st.caption(
        "Lines run from the first layer (dark) to the last (light). Healthy: gradient norms of the same order in every layer "
        "(a first layer orders of magnitude below the last is vanishing gradients); update ratios near the dashed 1e-3 "
        "(far below: the layer barely learns; far above: steps too large); few dead or saturated units."
    )
    activations = sorted({(r["layer"], r["name"]) for r in rows if r.get("hist") is not None})
    if activations:
        names = [name for _, name in activations]
        chosen = st.radio("Outputs over time of", names, horizontal=True, key=f"heat-{run.id}")
        st.altair_chart(layer_charts.histogram_heatmap(rows, chosen), width="stretch")
        st.caption("Each column is a recorded step, each row a band of output values; brighter: more of the layer's outputs there.")


def network_section(run: Run) -> None:
    """Under a run's curves: while it trains, "Inside the network" on request (it redraws at every
    poll); once it ended, the diagnosis and the charts in an expander."""
    if run.active:
        if st.toggle("Inside the network (live)", key=f"inside-{run.id}", help="Per-layer charts, redrawn as the run trains"):
            inside_the_network(run)
        return
    rows = me.jobs().store.layer_stats(run.id)  # read once for both
    diagnosis_panel(run, layers=rows)
    with st.expander("Inside the network: gradients, updates, dead and saturated units, per layer"):
        inside_the_network(run, rows)


def network_tab(run: Run) -> None:
    """The Results page's tab: the findings (their fixes train from the Train page) and the charts."""
    rows = me.jobs().store.layer_stats(run.id)
    diagnosis_panel(run, offer_fixes=False, layers=rows)
    inside_the_network(run, rows)
