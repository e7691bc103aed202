"""python -m playground <command>: the same engine as the app, from a terminal.

One module per command group; each registers its subcommands with register(subparsers). They share
playground.cli.common and never import each other. Bad input prints one line on stderr and exits 2;
--json puts JSON on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from playground.cli import anatomy, backprop, bench, classroom, data, export_code, lab, loadtest, lr_find, runs, sweep, train
from playground.cli.common import Parser
from playground.errors import PlaygroundError

__all__ = ["build_parser", "main"]

# In the order `--help` lists them: datasets, prepare, params, conv, backprop, train, lr-find, sweep, lab, bench, runs, export-code, class, loadtest
GROUPS = (data, anatomy, backprop, train, lr_find, sweep, lab, bench, runs, export_code, classroom, loadtest)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m playground", description="Train and inspect small PyTorch networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # A terminal has no pages that could starve the loop of the interpreter lock: train in this
    # process (no second PyTorch import) unless PLAYGROUND_EXECUTOR says otherwise.
    os.environ.setdefault("PLAYGROUND_EXECUTOR", "thread")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
