"""The Backprop page's drawing: the inputs (from the page's settings), then each forward quantity and
each gradient of playground.worked one at a time (Next, Back, All): its formula, the formula with the
numbers put in, its value as a table, and whether autograd gives the same; then the SGD step."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from playground import worked
from playground.errors import PlaygroundError
from playground.ui import state
from playground.ui.train_form import setting_widget

SHOWN = "bp_shown"  # how many of the 11 quantities are on the page (session state)
STEPS = 11


def inputs() -> worked.Example | None:
    """The page's widgets -> an Example; None (with the message shown) when an input is wrong."""
    c = st.columns([1.2, 1, 1, 1])
    sizes_text = setting_widget(c[0], "bp_sizes")
    activation, loss = setting_widget(c[1], "bp_activation"), setting_widget(c[2], "bp_loss")
    lr = setting_widget(c[3], "bp_lr")
    c = st.columns([1.2, 1, 1, 1])
    x, y = setting_widget(c[0], "bp_x"), setting_widget(c[1], "bp_y")
    typed = c[3].toggle("Type the weights", value=bool(state.current("bp_weights")), key="bp_typed", help=_weights_help())
    seed = setting_widget(c[2], "bp_seed", disabled=typed)
    c[3].button(
        "Points from circles",
        icon=":material/scatter_plot:",
        key="bp_from_toy",
        on_click=_from_toy,
        args=(x,),
        help="x and y from the Toy 2D page's circles (its training points, as many as x has samples): needs 2 inputs and 2 classes",
    )
    try:
        sizes = worked.parse_sizes(sizes_text)
        weights = _typed_weights(sizes, seed) if typed else None
        if not typed:
            state.choose("bp_weights", "")
        return worked.example(sizes, x, y, weights, seed, activation, loss, lr)
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return None


def _from_toy(x_text: str) -> None:
    """x and y := the first training points of the circles set and their classes; sizes := 2,h,2."""
    from playground import datasets

    n = max(1, len([r for r in str(x_text).split(";") if r.strip()]))
    ds = datasets.load("circles")
    points, labels = ds.x_train[:n].tolist(), ds.y_train[:n].tolist()
    state.choose("bp_x", "; ".join(f"{a:.3g},{b:.3g}" for a, b in points))
    state.choose("bp_y", ",".join(str(int(v)) for v in labels))
    sizes = str(state.current("bp_sizes")).split(",")
    if len(sizes) == 3:
        state.choose("bp_sizes", f"2,{sizes[1].strip()},2")


def _weights_help() -> str:
    return "Off: PyTorch's own random first weights with the seed. On: a JSON box, filled with those weights to edit."


def _typed_weights(sizes: tuple[int, int, int], seed: int) -> dict:
    """The JSON box (filled with the seeded weights the first time) -> weights, checked."""
    text = state.current("bp_weights") or json.dumps({k: _rounded(v.tolist()) for k, v in worked.random_weights(sizes, seed).items()})
    state.choose("bp_weights", text)
    text = st.text_area("Weights (JSON: W_h, b_h, W_y, b_y; W as [out, in])", text, height=120, key="bp_weights_box", help=_weights_help())
    state.choose("bp_weights", text)
    st.button("Refill with the seeded weights", icon=":material/refresh:", key="bp_refill", on_click=_refill, help="For new sizes, say")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PlaygroundError(f"the typed weights are not JSON (line {e.lineno}, column {e.colno}): {e.msg}") from None
    return worked.check_weights(data, sizes, "the typed weights")


def _refill() -> None:
    state.choose("bp_weights", "")
    st.session_state.pop("bp_weights_box", None)


def _rounded(v):
    return [_rounded(x) for x in v] if isinstance(v, list) else round(v, 4)


def stepper() -> int:
    """Next, Back and All; returns how many quantities to show (1 to STEPS)."""
    ss = st.session_state
    ss.setdefault(SHOWN, 1)
    c = st.columns([1, 1, 1, 5])
    c[0].button("Back", icon=":material/arrow_back:", key="bp_back", disabled=ss[SHOWN] <= 1, on_click=_show, args=(ss[SHOWN] - 1,))
    c[1].button(
        "Next",
        icon=":material/arrow_forward:",
        key="bp_next",
        type="primary",
        disabled=ss[SHOWN] >= STEPS,
        on_click=_show,
        args=(ss[SHOWN] + 1,),
    )
    c[2].button("All", icon=":material/done_all:", key="bp_all", disabled=ss[SHOWN] >= STEPS, on_click=_show, args=(STEPS,))
    shown = ss[SHOWN]
    c[3].caption(f"{min(shown, 5)} of 5 forward quantities" + (f", {shown - 5} of 6 gradients" if shown > 5 else ""))
    return shown


def _show(n: int) -> None:
    st.session_state[SHOWN] = max(1, min(STEPS, n))


def quantities(w: worked.Worked, shown: int) -> None:
    """The first `shown` quantities, forward then backward, each checked against autograd."""
    e = w.example
    for i, q in enumerate((w.forward + w.backward)[:shown]):
        if i == 0:
            st.subheader("Forward")
        if i == 5:
            st.subheader("Backward")
            st.caption(f"{w.notes['loss']}. {w.notes['activation']}.")
        with st.container(border=True):
            st.markdown(f"**{q.symbol}**")
            st.code(f"{q.formula}\n  = {q.substituted}", language=None, wrap_lines=True)
            left, right = st.columns([3, 2])
            if isinstance(q.value, float):
                left.metric(q.symbol, f"{q.value:.6g}")
            else:
                left.dataframe(_table(q.name, q.value.tolist(), e), width="content")
            if q.checked:
                right.success(f"Equals autograd's {q.symbol}: the largest difference is {q.difference:.1e}.", icon=":material/check:")
            else:
                right.error(f"Differs from autograd's {q.symbol} by up to {q.difference:.3g}.", icon=":material/close:")


def sgd_step(w: worked.Worked) -> None:
    """The new weights (W - lr dL/dW) and the loss before and after, once every gradient is shown."""
    e = w.example
    st.subheader("One SGD step")
    st.markdown(f"Each weight moves against its gradient: **W ← W − {e.lr:g} · dL/dW**, **b ← b − {e.lr:g} · dL/db**.")
    cols = st.columns([3, 2, 3, 2])  # the matrices wider than the bias vectors
    for col, name in zip(cols, worked.NAMES):
        col.markdown(f"**{name}** after the step")
        col.dataframe(_table(name, w.weights_after[name].tolist(), e), width="content")
    before = w.forward[4].value
    st.metric(
        "Loss on the same sample(s)", f"{w.loss_after:.6g}", delta=f"{w.loss_after - before:+.3g} from {before:.6g}", delta_color="inverse"
    )
    if w.loss_after > before:
        st.warning(f"The loss rose: lr {e.lr:g} overshoots here. Try a smaller learning rate.", icon=":material/trending_up:")


def _table(name: str, value, e: worked.Example) -> pd.DataFrame:
    """A value with its rows and columns named: samples x units, or a weight's units x its inputs."""
    n_in, n_h, n_out = e.sizes
    xs, hs, ys = ([f"{p}{i + 1}" for i in range(k)] for p, k in (("x", n_in), ("h", n_h), ("y", n_out)))
    samples = [f"sample {i + 1}" for i in range(len(e.x))]
    rows, cols = {
        "h_tilde": (samples, hs), "h": (samples, hs), "grad_h_tilde": (samples, hs),
        "y_tilde": (samples, ys), "y_hat": (samples, ys), "grad_y_tilde": (samples, ys),
        "grad_W_y": (ys, hs), "W_y": (ys, hs), "grad_W_h": (hs, xs), "W_h": (hs, xs),
        "grad_b_y": (ys, None), "b_y": (ys, None), "grad_b_h": (hs, None), "b_h": (hs, None),
    }[name]  # fmt: skip
    if cols is None:
        return pd.DataFrame({"value": value}, index=rows)
    return pd.DataFrame(value, index=rows, columns=cols)
