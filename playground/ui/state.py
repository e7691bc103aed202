"""Widget values that survive page switches.

Streamlit forgets a widget's value when a run does not draw that widget (e.g. the Train page's
learning rate while the student looks at the Data page). Writing each value back to itself at the
start of every run keeps it (the documented way to interrupt the widget clean-up).
"""

import streamlit as st

PERSISTENT_KEYS = (
    "dataset",
    "preset", "spec_text",
    "anatomy_input", "custom_C", "custom_H", "custom_W", "custom_classes", "quiz_mode",
    "lr", "batch_size", "epochs", "train_limit", "optimizer", "loss", "seed", "device",
    "momentum", "nesterov", "weight_decay", "scheduler", "step_size", "gamma", "label_smoothing", "normalize",
    "augment_list", "val_split", "early_stopping",
    "grid_class", "grid_count", "grid_start",
    "calc_kind", "cW", "cK", "cS", "cP", "cD", "cO", "cOP", "cK_pool",
    "sweep_param", "sweep_values", "sweep_seeds", "sweep_id",
    "target_accuracy", "converge_threshold", "converge_patience", "mean_over_epochs",
    "history_status", "history_dataset", "history_model",
    "toy_set", "toy_points", "toy_noise", "toy_train_share", "toy_seed", "toy_depth", "toy_width",
    "toy_activation", "toy_lr", "toy_epochs", "toy_batch", "toy_optimizer", "toy_baselines",
    "preview_augment", "results_run", "cm_normalized", "gallery_class", "gallery_mistakes", "gallery_count",
    "conv_image", "conv_kernel", "conv_padding", "conv_stride", "conv_mode",
)


def keep_widget_state() -> None:
    for key in PERSISTENT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def set_defaults(**values) -> None:
    """Initial widget values, given once through Session State (widgets then get no value= argument)."""
    for key, value in values.items():
        st.session_state.setdefault(key, value)
