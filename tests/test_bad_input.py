"""Every bad input a curious student can type, through the CLI (the app shows the same messages;
see tests/test_app*.py): one line on stderr naming the field and the allowed range, exit 2.
The README's troubleshooting table lists these cases."""

import subprocess
import sys

import pytest

from playground.config import TrainConfig
from playground.errors import PlaygroundError

CASES = [
    (["--lr", "0"], "lr = 0.0 is not allowed: lr must be a number above 0 and at most 100"),
    (["--lr", "-0.1"], "lr = -0.1 is not allowed"),
    (["--lr", "nan"], "lr = nan is not allowed"),
    (["--lr", "1e6"], "lr = 1000000.0 is not allowed"),
    (["--epochs", "0"], "epochs = 0 is not allowed: epochs must be a whole number from 1 to 1000"),
    (["--epochs", "100000"], "epochs = 100000 is not allowed"),
    (["--batch-size", "0"], "batch_size = 0 is not allowed"),
    (["--batch-size", "5000", "--train-limit", "100"], "batch_size = 5000 is larger than the 100 training images"),
    (["--model", "fc0"], "bad layer 'fc0' (token 1 of 1): the number of units must be 1 to 100,000"),
    (["--model", " ".join(["fc8 relu"] * 60)], "the spec has 120 layers: at most 100"),
    (["--model", "fc512 relu fcx"], "bad layer 'fcx' (token 3 of 3): expected fc<N>"),
    (["--model", "fc12 relux"], "bad layer 'relux' (token 2 of 2): unknown layer"),
    (["--model", "conv8k3 pool2 pool2 pool2 pool2 pool2"], "leaves less than one pixel"),
    (["--model", "conv8k40"], "kernel 40 is larger than its padded input 28x28"),
    (["--model", "fc8 conv4"], "put them before the fc layers"),
    (["--model", "fc100000 fc100000"], "the limit is 200,000,000"),
    (["--model", "conv4096k3p1", "--batch-size", "1000"], "for the layers' outputs and their gradients"),
    (["--model", "resnet50"], "expected resnet18 [scratch] [r<size>]"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet': choose one of fashion-mnist"),
    (["--momentum", "1.5"], "momentum = 1.5 is not allowed"),
    (["--nesterov"], "nesterov = True is not allowed: nesterov must be used with SGD and a momentum above 0 only"),
    (["--early-stopping", "3"], "with a validation split above 0"),
    (["--val-split", "0.9"], "val_split = 0.9 is not allowed"),
    (["--augment", "color"], "needs colour images"),
    (["--augment", "blur"], "choose from flip, crop"),
    (["--label-smoothing", "0.9"], "label_smoothing = 0.9 is not allowed"),
    (["--dataset", "moons", "--toy-points", "5"], "toy_points = 5 is not allowed: toy_points must be a whole number from 20 to 20000"),
    (["--lr", "abc"], "argument --lr: lr = 'abc' is not allowed: lr must be a number above 0 and at most 100"),
    (["--epochs", "2.5"], "argument --epochs: epochs = '2.5' is not allowed: epochs must be a whole number from 1 to 1000"),
    (["--step-size", "0"], "step_size = 0 is not allowed: step_size must be a whole number from 1 to 1000"),
    (["--gamma", "0"], "gamma = 0.0 is not allowed: gamma must be a number above 0 and at most 1"),
    (["--optimizer", "lion"], "argument --optimizer: invalid choice: 'lion'"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a)[:40] for a, _ in CASES])
def test_bad_input_is_named_in_one_line(subprocess_env, args, message):
    # --epochs 1 first: a case's own --epochs comes later and wins (argparse keeps the last value)
    command = [sys.executable, "-m", "playground", "train", "--epochs", "1", *args, "--quiet"]
    r = subprocess.run(command, capture_output=True, text=True, check=False, env=subprocess_env, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_the_same_checks_guard_every_entry_point():
    with pytest.raises(PlaygroundError, match="lr = inf is not allowed"):
        TrainConfig(lr=float("inf"))
    with pytest.raises(PlaygroundError, match="epochs = True is not allowed"):
        TrainConfig(epochs=True)
