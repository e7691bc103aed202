"""python -m playground <command>: the same engine as the app, from a terminal.

Bad input prints one line on stderr and exits 2; --json puts one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

from playground import settings
from playground.errors import PlaygroundError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other user mistake
        self.exit(2, f"{self.prog}: error: {message}\n")


def download_bar():
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(done: int, total: Optional[int], what: str) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = tqdm(total=total, desc=what, unit="B", unit_scale=True, file=sys.stderr)
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()

    return progress


def cmd_datasets(args) -> int:
    from playground import datasets

    rows = []
    for meta in datasets.REGISTRY.values():
        available, source = datasets.status(meta.name)
        rows.append(
            {
                "name": meta.name,
                "title": meta.title,
                "input_shape": list(meta.input_shape),
                "num_classes": meta.num_classes,
                "classes": list(meta.classes),
                "train_size": meta.train_size,
                "test_size": meta.test_size,
                "available": available,
                "source": source,
            }
        )
    if args.json:
        print(json.dumps({"datasets": rows}, indent=2))
    else:
        for r in rows:
            shape = "x".join(map(str, r["input_shape"]))
            print(f"{r['name']:<16} {shape:<9} {r['num_classes']} classes  {'available' if r['available'] else 'missing  '}  {r['source']}")
    return 0


def cmd_prepare(args) -> int:
    from playground import datasets

    folder = datasets.prepare(args.dataset, download_bar())
    ds = datasets.load(args.dataset)
    print(f"{ds.info.title}: {len(ds.x_train)} training and {len(ds.x_test)} test images in {folder}")
    return 0


def train_config(args):
    from playground.config import TrainConfig

    return TrainConfig(**{name: getattr(args, name) for name in TRAIN_FLAGS})


TRAIN_FLAGS = tuple(settings.SETTINGS)  # every TrainConfig field has its flag, declared in playground.settings


def cmd_train(args) -> int:
    from tqdm import tqdm

    from playground import datasets, jobs
    from playground.report import run_report
    from playground.events import EpochEvent, StartEvent, StepEvent

    config = train_config(args)
    config.check_model()
    manager = jobs.manager()
    if manager.store.find_reusable(config) is None:
        datasets.prepare(config.dataset, download_bar())  # any download shows its own progress first
    bar = tqdm(total=0, unit="step", file=sys.stderr, mininterval=0.5, disable=args.quiet)

    def on_event(event) -> None:
        if isinstance(event, StartEvent):
            bar.reset(total=event.total_steps)
        elif isinstance(event, StepEvent):
            bar.set_postfix(epoch=event.epoch, loss=f"{event.loss:.4f}", refresh=False)
            bar.update(1)
        elif isinstance(event, EpochEvent):
            bar.write(
                f"epoch {event.epoch}: train loss {event.train_loss:.4f} acc {event.train_accuracy:.4f} | "
                f"test loss {event.test_loss:.4f} acc {event.test_accuracy:.4f} | {event.seconds:.1f} s",
                file=sys.stderr,
            )

    job = manager.submit(config, on_event=on_event)
    try:
        while not job.wait(0.2):
            pass
    except KeyboardInterrupt:
        job.stop()
        job.wait()
    bar.close()
    report = run_report(manager.store, job.run_id, cached=job.cached)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_summary(report))
    return 0 if report["status"] in ("completed", "diverged", "stopped") else 1


def _summary(r: dict) -> str:
    lines = [f"run {r['run_id']}: {r['status']}{' (from the cache)' if r['cached'] else ''} - {r['message']}"]
    if r["params"] is not None:
        lines.append(f"model: {r['config']['model'] or '(single linear layer)'}  -  {r['params']:,} trainable parameters")
    lines.append("epoch  train_loss  train_acc  test_loss  test_acc  seconds")
    for h in r["history"]:
        lines.append(
            f"{h['epoch']:>5}  {h['train_loss']:>10.4f}  {h['train_accuracy']:>9.4f}  {h['test_loss']:>9.4f}  {h['test_accuracy']:>8.4f}  {h['seconds']:>7.1f}"
        )
    return "\n".join(lines)


def cmd_bench(args) -> int:
    from playground import bench

    from playground.devices import resolve_device

    resolve_device(args.device)  # a clear error where the device is missing
    result = bench.run(quick=args.quick, progress=lambda s: print(s, file=sys.stderr), sweep=not args.no_sweep, device=args.device)
    print(json.dumps(result.to_dict(), indent=2) if args.json else bench.report(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from playground import cli_anatomy, cli_sweep, datasets, specs, sweeps, train

    p = _Parser(prog="python -m playground", description="Train and inspect small PyTorch networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("datasets", help="list datasets: shape, classes, available or not, source")
    d.add_argument("--json", action="store_true", help="one JSON object on stdout")
    d.set_defaults(func=cmd_datasets)

    pr = sub.add_parser("prepare", help="copy or download a dataset into $PLAYGROUND_HOME/data")
    pr.add_argument("--dataset", default=datasets.DEFAULT_DATASET)
    pr.set_defaults(func=cmd_prepare)

    pa = sub.add_parser("params", help="the layer table: output shapes, parameter counts with the arithmetic")
    pa.add_argument("--dataset", default=datasets.DEFAULT_DATASET, help="input shape and classes from this dataset's metadata (no files needed)")
    pa.add_argument("--input", help="an input shape instead of a dataset: CxHxW (e.g. 3x32x32) or F")
    pa.add_argument("--classes", type=int, default=10, help="outputs of the classifier with --input")
    pa.add_argument("--model", default=specs.DEFAULT_PRESET, help=f"a layer spec or a preset ({', '.join(specs.PRESETS)})")
    pa.add_argument("--json", action="store_true", help="one JSON object on stdout")
    pa.set_defaults(func=cli_anatomy.cmd_params)

    cv = sub.add_parser("conv", help="a 2D convolution by hand, every output cell's arithmetic, checked against torch")
    cv.add_argument("--image", required=True, help="rows separated by ';', entries by spaces or commas: \"2 1 2; 3 9 1\"")
    cv.add_argument("--kernel", required=True, help='e.g. a Sobel kernel: "-1 0 1; -2 0 2; -1 0 1"')
    cv.add_argument("--padding", type=int, default=0, help="zeros added on every side")
    cv.add_argument("--stride", type=int, default=1)
    cv.add_argument("--mode", default="convolution", choices=["convolution", "correlation"], help="convolution flips the kernel; correlation is what nn.Conv2d computes")
    cv.add_argument("--json", action="store_true", help="one JSON object on stdout")
    cv.set_defaults(func=cli_anatomy.cmd_conv)

    t = sub.add_parser("train", help="train a model (or reuse the identical finished run)")
    _train_flags(t)
    t.set_defaults(func=cmd_train)

    sw = sub.add_parser("sweep", help="twin runs that differ in one setting, and the table comparing them")
    sw.add_argument("--param", required=True, choices=list(sweeps.SETTINGS), help="the setting to sweep")
    sw.add_argument("--values", required=True, help="e.g. 1,0.1,0.01,0.001 (models: base;deeper;wider)")
    sw.add_argument("--seeds", help="repeat every value over these seeds, e.g. 0,1,2 (default: --seed only)")
    sw.add_argument("--target-accuracy", type=float, default=0.9, help="report the first epoch reaching this test accuracy")
    sw.add_argument("--threshold", type=float, default=0.005, help="converged: test accuracy changes by less than this per epoch ...")
    sw.add_argument("--patience", type=int, default=2, help="... for this many epochs in a row")
    sw.add_argument("--format", default="markdown", choices=["markdown", "csv"], help="the table's format without --json")
    _train_flags(sw)
    sw.set_defaults(func=cli_sweep.cmd_sweep)

    b = sub.add_parser("bench", help="the playground's trainer against the PyTorch quickstart loop, and grouped sweeps")
    b.add_argument("--quick", action="store_true", help="2 epochs on 20,000 images and short sweeps: under a minute on 2 cores")
    b.add_argument("--no-sweep", action="store_true", help="skip the grouped-sweep measurements")
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps"], help="where both loops train (data resident there)")
    b.add_argument("--json", action="store_true", help="one JSON object on stdout")
    b.set_defaults(func=cmd_bench)
    return p


def _setting_type(name: str):
    """argparse type= for one setting: text -> typed value; bad text is one line naming the setting
    (the range is TrainConfig's check, after parsing)."""

    def parse(text: str):
        try:
            return settings.parse(name, text)
        except PlaygroundError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = name
    return parse


def _train_flags(p: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, from its declaration in playground.settings."""
    groups = {
        "basics": p,
        "optimizer": p.add_argument_group("optimizer and schedule"),
        "data": p.add_argument_group("loss and data"),
        "toy": p.add_argument_group("toy 2D sets"),
    }
    for s in settings.SETTINGS.values():
        g = groups[s.section]
        if s.type is bool:
            g.add_argument(s.cli_flag, dest=s.name, action="store_true", default=s.default, help=s.help)
        elif s.choices:
            g.add_argument(s.cli_flag, dest=s.name, default=s.default, choices=s.choices, help=s.help)
        else:
            metavar = "PATIENCE" if s.name == "early_stopping" else "NAME" if s.name == "dataset" else None
            g.add_argument(s.cli_flag, dest=s.name, type=_setting_type(s.name), default=s.default, metavar=metavar, help=s.help)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Optional[Sequence[str]] = None) -> int:
    # A terminal has no pages that could starve the loop of the interpreter lock: train in this
    # process (no second PyTorch import) unless PLAYGROUND_EXECUTOR says otherwise.
    os.environ.setdefault("PLAYGROUND_EXECUTOR", "thread")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
