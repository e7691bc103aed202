"""Split sizes: one computation for the config's batch check, the loop's splits and the pages' step
estimates."""

import pytest

from playground import datasets
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.loop import make_splits
from playground.sizes import split_sizes, toy_train_count


@pytest.mark.parametrize(
    "available, limit, share, expected",
    [
        (60_000, 0, 0.0, (60_000, 60_000, 0)),
        (60_000, 0, 0.1, (60_000, 54_000, 6_000)),
        (60_000, 1_000, 0.25, (1_000, 750, 250)),
        (400, 1_000, 0.0, (400, 400, 0)),
        (7, 0, 0.5, (7, 3, 4)),
    ],  # a limit above what there is: all of it; 3.5 rounds to 4
)
def test_split_sizes(available, limit, share, expected):
    s = split_sizes(available, limit, share)
    assert (s.pool, s.train, s.validation) == expected


def test_the_loop_splits_what_the_config_counts(tiny_data):
    """make_splits on real data gives exactly the sizes the config computes from metadata alone."""
    config = TrainConfig(train_limit=300, val_split=0.2, batch_size=16)
    sp = make_splits(config, tiny_data, "cpu")
    assert (len(sp.x_train), len(sp.x_val)) == (240, 60) == (config.sizes.train, config.sizes.validation)


def test_toy_sets_count_their_own_points():
    config = TrainConfig(dataset="circles", toy_points=301, toy_train_share=0.5, batch_size=16)
    assert config.sizes.pool == toy_train_count(301, 0.5) == 150  # round half to even, as the generator splits
    ds = datasets.load("circles", toy_params=config.toy_params)
    assert len(ds.x_train) == config.sizes.pool


def test_the_batch_check_counts_the_validation_split_and_the_toy_points():
    with pytest.raises(PlaygroundError, match="larger than the 900 training images: batch_size must be 1 to 900"):
        TrainConfig(train_limit=1000, val_split=0.1, batch_size=1000)
    TrainConfig(train_limit=1000, val_split=0.1, batch_size=900)
    # a limit above the toy set's training points counts the points there are (200 of 400)
    with pytest.raises(PlaygroundError, match="larger than the 200 training points"):
        TrainConfig(dataset="circles", toy_points=400, toy_train_share=0.5, train_limit=10_000, batch_size=256)


def test_step_estimates_leave_the_validation_split_out():
    config = TrainConfig(train_limit=1000, val_split=0.2, batch_size=64, epochs=3)
    assert config.total_steps == 3 * 13  # ceil(800 / 64), not ceil(1000 / 64) = 16
