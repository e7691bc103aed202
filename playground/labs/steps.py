"""One [[step]] table of a lab file -> a Step, each field checked on its own (the checks that need the
whole lab, its runs and sums, are format.py's). A mistake is raised as Bad(where, message), where
being the field's keys inside the step, so that format.py can name its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground import datasets, settings, sweeps
from playground.errors import PlaygroundError

KINDS = {  # what a step's `do` can be, and the deliverable it fills
    "read": "a question answered in words",
    "samples": "training images with their class names, and the shape of a batch",
    "params": "the trainable parameters, counted layer by layer",
    "train": "one run: its curves and its table per epoch",
    "sweep": "twin runs that differ in one setting: the table comparing them and their curves",
    "conv": "convolution arithmetic, worked with the numbers put in",
    "backprop": "the forward pass and every gradient of a one-hidden-layer network, by hand",
    "baselines": "a linear and a kernel SVM on the same toy set",
}
CHARTS = ("loss", "accuracy", "gradients")  # train and sweep steps: what `show` can list
PAGES = ("data", "model", "train", "results", "toy", "experiments", "runs", "conv", "backprop")
CALCS = {  # conv steps: each [[step.calc]]'s kind and the numbers it takes (required, optional)
    "output": (("W", "K"), ("S", "P", "D")),
    "padding": (("W", "K"), ("S", "D", "O")),
    "kernel": (("W", "O"), ("S", "P")),
    "pool": (("W", "K"), ("S", "P")),
    "receptive": (("model",), ()),
    "convolve": (("image", "kernel"), ("padding", "stride", "mode")),
}
BACKPROP = ("sizes", "x", "y", "activation", "loss", "lr", "seed")
STEP_FIELDS = (
    "title",
    "question",
    "do",
    "settings",
    "sweep",
    "show",
    "target_accuracy",
    "calc",
    "backprop",
    "models",
    "prompt",
    "page",
    "count",
)


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, as the page numbers them
    title: str
    question: str
    do: str
    settings: dict  # over the lab's
    sweep: dict  # {setting, values, seeds}: sweep steps
    show: tuple[str, ...]
    target_accuracy: float
    calcs: tuple[dict, ...]  # conv steps: {kind, ...numbers}
    backprop: dict  # backprop steps: worked.example's arguments
    models: tuple[str, ...]  # params steps: the models counted (presets or specs; default the step's model)
    prompt: str  # "" for no text box
    page: str  # the page to explore further on ("" for none)
    count: int  # samples steps: images shown


def typed(value: Any, kind: type, what: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {str: "text", int: "a whole number", float: "a number", dict: "a table", list: "a list"}
        raise PlaygroundError(f"{what} must be {names[kind]}, not {value!r}")
    return value


def setting_values(table: dict) -> dict:
    """A [settings] table -> TrainConfig values, each checked on its own (types made right: lr = 1 is 1.0)."""
    out = {}
    for name, given in table.items():
        if name not in settings.SETTINGS:
            raise PlaygroundError(f"'{name}' is not a setting: settings are {', '.join(settings.SETTINGS)}")
        s = settings.SETTINGS[name]
        value = float(given) if s.type is float and isinstance(given, int) and not isinstance(given, bool) else given
        settings.check(name, value)
        if name == "dataset":
            datasets.info(value)
        out[name] = value
    return out


class Bad(Exception):
    """A mistake at where (the field's keys inside the step or lab), said in message."""

    def __init__(self, where: tuple, message: str):
        super().__init__(message)
        self.where, self.message = where, message


def at(where: tuple, check, *args):
    """check(*args), its PlaygroundError turned into a mistake at where."""
    try:
        return check(*args)
    except Bad:
        raise
    except PlaygroundError as e:
        raise Bad(where, str(e)) from None


def text(raw: dict, key: str, required: bool = False) -> str:
    if key not in raw:
        if required:
            raise Bad((key,), "is missing")
        return ""
    return at((key,), typed, raw[key], str, key).strip()


def settings_table(raw: dict, key: str) -> dict:
    table = at((key,), typed, raw.get(key, {}), dict, key)
    for name in table:
        at((key, name), setting_values, {name: table[name]})
    return setting_values(table)


def _sweep(raw: dict) -> dict:
    sw = at(("sweep",), typed, raw.get("sweep"), dict, "a sweep step's sweep") if "sweep" in raw else None
    if sw is None:
        raise Bad(("sweep",), 'is missing: a sweep step says what to sweep, e.g. sweep = { setting = "lr", values = "1, 0.1" }')
    for k in sw:
        if k not in ("setting", "values", "seeds"):
            raise Bad(("sweep", k), "is not a sweep field: use setting, values and seeds")
    setting = at(("sweep", "setting"), typed, sw.get("setting"), str, "setting")
    if setting not in sweeps.SETTINGS:
        raise Bad(("sweep", "setting"), f"cannot sweep {setting!r}: choose one of {', '.join(sweeps.SETTINGS)}")
    values = at(("sweep", "values"), typed, sw.get("values"), str, "values")
    parsed = at(("sweep", "values"), sweeps.parse_values, setting, values)
    seeds = at(("sweep", "seeds"), typed, sw.get("seeds", []), list, "seeds")
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= settings.MAX_SEED for s in seeds):
        raise Bad(("sweep", "seeds"), f"must be a list of whole numbers from 0 to {settings.MAX_SEED}, e.g. [0, 1, 2]")
    return {"setting": setting, "values": values, "parsed": parsed, "seeds": list(seeds)}


def _calcs(raw: dict) -> tuple[dict, ...]:
    items = at(("calc",), typed, raw.get("calc"), list, "a conv step's calc") if "calc" in raw else []
    if not items:
        raise Bad(("calc",), 'is missing: a conv step lists its sums as [[step.calc]] tables, e.g. kind = "output", W = 28, K = 3')
    out = []
    for i, raw_item in enumerate(items, 1):
        item = at(("calc", i), typed, raw_item, dict, "each calc")
        kind = item.get("kind")
        if kind not in CALCS:
            raise Bad(("calc", i, "kind"), f"{kind!r} is not a calculation: choose one of {', '.join(CALCS)}")
        required, optional = CALCS[kind]
        for k in item:
            if k != "kind" and k not in required + optional:
                raise Bad(("calc", i, k), f"is not a number of a {kind} calculation: it takes {', '.join(required + optional)}")
        for k in required:
            if k not in item:
                raise Bad(("calc", i, "kind"), f"a {kind} calculation needs {k}")
        out.append(dict(item))
    return tuple(out)


def parse(raw: dict, index: int) -> Step:
    for key in raw:
        if key not in STEP_FIELDS:
            raise Bad((key,), f"is not a step field: a step has {', '.join(STEP_FIELDS)}")
    do = text(raw, "do") or "read"
    if do not in KINDS:
        raise Bad(("do",), f"{do!r} is not something a step can do: choose one of {', '.join(KINDS)}")
    show = tuple(at(("show",), typed, raw.get("show", ["loss", "accuracy"]), list, "show"))
    if bad := [c for c in show if c not in CHARTS]:
        raise Bad(("show",), f"{bad[0]!r} is not a chart: choose from {', '.join(CHARTS)}")
    page = text(raw, "page")
    if page and page not in PAGES:
        raise Bad(("page",), f"{page!r} is not a page: choose one of {', '.join(PAGES)}")
    target = at(("target_accuracy",), typed, raw.get("target_accuracy", 0.9), float, "target_accuracy")
    if not 0 < target <= 1:
        raise Bad(("target_accuracy",), f"must be a share above 0 and at most 1 (0.9 for 90%), not {target}")
    count = at(("count",), typed, raw.get("count", 3), int, "count")
    if not 1 <= count <= 10:
        raise Bad(("count",), f"must be 1 to 10 images, not {count}")
    bp = at(("backprop",), typed, raw.get("backprop", {}), dict, "backprop")
    if bad := [k for k in bp if k not in BACKPROP]:
        raise Bad(("backprop", bad[0]), f"is not a backprop input: use {', '.join(BACKPROP)}")
    return Step(
        index=index,
        title=text(raw, "title", required=True),
        question=text(raw, "question", required=True),
        do=do,
        settings=settings_table(raw, "settings"),
        sweep=_sweep(raw) if do == "sweep" else {},
        show=show,
        target_accuracy=target,
        calcs=_calcs(raw) if do == "conv" else (),
        backprop=bp,
        models=tuple(at(("models",), typed, raw.get("models", []), list, "models")),
        prompt=text(raw, "prompt"),
        page=page,
        count=count,
    )
