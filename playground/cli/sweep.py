"""python -m playground sweep: twin runs over one setting, then the table comparing them."""

from __future__ import annotations

import json
import sys

from playground.cli.common import add_train_flags, download_bar, train_config
from playground.errors import PlaygroundError


def register(sub) -> None:
    from playground import sweeps

    sw = sub.add_parser("sweep", help="twin runs that differ in one setting, and the table comparing them")
    sw.add_argument("--param", required=True, choices=list(sweeps.SETTINGS), help="the setting to sweep")
    sw.add_argument("--values", required=True, help="e.g. 1,0.1,0.01,0.001 (models: base;deeper;wider)")
    sw.add_argument("--seeds", help="repeat every value over these seeds, e.g. 0,1,2 (default: --seed only)")
    sw.add_argument("--target-accuracy", type=float, default=0.9, help="report the first epoch reaching this test accuracy")
    sw.add_argument("--threshold", type=float, default=0.005, help="converged: test accuracy changes by less than this per epoch ...")
    sw.add_argument("--patience", type=int, default=2, help="... for this many epochs in a row")
    sw.add_argument("--format", default="markdown", choices=["markdown", "csv"], help="the table's format without --json")
    add_train_flags(sw)
    sw.set_defaults(func=cmd_sweep)


def _seeds(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise PlaygroundError(f"--seeds '{text}' is not a list of whole numbers, e.g. 0,1,2") from None


def cmd_sweep(args) -> int:
    from playground import datasets, experiments, jobs, sweep_summary, sweeps

    base = train_config(args)
    values = sweeps.parse_values(args.param, args.values)
    seeds = _seeds(args.seeds)
    twins = sweeps.members(base, args.param, values, seeds)  # refuses a bad member before any training
    manager = jobs.manager()
    if any(manager.store.find_reusable(m.config) is None for m in twins):
        datasets.prepare(base.dataset, download_bar())
    bars: dict = {}
    sweep, started = experiments.start(manager, base, args.param, values, seeds, on_event=_progress(args, twins, seeds, bars))
    _wait(started, bars)
    outcomes = experiments.outcomes(manager.store, sweep)
    rows = sweep_summary.table(outcomes, datasets.info(base.dataset).num_classes, args.target_accuracy, args.threshold, args.patience)
    if args.json:
        _print_json(args, manager.store, sweep, started, rows)
    else:
        _print_table(args, sweep, started, rows, seeds)
    return 0


def _progress(args, twins, seeds, bars: dict):
    """on_event(i, event) for the sweep: one progress bar per twin, kept in `bars` by its index."""
    from tqdm import tqdm

    from playground.events import StartEvent, StepEvent

    def on_event(i: int, event) -> None:
        m = twins[i]
        if isinstance(event, StartEvent):
            desc = f"{args.param}={m.label}" + (f" seed {m.seed}" if seeds else "")
            bars[i] = tqdm(
                total=event.total_steps, desc=desc, unit="step", file=sys.stderr, mininterval=0.5, disable=args.quiet, position=i
            )
        elif isinstance(event, StepEvent) and i in bars:
            bars[i].update(1)

    return on_event


def _wait(started, bars: dict) -> None:
    """Every twin to its end; Ctrl-C stops them all (and still waits, so the store is left tidy)."""
    try:
        for i, job in enumerate(started):
            job.wait()
            if i in bars:
                bars[i].close()
    except KeyboardInterrupt:
        for job in started:
            job.stop()
        for job in started:
            job.wait()


def _print_json(args, store, sweep, started, rows) -> None:
    from playground.report import run_report

    runs = [
        run_report(store, job.run_id, cached=job.cached) | {"value": m["value"], "label": m["label"], "seed": m["seed"]}
        for job, m in zip(started, sweep.members)
    ]
    print(json.dumps({"sweep_id": sweep.id, "param": args.param, "runs": runs, "table": rows}, indent=2))


def _print_table(args, sweep, started, rows, seeds) -> None:
    from playground import sweeps, tables

    df = tables.sweep_frame(rows, sweeps.SETTINGS[args.param].title, args.target_accuracy, seeds=len(seeds or [1]))
    print(tables.to_markdown(df) if args.format == "markdown" else tables.to_csv(df), end="")
    cached = sum(j.cached for j in started)
    print(f"\nsweep {sweep.id}: {len(started)} runs, {cached} from the cache", file=sys.stderr)
