"""Fixtures: a private $PLAYGROUND_HOME per test and a tiny Fashion-MNIST written in the real idx format."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from playground import datasets

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def write_idx(path: Path, array: np.ndarray) -> None:
    """The idx format: 0x00 0x00, type 0x08 (uint8), ndim, big-endian int32 dims, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def tiny_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images whose class c shows a bright bar at rows 2c..2c+2 over noise: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    rng.shuffle(y)
    x = rng.integers(0, 60, size=(n, 28, 28))
    for i, c in enumerate(y):
        x[i, 2 * c + 3 : 2 * c + 6, 4:24] = 255
    return x.astype(np.uint8), y.astype(np.uint8)


def write_tiny_fashion(folder: Path, n_train: int = 400, n_test: int = 100) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x, y = tiny_images(n_train, 0)
    xt, yt = tiny_images(n_test, 1)
    for name, arr in zip(FILES, (x, y, xt, yt)):
        write_idx(folder / name, arr)
    return folder


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty $PLAYGROUND_HOME, and no Debian package folder to fall back on."""
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    src = datasets.source_of("fashion-mnist")
    from dataclasses import replace

    monkeypatch.setitem(datasets._sources(), "fashion-mnist", replace(src, system_dir=tmp_path / "no-debian-package"))
    return tmp_path / "home"


@pytest.fixture
def tiny_home(home) -> Path:
    """$PLAYGROUND_HOME holding a 400/100-image Fashion-MNIST in the real file format."""
    write_tiny_fashion(home / "data" / "FashionMNIST" / "raw")
    return home


@pytest.fixture
def tiny_data(tiny_home) -> datasets.Dataset:
    return datasets.load("fashion-mnist")


@pytest.fixture
def subprocess_env(tiny_home) -> dict:
    """Environment for a CLI subprocess: the tiny home, and no Debian folder to copy the real set from."""
    env = dict(os.environ, PLAYGROUND_HOME=str(tiny_home), PYTHONPATH=str(Path(__file__).parent.parent))
    return env


@pytest.fixture
def no_leftover_jobs(home):
    """After the test, no run it started is still queued or running: the executor is one per process,
    so a run left going would hold up the next test's runs. One left going is stopped and the test errors."""
    yield
    from playground import jobs

    left = jobs.manager().active()
    for job in left:
        job.stop()
    stuck = [job.run_id for job in left if not job.wait(30)]
    assert not left, f"the test left runs {[j.run_id for j in left]} queued or running" + (
        f"; {stuck} did not stop within 30 s" if stuck else ""
    )


@pytest.fixture(autouse=True)
def executor_kind_restored(monkeypatch):
    """cli.main() sets PLAYGROUND_EXECUTOR=thread for its whole process when it is unset; a test that
    calls main() in-process must not hand the next test a thread executor (seen: a process-executor
    test got one). The variable is put back as it was after every test."""
    was = os.environ.get("PLAYGROUND_EXECUTOR")
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", was or "unset")  # registers the undo: back to `was`
    if was is None:
        monkeypatch.delenv("PLAYGROUND_EXECUTOR")
