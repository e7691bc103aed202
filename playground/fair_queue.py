"""Queued tasks handed out owner by owner, in turn: no student's first run waits behind another
student's second. On a laptop there is one owner (''), and this is a plain FIFO.

The next task is the oldest of the owner with the fewest tasks handed out so far (ties: the owner
whose oldest task came first). The count is of an owner's current stretch of work: it drops back to
zero once they have nothing queued and nothing in training, so a student who comes back later is
not punished for the runs of an hour ago. (Plain rotation is not enough: an owner whose only task
was just handed out would rejoin the rotation ahead of a student who queues a first task a moment
later, so that student's first run would wait behind the other's second; found by the load test.)"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        self._queued: dict[str, deque[tuple[int, T]]] = {}  # owner -> (arrival, item), oldest first
        self._served: dict[str, int] = {}  # owner -> items handed out in their current stretch of work
        self._training: dict[str, int] = {}  # owner -> items handed out and not yet finished
        self._arrivals = itertools.count()

    def push(self, owner: str, item: T) -> None:
        self._queued.setdefault(owner, deque()).append((next(self._arrivals), item))

    def _next_owner(self, served: dict[str, int], queued: dict[str, deque]) -> str:
        return min(queued, key=lambda o: (served.get(o, 0), queued[o][0][0]))

    def pop(self) -> T:
        """The next item (see the module's rule); the caller says finished(owner) when it is done.
        IndexError when empty."""
        if not self._queued:
            raise IndexError("pop from an empty FairQueue")
        owner = self._next_owner(self._served, self._queued)
        _, item = self._queued[owner].popleft()
        if not self._queued[owner]:
            del self._queued[owner]
        self._served[owner] = self._served.get(owner, 0) + 1
        self._training[owner] = self._training.get(owner, 0) + 1
        return item

    def finished(self, owner: str) -> None:
        """An item of owner's that pop handed out has ended."""
        self._training[owner] = max(0, self._training.get(owner, 0) - 1)
        self._forget_if_idle(owner)

    def _forget_if_idle(self, owner: str) -> None:
        if not self._training.get(owner) and owner not in self._queued:
            self._served.pop(owner, None)
            self._training.pop(owner, None)

    def remove(self, match: Callable[[T], bool]) -> T | None:
        """Take out the first item that matches (a stop while queued), or None."""
        for owner, mine in self._queued.items():
            for entry in mine:
                if match(entry[1]):
                    mine.remove(entry)
                    if not mine:
                        del self._queued[owner]
                        self._forget_if_idle(owner)
                    return entry[1]
        return None

    def order(self) -> list[T]:
        """Every queued item in the order pop would hand them out (none finishing meanwhile)."""
        queued = {owner: deque(mine) for owner, mine in self._queued.items()}
        served = dict(self._served)
        out = []
        while queued:
            owner = self._next_owner(served, queued)
            out.append(queued[owner].popleft()[1])
            if not queued[owner]:
                del queued[owner]
            served[owner] = served.get(owner, 0) + 1
        return out

    def count(self, owner: str) -> int:
        return len(self._queued.get(owner, ()))

    def __len__(self) -> int:
        return sum(map(len, self._queued.values()))

    def __iter__(self) -> Iterator[T]:
        return iter(self.order())
