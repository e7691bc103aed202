"""python -m playground train: one run (or the identical finished one, from the store)."""

from __future__ import annotations

import json
import sys

from playground.cli.common import add_train_flags, download_bar, train_config


def register(sub) -> None:
    t = sub.add_parser("train", help="train a model (or reuse the identical finished run)")
    add_train_flags(t)
    t.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from tqdm import tqdm

    from playground import datasets, jobs
    from playground.report import run_report

    config = train_config(args)
    config.check_model()
    manager = jobs.manager()
    if manager.store.find_reusable(config) is None:
        datasets.prepare(config.dataset, download_bar())  # any download shows its own progress first
    bar = tqdm(total=0, unit="step", file=sys.stderr, mininterval=0.5, disable=args.quiet)
    job = manager.submit(config, on_event=_progress(bar))
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


def _progress(bar):
    """on_event for one run: steps move the bar, each epoch's metrics are a line on stderr."""
    from playground.events import EpochEvent, StartEvent, StepEvent

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

    return on_event


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
