"""The lab file: a course assignment as TOML, written by a teacher without code.

    title = "Fashion-MNIST: the quickstart classifier"      # required
    assignment = "Fashion-MNIST classifier"                 # the family in ASSIGNMENTS.md
    about = "What the lab is for (Markdown)."

    [settings]          # every step starts from these (TrainConfig settings, as on the Train page)
    dataset = "fashion-mnist"
    epochs = 10

    [quick]             # quick mode: fewer images and epochs, offline datasets (said on the page)
    train_limit = 2000
    epochs = 2

    [[step]]
    title = "The learning-rate table"                       # required
    question = "Train 10 epochs at each lr ..."             # required (Markdown)
    do = "sweep"                                            # what fills the deliverable: KINDS
    settings = { model = "base" }                           # the step's own settings, over the lab's
    sweep = { setting = "lr", values = "1, 0.1, 0.01, 0.001" }
    show = ["loss", "accuracy"]                             # train and sweep: the charts
    prompt = "Which lr would you pick, and why?"            # a text box for the student's answer

Loading checks everything a step will need (each run's and sweep member's settings, in full and in
quick mode; the conv and backprop inputs) and names the file, the line and the field of a mistake.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from playground import datasets, settings, sweeps
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.home import playground_home
from playground.labs import sums

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "labs"

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
LAB_FIELDS = ("title", "assignment", "about", "settings", "quick", "step")
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
FEWER = ("epochs", "train_limit", "test_limit")  # quick mode's values of these are upper bounds
DATA_KINDS = ("samples", "train", "sweep", "baselines")  # steps that load images: quick mode may swap the dataset


class LabError(PlaygroundError):
    """A mistake in a lab file; the message starts with the file, the line and the field."""


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


@dataclass(frozen=True)
class Lab:
    name: str  # the file's stem: `lab run NAME`
    path: Path
    title: str
    assignment: str
    about: str
    settings: dict
    quick: dict
    steps: tuple[Step, ...]

    def settings_of(self, step: Step, quick: bool) -> dict:
        """The settings a step runs with: the lab's, the step's, then quick mode's (the dataset
        swapped only where the step loads images: a count needs the real set's shape only)."""
        out = {**self.settings, **step.settings}
        if quick:
            for k, v in self.quick.items():
                if k in FEWER:  # quick mode only ever trains less: a step's 10 epochs stay 10 under quick's 40
                    full = out.get(k, settings.SETTINGS[k].default)
                    out[k] = min(v, full) if full else v  # a limit of 0 means all
                elif k != "dataset" or step.do in DATA_KINDS:
                    out[k] = v
        return out

    def config(self, step: Step, quick: bool) -> TrainConfig:
        return TrainConfig(**self.settings_of(step, quick))

    def quick_text(self) -> str:
        """What quick mode changes, in the page's words: 'Fashion-MNIST stands in for cifar10; 2,000 training images; 2 epochs'."""
        if not self.quick:
            return "the same as the full lab"
        parts = []
        for name, value in self.quick.items():
            if name == "dataset":
                full = datasets.info(self.settings.get("dataset", datasets.default_dataset())).title
                parts.append(f"{datasets.info(value).title} stands in for {full} where images are loaded")
            elif name == "model":
                parts.append(f"the smaller model {value}")
            elif name in ("train_limit", "test_limit"):
                parts.append(f"at most {value:,} {'training' if name == 'train_limit' else 'test'} images")
            elif name == "epochs":
                parts.append(f"at most {value} epoch{'s' * (value != 1)}")
            else:
                parts.append(f"{settings.ALL[name].label.lower() or name} {settings.show(name, value)}")
        return "; ".join(parts)


# --- where a field is written --------------------------------------------------------------------


def _headers(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, table name) of each [table] and [[array]] header."""
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[\[?\s*([\w.\-\"]+)\s*\]\]?", line)
        if m and not re.match(r"\s*\w+\s*=", line):
            out.append((i, m.group(1)))
    return out


def line_of(text: str, where: tuple) -> int:
    """The 1-based line where the field at `where` is written: ("title",), ("quick", "epochs"),
    ("step", 3, "settings", "lr") (steps 1-based); the nearest enclosing header when not found."""
    lines = text.splitlines()
    heads = _headers(lines)
    start, end = 0, heads[0][0] if heads else len(lines)
    if where[0] == "step" and len(where) > 1:
        starts = [i for i, name in heads if name == "step"]
        if not 1 <= where[1] <= len(starts):
            return 1
        start = starts[where[1] - 1]
        end = next((i for i, name in heads if i > start and name == "step"), len(lines))
        where = where[2:]
        if len(where) > 1 and where[0] == "calc" and isinstance(where[1], int):  # the i-th [[step.calc]] of the step
            calcs = [i for i, name in heads if start < i < end and name == "step.calc"]
            if where[1] <= len(calcs):
                start = calcs[where[1] - 1]
                end = next((i for i, _ in heads if i > start), len(lines))
    elif len(where) > 1 and where[0] in ("settings", "quick"):
        start = next((i for i, name in heads if name == where[0]), 0)
        end = next((i for i, _ in heads if i > start), len(lines))
        where = where[1:]
    for key in reversed(where):  # the innermost key first: "lr" inside settings = { lr = 3 }
        if not isinstance(key, str):
            continue
        for i in range(start, end):
            if re.search(rf"(^|[\s{{,.]){re.escape(key)}\s*=", lines[i]) or re.match(rf"\s*\[+\s*step\.{re.escape(key)}\s*\]", lines[i]):
                return i + 1
    return start + 1


# --- checking ------------------------------------------------------------------------------------


def _fail(path: Path, text: str, where: tuple, message: str, step: dict | None = None) -> LabError:
    field = ".".join(str(k) for k in (where[2:] if where[0] == "step" else where))
    place = (
        f"step {where[1]}" + (f" ({step.get('title')!r})" if step and isinstance(step.get("title"), str) else "")
        if where[0] == "step"
        else ""
    )
    said = ", ".join(p for p in (place, f"field '{field}'" if field else "") if p)
    return LabError(f"{path.name}, line {line_of(text, where)}: {said}: {message}")


def _typed(value: Any, kind: type, what: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {str: "text", int: "a whole number", float: "a number", dict: "a table", list: "a list"}
        raise PlaygroundError(f"{what} must be {names[kind]}, not {value!r}")
    return value


def _setting_values(table: dict) -> dict:
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


class _Bad(Exception):
    """A mistake at where (the field's keys inside the step or lab), said in message."""

    def __init__(self, where: tuple, message: str):
        super().__init__(message)
        self.where, self.message = where, message


def _at(where: tuple, check, *args):
    """check(*args), its PlaygroundError turned into a mistake at where."""
    try:
        return check(*args)
    except _Bad:
        raise
    except PlaygroundError as e:
        raise _Bad(where, str(e)) from None


def _text(raw: dict, key: str, required: bool = False) -> str:
    if key not in raw:
        if required:
            raise _Bad((key,), "is missing")
        return ""
    return _at((key,), _typed, raw[key], str, key).strip()


def _settings_table(raw: dict, key: str) -> dict:
    table = _at((key,), _typed, raw.get(key, {}), dict, key)
    for name in table:
        _at((key, name), _setting_values, {name: table[name]})
    return _setting_values(table)


def _sweep(raw: dict) -> dict:
    sw = _at(("sweep",), _typed, raw.get("sweep"), dict, "a sweep step's sweep") if "sweep" in raw else None
    if sw is None:
        raise _Bad(("sweep",), 'is missing: a sweep step says what to sweep, e.g. sweep = { setting = "lr", values = "1, 0.1" }')
    for k in sw:
        if k not in ("setting", "values", "seeds"):
            raise _Bad(("sweep", k), "is not a sweep field: use setting, values and seeds")
    setting = _at(("sweep", "setting"), _typed, sw.get("setting"), str, "setting")
    if setting not in sweeps.SETTINGS:
        raise _Bad(("sweep", "setting"), f"cannot sweep {setting!r}: choose one of {', '.join(sweeps.SETTINGS)}")
    values = _at(("sweep", "values"), _typed, sw.get("values"), str, "values")
    parsed = _at(("sweep", "values"), sweeps.parse_values, setting, values)
    seeds = _at(("sweep", "seeds"), _typed, sw.get("seeds", []), list, "seeds")
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= settings.MAX_SEED for s in seeds):
        raise _Bad(("sweep", "seeds"), f"must be a list of whole numbers from 0 to {settings.MAX_SEED}, e.g. [0, 1, 2]")
    return {"setting": setting, "values": values, "parsed": parsed, "seeds": list(seeds)}


def _calcs(raw: dict) -> tuple[dict, ...]:
    items = _at(("calc",), _typed, raw.get("calc"), list, "a conv step's calc") if "calc" in raw else []
    if not items:
        raise _Bad(("calc",), 'is missing: a conv step lists its sums as [[step.calc]] tables, e.g. kind = "output", W = 28, K = 3')
    out = []
    for i, raw_item in enumerate(items, 1):
        item = _at(("calc", i), _typed, raw_item, dict, "each calc")
        kind = item.get("kind")
        if kind not in CALCS:
            raise _Bad(("calc", i, "kind"), f"{kind!r} is not a calculation: choose one of {', '.join(CALCS)}")
        required, optional = CALCS[kind]
        for k in item:
            if k != "kind" and k not in required + optional:
                raise _Bad(("calc", i, k), f"is not a number of a {kind} calculation: it takes {', '.join(required + optional)}")
        for k in required:
            if k not in item:
                raise _Bad(("calc", i, "kind"), f"a {kind} calculation needs {k}")
        out.append(dict(item))
    return tuple(out)


def _step(raw: dict, index: int) -> Step:
    for key in raw:
        if key not in STEP_FIELDS:
            raise _Bad((key,), f"is not a step field: a step has {', '.join(STEP_FIELDS)}")
    do = _text(raw, "do") or "read"
    if do not in KINDS:
        raise _Bad(("do",), f"{do!r} is not something a step can do: choose one of {', '.join(KINDS)}")
    show = tuple(_at(("show",), _typed, raw.get("show", ["loss", "accuracy"]), list, "show"))
    if bad := [c for c in show if c not in CHARTS]:
        raise _Bad(("show",), f"{bad[0]!r} is not a chart: choose from {', '.join(CHARTS)}")
    page = _text(raw, "page")
    if page and page not in PAGES:
        raise _Bad(("page",), f"{page!r} is not a page: choose one of {', '.join(PAGES)}")
    target = _at(("target_accuracy",), _typed, raw.get("target_accuracy", 0.9), float, "target_accuracy")
    if not 0 < target <= 1:
        raise _Bad(("target_accuracy",), f"must be a share above 0 and at most 1 (0.9 for 90%), not {target}")
    count = _at(("count",), _typed, raw.get("count", 3), int, "count")
    if not 1 <= count <= 10:
        raise _Bad(("count",), f"must be 1 to 10 images, not {count}")
    bp = _at(("backprop",), _typed, raw.get("backprop", {}), dict, "backprop")
    if bad := [k for k in bp if k not in BACKPROP]:
        raise _Bad(("backprop", bad[0]), f"is not a backprop input: use {', '.join(BACKPROP)}")
    return Step(
        index=index,
        title=_text(raw, "title", required=True),
        question=_text(raw, "question", required=True),
        do=do,
        settings=_settings_table(raw, "settings"),
        sweep=_sweep(raw) if do == "sweep" else {},
        show=show,
        target_accuracy=target,
        calcs=_calcs(raw) if do == "conv" else (),
        backprop=bp,
        models=tuple(_at(("models",), _typed, raw.get("models", []), list, "models")),
        prompt=_text(raw, "prompt"),
        page=page,
        count=count,
    )


def _check_calc(calc: dict, lab_settings: dict) -> None:
    """Work the sum once, so a lab that loads is a lab whose every sum has an answer or says why not."""
    sums.conv_row(calc, lab_settings)


def _check_runs(lab: Lab, step: Step) -> None:
    """Every config the step would train or count, in full and in quick mode, is allowed and fits."""
    for quick in (False, True):
        mode = " (in quick mode)" if quick else ""
        if step.do in ("train", "sweep", "params", "samples", "baselines"):
            try:
                config = lab.config(step, quick)
                for model in step.models or [config.model]:
                    if step.do != "samples":
                        replace(config, model=model).check_model()
            except PlaygroundError as e:
                raise _Bad(("models",) if step.models else ("settings",), f"{e}{mode}") from None
            meta = datasets.info(config.dataset)
            if step.do == "samples" and meta.is_toy:
                raise _Bad(("do",), f"samples shows images; {config.dataset} is a toy 2D set (its points are on the Toy 2D page){mode}")
            if step.do == "baselines" and not meta.is_toy:
                raise _Bad(("do",), f"baselines fits SVMs to a toy 2D set; {config.dataset} is not one{mode}")
        if step.do == "sweep":
            _at(
                ("sweep", "values"),
                sweeps.members,
                lab.config(step, quick),
                step.sweep["setting"],
                step.sweep["parsed"],
                step.sweep["seeds"] or None,
            )
    for i, calc in enumerate(step.calcs, 1):
        _at(("calc", i, "kind"), _check_calc, calc, lab.settings_of(step, False))
    if step.do == "backprop":
        _at(("backprop",), sums.worked_example, step.backprop)


_LOADED: dict[tuple, Lab] = {}  # (path, modified, size) -> the checked lab: a page reruns often, a file changes seldom


def load(path: str | Path) -> Lab:
    """The lab in a TOML file, checked; LabError names the file, line and field of the first mistake."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise LabError(f"{path.name}: cannot be read: {e.strerror or e}") from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED[key] = _load(path)
    return _LOADED[key]


def _load(path: Path) -> Lab:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LabError(f"{path.name}: cannot be read: {getattr(e, 'strerror', None) or e}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:  # "Expected '=' after a key (at line 3, column 7)"
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        where = f"line {m.group(1)}" if m else "somewhere"
        raise LabError(f"{path.name}, {where}: not valid TOML: {re.sub(r' ?[(]at line.*', '', str(e))}") from None
    raw_steps = raw.get("step", [])
    where: tuple = ()
    try:
        for key in raw:
            if key not in LAB_FIELDS:
                raise _Bad((key,), f"is not a lab field: a lab has {', '.join(LAB_FIELDS)}")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise _Bad(("step",), "a lab needs at least one [[step]]")
        lab = Lab(
            path.stem,
            path,
            _text(raw, "title", required=True),
            _text(raw, "assignment"),
            _text(raw, "about"),
            _settings_table(raw, "settings"),
            _settings_table(raw, "quick"),
            (),
        )
        steps = []
        for i, rs in enumerate(raw_steps, 1):
            where = ("step", i)
            steps.append(_step(_at((), _typed, rs, dict, "a step"), i))
            _check_runs(lab, steps[-1])
        return replace(lab, steps=tuple(steps))
    except _Bad as bad:
        step = raw_steps[where[1] - 1] if where and isinstance(raw_steps, list) else None
        raise _fail(path, text, where + bad.where, bad.message, step if isinstance(step, dict) else None) from None


def folders() -> list[Path]:
    """Where labs are found: the shipped ones, then the teacher's own in $PLAYGROUND_HOME/labs."""
    return [SHIPPED, playground_home() / "labs"]


def paths() -> dict[str, Path]:
    """Lab name -> file; a teacher's lab of the same name as a shipped one replaces it."""
    out: dict[str, Path] = {}
    for folder in folders():
        if folder.is_dir():
            out.update({p.stem: p for p in sorted(folder.glob("*.toml"))})
    return out


def find(name_or_path: str) -> Lab:
    """A lab by name (`lab run fashion-mnist`) or by the path of its file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        if not Path(name_or_path).is_file():
            raise LabError(f"no lab file at {name_or_path}")
        return load(name_or_path)
    known = paths()
    if name_or_path not in known:
        raise LabError(f"no lab named {name_or_path!r}: choose one of {', '.join(known) or '(none)'} (python -m playground lab list)")
    return load(known[name_or_path])


def titles() -> dict[str, str]:
    """Lab name -> its title, read without checking the lab (a menu of labs costs one TOML parse each)."""
    out = {}
    for name, path in paths().items():
        try:
            title = tomllib.loads(path.read_text(encoding="utf-8")).get("title")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            title = None
        out[name] = title if isinstance(title, str) and title.strip() else f"{name} (cannot be read)"
    return out


def all_labs() -> tuple[list[Lab], list[str]]:
    """Every lab that loads, and the message of each that does not (a teacher's broken file must not hide the rest)."""
    labs, problems = [], []
    for path in paths().values():
        try:
            labs.append(load(path))
        except LabError as e:
            problems.append(str(e))
    return labs, problems
