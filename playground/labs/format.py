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

from playground import datasets, settings, sweeps
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.home import playground_home
from playground.labs import lines, sums
from playground.labs.steps import Bad, Step, at, settings_table, typed
from playground.labs.steps import parse as parse_step
from playground.labs.steps import text as field_text

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "labs"
LAB_FIELDS = ("title", "assignment", "about", "settings", "quick", "step")
FEWER = ("epochs", "train_limit", "test_limit")  # quick mode's values of these are upper bounds
DATA_KINDS = ("samples", "train", "sweep", "baselines")  # steps that load images: quick mode may swap the dataset


class LabError(PlaygroundError):
    """A mistake in a lab file; the message starts with the file, the line and the field."""


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


def _fail(path: Path, text: str, where: tuple, message: str, step: dict | None = None) -> LabError:
    field = ".".join(str(k) for k in (where[2:] if where[0] == "step" else where))
    place = (
        f"step {where[1]}" + (f" ({step.get('title')!r})" if step and isinstance(step.get("title"), str) else "")
        if where[0] == "step"
        else ""
    )
    said = ", ".join(p for p in (place, f"field '{field}'" if field else "") if p)
    return LabError(f"{path.name}, line {lines.line_of(text, where)}: {said}: {message}")


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
                raise Bad(("models",) if step.models else ("settings",), f"{e}{mode}") from None
            meta = datasets.info(config.dataset)
            if step.do == "samples" and meta.is_toy:
                raise Bad(("do",), f"samples shows images; {config.dataset} is a toy 2D set (its points are on the Toy 2D page){mode}")
            if step.do == "baselines" and not meta.is_toy:
                raise Bad(("do",), f"baselines fits SVMs to a toy 2D set; {config.dataset} is not one{mode}")
        if step.do == "sweep":
            at(
                ("sweep", "values"),
                sweeps.members,
                lab.config(step, quick),
                step.sweep["setting"],
                step.sweep["parsed"],
                step.sweep["seeds"] or None,
            )
    for i, calc in enumerate(step.calcs, 1):
        at(("calc", i, "kind"), _check_calc, calc, lab.settings_of(step, False))
    if step.do == "backprop":
        at(("backprop",), sums.worked_example, step.backprop)


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
                raise Bad((key,), f"is not a lab field: a lab has {', '.join(LAB_FIELDS)}")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise Bad(("step",), "a lab needs at least one [[step]]")
        lab = Lab(
            path.stem,
            path,
            field_text(raw, "title", required=True),
            field_text(raw, "assignment"),
            field_text(raw, "about"),
            settings_table(raw, "settings"),
            settings_table(raw, "quick"),
            (),
        )
        steps = []
        for i, rs in enumerate(raw_steps, 1):
            where = ("step", i)
            steps.append(parse_step(at((), typed, rs, dict, "a step"), i))
            _check_runs(lab, steps[-1])
        return replace(lab, steps=tuple(steps))
    except Bad as bad:
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
