"""How many examples each split of a run has. One computation for the config's check, the loop's
splits, the pages' counts and the step estimates (no torch, no data: plain integers)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.errors import PlaygroundError


def toy_train_count(points: int, train_share: float) -> int:
    """Points of a toy 2D set that go to its training split (the rest is its test set)."""
    return round(points * train_share)


@dataclass(frozen=True)
class SplitSizes:
    pool: int  # training examples the run draws from: all, or the first train_limit
    train: int  # what it trains on: the pool less the validation share
    validation: int  # held out of the pool for validation

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil(self.train / batch_size)

    def check_batch(self, batch_size: int, noun: str = "images") -> None:
        """A batch cannot be larger than the training split."""
        if batch_size > self.train:
            raise PlaygroundError(
                f"batch_size = {batch_size} is larger than the {self.train:,} training {noun}: batch_size must be 1 to {self.train:,}"
            )


def split_sizes(available: int, train_limit: int, val_split: float) -> SplitSizes:
    """available: the dataset's training examples; train_limit: 0 for all of them; val_split: the
    share of the pool held out (rounded to the nearest example)."""
    pool = min(train_limit, available) if train_limit else available
    validation = round(pool * val_split)
    return SplitSizes(pool, pool - validation, validation)
