"""Small helpers for the words pages and messages put around numbers: '1 run', '3 runs', and a
message (lower-case, as the command line prints it after 'error: ') as a sentence on a page."""

from __future__ import annotations


def plural(n: int, word: str, many: str = "") -> str:
    """'1 run', '0 runs', '2,000 runs' ('1 entry', '3 entries' with many='entries')."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def sentence(message: str) -> str:
    """A message as a page shows it: its first letter a capital ('this run has...' -> 'This run has...')."""
    return message[:1].upper() + message[1:]
