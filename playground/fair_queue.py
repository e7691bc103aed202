"""Queued tasks handed out owner by owner, in turn (round robin): no student's first run waits behind
another student's second. On a laptop there is one owner (''), and this is a plain FIFO."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        # owner -> their queued items, oldest first; the dict's order is the order of turns: an owner
        # served goes to the back, an owner with nothing queued leaves and rejoins at the back
        self._turns: dict[str, deque[T]] = {}

    def push(self, owner: str, item: T) -> None:
        self._turns.setdefault(owner, deque()).append(item)

    def pop(self) -> T:
        """The next item: the oldest of the owner whose turn it is. IndexError when empty."""
        if not self._turns:
            raise IndexError("pop from an empty FairQueue")
        owner = next(iter(self._turns))
        mine = self._turns.pop(owner)
        item = mine.popleft()
        if mine:
            self._turns[owner] = mine
        return item

    def remove(self, match: Callable[[T], bool]) -> T | None:
        """Take out the first item that matches (a stop while queued), or None."""
        for owner, mine in self._turns.items():
            for item in mine:
                if match(item):
                    mine.remove(item)
                    if not mine:
                        del self._turns[owner]
                    return item
        return None

    def order(self) -> list[T]:
        """Every queued item in the order pop would hand them out."""
        turns = {owner: deque(mine) for owner, mine in self._turns.items()}
        out = []
        while turns:
            owner = next(iter(turns))
            mine = turns.pop(owner)
            out.append(mine.popleft())
            if mine:
                turns[owner] = mine
        return out

    def count(self, owner: str) -> int:
        return len(self._turns.get(owner, ()))

    def __len__(self) -> int:
        return sum(map(len, self._turns.values()))

    def __iter__(self) -> Iterator[T]:
        return iter(self.order())
