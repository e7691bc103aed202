"""Every training setting, declared once: its type, default, allowed values, help, CLI flag, share
link key and widget. TrainConfig's defaults and per-setting checks, the CLI's train/sweep flags, the
share link and the Train form's widgets are all read from SETTINGS (no Streamlit, no torch here).

Rules that tie two settings together (nesterov needs SGD with momentum, early stopping needs a
validation split, a batch no larger than the training split) live in config.TrainConfig.validate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from playground import families, features, specs
from playground.errors import PlaygroundError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "exponential", "cosine")
LOSSES = ("cross-entropy", "mse")
REGULARIZERS = ("none", "l1", "l2")
REG_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)  # TensorFlow Playground's
NORMALIZATIONS = ("scale", "standardize", "none", "zca")
AUGMENTATIONS = ("flip", "crop", "resized-crop", "rotate", "color")  # per image, training batches only
DEVICES = ("auto", "cpu", "cuda", "mps")
# Log scale: each notch multiplies by about 3 (x3, then x3.3 to the next power of ten).
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
BATCH_SIZES = (1, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
TRAIN_SUBSETS = (0, 200, 1_000, 5_000, 20_000)  # 0 = all training images
MAX_SEED = 2**31 - 1
REGRESSION_SETS = ("plane", "multi-gaussian")  # toy sets whose target is a number, not a class (TensorFlow Playground's)
TOY_SETS = ("circles", "moons", "xor", "spiral", "gaussians", *REGRESSION_SETS)  # the toy 2D sets (playground.toy makes them)


@dataclass(frozen=True)
class Setting:
    name: str  # the TrainConfig field (or the sweep's session key)
    type: type  # int, float, bool or str
    default: Any
    help: str  # one sentence: the CLI's --help and the widget's tooltip
    label: str = ""  # the widget's label; "" = no widget on the Train form
    low: float | None = None  # smallest allowed value (None: no bound)
    high: float | None = None
    low_open: bool = False  # low itself not allowed (lr > 0)
    high_open: bool = False  # high itself not allowed (momentum < 1)
    choices: tuple = ()  # the allowed values of a str setting
    choice_text: dict = field(default_factory=dict)  # how the widget names each choice
    rule: str = ""  # the allowed values in words, where the range alone does not say it
    share: str | None = None  # key in the share link (None: not in the link)
    flag: str | None = None  # CLI flag; default --name-with-dashes
    widget: str = "number"  # number | select_slider | select | checkbox | multiselect | text | none
    notches: tuple = ()  # select_slider/select: the offered values; a valid other value is added
    step: float | None = None  # number widget: +/- step
    fmt: str | None = None  # number widget: printf format
    key: str = ""  # session-state key of the widget; default: name
    section: str = "basics"  # basics | optimizer | data | toy | sweep: CLI groups and form expanders
    toy_only: bool = False  # checked only for the toy 2D sets (ignored by the others)
    ui_low: float | None = None  # a narrower range that the page's widget accepts (toy page sliders)
    ui_high: float | None = None
    note: str = ""  # added to the widget's tooltip only

    @property
    def session_key(self) -> str:
        return self.key or self.name

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def allowed(self) -> str:
        """What a value must be, in words: 'a whole number from 1 to 1000'."""
        if self.rule:
            return self.rule
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.type is bool:
            return "true or false (1 or 0)"
        if self.type is str:
            return "text"
        kind = "a whole number" if self.type is int else "a number"
        if self.low is None and self.high is None:
            return kind
        low, high = _show(self.low), _show(self.high)
        if self.high is None:
            return f"{kind} {'above' if self.low_open else 'from'} {low} or more"
        if self.low_open:
            return f"{kind} above {low} and {'below' if self.high_open else 'at most'} {high}"
        return f"{kind} from {low} {'up to (not including)' if self.high_open else 'to'} {high}"

    def widget_range(self) -> tuple[float | None, float | None]:
        """The number widget's inclusive bounds, equal to the rule's (an open end moves by one ulp)."""
        low, high = self.low, self.high
        if low is not None and self.low_open:
            low = math.nextafter(low, math.inf)
        if high is not None and self.high_open:
            high = math.nextafter(high, -math.inf)
        return low, high


def _show(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


_S = Setting
# The declarations are a table, one setting a line or two: kept as written, not reflowed.
# fmt: off
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        _S("dataset", str, "fashion-mnist", "the dataset (registry name, see `python -m playground datasets`)",
           share="dataset", widget="none", rule="a dataset name from `python -m playground datasets`"),
        _S("model", str, families.PRESETS[families.DEFAULT_PRESET].spec, f"a layer spec or a preset ({', '.join(families.PRESETS)})",
           share="model", widget="none", key="spec_text", rule="a layer spec or a preset name"),
        _S("lr", float, 0.1, "learning rate (the start of the schedule)", note="Log scale: each notch multiplies by about 3.",
           label="Learning rate", low=0, high=100, low_open=True, share="lr", widget="select_slider", notches=LEARNING_RATES),
        _S("epochs", int, 5, "full passes over the training images", label="Epochs", low=1, high=1000, share="epochs", step=1),
        _S("batch_size", int, 64, "images per optimizer step", label="Batch size", low=1, high=100_000, share="batch",
           widget="select_slider", notches=BATCH_SIZES),
        _S("optimizer", str, "sgd", "the optimizer", label="Optimizer", choices=OPTIMIZERS, share="opt", widget="select",
           choice_text={"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}, section="optimizer"),
        _S("momentum", float, 0.0, "SGD and RMSprop, e.g. 0.9; Adam keeps its own moving averages", label="Momentum",
           low=0, high=1, high_open=True, share="mom", step=0.1, fmt="%g", section="optimizer"),
        _S("nesterov", bool, False, "Nesterov momentum (SGD with a momentum above 0)", label="Nesterov momentum",
           share="nesterov", widget="checkbox", section="optimizer"),
        _S("weight_decay", float, 0.0, "L2 penalty on the weights (decoupled in AdamW), e.g. 5e-4", label="Weight decay",
           low=0, high=1, share="wd", step=1e-4, fmt="%g", section="optimizer"),
        _S("reg", str, "none", "a penalty on the weights added to the loss: l1 = rate x sum |w|, l2 = rate x sum w²/2 (biases not included)",
           label="Regularisation", choices=REGULARIZERS, share="reg", widget="select", section="optimizer",
           choice_text={"none": "none", "l1": "L1: rate x sum |w| (drives weights to 0)", "l2": "L2: rate x sum w²/2 (shrinks weights)"}),
        _S("reg_rate", float, 0.001, "the regularisation rate (used with --reg l1 or l2)", label="Regularisation rate",
           low=0, high=100, share="regrate", widget="select_slider", notches=REG_RATES, section="optimizer",
           note="Used only when a regularisation is chosen."),
        _S("scheduler", str, "none", "lr schedule, stepped after every epoch", label="Learning-rate schedule", choices=SCHEDULERS,
           share="sched", widget="select", section="optimizer",
           choice_text={"none": "constant", "step": "step: x gamma every few epochs", "exponential": "exponential: x gamma every epoch", "cosine": "cosine annealing to 0"}),
        _S("step_size", int, 1, "step schedule: multiply the lr by gamma every this many epochs", label="Step every (epochs)",
           low=1, high=1000, share="step", step=1, section="optimizer"),
        _S("gamma", float, 0.5, "step and exponential schedules: the lr factor", label="Gamma", low=0, high=1, low_open=True,
           share="gamma", step=0.05, fmt="%g", section="optimizer"),
        _S("loss", str, "cross-entropy", "cross-entropy of the softmax output, or mse: squared error of the softmax output against one-hot "
           "targets (the regression sets plane and multi-gaussian always use mse: the squared error of the output)",
           label="Loss", choices=LOSSES, share="loss", widget="select", section="data",
           choice_text={"cross-entropy": "cross-entropy", "mse": "MSE (softmax vs one-hot)"}),
        _S("label_smoothing", float, 0.0, "share of the target spread over all classes", label="Label smoothing", low=0, high=0.5,
           share="smooth", step=0.05, fmt="%g", section="data"),
        _S("normalize", str, "scale", "input normalisation; standardize and zca use training-split statistics", label="Input normalisation",
           choices=NORMALIZATIONS, share="norm", widget="select", section="data",
           choice_text={"scale": "scale to [0, 1]", "standardize": "standardize (training-split mean and std)", "none": "none (raw 0-255)",
                        "zca": "ZCA whitening (training split)"}),
        # eps is added to the covariance's eigenvalues S (inputs on the [0, 1] scale): a direction whose variance is well below
        # eps (pixel noise) is damped instead of multiplied by 1/sqrt(S). 0.1 is the usual choice at this scale; on Fashion-MNIST
        # it whitens the 53 of 784 directions that hold 86.7% of the training variance. Below 1e-6 a direction of zero variance
        # (a pixel that is always black) would be multiplied by more than 1/sqrt(1e-6) = 1,000: round-off, blown up.
        _S("zca_epsilon", float, 0.1, "ZCA whitening's epsilon, added to the covariance's eigenvalues (used only with normalize zca)",
           label="ZCA epsilon", low=1e-6, high=1, share="zcaeps", step=0.01, fmt="%g", section="data",
           note="Smaller: whiter inputs, pixel noise amplified; larger: closer to the mean-subtracted images (scaled down)."),
        _S("augment", str, "", f"comma list of augmentations, training batches only ({', '.join(AUGMENTATIONS)})",
           label="Augmentation (training batches only)", share="aug", widget="multiselect", key="augment_list", section="data",
           rule=f"a comma list of {', '.join(AUGMENTATIONS)}"),
        _S("val_split", float, 0.0, "share of the training images held out for validation, e.g. 0.1",
           label="Validation share of the training images", low=0, high=0.5, rule="a number from 0 (no validation set) to 0.5",
           share="val", step=0.05, fmt="%g", section="data"),
        _S("val_seed", int, 0, "which training images are held out for validation", low=0, high=MAX_SEED, share="vseed",
           widget="none", section="data"),
        _S("early_stopping", int, 0, "stop after this many epochs without a better validation loss (0 = off; needs a validation split)",
           label="Early stopping patience (0 = off)", low=0, high=100, share="stop", flag="--early-stopping", step=1, section="data"),
        _S("seed", int, 0, "fixes the initial weights, dropout and batch order: same seed, same twins", label="Seed",
           low=0, high=MAX_SEED, share="seed", step=1, section="data"),
        _S("train_limit", int, 0, "train on the first N training images only (0 = all): fewer train faster", label="Training images",
           low=0, rule="0 (all) or a positive number of images", share="train", widget="select", notches=TRAIN_SUBSETS, section="data"),
        _S("test_limit", int, 0, "evaluate on the first N test images only (0 = all)", low=0,
           rule="0 (all) or a positive number of images", share="test", widget="none", section="data"),
        _S("toy_points", int, 400, "toy 2D sets: points in train and test together", low=20, high=20_000, share="points",
           widget="none", section="toy", toy_only=True, ui_low=40, ui_high=2000),
        _S("toy_noise", float, 0.1, "toy 2D sets: Gaussian noise on every point", low=0, high=2, share="noise",
           widget="none", section="toy", toy_only=True, ui_low=0, ui_high=0.6),
        _S("toy_train_share", float, 0.7, "toy 2D sets: share of the points in the training set (the rest is the test set)",
           low=0.1, high=0.9, share="toyshare", widget="none", section="toy", toy_only=True, ui_low=0.3, ui_high=0.9),
        _S("toy_seed", int, 0, "toy 2D sets: fixes the points and the split", low=0, high=MAX_SEED, share="toyseed",
           widget="none", section="toy", toy_only=True, ui_low=0, ui_high=10_000),
        _S("toy_features", str, features.DEFAULT, "toy 2D sets: the network's input features (" + ", ".join(features.FEATURES)
           + "; x1sq = x1², x1x2 = x1·x2, sinx1 = sin(5·x1))", share="features", flag="--features",
           widget="none", section="toy", toy_only=True, rule=features.RULE),
        _S("device", str, "auto", "auto picks cuda, then mps, then cpu (not part of a run's identity)", label="Device",
           choices=DEVICES, share="device", widget="select"),
        _S("bf16", bool, False, "multiply in bfloat16 (linear and convolution layers): faster on GPUs and CPUs with bfloat16 units; "
           "weights, gradients and the loss stay float32", label="bfloat16 matrix products", share="bf16", widget="checkbox",
           note="Each product keeps about 3 significant digits instead of 7: the curves differ slightly from a float32 run's. "
                "Off by default; offered where the device has bfloat16 units."),
    )
}

# The Experiments page's sweep: not TrainConfig fields, but settings the student chooses and shares.
SWEEP: dict[str, Setting] = {
    s.name: s
    for s in (
        _S("sweep_param", str, "lr", "the setting the sweep changes", label="Sweep", share="sweep", widget="select",
           rule="a setting the Experiments page can sweep", section="sweep"),
        _S("sweep_values", str, "", "the values, as typed", label="Values", share="values", widget="text",
           rule="values of the swept setting", section="sweep"),
        _S("sweep_seeds", int, 1, "repeat every value with seeds 0, 1, ...", label="Seeds per value", low=1, high=5,
           share="seeds", step=1, section="sweep"),
    )
}


def _twin(base: str, name: str, share: str, **changes) -> Setting:
    """A Toy 2D page widget for base's TrainConfig field: base's type, help and rule, its own key in the link."""
    return replace(SETTINGS[base], name=name, share=share, key="", flag=None, section="toy page", **changes)


# The Toy 2D page's own widgets, shared in its link as TensorFlow Playground shares its state. The page
# builds a TrainConfig from them (its lr is not the Train page's lr). toy_hide and toy_task make a
# teacher's link: the controls it names are not drawn, and the text is shown above the page.
TWIN_SETTINGS = {"lr": "learning rate", "width": "units per layer", "activation": "activation", "toy_features": "input features",
                 "reg": "regularisation", "reg_rate": "regularisation rate", "batch_size": "batch size", "optimizer": "optimizer",
                 "seed": "seed (first weights)"}  # sweeps.SETTINGS that a Toy 2D twin can change
TOY_CONTROLS = ("toy", "features", "points", "noise", "toyshare", "toyseed", "layers", "units", "act", "tlr", "tepochs", "tbatch",
                "topt", "treg", "tregrate", "showtest", "discrete", "twin", "twinvalue")
TOY_PAGE: dict[str, Setting] = {
    s.name: s
    for s in (
        _S("toy_set", str, "circles", "the toy 2D set", label="Toy set", choices=TOY_SETS, share="toy", widget="select", section="toy page"),
        _S("toy_depth", int, 1, "hidden layers of the toy network", label="Hidden layers", low=0, high=6, share="layers", section="toy page"),
        _S("toy_width", int, 8, "units in each hidden layer", label="Units per layer", low=1, high=64, share="units", section="toy page"),
        _S("toy_activation", str, "tanh", "the hidden layers' activation", label="Activation", choices=(*specs.ACTIVATIONS, "none"),
           share="act", widget="select", section="toy page"),
        _twin("lr", "toy_lr", "tlr", default=0.03, notches=(0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)),
        _twin("epochs", "toy_epochs", "tepochs", default=100, high=500),
        _twin("batch_size", "toy_batch", "tbatch", default=16, high=256, notches=(1, 4, 8, 16, 32, 64, 128, 256)),
        _twin("optimizer", "toy_optimizer", "topt", default="adam", choices=("adam", "sgd")),
        _twin("reg", "toy_reg", "treg"),
        _twin("reg_rate", "toy_reg_rate", "tregrate"),
        _S("toy_show_test", bool, True, "draw the test points on the maps", label="Show test points", share="showtest",
           widget="checkbox", section="toy page"),
        _S("toy_discrete", bool, False, "draw the predicted class (hard regions) instead of P(class 1)", label="Discretise output",
           share="discrete", widget="checkbox", section="toy page"),
        _S("toy_twin", str, "", "train a twin beside the run: the setting it changes", label="Twin changes", share="twin",
           widget="select", section="toy page", choices=("", *TWIN_SETTINGS), choice_text={"": "no twin", **TWIN_SETTINGS}),
        _S("toy_twin_value", str, "", "the twin's value of that setting, e.g. 3 for a learning rate", label="Twin's value",
           share="twinvalue", widget="text", section="toy page", rule="one value of the twin's setting"),
        _S("toy_hide", str, "", "a teacher's link: the Toy 2D controls not drawn (their link keys, comma separated)", share="hide",
           widget="none", section="toy page", rule="a comma list of " + ", ".join(TOY_CONTROLS)),
        _S("toy_task", str, "", "a teacher's link: an instruction shown above the Toy 2D page", share="task", widget="none",
           section="toy page", rule="a short text (at most 500 characters)"),
    )
}
# The Backprop page's inputs: a one-hidden-layer network worked by hand (playground.worked), in its link.
BACKPROP_PAGE: dict[str, Setting] = {
    s.name: s
    for s in (
        _S("bp_sizes", str, "2,3,2", "inputs, hidden units and classes of the network", label="Sizes (inputs, hidden, classes)",
           share="bpsizes", widget="text", section="backprop page", rule="three whole numbers, e.g. 2,3,2"),
        _S("bp_activation", str, "tanh", "the hidden layer's activation", label="Activation", choices=("tanh", "sigmoid", "relu"),
           share="bpact", widget="select", section="backprop page"),
        _S("bp_loss", str, "cross-entropy", "the loss on the softmax output", label="Loss", choices=LOSSES, share="bploss",
           widget="select", section="backprop page", choice_text={"cross-entropy": "cross-entropy", "mse": "squared error"}),
        _S("bp_lr", float, 0.1, "the SGD step's learning rate", label="Learning rate", low=0, high=100, low_open=True, share="bplr",
           step=0.05, fmt="%g", section="backprop page"),
        _S("bp_x", str, "0.5,-1.2", "the input: one sample, or a mini-batch with samples apart by ';'", label="x (samples apart by ;)",
           share="bpx", widget="text", section="backprop page", rule="numbers, as many per sample as inputs"),
        _S("bp_y", str, "1", "each sample's class label", label="y (class of each sample)", share="bpy", widget="text",
           section="backprop page", rule="one class label per sample"),
        _S("bp_seed", int, 0, "the random first weights' seed (PyTorch's nn.Linear initialisation)", label="Weights seed", low=0,
           high=MAX_SEED, share="bpseed", section="backprop page"),
        _S("bp_weights", str, "", "typed weights: JSON with W_h, b_h, W_y, b_y (W as [out, in]); empty: random with the seed",
           label="Typed weights (JSON)", share="bpweights", widget="none", section="backprop page",
           rule="JSON of W_h, b_h, W_y, b_y as nested lists"),
    )
}
# The Labs page: which lab is open (where the student is in it is kept in the run store: labs.progress).
LAB_PAGE: dict[str, Setting] = {
    s.name: s
    for s in (
        _S("lab", str, "fashion-mnist", "the lab on the Labs page", label="Lab", share="lab", widget="none", section="labs page",
           rule="a lab name from `python -m playground lab list`"),
    )
}
ALL: dict[str, Setting] = {**SETTINGS, **SWEEP, **TOY_PAGE, **BACKPROP_PAGE, **LAB_PAGE}
# fmt: on


def defaults() -> dict[str, Any]:
    return {s.name: s.default for s in SETTINGS.values()}


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def problem(name: str, value: Any) -> str | None:
    """Why value is not allowed for this setting on its own, or None: 'lr = 0 is not allowed: lr must be ...'."""
    s = ALL[name]
    if s.type is bool:
        ok = isinstance(value, bool)
    elif s.type is str:
        ok = isinstance(value, str) and (not s.choices or value in s.choices)
    else:
        ok = _number(value) if s.type is float else isinstance(value, int) and not isinstance(value, bool)
        if ok and s.low is not None:
            ok = value > s.low if s.low_open else value >= s.low
        if ok and s.high is not None:
            ok = value < s.high if s.high_open else value <= s.high
    return None if ok else f"{name} = {value!r} is not allowed: {name} must be {s.allowed}"


def check(name: str, value: Any) -> Any:
    """The value, or PlaygroundError naming the setting and what it must be."""
    message = problem(name, value)
    if message:
        raise PlaygroundError(message)
    return value


def parse(name: str, text: str) -> Any:
    """Text from a link or a command line -> a typed value (not yet range-checked); PlaygroundError
    naming the setting when the text is not of its type."""
    s = ALL[name]
    t = text.strip().lower()
    try:
        if s.type is bool:
            if t not in ("0", "1", "true", "false"):
                raise ValueError
            return t in ("1", "true")
        if s.type is int:
            if any(c in t for c in ".e"):  # "5.0" and "1e3" are whole numbers too, "2.5" is not
                v = float(t)
                if not v.is_integer():
                    raise ValueError
                return int(v)
            return int(t)
        if s.type is float:
            return float(t)  # nan and inf parse; check() names them ("lr = nan is not allowed")
        return text
    except (ValueError, OverflowError):
        raise PlaygroundError(f"{name} = {text!r} is not allowed: {name} must be {s.allowed}") from None


def format(name: str, value: Any) -> str:
    """A typed value -> its text in the link; parse(name, format(name, v)) == v."""
    s = ALL[name]
    if s.type is bool:
        return "1" if value else "0"
    if s.type is float:
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def show(name: str, value: Any) -> str:
    """A value as the page names it: 'lr 0.03', 'training images all'."""
    s = ALL[name]
    if s.choice_text and value in s.choice_text:
        return s.choice_text[value]
    if name in ("train_limit", "test_limit") and value == 0:
        return "all"
    if name == "augment":
        return value or "none"
    if isinstance(value, bool):  # a checkbox: 'on' / 'off', not Python's True / False
        return "on" if value else "off"
    if name in ("train_limit", "test_limit", "toy_points"):  # counts of images: 5,000
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def with_value(notches: tuple, value: Any) -> list:
    """The notches, with value added in order where it is not one of them (a link's lr=0.05)."""
    if value in notches:
        return list(notches)
    return sorted([*notches, value])
