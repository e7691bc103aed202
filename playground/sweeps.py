"""Sweeps: twin runs that differ in one setting, and the course's tables about them.

A sweep takes a base TrainConfig, one setting and its values, and optionally several seeds. Each
member is the base config with that one setting changed, so twins share the seed and therefore
their initial weights and batch order (when the architecture is the same). The summary functions
are pure: they read per-epoch histories and fill the tables the exercises ask for.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from playground import blocks, diagnosis, families, features, settings, specs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.settings import AUGMENTATIONS, LOSSES, NORMALIZATIONS


@dataclass(frozen=True)
class Setting:
    name: str  # the CLI's --param
    title: str  # shown in the UI and the tables' first column
    default_values: str  # a sensible sweep, as typed
    parse: Callable[[str], Any]  # one typed value -> a value; ValueError("is not ...") when it does not fit
    apply: Callable[[TrainConfig, Any], TrainConfig]  # base config, value -> member config
    separator: str = ","  # between values (specs contain spaces and commas: they use ';')
    kind: str = "numbers"  # what to type, for the hint after a bad value: "type numbers separated by ','"


# Each parser raises ValueError with the end of a sentence ("is not a number above 0 ...") that
# parse_values puts after "learning rate value 'abc' ". A TrainConfig field's range and type are its
# declaration's (playground.settings); dropout, batch norm and the activation edit the model spec.


def _field(name: str) -> Callable[[str], Any]:
    """A value of the TrainConfig field `name`, parsed and checked as the CLI and the link do."""
    allowed = settings.ALL[name].allowed

    def parse(text: str):
        t = text.strip()
        try:
            value = settings.parse(name, t.lower() if settings.ALL[name].type is str else t)
        except PlaygroundError:  # not even of the setting's type: 'abc' for a number
            kind = {int: "a whole number", float: "a number"}.get(settings.ALL[name].type, allowed)
            raise ValueError(f"is not {kind}") from None
        if settings.problem(name, value):
            raise ValueError(f"is not {allowed}")
        return value

    return parse


def _number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(v):
        raise ValueError("is not a number")
    return v


def _in_range(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """A number from low to high; the message says which ends are included."""
    high_words = "up to (not including)" if high_open else "and at most" if low_open else "to"
    words = f"{'above' if low_open else 'from'} {low:g} {high_words} {high:g}"

    def parse(text: str) -> float:
        v = _number(text)
        if (v <= low if low_open else v < low) or (v >= high if high_open else v > high):
            raise ValueError(f"is not a number {words}")
        return v

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        t = text.strip().lower()
        if t not in options:
            raise ValueError(f"is not one of {', '.join(options)}")
        return t

    return parse


def _augment_value(text: str) -> str:
    names = [t.strip().lower() for t in text.replace(" ", ",").split(",") if t.strip() and t.strip().lower() != "none"]
    bad = [n for n in names if n not in AUGMENTATIONS]
    if bad:
        options = f"none, {', '.join(AUGMENTATIONS)}"
        raise ValueError(f"is not one of {options}" if len(names) == 1 else f"has '{bad[0]}', which is not one of {options}")
    return ",".join(n for n in AUGMENTATIONS if n in names)


def _on_off(text: str) -> bool:
    t = text.strip().lower()
    if t not in ("on", "off", "true", "false", "yes", "no"):
        raise ValueError("is not on or off")
    return t in ("on", "true", "yes")


def _model_value(text: str) -> str:
    return families.resolve(text)


def _edit_blocks(config: TrainConfig, what: str, edit: Callable[[blocks.Blocks], None]) -> TrainConfig:
    b, reason = families.from_spec(config.model)
    if b is None:
        raise PlaygroundError(f"cannot sweep {what} on the spec '{config.model}': {reason}; pick a preset or a block-form spec")
    edit(b)
    return replace(config, model=blocks.to_spec(b))


def _set_activation(config: TrainConfig, act: str) -> TrainConfig:
    return _edit_blocks(config, "the activation", lambda b: setattr(b, "activation", act))


def _set_dropout(config: TrainConfig, p: float) -> TrainConfig:
    def edit(b: blocks.Blocks) -> None:
        if not b.fc:
            raise PlaygroundError("cannot sweep dropout: the model has no hidden fc layers to put it after")
        for f in b.fc:
            f.dropout = p

    return _edit_blocks(config, "dropout", edit)


def _set_batchnorm(config: TrainConfig, on: bool) -> TrainConfig:
    def edit(b: blocks.Blocks) -> None:
        if not (b.fc or b.conv):
            raise PlaygroundError("cannot sweep batch norm: the model has no hidden layers")
        for layer in b.conv + b.fc:
            layer.batchnorm = on

    return _edit_blocks(config, "batch norm", edit)


def _set_width(config: TrainConfig, units: int) -> TrainConfig:
    def edit(b: blocks.Blocks) -> None:
        if not b.fc:
            raise PlaygroundError("cannot sweep the units per hidden layer: the model has no hidden fc layers")
        for f in b.fc:
            f.units = units

    return _edit_blocks(config, "the units per hidden layer", edit)


def _units(text: str) -> int:
    v = _number(text)
    if not v.is_integer() or not 1 <= v <= 4096:
        raise ValueError("is not a whole number from 1 to 4096")
    return int(v)


def _features_value(text: str) -> str:
    try:
        return features.canonical(text)
    except PlaygroundError:
        raise ValueError(f"is not {features.RULE}") from None


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("lr", "learning rate", "1, 0.1, 0.01, 0.001", _field("lr"), lambda c, v: replace(c, lr=v)),
        Setting(
            "batch_size", "batch size", "1, 4, 1000", _field("batch_size"), lambda c, v: replace(c, batch_size=v), kind="whole numbers"
        ),
        Setting(
            "model",
            "model",
            "base; deeper; wider",
            _model_value,
            lambda c, v: replace(c, model=v),
            separator=";",
            kind="presets or layer specs",
        ),
        Setting("epochs", "epochs", "1, 5, 10", _field("epochs"), lambda c, v: replace(c, epochs=v), kind="whole numbers"),
        Setting(
            "optimizer",
            "optimizer",
            "sgd, adam, rmsprop",
            _field("optimizer"),
            lambda c, v: replace(c, optimizer=v, nesterov=False),
            kind="names",
        ),
        Setting(
            "momentum", "momentum", "0, 0.5, 0.9", _field("momentum"), lambda c, v: replace(c, momentum=v, nesterov=c.nesterov and v > 0)
        ),
        Setting("weight_decay", "weight decay", "0, 0.0001, 0.001", _field("weight_decay"), lambda c, v: replace(c, weight_decay=v)),
        Setting("scheduler", "lr schedule", "none, step, cosine", _field("scheduler"), lambda c, v: replace(c, scheduler=v), kind="names"),
        Setting("loss", "loss", ", ".join(LOSSES), _field("loss"), lambda c, v: replace(c, loss=v), kind="names"),
        Setting("label_smoothing", "label smoothing", "0, 0.1, 0.2", _field("label_smoothing"), lambda c, v: replace(c, label_smoothing=v)),
        Setting(
            "normalize", "normalisation", ", ".join(NORMALIZATIONS), _field("normalize"), lambda c, v: replace(c, normalize=v), kind="names"
        ),
        Setting(
            "augment",
            "augmentation",
            "none; flip; flip,crop",
            _augment_value,
            lambda c, v: replace(c, augment=v),
            separator=";",
            kind="lists of augmentations",
        ),
        Setting(
            "activation",
            "activation",
            "relu, tanh, sigmoid",
            _choice((*specs.ACTIVATIONS, blocks.NO_ACTIVATION)),
            _set_activation,
            kind="names",
        ),
        Setting("dropout", "dropout", "0, 0.25, 0.5", _in_range(0, 1, high_open=True), _set_dropout),
        Setting("batchnorm", "batch norm", "off, on", _on_off, _set_batchnorm, kind="on/off values"),
        Setting("seed", "seed", "0, 1, 2", _field("seed"), lambda c, v: replace(c, seed=v), kind="whole numbers"),
        Setting("width", "units per hidden layer", "1, 2, 4, 8", _units, _set_width, kind="whole numbers"),
        Setting("reg", "regularisation", "none, l1, l2", _field("reg"), lambda c, v: replace(c, reg=v), kind="names"),
        Setting("reg_rate", "regularisation rate", "0.001, 0.01, 0.1", _field("reg_rate"), lambda c, v: replace(c, reg_rate=v)),
        Setting("toy_noise", "noise (toy sets)", "0, 0.2, 0.4", _field("toy_noise"), lambda c, v: replace(c, toy_noise=v)),
        Setting(
            "toy_points",
            "points (toy sets)",
            "100, 400, 1600",
            _field("toy_points"),
            lambda c, v: replace(c, toy_points=v),
            kind="whole numbers",
        ),
        Setting(
            "toy_features",
            "input features (toy sets)",
            "x1,x2; x1sq,x2sq; x1,x2,x1sq,x2sq,x1x2",
            _features_value,
            lambda c, v: replace(c, toy_features=v),
            separator=";",
            kind="feature lists",
        ),
    )
}


def parse_values(setting: str, text: str) -> list:
    """'1, 0.1, 0.01' -> [1.0, 0.1, 0.01]. An error names the setting and the bad value, says what
    is wrong in the playground's words and what to type: "learning rate value 'abc' is not a number:
    type numbers separated by ',', e.g. 1, 0.1, 0.01, 0.001"."""
    s = _setting(setting)
    parts = [p.strip() for p in (text or "").replace("\n", s.separator).split(s.separator) if p.strip()]
    if not parts:
        raise PlaygroundError(f"no values to sweep {s.title} over: type them separated by '{s.separator}', e.g. {s.default_values}")
    values = []
    for p in parts:
        try:
            v = s.parse(p)
        except PlaygroundError as e:  # a spec's own message
            raise PlaygroundError(f"{s.title} value '{p}': {e}") from None
        except ValueError as e:  # "is not ...": the parsers' words, never Python's
            raise PlaygroundError(
                f"{s.title} value '{p}' {e}: type {s.kind} separated by '{s.separator}', e.g. {s.default_values}"
            ) from None
        if v in values:
            raise PlaygroundError(f"{s.title} value '{p}' is listed twice")
        values.append(v)
    return values


def _setting(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise PlaygroundError(f"cannot sweep '{name}': choose one of {', '.join(SETTINGS)}") from None


def label(setting: str, value: Any) -> str:
    """How a value is shown: 0.1, 64, on/off; a model as its layers, after the preset's name when it
    is one: "deeper (fc512 relu fc512 relu fc512 relu fc512 relu)", "fc64 relu", "linear (no hidden layers)"."""
    if setting == "model":
        name = next((n for n in families.PRESETS if families.resolve(n) == value), None)
        layers = value or "no hidden layers"
        return layers if name is None or name == value else f"{name} ({layers})"
    if setting == "batchnorm":
        return "on" if value else "off"
    if setting == "augment":
        return value or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Member:
    value: Any
    label: str
    seed: int
    config: TrainConfig


MAX_MEMBERS = 40


def members(base: TrainConfig, setting: str, values: list, seeds: list[int] | None = None) -> list[Member]:
    """The twin configs: base with `setting` set to each value, for each seed."""
    s = _setting(setting)
    seeds = [base.seed] if setting == "seed" or not seeds else seeds  # a seed sweep is its own repeat
    if len(values) * len(seeds) > MAX_MEMBERS:
        raise PlaygroundError(
            f"{len(values)} values x {len(seeds)} seeds = {len(values) * len(seeds)} runs: at most {MAX_MEMBERS} per sweep"
        )
    out = []
    for value in values:
        for seed in seeds:
            config = s.apply(replace(base, seed=seed), value)
            config.check_model()
            out.append(Member(value, label(setting, value), seed, config))
    return out


# --- reading histories --------------------------------------------------------------------


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
