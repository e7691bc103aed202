"""Where a field of a lab file is written: the line a message names (tomllib gives values, not places)."""

from __future__ import annotations

import re


def _headers(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, table name) of each [table] and [[array]] header."""
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[\[?\s*([\w.\-\"]+)\s*\]\]?", line)
        if m and not re.match(r"\s*\w+\s*=", line):
            out.append((i, m.group(1)))
    return out


def line_of(text: str, where: tuple) -> int:
    """The 1-based line where the field at `where` is written: ("title",), ("quick", "epochs"),
    ("step", 3, "settings", "lr") (steps 1-based); the nearest enclosing header when not found."""
    lines = text.splitlines()
    heads = _headers(lines)
    start, end = 0, heads[0][0] if heads else len(lines)
    if where[0] == "step" and len(where) > 1:
        starts = [i for i, name in heads if name == "step"]
        if not 1 <= where[1] <= len(starts):
            return 1
        start = starts[where[1] - 1]
        end = next((i for i, name in heads if i > start and name == "step"), len(lines))
        where = where[2:]
        if len(where) > 1 and where[0] == "calc" and isinstance(where[1], int):  # the i-th [[step.calc]] of the step
            calcs = [i for i, name in heads if start < i < end and name == "step.calc"]
            if where[1] <= len(calcs):
                start = calcs[where[1] - 1]
                end = next((i for i, _ in heads if i > start), len(lines))
    elif len(where) > 1 and where[0] in ("settings", "quick"):
        start = next((i for i, name in heads if name == where[0]), 0)
        end = next((i for i, _ in heads if i > start), len(lines))
        where = where[1:]
    for key in reversed(where):  # the innermost key first: "lr" inside settings = { lr = 3 }
        if not isinstance(key, str):
            continue
        for i in range(start, end):
            if re.search(rf"(^|[\s{{,.]){re.escape(key)}\s*=", lines[i]) or re.match(rf"\s*\[+\s*step\.{re.escape(key)}\s*\]", lines[i]):
                return i + 1
    return start + 1
