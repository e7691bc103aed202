"""Hyperparameter widgets -> a TrainConfig."""

from __future__ import annotations

from typing import Optional

import streamlit as st
import torch

from playground import datasets
from playground.errors import PlaygroundError
from playground.train import LOSSES, OPTIMIZERS, TrainConfig
from playground.ui.state import set_defaults

LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [1, 4, 8, 16, 32, 64, 128, 256, 512, 1000]
TRAIN_SUBSETS = [0, 20_000, 5_000, 1_000, 200]  # 0 = all training images


def available_devices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])


def train_form(dataset: str, spec: str) -> Optional[TrainConfig]:
    """Draw the hyperparameter widgets; return the config, or None with the reason shown."""
    meta = datasets.info(dataset)
    set_defaults(lr=0.1, batch_size=64, epochs=5, seed=0)
    c1, c2 = st.columns(2)
    lr = c1.select_slider("Learning rate", LEARNING_RATES, key="lr", format_func=lambda v: f"{v:g}", help="Log scale: each notch multiplies by about 3.")
    batch_size = c2.select_slider("Batch size", BATCH_SIZES, key="batch_size")
    epochs = c1.slider("Epochs", 1, 50, key="epochs")
    subset = c2.selectbox(
        "Training images",
        TRAIN_SUBSETS,
        key="train_limit",
        format_func=lambda n: f"all {meta.train_size:,}" if n == 0 else f"first {n:,}",
        help="Fewer images train faster: handy for a quick demo. The test set is always complete.",
    )
    optimizer = c1.selectbox("Optimizer", OPTIMIZERS, key="optimizer", format_func=str.upper)
    loss = c2.selectbox("Loss", LOSSES, key="loss", format_func=lambda s: s.replace("-", " ").capitalize())
    seed = c1.number_input("Seed", 0, 2**31 - 1, key="seed", help="Fixes the initial weights and the batch order.")
    device = c2.selectbox("Device", available_devices(), key="device")
    try:
        return TrainConfig(
            dataset=dataset,
            model=spec,
            lr=lr,
            epochs=epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            loss=loss,
            seed=int(seed),
            train_limit=subset,
            device=device,
        )
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return None
