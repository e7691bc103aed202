"""python -m playground lab list | run NAME | export NAME: a course assignment as a guided lab, headless."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    lab = sub.add_parser("lab", help="course assignments as guided labs: list them, run one headless, export one")
    cmds = lab.add_subparsers(dest="lab_command", required=True)
    ls = cmds.add_parser("list", help="the labs there are (shipped, and yours in $PLAYGROUND_HOME/labs)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    run = cmds.add_parser("run", help="run every step of a lab and print its filled deliverables")
    run.add_argument("name", help="a lab's name (see `lab list`) or the path of a lab file")
    run.add_argument("--quick", action="store_true", help="quick mode: fewer images and epochs, offline datasets")
    run.add_argument("--json", action="store_true", help="every step's tables, charts' points and facts as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(func=cmd_run)
    ex = cmds.add_parser("export", help="a lab as a Jupyter notebook or a self-contained HTML report")
    ex.add_argument("name", help="a lab's name or the path of a lab file")
    ex.add_argument("--format", choices=["ipynb", "html"], default="ipynb")
    ex.add_argument("-o", "--output", required=True, metavar="FILE")
    ex.add_argument("--quick", action="store_true", help="the quick mode's runs (trained now where not yet done)")
    ex.add_argument("--quiet", action="store_true")
    ex.set_defaults(func=cmd_export)


def cmd_list(args) -> int:
    from playground.labs import format

    labs, problems = format.all_labs()
    if args.json:
        out = [
            {"name": lab.name, "title": lab.title, "assignment": lab.assignment, "steps": len(lab.steps), "path": str(lab.path)}
            for lab in labs
        ]
        print(json.dumps({"labs": out, "problems": problems}, indent=2))
    else:
        for lab in labs:
            print(f"{lab.name:<20} {len(lab.steps):>2} steps  {lab.title}")
    for p in problems:
        print(f"not loaded: {p}", file=sys.stderr)
    return 0


def filled_steps(lab, quick: bool, quiet: bool) -> list:
    """Every step of the lab filled, training what the cache does not hold (Ctrl-C stops the runs)."""
    from playground import datasets, jobs
    from playground.cli.common import download_bar
    from playground.labs import deliver, progress

    manager = jobs.manager()
    saved = progress.load(manager.store, lab.name)  # the student's answers and place; their mode stays theirs
    out = []
    for step in lab.steps:
        if not quiet:
            print(f"step {step.index}/{len(lab.steps)}: {step.title} ({step.do})", file=sys.stderr)
        started = None
        if step.do in deliver.TRAINS:
            datasets.prepare(lab.config(step, quick).dataset, None if quiet else download_bar())
            started, started_jobs = deliver.start(lab, step, quick, manager)
            _wait(started_jobs)
            saved.set_runs(step.index, started, quick)
        out.append((deliver.fill(lab, step, quick, manager.store, started), saved.answers.get(step.index, "")))
    progress.save(manager.store, saved)
    return out


def _wait(started_jobs) -> None:
    try:
        for job in started_jobs:
            job.wait()
    except KeyboardInterrupt:
        for job in started_jobs:
            job.stop()
        for job in started_jobs:
            job.wait()
        raise


def cmd_run(args) -> int:
    from playground.labs import format

    lab = format.find(args.name)
    steps = filled_steps(lab, args.quick, args.quiet)
    if args.json:
        out = {"lab": lab.name, "title": lab.title, "quick": args.quick, "steps": [f.to_dict() | {"answer": a} for f, a in steps]}
        print(json.dumps(out, indent=2))
        return 0
    print(f"# {lab.title}" + (f"\n\nQuick mode: {lab.quick_text()}." if args.quick else ""))
    for filled, answer in steps:
        print(_markdown(filled, answer))
    return 0


def _markdown(filled, answer: str) -> str:
    import pandas as pd

    from playground.tables import to_markdown

    s = filled.step
    parts = [f"\n## Step {s.index}: {s.title}\n", s.question, ""]
    for t in filled.tables:
        parts += [f"**{t.title}**\n", to_markdown(pd.DataFrame(t.rows).astype(str)) if t.rows else "(no rows yet)\n"]
    parts += [f"Chart: {c.title} ({len({p['run'] for p in c.points})} line(s), {len(c.points)} points)" for c in filled.charts]
    parts += [f"- {f}" for f in filled.facts]
    if s.prompt:
        parts += ["", f"**{s.prompt}**", answer or "(no answer typed yet: type it on the Labs page)"]
    return "\n".join(parts)


def cmd_export(args) -> int:
    from playground.labs import format, notebook

    lab = format.find(args.name)
    steps = filled_steps(lab, args.quick, args.quiet)
    notebook.write(lab, steps, args.quick, args.format, args.output)
    if not args.quiet:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
