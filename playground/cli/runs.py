"""python -m playground runs: the stored runs, newest first, as a table or as JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from playground.cli.common import text_table

# Every status a run can have in the store (playground.runs: the runs table's status column).
STATUSES = ("queued", "running", "completed", "diverged", "stopped", "failed", "interrupted")
COLUMNS = ["id", "dataset", "model", "status", "test accuracy", "created"]


def register(sub) -> None:
    r = sub.add_parser("runs", help="list the stored runs, newest first: dataset, model, status, test accuracy, when")
    r.add_argument("--dataset", metavar="NAME", help="only the runs on this dataset (a name from `python -m playground datasets`)")
    r.add_argument("--status", choices=STATUSES, help="only the runs with this status")
    r.add_argument("--limit", type=_count, metavar="N", help="at most the N newest runs (after the filters; default: all)")
    r.add_argument("--json", action="store_true", help="a JSON list on stdout: id, dataset, model, status, test_accuracy, created")
    r.set_defaults(func=cmd_runs)


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of 1 or more")
    return n


def cmd_runs(args) -> int:
    from playground.home import runs_db_path
    from playground.runs import RunStore

    path = runs_db_path()
    if not path.exists():  # RunStore(path) would create the file: listing nothing must not
        return _none_stored(args, path)
    store = RunStore(path)
    store.mark_orphans_interrupted()  # as the app and `train` do on opening the store: a crashed run is not "running"
    every = store.list_runs(limit=-1)  # newest first (ids grow); SQLite reads LIMIT -1 as no limit
    if not every:
        return _none_stored(args, path)
    runs = [
        r for r in every if (args.dataset is None or r.config.dataset == args.dataset) and (args.status is None or r.status == args.status)
    ]
    runs = runs[: args.limit]
    if args.json:
        print(json.dumps([_row(r) for r in runs], indent=2))
    elif runs:
        print(_table(runs))
    else:
        wanted = " ".join(f"--{k} {v}" for k, v in (("dataset", args.dataset), ("status", args.status)) if v is not None)
        print(f"no stored run matches {wanted} ({len(every)} runs stored in {path})")
    return 0


def _none_stored(args, path) -> int:
    line = f"no runs stored in {path} yet; train one with python -m playground train"
    if args.json:
        print("[]")
        print(line, file=sys.stderr)
    else:
        print(line)
    return 0


def _row(r) -> dict:
    return {
        "id": r.id,
        "dataset": r.config.dataset,
        "model": r.config.model,  # the layer spec; "" is a single linear layer
        "status": r.status,
        "test_accuracy": r.final.get("test_accuracy"),  # a fraction in [0, 1]; null before the first epoch ended
        "created": dt.datetime.fromtimestamp(r.created).astimezone().isoformat(timespec="seconds"),
    }


def _table(runs) -> str:
    rows = [COLUMNS]
    for r in runs:
        accuracy = r.final.get("test_accuracy")
        when = dt.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
        rows.append(
            [str(r.id), r.config.dataset, r.config.model or "(linear)", r.status, "" if accuracy is None else f"{accuracy:.2%}", when]
        )
    return text_table(rows, right={0, 4})
