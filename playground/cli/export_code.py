"""python -m playground export-code RUN_ID [-o FILE]: a stored run as a standalone PyTorch script."""

from __future__ import annotations

from pathlib import Path

from playground.errors import PlaygroundError


def register(sub) -> None:
    e = sub.add_parser(
        "export-code",
        help="a stored run as a standalone PyTorch script (torch and torchvision only) that trains it again, epoch for epoch",
    )
    e.add_argument("run_id", type=int, metavar="RUN_ID", help="the run's id (see `python -m playground runs`)")
    e.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the script to FILE (default: print it)")
    e.set_defaults(func=cmd_export_code)


def cmd_export_code(args) -> int:
    from playground.export_code import script
    from playground.home import runs_db_path
    from playground.runs import RunStore

    path = runs_db_path()
    if not path.exists():  # RunStore(path) would create the file
        raise PlaygroundError(f"no run {args.run_id}: no runs are stored in {path} yet; train one with python -m playground train")
    run = RunStore(path).get(args.run_id)
    if run is None:
        raise PlaygroundError(f"no run {args.run_id} in {path}; list the stored runs with python -m playground runs")
    text = script(run.config, run.id)
    if args.output is None:
        print(text, end="")
        return 0
    try:
        args.output.write_text(text)
    except OSError as e:
        raise PlaygroundError(f"cannot write {args.output} ({e.strerror or e}): choose a file in an existing, writable folder") from None
    print(f"wrote {args.output}: `python {args.output}` trains run {run.id} again ({run.config.epochs} epoch(s))")
    return 0
