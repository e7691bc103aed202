"""Backprop page: the network-from-scratch assignment's forward pass and every gradient worked by hand,
one quantity at a time, each checked against autograd; then one SGD step."""

import streamlit as st

from playground import worked
from playground.ui import backprop_view

st.title("Backprop by hand")
st.caption(
    "A network with one hidden layer, as the assignment writes it: h~ = W_h x + b_h, h = act(h~), y~ = W_y h + b_y, "
    "y^ = softmax(y~), then the loss. Every number below is worked out with the formula shown (no autograd), then "
    "compared with what PyTorch's autograd gives for the same network. With several samples (a mini-batch, samples "
    "apart by ';') the loss and the gradients are averaged over them. The same from a terminal: "
    "`python -m playground backprop --sizes 2,3,2 --x 0.5,-1.2 --y 1`."
)
example = backprop_view.inputs()
if example is None:
    st.stop()
w = worked.work(example)
shown = backprop_view.stepper()
backprop_view.quantities(w, shown)
if shown >= backprop_view.STEPS:
    backprop_view.sgd_step(w)
else:
    st.caption("Press **Next** for the next quantity; the SGD step comes after the last gradient.")
