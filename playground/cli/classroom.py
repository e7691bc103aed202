"""python -m playground class init | add-students | add-teacher | list | wipe: run a class server
(class mode: playground.classroom). Links are printed once; only their tokens' hashes are stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil

from playground.cli.common import text_table
from playground.errors import PlaygroundError

DEFAULT_URL = "http://localhost:8501"


def register(sub) -> None:
    c = sub.add_parser("class", help="class mode: one server for a class (init, add-students, add-teacher, list, wipe)")
    cs = c.add_subparsers(dest="class_command", required=True, parser_class=type(c))
    url = {"default": DEFAULT_URL, "metavar": "URL", "help": f"the app's address as students reach it (default {DEFAULT_URL})"}

    init = cs.add_parser("init", help="switch class mode on ($PLAYGROUND_HOME/class.toml) and print the teacher's link")
    init.add_argument("--name", default="Deep learning", help="the class's name, shown on the sign-in page")
    init.add_argument("--teacher", default="Teacher", metavar="NAME", help="the teacher's name (default Teacher)")
    init.add_argument("--url", **url)
    init.add_argument("--json", action="store_true", help="JSON on stdout: {name, link}")
    init.set_defaults(func=cmd_init)

    for command, role in (("add-students", "student"), ("add-teacher", "teacher")):
        a = cs.add_parser(command, help=f"print one join link per {role} (a name already there gets a new link)")
        a.add_argument("names", metavar="NAMES_OR_CSV", help="names separated by commas, or a CSV file with a 'name' column")
        a.add_argument("--url", **url)
        a.add_argument("--json", action="store_true", help="a JSON list on stdout: [{name, link}]")
        a.set_defaults(func=cmd_add, role=role)

    ls = cs.add_parser("list", help="the roster: name, role, runs, last seen")
    ls.add_argument("--json", action="store_true", help="a JSON list on stdout")
    ls.set_defaults(func=cmd_list)

    w = cs.add_parser("wipe", help="delete every run, sweep, lab answer and person of the class (class.toml stays)")
    w.add_argument("--yes", action="store_true", help="really delete (without it: say what would go)")
    w.set_defaults(func=cmd_wipe)


def _store():
    from playground.home import runs_db_path
    from playground.runs import RunStore

    return RunStore(runs_db_path())


def _links(people: list, url: str, as_json: bool) -> None:
    from playground.classroom import roster

    rows = [{"name": p.name, "role": p.role, "link": roster.link(url, token)} for p, token in people]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print(text_table([["name", "role", "link"], *[[r["name"], r["role"], r["link"]] for r in rows]], set()))


def cmd_init(args) -> int:
    from playground.classroom import config, roster

    if not args.name.strip():
        raise PlaygroundError("--name is empty: give the class a name")
    path = config.write(dataclasses.replace(config.current() or config.ClassConfig(), name=args.name.strip()))
    people = roster.add(_store(), [roster.check_name(args.teacher)], "teacher")
    if args.json:
        print(json.dumps({"name": people[0][0].name, "link": roster.link(args.url, people[0][1])}))
    else:
        print(f"class mode is on ({path}); restart the app if it is running. The teacher's link (keep it private):")
        print(roster.link(args.url, people[0][1]))
    return 0


def cmd_add(args) -> int:
    from playground.classroom import config, roster

    if config.current() is None:
        raise PlaygroundError("class mode is off: run `python -m playground class init` first")
    _links(roster.add(_store(), roster.names_from(args.names), args.role), args.url, args.json)
    return 0


def cmd_list(args) -> int:
    from playground.classroom import overview

    rows = overview.roster_rows(_store())
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("nobody on the roster yet: python -m playground class add-students NAMES")
        return 0
    table = [["name", "role", "runs", "training", "last seen", "lab"]]
    for r in rows:
        seen = dt.datetime.fromtimestamp(r["last_seen"]).strftime("%Y-%m-%d %H:%M") if r["last_seen"] else "never"
        table.append([r["name"], r["role"], str(r["runs"]), str(r["training"]), seen, r["lab"] or ""])
    print(text_table(table, {2, 3}))
    return 0


def cmd_wipe(args) -> int:
    from playground.classroom import overview
    from playground.home import playground_home

    store = _store()
    counts = overview.wipe(store, dry_run=not args.yes)
    what = f"{counts['runs']} runs, {counts['sweeps']} sweeps, {counts['lab_progress']} lab progress records, {counts['people']} people"
    if not args.yes:
        print(f"would delete {what} from {store.path}; run again with --yes to delete them")
        return 0
    weights = playground_home() / "weights"
    if counts["runs"] and weights.is_dir():
        shutil.rmtree(weights, ignore_errors=True)
    print(f"deleted {what}; class.toml stays (delete it for laptop mode)")
    return 0
