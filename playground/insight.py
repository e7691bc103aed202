"""What a trained network learned and where it fails: stored weights, test-set predictions,
confusion matrix, per-class accuracy, galleries, first-layer weights, feature maps, and an
uploaded image turned into the dataset's format.

Weights are saved with torch.save(state_dict) when a run ends and only ever loaded with
torch.load(weights_only=True), which refuses anything but tensors.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from playground import datasets
from playground.errors import PlaygroundError
from playground.families import build_model
from playground.home import weights_path
from playground.loop import Splits, make_splits
from playground.runs import Run

MAX_UPLOAD_BYTES = 5_000_000
MAX_UPLOAD_PIXELS = 4096 * 4096


def save_weights(run_id: int, model: nn.Module) -> None:
    path = weights_path(run_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlaygroundError(f"cannot create {path.parent} ({e.strerror or e}): set PLAYGROUND_HOME to a writable folder") from None
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".part")
    try:
        torch.save(state, tmp)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise PlaygroundError(
            f"the trained weights could not be saved in {path.parent} ({e.strerror or e}): free some disk space"
        ) from None


def has_weights(run_id: int) -> bool:
    return weights_path(run_id).is_file()


def load_model(run: Run) -> nn.Module:
    """The run's network with its trained weights, in eval mode, on the CPU."""
    path = weights_path(run.id)
    if not path.is_file():
        raise PlaygroundError(
            f"run {run.id} has no stored weights (it was trained before weights were kept, failed, or diverged): train it again"
        )
    meta = datasets.info(run.config.dataset)
    model = build_model(run.config.model, run.config.input_shape, meta.num_classes, load_weights=False)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:  # a damaged or foreign file: say so, never run it
        raise PlaygroundError(f"the weights of run {run.id} in {path} cannot be read ({type(e).__name__}): train the run again") from None
    return model.eval()


@dataclass
class Predictions:
    y: np.ndarray  # [N] true labels of the test images
    probs: np.ndarray  # [N, classes]
    splits: Splits

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)


@torch.no_grad()
def predict(run: Run, model: nn.Module | None = None) -> Predictions:
    """Class probabilities for the run's test images, prepared exactly as in training."""
    model = model or load_model(run)
    meta = datasets.info(run.config.dataset)
    ds = datasets.load(run.config.dataset, toy_params=run.config.toy_params if meta.is_toy else None)
    sp = make_splits(run.config, ds, torch.device("cpu"))
    probs = torch.cat([model(sp.prep(sp.x_test[i : i + 1000])).softmax(dim=1) for i in range(0, len(sp.x_test), 1000)])
    return Predictions(sp.y_test.numpy(), probs.numpy(), sp)


def confusion(y: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    return np.bincount(y * num_classes + pred, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def row_normalized(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)


def per_class_accuracy(counts: np.ndarray) -> np.ndarray:
    return np.diag(row_normalized(counts))


def select(
    y: np.ndarray, pred: np.ndarray, true_class: int | None = None, predicted: int | None = None, mistakes_only: bool = False
) -> np.ndarray:
    """Indices of test images by true class, predicted class, and/or mistakes."""
    keep = np.ones(len(y), dtype=bool)
    if true_class is not None:
        keep &= y == true_class
    if predicted is not None:
        keep &= pred == predicted
    if mistakes_only:
        keep &= y != pred
    return np.flatnonzero(keep)


def top_k(probs: np.ndarray, k: int = 3) -> list[list[tuple[int, float]]]:
    order = np.argsort(-probs, axis=1)[:, :k]
    return [[(int(c), float(p[c])) for c in row] for row, p in zip(order, probs)]


def disagreements(a: Predictions, b: Predictions) -> tuple[np.ndarray, np.ndarray]:
    """(right in a and wrong in b, wrong in a and right in b): indices of the shared test images."""
    if len(a.y) != len(b.y) or not np.array_equal(a.y, b.y):
        raise PlaygroundError(
            "the two runs were tested on different images (another dataset or test subset): pick runs on the same test set"
        )
    ra, rb = a.pred == a.y, b.pred == b.y
    return np.flatnonzero(ra & ~rb), np.flatnonzero(~ra & rb)


def to_uint8_images(w: torch.Tensor) -> np.ndarray:
    """Weights [N, C, H, W] -> uint8 images, each scaled to its own range (grey 128 = 0)."""
    w = w.detach().float()
    scale = w.flatten(1).abs().amax(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    return ((w / scale) * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def first_layer(model: nn.Module, input_shape: tuple[int, ...], limit: int = 64) -> tuple[str, np.ndarray]:
    """What the first layer looks for: an MLP's first Linear weights reshaped to the image, or a
    CNN's first Conv2d filters; (description, uint8 images [N, C, h, w])."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return f"{m.out_channels} filters of {m.kernel_size[0]}x{m.kernel_size[1]} over {m.in_channels} channel(s)", to_uint8_images(
                m.weight[:limit]
            )
        if isinstance(m, nn.Linear):
            if len(input_shape) != 3 or m.in_features != int(np.prod(input_shape)):
                break
            w = m.weight[:limit].reshape(-1, *input_shape)
            return (
                f"the weights of the first {min(limit, m.out_features)} of {m.out_features} units, each shaped like the input image",
                to_uint8_images(w),
            )
    raise PlaygroundError(
        "this model's first layer cannot be drawn as images (toy points, or a first fc layer that sees a pooled image, not the input)"
    )


@torch.no_grad()
def feature_maps(model: nn.Module, x: torch.Tensor, limit: int = 16) -> list[tuple[str, np.ndarray]]:
    """The output of every Conv2d (after it, before the activation) for one prepared input [1, C, H, W]."""
    out = []
    for i, m in enumerate(model):
        x = m(x)
        if isinstance(m, nn.Conv2d):
            maps = x[0, :limit]
            lo = maps.flatten(1).amin(1).view(-1, 1, 1)
            hi = maps.flatten(1).amax(1).view(-1, 1, 1)
            scaled = ((maps - lo) / (hi - lo).clamp_min(1e-12) * 255).round().to(torch.uint8)
            out.append(
                (
                    f"#{i} Conv2d({m.in_channels}, {m.out_channels}, k={m.kernel_size[0]}): {x.shape[1]} maps of {x.shape[2]}x{x.shape[3]}",
                    scaled.numpy(),
                )
            )
    return out


@dataclass
class Upload:
    image: torch.Tensor  # uint8 [C, H, W], in the dataset's format
    inverted: bool  # dark-on-light turned into light-on-dark, as MNIST-style sets are
    original_size: tuple[int, int]


def prepare_upload(data: bytes, input_shape: tuple[int, ...], invert: bool | None = None) -> Upload:
    """A PNG or JPEG file -> one image in the dataset's format; size and type checked first."""
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3:
        raise PlaygroundError("images can be uploaded for image datasets only")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PlaygroundError(f"the file is {len(data) / 1e6:.1f} MB: upload an image of at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in ("PNG", "JPEG"):
                raise PlaygroundError(f"the file is a {im.format} image: upload a PNG or a JPEG")
            if im.width * im.height > MAX_UPLOAD_PIXELS:
                raise PlaygroundError(f"the image is {im.width}x{im.height} pixels: at most {MAX_UPLOAD_PIXELS:,} pixels")
            size = (im.width, im.height)
            C, H, W = input_shape
            colour = im.convert("L" if C == 1 else "RGB")
            side = min(colour.size)  # the centred square, then resized to the dataset's size
            left, top = (colour.width - side) // 2, (colour.height - side) // 2
            square = colour.crop((left, top, left + side, top + side)).resize((W, H), Image.Resampling.LANCZOS)
            a = np.asarray(square, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as e:
        raise PlaygroundError(f"the file is not a readable PNG or JPEG image ({type(e).__name__})") from None
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    if invert is None:  # grey sets are light objects on a dark background
        invert = C == 1 and a.mean() > 127
    if invert:
        a = 255 - a
    return Upload(torch.from_numpy(a.copy()), bool(invert), size)


@torch.no_grad()
def classify(model: nn.Module, sp: Splits, image: torch.Tensor) -> np.ndarray:
    """Class probabilities for one uint8 image [C, H, W]."""
    return model(sp.prep(image[None])).softmax(dim=1)[0].numpy()
