"""Why a run behaves as it does: plain-language findings from its curves and its per-layer
statistics, each with the numbers that triggered it and the one change to try (the fix a page
offers as a twin run). Every rule lives here; the sweep tables' flags are these findings' messages.

Codes: diverged, not_learning, vanishing_gradients, dead_relu, saturated, overfitting, odd_start.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field

from playground import specs
from playground.families import family_of

DIVERGED, NOT_LEARNING = "diverged", "not learning"  # what failure() answers
BLOWUP = 3  # a training loss above 3 x max(ln(classes), the first loss) has blown up (finite or not)
NOT_LEARNING_ACCURACY = 1.5  # x chance (1 / classes)
VANISHING_RATIO = 1e-4  # first layer's gradient norm / last layer's, at the start of training
DEAD_SHARE = 0.5  # of a ReLU layer's units, zero for whole batches
SATURATED_SHARE = 0.5  # of a tanh or sigmoid layer's outputs, within 0.03 of a bound
OVERFIT_EPOCHS = 3  # epochs in a row of rising test loss and falling training loss
OVERFIT_RISE = 1.05  # ... by 5% in all, so that a flat test loss with noise is not called overfitting
EARLY_STEPS = 10  # the steps "at the start of training" for the gradient ratio
LATE_POINTS = 5  # the last recorded steps the dead and saturated shares are averaged over


@dataclass(frozen=True)
class Finding:
    code: str
    message: str  # plain words, with the numbers that triggered it
    fix: dict | None = None  # the settings of the twin run to try (e.g. {"lr": 0.01}); None: no single change
    fix_label: str = ""  # e.g. "lr 0.01"

    def to_dict(self) -> dict:
        return asdict(self)


def start_loss(num_classes: int) -> tuple[float, str]:
    """Where a run's loss starts, with its name: ln(classes) for equal guesses; for a regression (one
    output) 1, about the squared error of predicting 0 for targets in [-1, 1]."""
    if num_classes == 1:
        return 1.0, "1, the squared error of predicting 0"
    return math.log(num_classes), f"ln({num_classes}) = {math.log(num_classes):.2f}"


def blown_up(train_loss: float | None, num_classes: int, first_loss: float | None = None) -> bool:
    """A training loss that is not finite or is far above where a run starts."""
    if train_loss is None:
        return False
    start = max(start_loss(num_classes)[0], first_loss if first_loss is not None and math.isfinite(first_loss) else 0.0)
    return not train_loss <= BLOWUP * start


def failure(status: str, epochs: list[dict], num_classes: int) -> str | None:
    """'diverged' when the run blew up (status diverged, or the last training loss blown up), else
    'not learning' when the last test accuracy is below 1.5 / classes (near chance), else None."""
    final = epochs[-1] if epochs else {}
    if status == "diverged" or blown_up(final.get("train_loss"), num_classes):
        return DIVERGED
    if final.get("test_accuracy") is not None and final["test_accuracy"] < NOT_LEARNING_ACCURACY / num_classes:
        return NOT_LEARNING
    return None


def overfitting(epochs: list[dict]) -> tuple[int, int] | None:
    """(first, last) epochs (1-based) of the latest stretch over which the run overfits, else None.

    The rule: the test loss rose and the training loss fell from each epoch to the next for at
    least OVERFIT_EPOCHS epochs in a row (first is the epoch before the first rise), and the test
    loss rose by at least 5% over the stretch. One noisy epoch, or two, of a live run is not a
    trend; a stretch that ended earlier still counts if the test loss is still above where it began."""
    found, streak = None, 0
    for i in range(1, len(epochs)):
        a, b = epochs[i - 1], epochs[i]
        if None in (a.get("test_loss"), b.get("test_loss"), a.get("train_loss"), b.get("train_loss")):
            streak = 0
            continue
        streak = streak + 1 if b["test_loss"] > a["test_loss"] and b["train_loss"] < a["train_loss"] else 0
        first = i - streak  # 0-based epoch where the stretch began
        if streak >= OVERFIT_EPOCHS and b["test_loss"] > OVERFIT_RISE * epochs[first]["test_loss"]:
            found = (first + 1, i + 1)
    if found and epochs[-1].get("test_loss") is not None and epochs[-1]["test_loss"] > epochs[found[0] - 1]["test_loss"]:
        return found
    return None


@dataclass
class Evidence:
    """What the rules read: a run's setting, outcome, curves and layer statistics."""

    config: object | None  # the run's TrainConfig; None: findings without fixes (a sweep table's flags)
    status: str
    epochs: list[dict]
    first_loss: float | None
    num_classes: int
    layers: list[dict] = field(default_factory=list)  # RunStore.layer_stats rows (none: the curve rules only)
    loss: str = "cross-entropy"


def diagnose(ev: Evidence) -> list[Finding]:
    """Every finding of the run, most important first."""
    out = _curve_findings(ev)
    inner = [f for f in (_vanishing(ev), _dead(ev), _saturated(ev)) if f is not None]
    if out and out[0].code == "not_learning" and inner:  # the likely cause, and its fix
        out[0] = Finding(
            "not_learning", f"{out[0].message}; likely cause: {inner[0].message.split(':')[0]}", inner[0].fix, inner[0].fix_label
        )
    return out + inner + [f for f in (_odd_start(ev),) if f is not None]


def _lr_fix(config, factor: float) -> tuple[dict | None, str]:
    if config is None:
        return None, ""
    lr = config.lr * factor
    return {"lr": float(f"{lr:.3g}")}, f"lr {lr:.3g}"


def _curve_findings(ev: Evidence) -> list[Finding]:
    why, (_, chance) = failure(ev.status, ev.epochs, ev.num_classes), start_loss(ev.num_classes)
    final = ev.epochs[-1] if ev.epochs else {}
    if why == DIVERGED:
        loss = final.get("train_loss")
        seen = f"the training loss reached {loss:,.4g}" if loss is not None and math.isfinite(loss) else "the loss became infinite or NaN"
        fix, label = _lr_fix(ev.config, 0.1)
        return [Finding("diverged", f"diverged: {seen}, far above {chance}; lower the learning rate", fix, label)]
    if why == NOT_LEARNING:
        message = f"not learning: test accuracy {final['test_accuracy']:.1%} is near chance ({1 / ev.num_classes:.0%})"
        if _is_linear(ev.config):
            message += "; likely cause: no hidden layer, so the model can only draw straight boundaries between the classes"
            return [Finding("not_learning", message, {"model": "fc16 tanh"}, "a hidden layer")]
        fix, label = _lr_fix(ev.config, 10 if ev.config is not None and ev.config.lr <= 0.01 else 0.1)
        return [Finding("not_learning", message, fix, label)]
    stretch = overfitting(ev.epochs)
    if stretch is None:
        return []
    a, b = (ev.epochs[e - 1] for e in stretch)
    fix, label = _regularise(ev.config)
    message = (
        f"overfitting: test loss rose from {a['test_loss']:.3f} (epoch {stretch[0]}) to {b['test_loss']:.3f} (epoch {stretch[1]}) "
        "while the training loss kept falling"
    )
    return [Finding("overfitting", message, fix, label)]


def _is_linear(config) -> bool:
    """A stack of layers with no activation: however deep, one linear map."""
    layers = None if config is None else family_of(config.model).layers(config.model)
    return layers is not None and not any(layer.kind in specs.ACTIVATIONS for layer in layers)


def _regularise(config) -> tuple[dict | None, str]:
    if config is None:
        return None, ""
    if config.weight_decay == 0:
        return {"weight_decay": 5e-4}, "weight decay 5e-4"
    return {"val_split": 0.1, "early_stopping": 3}, "early stopping"


def _by_layer(layers: list[dict], field: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for row in layers:
        if row.get(field) is not None:
            out.setdefault(row["name"], []).append(row[field])
    return out


def _vanishing(ev: Evidence) -> Finding | None:
    early = [r for r in ev.layers if r["step"] <= EARLY_STEPS and r.get("grad_norm") is not None]
    norms = _by_layer(early, "grad_norm")
    if len(norms) < 2:
        return None
    names = sorted(norms, key=lambda n: next(r["layer"] for r in early if r["name"] == n))
    first, last = statistics.median(norms[names[0]]), statistics.median(norms[names[-1]])
    ratio = first / last if last > 0 else 1.0
    if ratio >= VANISHING_RATIO:
        return None
    fix, label = _activation_fix(ev.config)
    return Finding(
        "vanishing_gradients",
        f"vanishing gradients: the first layer's gradient norm ({first:.2e}) is {ratio:.0e} of the last layer's ({last:.2e}) "
        "at the start of training, so the first layers barely learn",
        fix,
        label,
    )


def _activation_fix(config) -> tuple[dict | None, str]:
    """ReLU instead of sigmoid and tanh; for a model without them, batch norm before each activation."""
    layers = None if config is None else family_of(config.model).layers(config.model)
    if layers is None:  # no config, or not a stack of layers (ResNet-18): no single edit
        return None, ""
    if any(layer.kind in ("sigmoid", "tanh") for layer in layers):
        swapped = [specs.Layer("relu") if layer.kind in ("sigmoid", "tanh") else layer for layer in layers]
        return {"model": specs.format_spec(swapped)}, "ReLU"
    with_bn = []
    for layer in layers:
        if layer.kind in specs.ACTIVATIONS and (not with_bn or with_bn[-1].kind != "bn"):
            with_bn.append(specs.Layer("bn"))
        with_bn.append(layer)
    return {"model": specs.format_spec(with_bn)}, "batch norm"  # the button says "Try batch norm"


def _late_share(ev: Evidence, field: str) -> tuple[str, float] | None:
    """The layer with the highest mean share over the last recorded steps, with that share."""
    shares = {name: statistics.fmean(values[-LATE_POINTS:]) for name, values in _by_layer(ev.layers, field).items()}
    if not shares:
        return None
    name = max(shares, key=shares.get)
    return name, shares[name]


def _dead(ev: Evidence) -> Finding | None:
    worst = _late_share(ev, "dead")
    if worst is None or worst[1] <= DEAD_SHARE:
        return None
    fix, label = _lr_fix(ev.config, 0.1)
    return Finding(
        "dead_relu",
        f"dead ReLUs: {worst[1]:.0%} of the units of {worst[0]} output zero for every image of a batch, so they no longer learn; "
        "a lower learning rate (or LeakyReLU) keeps them alive",
        fix,
        label,
    )


def _saturated(ev: Evidence) -> Finding | None:
    worst = _late_share(ev, "saturated")
    if worst is None or worst[1] <= SATURATED_SHARE:
        return None
    fix, label = _activation_fix(ev.config)
    return Finding(
        "saturated",
        f"saturated units: {worst[1]:.0%} of the outputs of {worst[0]} sit at their bounds, where the gradient is nearly zero",
        fix,
        label,
    )


def _odd_start(ev: Evidence) -> Finding | None:
    chance, first = math.log(ev.num_classes), ev.first_loss
    if ev.loss != "cross-entropy" or first is None or not math.isfinite(first) or abs(first - chance) <= 0.5 * chance:
        return None
    return Finding(
        "odd_start",
        f"odd start: the first loss was {first:.2f}, far from ln({ev.num_classes}) = {chance:.2f}, "
        "the loss of equal guesses; check the initialisation and the input scale",
    )


def of_run(store, run, layers: list[dict] | None = None) -> list[Finding]:
    """The findings of a stored run (store: a RunStore, run: its Run; layers: its layer_stats rows,
    if the caller has read them already)."""
    from playground import datasets

    evidence = Evidence(
        run.config,
        run.status,
        store.epochs(run.id),
        store.first_loss(run.id),
        datasets.info(run.config.dataset).num_classes,
        store.layer_stats(run.id) if layers is None else layers,
        run.config.loss,
    )
    return diagnose(evidence)
