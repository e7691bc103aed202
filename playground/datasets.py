"""The dataset registry: metadata known statically, loaders that return uint8 tensors.

Metadata (input shape, classes) never needs the files, so parameter tables and the UI work
offline. Loading resolves the files in this order:

1. `$PLAYGROUND_HOME/data/<folder>/raw` (what an earlier prepare left there);
2. the Debian package folder (e.g. /usr/share/datasets/fashion-mnist), copied into 1;
3. torchvision's download mirrors, with progress, into 1.

A dataset is loaded once per process (lru_cache) as
x: uint8 [N, C, H, W] and y: int64 [N].
"""

from __future__ import annotations

import functools
import gzip
import shutil
import struct
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch

from playground.errors import PlaygroundError
from playground.home import data_dir

# progress(done_bytes, total_bytes or None, what)
Progress = Callable[[int, Optional[int], str], None]


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # registry key used by the CLI, configs and share links
    title: str  # shown in the UI
    input_shape: tuple[int, int, int]  # (C, H, W) of one image
    classes: tuple[str, ...]  # class names, index = label
    train_size: int  # images in the official training split
    test_size: int  # images in the official test split
    description: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class IdxSource:
    """Where the four idx files of an MNIST-format dataset come from."""

    folder: str  # sub-folder of $PLAYGROUND_HOME/data, torchvision's layout (<folder>/raw)
    system_dir: Path  # Debian package folder
    debian_package: str
    mirrors: tuple[str, ...]  # torchvision's download mirrors
    resources: tuple[tuple[str, str], ...]  # (file name, md5) in torchvision
    files: dict = field(
        default_factory=lambda: {
            "train_images": "train-images-idx3-ubyte.gz",
            "train_labels": "train-labels-idx1-ubyte.gz",
            "test_images": "t10k-images-idx3-ubyte.gz",
            "test_labels": "t10k-labels-idx1-ubyte.gz",
        }
    )


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    x_train: torch.Tensor  # uint8 [N, C, H, W]
    y_train: torch.Tensor  # int64 [N]
    x_test: torch.Tensor  # uint8 [M, C, H, W]
    y_test: torch.Tensor  # int64 [M]
    source: str  # folder the files were read from


FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    input_shape=(1, 28, 28),
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    train_size=60_000,
    test_size=10_000,
    description="Zalando's 28x28 grey-scale photos of clothing, 10 classes (Xiao et al., 2017).",
)

REGISTRY: dict[str, DatasetInfo] = {FASHION_MNIST.name: FASHION_MNIST}
DEFAULT_DATASET = FASHION_MNIST.name


def _torchvision_resources(cls_name: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    return tuple(cls.mirrors), tuple(tuple(r) for r in cls.resources)


@functools.cache
def _sources() -> dict[str, IdxSource]:
    mirrors, resources = _torchvision_resources("FashionMNIST")
    return {
        "fashion-mnist": IdxSource(
            folder="FashionMNIST",
            system_dir=Path("/usr/share/datasets/fashion-mnist"),
            debian_package="dataset-fashion-mnist",
            mirrors=mirrors,
            resources=resources,
        )
    }


def source_of(name: str) -> IdxSource:
    info(name)
    return _sources()[name]


def info(name: str) -> DatasetInfo:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise PlaygroundError(f"unknown dataset '{name}': choose one of {known}") from None


def raw_dir(name: str) -> Path:
    return data_dir() / source_of(name).folder / "raw"


def _complete(folder: Path, src: IdxSource) -> bool:
    return all((folder / f).is_file() for f in src.files.values())


def status(name: str) -> tuple[bool, str]:
    """(ready to load without network, where from) - cheap, reads no file content."""
    src = source_of(name)
    if _complete(raw_dir(name), src):
        return True, str(raw_dir(name))
    if _complete(src.system_dir, src):
        return True, f"{src.system_dir} (Debian package {src.debian_package}, copied on first use)"
    return False, "not on this machine: downloaded on first use (needs internet once)"


def how_to_get(name: str) -> str:
    src = source_of(name)
    return (
        f"{info(name).title} is not on this machine. Get it in one of three ways: "
        f"install the Debian package (sudo apt-get install {src.debian_package}); "
        f"or go online once and run `python -m playground prepare --dataset {name}`; "
        f"or place the four files {', '.join(src.files.values())} in {raw_dir(name)}."
    )


def prepare(name: str, progress: Optional[Progress] = None) -> Path:
    """Make sure the raw files are in $PLAYGROUND_HOME/data; return that folder."""
    src = source_of(name)
    dest = raw_dir(name)
    if _complete(dest, src):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    if _complete(src.system_dir, src):
        for f in src.files.values():
            if not (dest / f).is_file():
                shutil.copyfile(src.system_dir / f, dest / f)
        return dest
    _download(name, src, dest, progress)
    return dest


def _download(name: str, src: IdxSource, dest: Path, progress: Optional[Progress]) -> None:
    from torchvision.datasets.utils import check_integrity

    for filename, md5 in src.resources:
        target = dest / filename
        if check_integrity(str(target), md5):
            continue
        errors = []
        for mirror in src.mirrors:
            url = mirror + filename
            try:
                _fetch(url, target, progress)
            except (urllib.error.URLError, OSError, TimeoutError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
                continue
            if check_integrity(str(target), md5):
                break
            target.unlink(missing_ok=True)
            errors.append(f"{url}: checksum mismatch")
        else:
            raise PlaygroundError(f"{how_to_get(name)} (download failed: {'; '.join(errors)})")


def _fetch(url: str, target: Path, progress: Optional[Progress], chunk: int = 1 << 16) -> None:
    part = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length else None
        done = 0
        while block := response.read(chunk):
            out.write(block)
            done += len(block)
            if progress:
                progress(done, total, target.name)
    part.replace(target)


def read_idx(path: Path) -> torch.Tensor:
    """Parse an idx file (gzip or plain) into a uint8 tensor of the shape its header gives."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError; truncation is an EOFError
        raise _corrupt(path, str(e)) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise _corrupt(path, "not an idx file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _corrupt(path, "header cut short")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(torch.tensor(dims).prod()) if dims else header
    if len(raw) != expected:
        raise _corrupt(path, f"{len(raw) - header} data bytes, header promises {expected - header}")
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8).reshape(dims)


def _corrupt(path: Path, reason: str) -> PlaygroundError:
    return PlaygroundError(
        f"{path} is truncated or corrupt ({reason}). Delete it and run "
        f"`python -m playground prepare` to copy or download it again."
    )


def load(name: str = DEFAULT_DATASET, progress: Optional[Progress] = None) -> Dataset:
    """The whole dataset as tensors, loaded once per process and data folder."""
    folder = prepare(name, progress)
    return _load_folder(name, str(folder))


@functools.lru_cache(maxsize=4)
def _load_folder(name: str, folder: str) -> Dataset:
    meta, src, root = info(name), source_of(name), Path(folder)
    C, H, W = meta.input_shape
    parts = {key: read_idx(root / f) for key, f in src.files.items()}
    splits = {}
    for split in ("train", "test"):
        x, y = parts[f"{split}_images"], parts[f"{split}_labels"]
        if x.ndim != 3 or tuple(x.shape[1:]) != (H, W) or y.ndim != 1 or len(x) != len(y):
            raise _corrupt(root / src.files[f"{split}_images"], f"images {tuple(x.shape)} do not match labels {tuple(y.shape)}")
        if len(y) and int(y.max()) >= meta.num_classes:
            raise _corrupt(root / src.files[f"{split}_labels"], f"label {int(y.max())} out of range")
        splits[split] = (x.reshape(len(x), C, H, W), y.long())
    return Dataset(meta, *splits["train"], *splits["test"], source=folder)


def first_of_each_class(labels: torch.Tensor, k: int) -> list[int]:
    """Indices of the first k images whose labels are all different (the Data page's trio)."""
    seen: dict[int, int] = {}
    for i, label in enumerate(labels.tolist()):
        seen.setdefault(label, i)
        if len(seen) == k:
            break
    return list(seen.values())


def class_counts(labels: torch.Tensor, num_classes: int) -> list[int]:
    return torch.bincount(labels, minlength=num_classes).tolist()


def sample_indices(labels: torch.Tensor, count: int, start: int = 0, label: Optional[int] = None) -> list[int]:
    """`count` image indices from `start` on, only of class `label` if given (the Data page's grid)."""
    idx = torch.arange(start, len(labels))
    if label is not None:
        idx = idx[labels[start:] == label]
    return idx[:count].tolist()
