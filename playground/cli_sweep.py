"""python -m playground sweep: twin runs over one setting, then the table comparing them."""

from __future__ import annotations

import json
import sys

from playground.errors import PlaygroundError


def _seeds(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise PlaygroundError(f"--seeds '{text}' is not a list of whole numbers, e.g. 0,1,2") from None


def cmd_sweep(args) -> int:
    from tqdm import tqdm

    from playground import datasets, experiments, jobs, sweeps, tables
    from playground.cli import download_bar, train_config
    from playground.report import run_report
    from playground.events import StartEvent, StepEvent

    base = train_config(args)
    values = sweeps.parse_values(args.param, args.values)
    seeds = _seeds(args.seeds)
    twins = sweeps.members(base, args.param, values, seeds)  # refuses a bad member before any training
    manager = jobs.manager()
    if any(manager.store.find_reusable(m.config) is None for m in twins):
        datasets.prepare(base.dataset, download_bar())
    bars: dict[int, tqdm] = {}

    def on_event(i: int, event) -> None:
        m = twins[i]
        if isinstance(event, StartEvent):
            desc = f"{args.param}={m.label}" + (f" seed {m.seed}" if seeds else "")
            bars[i] = tqdm(total=event.total_steps, desc=desc, unit="step", file=sys.stderr, mininterval=0.5, disable=args.quiet, position=i)
        elif isinstance(event, StepEvent) and i in bars:
            bars[i].update(1)

    sweep, started = experiments.start(manager, base, args.param, values, seeds, on_event=on_event)
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
    outcomes = experiments.outcomes(manager.store, sweep)
    rows = sweeps.table(outcomes, datasets.info(base.dataset).num_classes, args.target_accuracy, args.threshold, args.patience)
    if args.json:
        runs = [
            run_report(manager.store, job.run_id, cached=job.cached) | {"value": m["value"], "label": m["label"], "seed": m["seed"]}
            for job, m in zip(started, sweep.members)
        ]
        print(json.dumps({"sweep_id": sweep.id, "param": args.param, "runs": runs, "table": rows}, indent=2))
        return 0
    df = tables.sweep_frame(rows, sweeps.SETTINGS[args.param].title, args.target_accuracy, seeds=len(seeds or [1]))
    print(tables.to_markdown(df) if args.format == "markdown" else tables.to_csv(df), end="")
    cached = sum(j.cached for j in started)
    print(f"\nsweep {sweep.id}: {len(started)} runs, {cached} from the cache", file=sys.stderr)
    return 0
