"""What the command modules share: the parser class, the train flags, a download bar, a text table.

Command modules import this module and never each other. Nothing heavy at import time: torch and
the datasets are imported inside the functions that need them, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from playground import settings
from playground.errors import PlaygroundError

TRAIN_FLAGS = tuple(settings.SETTINGS)  # every TrainConfig field has its flag, declared in playground.settings


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other user mistake
        self.exit(2, f"{self.prog}: error: {message}\n")


def download_bar():
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(done: int, total: int | None, what: str) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = tqdm(total=total, desc=what, unit="B", unit_scale=True, file=sys.stderr)
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()

    return progress


def train_config(args):
    from playground.config import TrainConfig

    return TrainConfig(**{name: getattr(args, name) for name in TRAIN_FLAGS})


def text_table(rows: list[list[str]], right: set[int]) -> str:
    """Plain aligned text: columns two spaces apart, those in `right` right-aligned; no trailing blanks."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows)


def setting_type(name: str):
    """argparse type= for one setting: text -> typed value; bad text is one line naming the setting
    (the range is TrainConfig's check, after parsing)."""

    def parse(text: str):
        try:
            return settings.parse(name, text)
        except PlaygroundError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = name
    return parse


def add_train_flags(p: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, from its declaration in playground.settings."""
    groups = {
        "basics": p,
        "optimizer": p.add_argument_group("optimizer and schedule"),
        "data": p.add_argument_group("loss and data"),
        "toy": p.add_argument_group("toy 2D sets"),
    }
    for s in settings.SETTINGS.values():
        g = groups[s.section]
        if s.type is bool:
            g.add_argument(s.cli_flag, dest=s.name, action="store_true", default=s.default, help=s.help)
        elif s.choices:
            g.add_argument(s.cli_flag, dest=s.name, default=s.default, choices=s.choices, help=s.help)
        else:
            metavar = "PATIENCE" if s.name == "early_stopping" else "NAME" if s.name == "dataset" else None
            g.add_argument(s.cli_flag, dest=s.name, type=setting_type(s.name), default=s.default, metavar=metavar, help=s.help)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
