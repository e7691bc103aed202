import gzip
import hashlib
from dataclasses import replace

import pytest
import torch

from playground import datasets
from playground.errors import PlaygroundError
from tests.conftest import FILES, write_tiny_fashion


def test_metadata_needs_no_files(home):
    meta = datasets.info("fashion-mnist")
    assert meta.input_shape == (1, 28, 28) and meta.num_classes == 10
    assert meta.classes[0] == "T-shirt/top" and meta.classes[9] == "Ankle boot"
    assert (meta.train_size, meta.test_size) == (60_000, 10_000)
    assert datasets.status("fashion-mnist")[0] is False


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(PlaygroundError, match=r"unknown dataset 'cifar100'.*fashion-mnist"):
        datasets.info("cifar100")


def test_loads_uint8_tensors_from_the_data_folder(tiny_home):
    ds = datasets.load("fashion-mnist")
    assert ds.x_train.dtype == torch.uint8 and ds.x_train.shape == (400, 1, 28, 28)
    assert ds.y_train.dtype == torch.int64 and ds.y_train.shape == (400,)
    assert ds.x_test.shape == (100, 1, 28, 28)
    assert ds.source == str(tiny_home / "data" / "FashionMNIST" / "raw")
    assert datasets.load("fashion-mnist") is ds  # once per process


def test_debian_package_folder_is_copied_into_the_data_folder(home, tmp_path, monkeypatch):
    system = write_tiny_fashion(tmp_path / "usr-share")
    monkeypatch.setitem(datasets._sources(), "fashion-mnist", replace(datasets.source_of("fashion-mnist"), system_dir=system))
    assert "Debian package" in datasets.status("fashion-mnist")[1]
    ds = datasets.load("fashion-mnist")
    assert len(ds.x_train) == 400
    assert all((home / "data" / "FashionMNIST" / "raw" / f).is_file() for f in FILES)


def _serve_from(monkeypatch, folder, md5s=None):
    src = datasets.source_of("fashion-mnist")
    resources = tuple((f, (md5s or {}).get(f) or hashlib.md5((folder / f).read_bytes()).hexdigest()) for f in FILES)
    monkeypatch.setitem(datasets._sources(), "fashion-mnist", replace(src, mirrors=(folder.as_uri() + "/",), resources=resources))


def test_download_through_the_mirrors_with_progress(home, tmp_path, monkeypatch):
    _serve_from(monkeypatch, write_tiny_fashion(tmp_path / "mirror"))
    seen = []
    ds = datasets.load("fashion-mnist", progress=lambda done, total, what: seen.append((what, done, total)))
    assert len(ds.x_test) == 100
    assert {what for what, _, _ in seen} == set(FILES)
    assert all(done <= total for _, done, total in seen)


def test_download_with_a_wrong_checksum_is_refused(home, tmp_path, monkeypatch):
    _serve_from(monkeypatch, write_tiny_fashion(tmp_path / "mirror"), md5s={FILES[0]: "0" * 32})
    with pytest.raises(PlaygroundError, match="checksum mismatch"):
        datasets.load("fashion-mnist")


def test_offline_without_package_says_how_to_get_the_data(home, tmp_path, monkeypatch):
    src = datasets.source_of("fashion-mnist")
    monkeypatch.setitem(datasets._sources(), "fashion-mnist", replace(src, mirrors=((tmp_path / "nowhere").as_uri() + "/",)))
    with pytest.raises(PlaygroundError) as e:
        datasets.load("fashion-mnist")
    message = str(e.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "python -m playground prepare" in message
    assert str(home / "data" / "FashionMNIST" / "raw") in message


def test_truncated_file_gives_a_clear_error(tiny_home):
    path = tiny_home / "data" / "FashionMNIST" / "raw" / FILES[0]
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(PlaygroundError, match=f"{path.name} is truncated or corrupt.*prepare"):
        datasets.load("fashion-mnist")


@pytest.mark.parametrize(
    "content", [b"not an idx file at all", b"\x00\x00\x08\x03\x00\x00\x00\x05\x00\x00\x00\x1c\x00\x00\x00\x1c" + b"\x00" * 100]
)
def test_corrupt_content_gives_a_clear_error(tiny_home, content):
    path = tiny_home / "data" / "FashionMNIST" / "raw" / FILES[2]
    with gzip.open(path, "wb") as f:
        f.write(content)
    with pytest.raises(PlaygroundError, match="truncated or corrupt"):
        datasets.load("fashion-mnist")


def test_sample_helpers():
    labels = torch.tensor([3, 3, 1, 3, 7, 1])
    assert datasets.first_of_each_class(labels, 3) == [0, 2, 4]
    assert datasets.sample_indices(labels, 2, start=1, label=3) == [1, 3]
    assert datasets.sample_indices(labels, 3, start=4) == [4, 5]
    assert datasets.class_counts(labels, 8) == [0, 2, 0, 3, 0, 0, 0, 1]
