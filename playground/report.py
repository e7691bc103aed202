"""One run as a plain dict: what `train --json` prints and what the app offers for download."""

from __future__ import annotations

import math

from playground import diagnosis
from playground.events import GRAD_EVERY_STEP_UNTIL
from playground.runs import RunStore


def run_report(store: RunStore, run_id: int, cached: bool = False) -> dict:
    run = store.get(run_id)
    cols = store.step_columns(run_id)
    grads = cols.rows(cols.has["grad_mean"])
    for s in grads:  # a NaN loss as null (valid JSON), as the store gave it when it kept NaN as NULL
        if s["loss"] is not None and math.isnan(s["loss"]):
            s["loss"] = None
    return {
        "run_id": run.id,
        "status": run.status,  # completed | diverged | stopped | failed | interrupted
        "message": run.message,
        "cached": cached,  # true when served from the store without training
        "executor": run.executor,  # where it trained: local (a worker process or thread) | ray
        "config": run.config.to_dict(),
        "params": run.params,
        "device": run.device,
        "seconds": run.seconds,
        "history": store.epochs(run_id),  # per epoch; accuracies are fractions in [0, 1]
        # mean gradient over all trainable parameters, one value per step for the first steps
        "grad_means": [s["grad_mean"] for s in grads if s["step"] <= GRAD_EVERY_STEP_UNTIL],
        "grad_curve": grads,  # every recorded step: every step up to 100, then every 10th
        "final": {k: run.final.get(k) for k in ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "epoch")},
        # why it behaved so: [{code, message, fix}], fix the settings of the twin run to try (or null)
        "diagnosis": [{"code": f.code, "message": f.message, "fix": f.fix} for f in diagnosis.of_run(store, run)],
    }
