"""Filling a lab step's deliverable: what the student hands in for that step.

A step that trains is started (start: runs and sweeps go through the job manager, so a finished one
comes from the cache) and then read back from the run store as often as the page likes (fill: the
curves so far while it trains). The other kinds are worked out at once. A Filled holds plain data:
tables as rows, charts as long-format points, facts as sentences, sample images as arrays; the
page, the CLI and the notebook each draw it their own way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from playground import convolve, datasets, diagnosis, experiments, families, sweep_summary, sweeps, tables, worked
from playground.errors import PlaygroundError
from playground.events import GRAD_EVERY_STEP_UNTIL
from playground.labs.format import Lab, Step
from playground.labs.sums import by_hand, cell_rows, conv_row, worked_example
from playground.runs import ACTIVE, RunStore


@dataclass
class Table:
    title: str
    rows: list[dict]  # one dict per row, the same keys in each: the columns


@dataclass
class Chart:
    title: str
    x: str  # the x field ("epoch", "step")
    y: str  # the y field ("train loss", ...)
    points: list[dict]  # {x, y, "run": label[, "split": "train" | "test"]}: one line per run (and split)


@dataclass
class Filled:
    step: Step
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # sentences: "669,706 trainable parameters"
    images: list[tuple[str, object]] = field(default_factory=list)  # (caption, uint8 array [H, W, C])
    run_ids: list[int] = field(default_factory=list)
    training: bool = False  # a run of the step is still queued or running: the deliverable is not final

    def to_dict(self) -> dict:
        """JSON-ready: what `lab run --json` prints for the step (images by caption only)."""
        return {
            "step": self.step.index,
            "title": self.step.title,
            "do": self.step.do,
            "question": self.step.question,
            "tables": [{"title": t.title, "rows": t.rows} for t in self.tables],
            "charts": [{"title": c.title, "x": c.x, "y": c.y, "points": c.points} for c in self.charts],
            "facts": self.facts,
            "images": [caption for caption, _ in self.images],
            "run_ids": self.run_ids,
            "training": self.training,
        }


@dataclass
class Started:
    """What a training step queued (or found in the cache): its run ids, and its sweep's id."""

    run_ids: list[int]
    sweep_id: int | None = None
    labels: list[str] = field(default_factory=list)  # each run's name in the charts (a sweep's values)

    def to_dict(self) -> dict:
        return {"run_ids": self.run_ids, "sweep_id": self.sweep_id, "labels": self.labels}

    @classmethod
    def from_dict(cls, d: dict) -> Started:
        return cls(list(d["run_ids"]), d.get("sweep_id"), list(d.get("labels", [])))


TRAINS = ("train", "sweep")


def start(lab: Lab, step: Step, quick: bool, manager) -> tuple[Started, list]:
    """Queue the step's run or sweep (a finished one with the same settings comes from the cache);
    what it started, and the jobs to wait on."""
    config = lab.config(step, quick)
    if step.do == "train":
        job = manager.submit(config)
        return Started([job.run_id], None, ["this run"]), [job]
    if step.do == "sweep":
        sw = step.sweep
        sweep, jobs = experiments.start(manager, config, sw["setting"], sw["parsed"], sw["seeds"] or None)
        labels = [m["label"] + (f" seed {m['seed']}" if len(sweep.seeds) > 1 else "") for m in sweep.members]
        return Started([j.run_id for j in jobs], sweep.id, labels), jobs
    raise PlaygroundError(f"step {step.index} ({step.do}) trains nothing")


def configs(lab: Lab, step: Step, quick: bool) -> list:
    """The TrainConfig of every run the step trains, in the order of its table."""
    base = lab.config(step, quick)
    if step.do == "sweep":
        sw = step.sweep
        return [m.config for m in sweeps.members(base, sw["setting"], sw["parsed"], sw["seeds"] or None)]
    return [base] if step.do == "train" else []


def training(store: RunStore, started: Started) -> bool:
    """Whether a run the step started is still queued or running."""
    return any((r := store.get(rid)) is not None and r.status in ACTIVE for rid in started.run_ids)


# --- the kinds that train --------------------------------------------------------------------------

PERCENT = ("train_accuracy", "test_accuracy", "val_accuracy")


def _epoch_rows(epochs: list[dict]) -> list[dict]:
    keep = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy")
    shown = [k for k in keep if any(e.get(k) is not None for e in epochs)]
    return [{k.replace("_", " "): (_pct(e[k]) if k in PERCENT else e[k] if k == "epoch" else _num(e[k])) for k in shown} for e in epochs]


def _pct(x) -> str:
    return "-" if x is None else f"{x:.2%}"


def _num(x) -> str:
    return "-" if x is None else f"{x:.4f}" if math.isfinite(x) else str(x)


def _curves(store: RunStore, run_ids: list[int], labels: list[str], show: tuple[str, ...]) -> list[Chart]:
    per_run = [(label, store.epochs(rid)) for rid, label in zip(run_ids, labels)]
    charts = []
    if "loss" in show:
        pts = [{"epoch": e["epoch"], "loss": e[k], "run": lbl, "split": split} for lbl, eps in per_run for e in eps
               for split, k in (("train", "train_loss"), ("test", "test_loss")) if e.get(k) is not None and math.isfinite(e[k])]  # fmt: skip
        charts.append(Chart("Loss per epoch (train and test)", "epoch", "loss", pts))
    if "accuracy" in show:
        pts = [{"epoch": e["epoch"], "test accuracy": e["test_accuracy"], "run": lbl} for lbl, eps in per_run for e in eps]
        charts.append(Chart("Test accuracy per epoch", "epoch", "test accuracy", pts))
    if "gradients" in show:
        pts = [{"step": s["step"], "mean gradient": s["grad_mean"], "run": lbl} for (lbl, _), rid in zip(per_run, run_ids)
               for s in _first_grads(store, rid)]  # fmt: skip
        charts.append(Chart(f"Mean gradient over all parameters, first {GRAD_EVERY_STEP_UNTIL} steps", "step", "mean gradient", pts))
    return charts


def _first_grads(store: RunStore, run_id: int) -> list[dict]:
    """The run's steps up to GRAD_EVERY_STEP_UNTIL that have gradient statistics."""
    cols = store.step_columns(run_id)
    return cols.rows(cols.has["grad_mean"] & (cols.step <= GRAD_EVERY_STEP_UNTIL))


def _run_facts(store: RunStore, run_id: int, label: str = "") -> list[str]:
    run = store.get(run_id)
    if run is None:
        return [f"run {run_id} was deleted: run the step again"]
    who = f"{label}: " if label else ""
    facts = [f"{who}run {run_id} {run.status}" + (f" · test accuracy {_pct(run.final.get('test_accuracy'))}" if run.final else "")]
    num_classes = datasets.info(run.config.dataset).num_classes
    first = store.first_loss(run_id)
    if first is not None and label == "":
        _, name = diagnosis.start_loss(num_classes)
        facts.append(f"the loss at the first step: {first:.3f} (equal guesses over the classes give {name})")
    if run.params and label == "":
        facts.append(f"{run.params:,} trainable parameters")
    facts += [f"{who}{f.message}" for f in diagnosis.of_run(store, run)] if run.status not in ACTIVE else []
    return facts


def _fill_train(filled: Filled, store: RunStore, started: Started) -> None:
    rid = started.run_ids[0]
    filled.tables.append(Table("Per epoch", _epoch_rows(store.epochs(rid))))
    filled.charts += _curves(store, [rid], ["this run"], filled.step.show)
    filled.facts += _run_facts(store, rid)


def _fill_sweep(filled: Filled, store: RunStore, started: Started) -> None:
    sweep = experiments.load(store, started.sweep_id) if started.sweep_id is not None else None
    if sweep is None:
        filled.facts.append("this sweep was deleted: run the step again")
        return
    outcomes = experiments.outcomes(store, sweep)
    step = filled.step
    rows = sweep_summary.table(outcomes, experiments.num_classes(sweep), step.target_accuracy)
    frame = tables.sweep_frame(rows, sweeps.SETTINGS[sweep.setting].title, step.target_accuracy, seeds=len(sweep.seeds))
    records = [{k: (v or "none") if k == "flags" else v for k, v in r.items()} for r in frame.to_dict("records")]
    filled.tables.append(Table(f"One row per {sweeps.SETTINGS[sweep.setting].title}", records))
    alive = [(rid, lbl) for rid, lbl in zip(started.run_ids, started.labels) if store.get(rid) is not None]
    filled.charts += _curves(store, [r for r, _ in alive], [lbl for _, lbl in alive], step.show)


# --- the kinds worked out at once ------------------------------------------------------------------


def _fill_samples(filled: Filled, lab: Lab, quick: bool) -> None:
    config = lab.config(filled.step, quick)
    ds = datasets.load(config.dataset)
    meta = datasets.info(config.dataset)
    picks = datasets.first_of_each_class(ds.y_train, filled.step.count)
    rows = []
    for i in picks:
        label = int(ds.y_train[i])
        rows.append({"training image": i, "label": label, "class": meta.classes[label]})
        filled.images.append((f"#{i}: {meta.classes[label]}", ds.x_train[i].permute(1, 2, 0).numpy()))
    filled.tables.append(Table("Training images of different classes", rows))
    shape = list(ds.x_train.shape[1:])
    filled.facts += [
        f"one training image: {shape} (channels, height, width), uint8 0-255",
        f"a batch of {config.batch_size}: {[config.batch_size, *shape]}",
        f"{len(ds.x_train):,} training and {len(ds.x_test):,} test images, {meta.num_classes} classes",
    ]


def _fill_params(filled: Filled, lab: Lab) -> None:
    config = lab.config(filled.step, False)
    meta = datasets.info(config.dataset)
    shape = "x".join(map(str, config.input_shape))
    summary = []
    for model in filled.step.models or (config.model,):
        spec = families.resolve(model)
        anatomy = families.anatomy(spec, config.input_shape, meta.num_classes)
        rows = [
            {"layer": r.layer, "output shape": "x".join(map(str, r.output_shape)), "formula": r.formula or "-",
             "worked": r.worked or "no parameters", "parameters": f"{r.params:,}", "running total": f"{r.total:,}"}
            for r in anatomy.rows
        ]  # fmt: skip
        name = sweeps.label("model", spec)
        filled.tables.append(Table(f"{name} on {config.dataset} ({shape})", rows))
        buffers = sum(r.buffers for r in anatomy.rows)
        summary.append({"model": name, "trainable parameters": f"{anatomy.trainable_params:,}",
                        "batch-norm running statistics (not trained)": f"{buffers:,}"})  # fmt: skip
        filled.facts.append(f"{name}: {anatomy.trainable_params:,} trainable parameters, "
                            f"{anatomy.trainable_params / meta.train_size:.1f} per training image ({meta.train_size:,} images)")  # fmt: skip
    if len(summary) > 1:
        filled.tables.insert(0, Table("Trainable parameters of each model", summary))


def _fill_conv(filled: Filled, lab: Lab) -> None:
    """The sums in one table; each convolution by hand in two of its own: every cell worked, and the output."""
    worked_sums = []
    for calc in filled.step.calcs:
        if calc["kind"] != "convolve":
            worked_sums += conv_row(calc, lab.settings_of(filled.step, False))
            continue
        m, same = by_hand(calc)
        name = "Convolution (kernel flipped)" if m.mode == "convolution" else "Cross-correlation (as nn.Conv2d)"
        filled.tables.append(Table(f"{name}, padding {m.padding}: every output cell", cell_rows(m, same)))
        filled.tables.append(Table(f"{name}: the output", [{f"col {j}": convolve.fmt(v) for j, v in enumerate(r)} for r in m.output]))
    if worked_sums:
        filled.tables.insert(0, Table("Worked", worked_sums))


def _fill_backprop(filled: Filled) -> None:
    w = worked_example(filled.step.backprop)
    for title, qs in (("Forward pass", w.forward), ("Backward pass", w.backward)):
        rows = [{"quantity": q.symbol, "formula": q.formula, "numbers put in": q.substituted,
                 "autograd agrees": "yes" if q.checked else f"NO (off by {q.difference:.2g})"} for q in qs]  # fmt: skip
        filled.tables.append(Table(title, rows))
    after = {k: worked.written(v) for k, v in w.weights_after.items()}
    filled.tables.append(Table(f"After one SGD step (lr {w.example.lr:g})", [{"weight": k, "new value": v} for k, v in after.items()]))
    before = next(q.value for q in w.forward if q.name == "loss")
    filled.facts += [*w.notes.values(), f"loss {float(before):.4f} before the step, {w.loss_after:.4f} after it"]


def _fill_baselines(filled: Filled, lab: Lab, quick: bool) -> None:
    from playground import boundary

    config = lab.config(filled.step, quick)
    ds = datasets.load(config.dataset, toy_params=config.toy_params)
    rows = [{"model": b.name, "train accuracy": _pct(b.train_accuracy), "test accuracy": _pct(b.test_accuracy)}
            for b in boundary.svm_baselines(ds, boundary.grid(ds))]  # fmt: skip
    filled.tables.append(Table(f"SVMs on {config.dataset} ({config.toy_points} points, noise {config.toy_noise:g})", rows))


def fill(lab: Lab, step: Step, quick: bool, store: RunStore, started: Started | None = None) -> Filled:
    """The step's deliverable now; a training step needs what start() returned."""
    filled = Filled(step)
    if step.do in TRAINS:
        if started is None:
            return filled
        (_fill_train if step.do == "train" else _fill_sweep)(filled, store, started)
        filled.run_ids = list(started.run_ids)
        filled.training = training(store, started)
    elif step.do == "samples":
        _fill_samples(filled, lab, quick)
    elif step.do == "params":
        _fill_params(filled, lab)
    elif step.do == "conv":
        _fill_conv(filled, lab)
    elif step.do == "backprop":
        _fill_backprop(filled)
    elif step.do == "baselines":
        _fill_baselines(filled, lab, quick)
    return filled
