"""MNIST, CIFAR-10 (tiny files in their real formats, through the real download path), the
offline sets, and the toy 2D sets."""

import hashlib
import io
import pickle
import tarfile
from dataclasses import replace

import numpy as np
import pytest
import torch

from playground import datasets, toy
from playground.errors import PlaygroundError
from tests.conftest import FILES, write_tiny_fashion


def test_registry_metadata_needs_no_files(home):
    assert datasets.info("cifar10").input_shape == (3, 32, 32) and datasets.info("cifar10").classes[0] == "airplane"
    assert datasets.info("mnist").num_classes == 10 and datasets.info("digits").input_shape == (1, 8, 8)
    assert datasets.info("spiral").input_shape == (2,) and datasets.info("spiral").is_toy
    assert datasets.status("cifar10")[0] is False and datasets.status("mnist")[0] is False
    assert datasets.status("mnist-5k")[0] is True and datasets.status("moons") == (True, "generated")


def test_mnist_downloads_idx_files_through_the_mirrors(home, tmp_path, monkeypatch):
    mirror = write_tiny_fashion(tmp_path / "mirror")
    resources = tuple((f, hashlib.md5((mirror / f).read_bytes()).hexdigest()) for f in FILES)
    monkeypatch.setitem(
        datasets._sources(), "mnist", replace(datasets.source_of("mnist"), mirrors=(mirror.as_uri() + "/",), resources=resources)
    )
    assert "apt-get" not in datasets.how_to_get("mnist")  # no Debian package for MNIST
    seen = []
    ds = datasets.load("mnist", progress=lambda done, total, what: seen.append(what))
    assert ds.x_train.shape == (400, 1, 28, 28) and set(seen) == set(FILES)
    assert (home / "data" / "MNIST" / "raw" / FILES[0]).is_file()


def _cifar_batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return pickle.dumps({b"batch_label": b"tiny", b"labels": list(rng.integers(0, 10, n)), b"data": data, b"filenames": [b"x"] * n})


def _cifar_archive(folder) -> tuple[str, dict]:
    """A tiny cifar-10-python.tar.gz in torchvision's layout; returns its md5 and the batches' md5s."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    buf, md5s = io.BytesIO(), {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, name in enumerate(names):
            blob = _cifar_batch(20, i)
            md5s[name] = hashlib.md5(blob).hexdigest()
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    path = folder / "cifar-10-python.tar.gz"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return hashlib.md5(buf.getvalue()).hexdigest(), md5s


def _serve_cifar(monkeypatch, tmp_path):
    archive_md5, md5s = _cifar_archive(tmp_path / "mirror")
    src = datasets.source_of("cifar10")
    patched = replace(
        src,
        url=(tmp_path / "mirror" / "cifar-10-python.tar.gz").as_uri(),
        archive_md5=archive_md5,
        train_list=tuple((n, md5s[n]) for n, _ in src.train_list),
        test_list=(("test_batch", md5s["test_batch"]),),
    )
    monkeypatch.setitem(datasets._sources(), "cifar10", patched)
    return patched


def test_cifar10_downloads_unpacks_and_reads_pickle_batches(home, tmp_path, monkeypatch):
    _serve_cifar(monkeypatch, tmp_path)
    seen = []
    ds = datasets.load("cifar10", progress=lambda done, total, what: seen.append((what, done, total)))
    assert ds.x_train.dtype == torch.uint8 and ds.x_train.shape == (100, 3, 32, 32) and ds.x_test.shape == (20, 3, 32, 32)
    assert ds.y_train.dtype == torch.int64 and int(ds.y_train.max()) < 10
    assert seen and seen[-1][0] == "cifar-10-python.tar.gz" and seen[-1][1] == seen[-1][2]
    assert datasets.status("cifar10")[0] is True


def test_a_tampered_cifar_batch_is_refused_before_unpickling(home, tmp_path, monkeypatch):
    src = _serve_cifar(monkeypatch, tmp_path)
    folder = datasets.prepare("cifar10")
    (folder / "test_batch").write_bytes(pickle.dumps({"evil": 1}))
    with pytest.raises(PlaygroundError, match="test_batch is truncated or corrupt \\(checksum mismatch\\)"):
        src.read("cifar10", folder, (3, 32, 32), 10)


def test_cifar10_offline_says_how_to_get_it(home, monkeypatch):
    src = datasets.source_of("cifar10")
    monkeypatch.setitem(datasets._sources(), "cifar10", replace(src, url="http://127.0.0.1:9/cifar-10-python.tar.gz"))
    with pytest.raises(PlaygroundError, match=r"must be downloaded once .*download failed"):
        datasets.load("cifar10")


def test_offline_sets_are_real_and_split(home):
    five = datasets.load("mnist-5k")
    assert five.x_train.shape == (4000, 1, 28, 28) and five.x_test.shape == (1000, 1, 28, 28)
    assert five.x_train.dtype == torch.uint8 and int(five.x_train.max()) == 255
    assert torch.bincount(five.y_test).min() >= 80  # stratified: every digit in the test set
    digits = datasets.load("digits")
    assert digits.x_train.shape == (1437, 1, 8, 8) and digits.x_test.shape == (360, 1, 8, 8)


@pytest.mark.parametrize("kind", toy.TOY_SETS)
def test_toy_sets_are_deterministic_and_shaped(kind):
    p = toy.ToyParams(points=200, noise=0.1, train_share=0.75, seed=3)
    a, b = toy.generate(kind, p), toy.generate(kind, p)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    x_train, y_train, x_test, _y_test = a
    assert x_train.shape == (150, 2) and x_test.shape == (50, 2) and x_train.dtype == torch.float32
    if kind in toy.REGRESSION_SETS:  # a real target in [-1, 1]
        assert y_train.dtype == torch.float32 and -1 <= y_train.min() < 0 < y_train.max() <= 1
    else:
        assert set(y_train.tolist()) == {0, 1}
    other = toy.generate(kind, replace(p, seed=4))
    assert not torch.equal(other[0], x_train)


def test_toy_settings_are_checked():
    with pytest.raises(PlaygroundError, match="toy_points must be a whole number from 20 to 20000"):
        toy.generate("moons", toy.ToyParams(points=5))


def test_default_dataset_falls_back_to_an_offline_set(home):
    assert datasets.default_dataset() == "mnist-5k"  # no Fashion-MNIST files in this home
