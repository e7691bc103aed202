"""Play, pause and step on the Toy 2D page (playground.stepper): the network of the settings above,
trained here in short bursts while Play is on, or one mini-batch per Step, with that batch's forward
values and gradients of every unit worked by hand and checked against autograd."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from playground import backprop, boundary, datasets, unitmaps
from playground.config import TrainConfig
from playground.stepper import StepDetail, Stepper
from playground.ui import network_chart, region_map

PLAY_SECONDS = 0.5  # a redraw while Play is on: a burst of training, the maps, the losses
SHOWN_UNITS = unitmaps.MAX_UNITS


def step_through(config: TrainConfig, ds: datasets.Dataset, g: boundary.Grid, show_test: bool, discrete: bool) -> None:
    ss = st.session_state
    if ss.get("stepper_key") != config.key:  # other settings: start again
        ss.stepper_key, ss.stepper, ss.playing, ss.step_detail = config.key, None, False, None
    st.caption(
        "The network of the settings above, with the same first weights and batches as Train's run, trained here: **Play** runs it "
        "(pause it any time), **Step** takes one mini-batch and shows what each unit computed and the gradients backpropagation gave it."
    )
    c = st.columns([1, 1, 1, 4])
    playing = ss.playing
    c[0].button(
        "Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:", key="toy_play", on_click=_play
    )
    c[1].button("Step", icon=":material/skip_next:", key="toy_step", help="One mini-batch, worked by hand", on_click=_step, args=(config,))
    c[2].button("Reset", icon=":material/restart_alt:", key="toy_reset", help="The first weights again", on_click=_reset)
    if ss.stepper is None:
        return
    coarse = boundary.grid(ds, unitmaps.RESOLUTION)

    @st.fragment(run_every=PLAY_SECONDS if ss.playing else None)
    def live() -> None:
        s: Stepper = ss.stepper
        if ss.playing:
            s.play()
        _progress(s)
        p = s.predict(g.points)
        st.vega_lite_chart(region_map.region_map(ds, g, p, f"After step {s.steps}", show_test, discrete), width="content")
        # below the map, not beside it: the network with its large hovered map is wider than half the page
        st.vega_lite_chart(network_chart.network_chart(s.network(coarse.points)), width="content")
        if ss.playing and s.done:
            ss.playing = False
            st.rerun()  # the run's last step: stop polling

    live()
    if ss.step_detail is not None:
        step_detail(ss.step_detail, ss.stepper)


def _play() -> None:
    st.session_state.playing = not st.session_state.playing
    st.session_state.step_detail = None


def _step(config: TrainConfig) -> None:
    s = _stepper(config)
    st.session_state.playing = False
    st.session_state.step_detail = None if s.done else s.step()


def _reset() -> None:
    st.session_state.update(stepper=None, playing=False, step_detail=None)


def _stepper(config: TrainConfig) -> Stepper:
    if st.session_state.stepper is None:
        st.session_state.stepper = Stepper(config)
    return st.session_state.stepper


def _progress(s: Stepper) -> None:
    m = s.losses()
    st.progress(
        min(s.steps / s.run.total_steps, 1.0),
        text=f"Epoch {max(s.epoch, 1)} of {s.config.epochs} · step {s.steps} of {s.run.total_steps} · "
        f"train loss {m['train_loss']:.4f} · test loss {m['test_loss']:.4f} · test accuracy {m['test_accuracy']:.0%}",
    )


def step_detail(d: StepDetail, s: Stepper) -> None:
    """Each unit's forward values and gradients for the batch of step d, layer by layer."""
    st.markdown(f"**Step {d.step}** (epoch {d.epoch}): a batch of {len(d.batch)} training points.")
    if d.worked is None:
        st.info(
            "No hand-worked formulas for this network here (they cover classification sets with tanh, sigmoid, ReLU or no "
            "activation): the step was taken with autograd's gradients alone.",
            icon=":material/info:",
        )
        return
    p = d.worked
    st.markdown(
        f"Batch loss {p.loss:.4f}. Backward: {backprop.loss_gradient_text(p.loss_kind)}; through each hidden layer, "
        f"dL/dz = (Wᵀ dL/dz of the next layer) x f'(z) with {backprop.activation_derivative_text(p.activation)}. "
        f"Every gradient below equals autograd's: the largest difference is {d.max_difference:.1e}."
    )
    names = [f"h{i + 1}" for i in range(len(p.layers) - 1)] + ["output"]
    for name, layer, (_, b_auto), reg in zip(names, p.layers, d.autograd, d.reg_grads):
        st.dataframe(_layer_frame(name, layer, b_auto, reg, s.config.reg != "none"), hide_index=True, width="stretch")


def _layer_frame(name: str, layer: backprop.Layer, b_auto, reg, with_reg: bool) -> pd.DataFrame:
    """One row per unit (the first SHOWN_UNITS): batch means of z and a, dL/db by hand and by autograd, |dL/dW| of its row."""
    rows = []
    for j in range(min(layer.z.shape[1], SHOWN_UNITS)):
        unit = f"{name}.{j + 1}" if name != "output" else f"logit {j}"
        row = {
            "unit": unit,
            "mean z (before the activation)": layer.z[:, j].mean().item(),
            "mean a (after)": layer.a[:, j].mean().item(),
            "dL/db by hand": layer.grad_b[j].item(),
            "dL/db by autograd": b_auto[j].item(),
            "largest |dL/dW| into it": layer.grad_W[j].abs().max().item(),
        }
        if with_reg:
            row["largest |regularisation part|"] = reg[j].abs().max().item()
        rows.append(row)
    return pd.DataFrame(rows)
