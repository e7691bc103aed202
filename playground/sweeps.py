"""Sweeps: twin runs that differ in one setting (their summary: playground.sweep_summary).

A sweep takes a base TrainConfig, one setting and its values, and optionally several seeds. Each
member is the base config with that one setting changed, so twins share the seed and therefore
their initial weights and batch order (when the architecture is the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from playground import blocks, families, features, settings, specs
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


def _set_layers(config: TrainConfig, what: str, attr: str, value, with_conv: bool = False) -> TrainConfig:
    """Every hidden fc layer (and conv layer, with_conv) of the model with attr set to value."""

    def edit(b: blocks.Blocks) -> None:
        layers = (b.conv if with_conv else []) + b.fc
        if not layers:
            raise PlaygroundError(f"cannot sweep {what}: the model has no hidden {'' if with_conv else 'fc '}layers")
        for layer in layers:
            setattr(layer, attr, value)

    return _edit_blocks(config, what, edit)


def _set_dropout(config: TrainConfig, p: float) -> TrainConfig:
    return _set_layers(config, "dropout", "dropout", p)


def _set_batchnorm(config: TrainConfig, on: bool) -> TrainConfig:
    return _set_layers(config, "batch norm", "batchnorm", on, with_conv=True)


def _set_width(config: TrainConfig, units: int) -> TrainConfig:
    return _set_layers(config, "the units per hidden layer", "units", units)


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
