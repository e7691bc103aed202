"""A sweep's summary, as the course's tables want it: when each twin converged, when it reached a
target accuracy, its flags (the rules are diagnosis.py's), and one row per swept value with the
seeds pooled. Pure: it reads per-epoch histories (playground.sweeps makes the twins)."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

from playground import diagnosis
from playground.sweeps import Member


def converged_epoch(accuracies: list[float], threshold: float = 0.005, patience: int = 2) -> int | None:
    """The first epoch (1-based) after which the test accuracy changes by less than `threshold`
    from one epoch to the next for `patience` epochs in a row; None if the run never settles.
    Flat curves settle too: `convergence` is the one that also asks whether the run learned."""
    for e in range(1, len(accuracies) - patience + 1):
        window = accuracies[e - 1 : e + patience]
        if all(abs(b - a) < threshold for a, b in itertools.pairwise(window)):
            return e
    return None


def target_epoch(accuracies: list[float], target: float = 0.9) -> int | None:
    """The first epoch (1-based) whose test accuracy reaches `target`; None if none does."""
    return next((e for e, a in enumerate(accuracies, 1) if a >= target), None)


def convergence(
    status: str, epochs: list[dict], num_classes: int, threshold: float = 0.005, patience: int = 2
) -> tuple[int | None, str | None]:
    """(converged epoch, None), or (None, why not): a run that diverged or is not learning has no
    converged epoch, however flat its accuracy (a run stuck at chance is "not learning", never
    "converged at epoch 2"); (None, None) when a learning run has not settled yet."""
    why = diagnosis.failure(status, epochs, num_classes)
    if why is not None:
        return None, why
    return converged_epoch([e["test_accuracy"] for e in epochs], threshold, patience), None


def flags(status: str, epochs: list[dict], first_loss: float | None, num_classes: int, loss: str = "cross-entropy") -> list[str]:
    """Plain-language warnings about one run's curves (the rules are diagnosis.py's)."""
    evidence = diagnosis.Evidence(None, status, epochs, first_loss, num_classes, loss=loss)
    return [f.message for f in diagnosis.diagnose(evidence)]


@dataclass
class Outcome:
    """One finished (or running) member with what the tables need."""

    member: Member
    run_id: int
    status: str
    params: int | None
    epochs: list[dict]
    first_loss: float | None


def table(outcomes: list[Outcome], num_classes: int, target: float = 0.9, threshold: float = 0.005, patience: int = 2) -> list[dict]:
    """One row per swept value (seeds pooled): the course's tables in one.

    test_accuracy is the mean final test accuracy over seeds (min and max beside it);
    converged_epoch and target_epoch are the epochs by which every seed got there, None when any
    seed did not; not_converged says why when a seed diverged or is not learning (see convergence)."""
    rows = []
    for lbl in dict.fromkeys(o.member.label for o in outcomes):
        group = [o for o in outcomes if o.member.label == lbl]
        finals = [o.epochs[-1]["test_accuracy"] for o in group if o.epochs]
        vals = [o.epochs[-1]["val_accuracy"] for o in group if o.epochs and o.epochs[-1].get("val_accuracy") is not None]
        means = [statistics.fmean(e["test_accuracy"] for e in o.epochs) for o in group if o.epochs]
        conv = [convergence(o.status, o.epochs, num_classes, threshold, patience) for o in group]
        targ = [target_epoch([e["test_accuracy"] for e in o.epochs], target) for o in group]
        rows.append(
            {
                "value": lbl,
                "runs": len(group),
                "status": ", ".join(sorted({o.status for o in group})),
                "test_accuracy": statistics.fmean(finals) if finals else None,
                "test_accuracy_min": min(finals) if finals else None,
                "test_accuracy_max": max(finals) if finals else None,
                "mean_test_accuracy": statistics.fmean(means) if means else None,
                "val_accuracy": statistics.fmean(vals) if vals else None,
                "train_accuracy": statistics.fmean(o.epochs[-1]["train_accuracy"] for o in group if o.epochs) if finals else None,
                "converged_epoch": None if not conv or any(c is None for c, _ in conv) else max(c for c, _ in conv),
                "not_converged": next((why for _, why in conv if why), None),  # diverged / not learning, else None
                "target_epoch": None if None in targ or not targ else max(targ),
                "params": group[0].params,
                "flags": _group_flags(group, num_classes),
            }
        )
    return rows


def _group_flags(group: list[Outcome], num_classes: int) -> list[str]:
    """The flags of a value's runs; with several seeds, each names the seed whose run it is about
    (the table's numbers are over all seeds: "seed 1: not learning" where the others learn)."""
    out: dict[str, None] = {}
    for o in group:
        for f in flags(o.status, o.epochs, o.first_loss, num_classes, o.member.config.loss):
            out[f"seed {o.member.seed}: {f}" if len(group) > 1 else f] = None
    return sorted(out)
