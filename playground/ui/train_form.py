"""Hyperparameter widgets -> a TrainConfig. The essentials are always visible; optimizer details,
schedule, loss, normalisation, augmentation and validation sit in expanders."""

from __future__ import annotations

from typing import Optional

import streamlit as st
import torch

from playground import augment, datasets, optim
from playground.errors import PlaygroundError
from playground.train import TrainConfig
from playground.ui.data import toy_params
from playground.ui.state import set_defaults

LEARNING_RATES = [1e-4, 3e-4, 5e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [1, 4, 8, 16, 32, 64, 128, 256, 512, 1000]
TRAIN_SUBSETS = [0, 20_000, 5_000, 1_000, 200]  # 0 = all training images
OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}
SCHEDULER_TEXT = {"none": "constant", "step": "step: x gamma every few epochs", "exponential": "exponential: x gamma every epoch", "cosine": "cosine annealing to 0"}
NORMALIZE_TEXT = {"scale": "scale to [0, 1]", "standardize": "standardize (training-split mean and std)", "none": "none (raw 0-255)"}
DEFAULTS = dict(
    lr=0.1, batch_size=64, epochs=5, seed=0, optimizer="sgd", momentum=0.0, nesterov=False, weight_decay=0.0,
    scheduler="none", step_size=2, gamma=0.5, loss="cross-entropy", label_smoothing=0.0, normalize="scale",
    augment_list=[], val_split=0.0, early_stopping=0,
)


def available_devices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])


def _optimizer_options() -> dict:
    c = st.columns(3)
    optimizer = c[0].selectbox("Optimizer", optim.OPTIMIZERS, key="optimizer", format_func=OPTIMIZER_NAMES.get)
    momentum = c[1].number_input("Momentum", 0.0, 0.99, step=0.1, key="momentum", disabled=optimizer in ("adam", "adamw"), help="SGD and RMSprop; Adam keeps its own moving averages")
    weight_decay = c[2].number_input("Weight decay", 0.0, 1.0, step=1e-4, format="%.4f", key="weight_decay", help="L2 penalty on the weights (decoupled in AdamW)")
    nesterov = st.checkbox("Nesterov momentum", key="nesterov", disabled=not (optimizer == "sgd" and momentum > 0))
    c = st.columns(3)
    scheduler = c[0].selectbox("Learning-rate schedule", optim.SCHEDULERS, key="scheduler", format_func=SCHEDULER_TEXT.get)
    step_size = c[1].number_input("Step every (epochs)", 1, 100, key="step_size", disabled=scheduler != "step")
    gamma = c[2].number_input("Gamma", 0.01, 1.0, step=0.05, key="gamma", disabled=scheduler not in ("step", "exponential"))
    return dict(
        optimizer=optimizer, momentum=0.0 if optimizer in ("adam", "adamw") else momentum,
        nesterov=nesterov and optimizer == "sgd" and momentum > 0, weight_decay=weight_decay,
        scheduler=scheduler, step_size=int(step_size), gamma=gamma,
    )


def _data_options(meta: datasets.DatasetInfo) -> dict:
    c = st.columns(2)
    loss = c[0].selectbox("Loss", optim.LOSSES, key="loss", format_func={"cross-entropy": "cross-entropy", "mse": "MSE (softmax vs one-hot)"}.get, help="; ".join(f"{k}: {v}" for k, v in optim.LOSS_TEXT.items()))
    smoothing = c[1].number_input("Label smoothing", 0.0, 0.5, step=0.05, key="label_smoothing")
    normalize = c[0].selectbox("Input normalisation", augment.NORMALIZATIONS, key="normalize", format_func=NORMALIZE_TEXT.get)
    allowed = [] if meta.is_toy else [a for a in augment.AUGMENTATIONS if a != "color" or meta.input_shape[0] == 3]
    st.session_state.augment_list = [a for a in st.session_state.augment_list if a in allowed]
    names = c[1].multiselect("Augmentation (training batches only)", allowed, key="augment_list", disabled=not allowed,
                             help="; ".join(f"{a}: {augment.AUGMENTATION_TEXT[a]}" for a in allowed) or "not for toy points")
    c = st.columns(2)
    val_split = c[0].number_input("Validation share of the training images", 0.0, 0.5, step=0.05, key="val_split")
    patience = c[1].number_input("Early stopping patience (0 = off)", 0, 50, key="early_stopping", disabled=val_split == 0,
                                 help="Stop when the validation loss has not improved for this many epochs; the best weights are kept")
    return dict(loss=loss, label_smoothing=smoothing, normalize=normalize, augment=",".join(names), val_split=val_split,
                early_stopping=int(patience) if val_split > 0 else 0)


def train_form(dataset: str, spec: str) -> Optional[TrainConfig]:
    """Draw the hyperparameter widgets; return the config, or None with the reason shown."""
    meta = datasets.info(dataset)
    set_defaults(**DEFAULTS)
    c1, c2 = st.columns(2)
    lr = c1.select_slider("Learning rate", LEARNING_RATES, key="lr", format_func=lambda v: f"{v:g}", help="Log scale: each notch multiplies by about 3.")
    batch_size = c2.select_slider("Batch size", BATCH_SIZES, key="batch_size")
    epochs = c1.slider("Epochs", 1, 50, key="epochs")
    size = meta.train_size if not meta.is_toy else int(toy_params().points * toy_params().train_share)
    subset = c2.selectbox(
        "Training images",
        TRAIN_SUBSETS,
        key="train_limit",
        format_func=lambda n: f"all {size:,}" if n == 0 else f"first {n:,}",
        help="Fewer images train faster: handy for a quick demo. The test set is always complete.",
    )
    seed = c1.number_input("Seed", 0, 2**31 - 1, key="seed", help="Fixes the initial weights and the batch order.")
    device = c2.selectbox("Device", available_devices(), key="device")
    with st.expander("Optimizer and learning-rate schedule"):
        opt = _optimizer_options()
    with st.expander("Loss, normalisation, augmentation, validation"):
        data = _data_options(meta)
    p = toy_params()
    try:
        return TrainConfig(
            dataset=dataset, model=spec, lr=lr, epochs=epochs, batch_size=batch_size, seed=int(seed), train_limit=subset, device=device,
            toy_points=p.points, toy_noise=p.noise, toy_train_share=p.train_share, toy_seed=p.seed, **opt, **data,
        )
    except PlaygroundError as e:
        st.error(str(e), icon=":material/error:")
        return None
