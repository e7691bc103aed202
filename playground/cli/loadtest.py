"""python -m playground loadtest: a class of simulated students on a scratch class server
(playground.loadtest): how long they wait for curves, runs lost, the store's integrity, memory, and
whether the queue took them in turn."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser(
        "loadtest",
        help="simulate a class: N students each train K tiny runs on a scratch class server; report waits, losses, fairness",
    )
    p.add_argument("--students", type=int, required=True, metavar="N", help="students signing in at once")
    p.add_argument("--runs-per-student", type=int, required=True, metavar="K", help="tiny runs each student submits")
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="local: the worker pool (default); ray: Ray")
    p.add_argument("--workers", type=int, default=0, help="the local pool's worker processes (default 0: cores / 2, as a class)")
    p.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="seconds for the runs to end (default 60 + 2 per run per worker)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_loadtest)


def cmd_loadtest(args) -> int:
    from playground import loadtest

    loadtest.check(args.students, args.runs_per_student, args.executor)  # bad input fails before anything starts
    report = loadtest.run(args.students, args.runs_per_student, args.executor, args.workers, args.timeout)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(summary(report))
    return 0 if report.runs_lost == 0 and report.integrity == "ok" and report.fair else 1


def _spread(s: dict) -> str:
    return "none seen" if s["p50"] is None else f"p50 {s['p50']:.2f} s, p95 {s['p95']:.2f} s, max {s['max']:.2f} s"


def summary(r) -> str:
    workers = f"{r.workers} worker{'s' if r.workers != 1 else ''}"
    lines = [
        f"{r.students} students x {r.runs_per_student} runs ({r.dataset}) on the {r.executor} executor, {workers}: "
        f"{r.seconds:.1f} s (after {r.warm_up_seconds:.1f} s warming up)",
        f"  first curve point after submit: {_spread(r.first_point_seconds)}",
        f"  end after submit:               {_spread(r.end_seconds)}",
        f"  polls of a student:             every {_spread(r.poll_gap_seconds)}",
        f"  runs lost: {r.runs_lost} of {r.runs}" + "".join(f"\n    {why}" for why in r.lost),
        f"  store integrity: {r.integrity}",
        f"  peak memory: server {r.peak_rss_mb:.0f} MB"
        + (f", largest worker {r.worker_peak_rss_mb:.0f} MB" if r.worker_peak_rss_mb else ""),
    ]
    if r.fair:
        lines.append("  fair: yes, no student's run started before another student's earlier run that was waiting")
    else:
        lines.append("  fair: NO, runs started out of turn:" + "".join(f"\n    {u}" for u in r.unfair))
    return "\n".join(lines)
