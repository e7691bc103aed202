"""python -m playground lr-find: the learning-rate range test for a run's settings (playground.lr_find)."""

from __future__ import annotations

import argparse
import json
import sys

from playground.cli.common import add_train_flags, download_bar, text_table, train_config

TABLE_ROWS = 12  # the summary shows about this many of the steps, evenly spaced, and the last


def register(sub) -> None:
    p = sub.add_parser(
        "lr-find",
        help="find a learning rate: train briefly while the lr grows, and suggest one",
        description="The range test of fastai's lr_find and Lightning's Tuner.lr_find: from the run's initial weights and on its "
        "batches, train while the lr grows exponentially from --start-lr to --end-lr, stop when the loss explodes, and suggest "
        "the lr where the smoothed loss falls fastest (and fastai's valley). The run itself is not changed. --lr, --epochs and "
        "the schedule flags are accepted but not used.",
    )
    add_train_flags(p)
    finder = p.add_argument_group("the range test")
    finder.add_argument("--steps", type=_whole, default=None, help="steps to train at most (default 100, at least 10)")
    finder.add_argument("--start-lr", dest="start_lr", type=_number, default=None, help="the first step's lr (default 1e-06)")
    finder.add_argument("--end-lr", dest="end_lr", type=_number, default=None, help="the last step's lr (default 10)")
    p.set_defaults(func=cmd_lr_find)


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def cmd_lr_find(args) -> int:
    from tqdm import tqdm

    from playground import datasets, jobs, lr_find

    config = train_config(args)
    config.check_model()
    start_lr = lr_find.DEFAULT_START_LR if args.start_lr is None else args.start_lr
    end_lr = lr_find.DEFAULT_END_LR if args.end_lr is None else args.end_lr
    steps = lr_find.DEFAULT_STEPS if args.steps is None else args.steps
    lr_find.check_range(start_lr, end_lr, steps)  # before any download
    datasets.prepare(config.dataset, download_bar())  # any download shows its own progress first
    job = jobs.manager().find_lr(config, start_lr, end_lr, steps)
    bar = tqdm(total=job.total_steps, unit="step", file=sys.stderr, mininterval=0.5, disable=args.quiet or job.done)
    try:
        while not job.wait(0.2):
            bar.update(job.step - bar.n)
    except KeyboardInterrupt:
        job.stop()
        job.wait()
    bar.close()
    if job.result is None:
        print(f"error: {job.message}", file=sys.stderr)
        return 1
    result = job.result.as_dict()
    result.pop("seconds")  # the --json keys; the time is in the summary
    print(json.dumps(result, indent=2) if args.json else _summary(job.result, job.status))
    return 0 if job.status == "completed" else 1


def _summary(r, status: str) -> str:
    n = len(r.lrs)
    every = max(n // TABLE_ROWS, 1)
    picks = sorted({*range(0, n, every), n - 1}) if n else []
    rows = [["step", "lr", "loss", "smoothed"]] + [
        [str(i + 1), f"{r.lrs[i]:.3g}", f"{r.losses[i]:.4f}", f"{r.smoothed[i]:.4f}"] for i in picks
    ]
    lines = [text_table(rows, right={0, 1, 2, 3}), ""]
    lines.append(f"{n} of {r.steps} steps, lr {r.start_lr:g} to {r.lrs[-1]:.3g} in {r.seconds:.1f} s" if n else "no step was recorded")
    if r.stopped_early:
        lines.append(f"stopped early: {r.stopped_early}")
    if status != "completed":
        lines.append(f"the finder was {status}: no suggestion")
    elif r.suggested_lr is None and r.valley_lr is None:
        lines.append("no suggestion: the smoothed loss did not fall; try more steps or a wider range")
    else:
        if r.suggested_lr is not None:
            lines.append(f"suggested lr: {r.suggested_lr:.3g} (the smoothed loss falls fastest there)")
        if r.valley_lr is not None:
            lines.append(f"valley lr:    {r.valley_lr:.3g} (fastai's valley)")
    return "\n".join(lines)
