"""The real Fashion-MNIST from the Debian package (dataset-fashion-mnist); .ci/run installs it.

Skipped where the package is missing, unless PLAYGROUND_REQUIRE_REAL_DATA=1 (CI) makes that a failure.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground import datasets

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
if not (DEBIAN / "train-images-idx3-ubyte.gz").is_file():
    if os.environ.get("PLAYGROUND_REQUIRE_REAL_DATA") == "1":
        raise RuntimeError("PLAYGROUND_REQUIRE_REAL_DATA=1 but the Debian package dataset-fashion-mnist is not installed")
    pytest.skip("install the Debian package dataset-fashion-mnist to run the real-data tests", allow_module_level=True)


@pytest.fixture
def real_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_full_fashion_mnist_loads(real_home):
    ds = datasets.load("fashion-mnist")
    assert ds.x_train.shape == (60_000, 1, 28, 28) and ds.x_test.shape == (10_000, 1, 28, 28)
    assert datasets.class_counts(ds.y_train, 10) == [6000] * 10
    assert datasets.class_counts(ds.y_test, 10) == [1000] * 10
    assert ds.source == str(real_home / "data" / "FashionMNIST" / "raw")  # copied from the package


def test_one_epoch_of_the_quickstart_mlp_through_the_cli(real_home):
    env = dict(os.environ, PLAYGROUND_HOME=str(real_home), PYTHONPATH=str(Path(__file__).parent.parent))
    args = [
        sys.executable,
        "-m",
        "playground",
        "train",
        "--model",
        "base",
        "--lr",
        "0.1",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--seed",
        "0",
        "--json",
        "--quiet",
    ]
    first = json.loads(subprocess.run(args, capture_output=True, text=True, env=env, check=True, timeout=600).stdout)
    assert first["status"] == "completed" and first["params"] == 669_706 and first["cached"] is False
    assert first["final"]["test_accuracy"] >= 0.80
    second = json.loads(subprocess.run(args, capture_output=True, text=True, env=env, check=True, timeout=600).stdout)
    assert second["cached"] is True and second["final"] == first["final"]
