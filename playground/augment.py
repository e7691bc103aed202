"""Input normalisation and training-time augmentation, on whole batches on the device.

Normalisation turns stored inputs into the floats a model sees:
    scale        images / 255 -> [0, 1] (toy points as they are)
    standardize  (x - mean) / std per channel (per feature for points), mean and std computed on
                 the training split only, never on validation or test data
    zca          ZCA whitening (playground.zca): (x - mu) W with W = Sigma^(-1/2), regularised by
                 eps, fitted on the training split only
    none         the raw numbers (0-255 for images)

Augmentation is applied to training batches only, each image with its own random draw.
torchvision.transforms.v2 draws one set of random parameters per call, so on a batch tensor every
image would get the same flip or crop; here each op is written once for the whole batch with
per-image parameters (torch.where for flips, index arithmetic for crops, one affine grid for
rotations and resized crops), and the tests check each against torchvision.transforms.v2.functional
applied to the images one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground import zca
from playground.errors import PlaygroundError
from playground.settings import AUGMENTATIONS, NORMALIZATIONS, SETTINGS  # noqa: F401 - declared once, there

AUGMENTATION_TEXT = {
    "flip": "horizontal flip, half of the images",
    "crop": "random crop after zero padding of 1/8 of the side",
    "resized-crop": "random crop of 60-100% of the area, aspect 3/4-4/3, resized back",
    "rotate": "random rotation within ±15°",
    "color": "colour jitter: brightness, contrast and saturation ±20% (colour images)",
}
MAX_ROTATION = 15.0


def parse_augment(text: str, input_shape: tuple[int, ...]) -> str:
    """'crop, flip' -> 'crop,flip' in canonical order; errors name the bad item."""
    names = [t.strip().lower() for t in (text or "").replace(" ", ",").split(",") if t.strip()]
    for n in names:
        if n not in AUGMENTATIONS:
            raise PlaygroundError(f"augment = '{n}' is not allowed: choose from {', '.join(AUGMENTATIONS)}")
    if names and len(input_shape) != 3:
        raise PlaygroundError("augmentation works on images; toy 2D points are not augmented")
    if "color" in names and input_shape[0] != 3:
        raise PlaygroundError("augment = 'color' needs colour images (3 channels); this dataset is grey-scale")
    return ",".join(n for n in AUGMENTATIONS if n in names)


@dataclass
class Normalizer:
    mode: str
    images: bool  # uint8 images (divided by 255) or float points
    mean: torch.Tensor | None = None  # [C] (or [F]) on the unit scale
    std: torch.Tensor | None = None
    whiten: zca.ZCA | None = None  # mode zca: mu [D] and W [D, D]

    @classmethod
    def fit(cls, mode: str, x_train: torch.Tensor, chunk: int = 4096, eps: float = SETTINGS["zca_epsilon"].default) -> Normalizer:
        """Statistics of the training split only, in chunks (60,000 images fit without a copy).
        eps: zca's epsilon (unused by the other modes)."""
        images = x_train.dtype == torch.uint8
        if mode == "zca":
            return cls(mode, images, whiten=zca.fit(x_train, eps, chunk))
        if mode != "standardize":
            return cls(mode, images)
        dims = (0, 2, 3) if x_train.ndim == 4 else (0,)
        n, s, ss = 0, 0.0, 0.0
        for i in range(0, len(x_train), chunk):
            x = unit(x_train[i : i + chunk]).double()
            s = s + x.sum(dim=dims)
            ss = ss + (x * x).sum(dim=dims)
            n += x.numel() // x.shape[1]
        mean = s / n
        std = (ss / n - mean * mean).clamp_min(1e-12).sqrt()
        return cls(mode, images, mean.float(), std.float())

    def __call__(self, x_unit: torch.Tensor) -> torch.Tensor:
        """Unit-scale floats (see `unit`) -> what the model sees."""
        if self.mode == "none":
            return x_unit * 255 if self.images else x_unit
        if self.mode == "standardize":
            shape = (1, -1, 1, 1) if x_unit.ndim == 4 else (1, -1)
            return (x_unit - self.mean.to(x_unit.device).view(shape)) / self.std.to(x_unit.device).view(shape)
        if self.mode == "zca":
            return self.whiten(x_unit)
        return x_unit

    def describe(self) -> str:
        if self.mode == "standardize":
            fmt = ", ".join
            return f"mean {fmt(f'{m:.4f}' for m in self.mean.tolist())}, std {fmt(f'{s:.4f}' for s in self.std.tolist())} (training split only)"
        if self.mode == "zca":
            w = self.whiten
            what = "images" if self.images else "points"
            return f"ZCA whitening: D={len(w.mu)}, epsilon {w.eps:g}, fitted on the training split only ({w.n:,} {what})"
        if not self.images:  # points: nothing to scale
            return "raw coordinates (or features)"
        return {"scale": "pixels / 255, in [0, 1]", "none": "raw values"}[self.mode]


def unit(x: torch.Tensor) -> torch.Tensor:
    """Stored inputs -> floats: uint8 images to [0, 1], float points unchanged."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x.float()


class Augmenter:
    """Random per-image augmentation of a batch [N, C, H, W] of floats in [0, 1]."""

    def __init__(self, names: str, generator: torch.Generator):
        self.names = [n for n in names.split(",") if n]
        self.g = generator

    def __bool__(self) -> bool:
        return bool(self.names)

    def _rand(self, n: int, device: torch.device) -> torch.Tensor:
        return torch.rand(n, generator=self.g, device=self.g.device).to(device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.names:
            x = getattr(self, "_" + name.replace("-", "_"))(x)
        return x

    def _flip(self, x: torch.Tensor) -> torch.Tensor:
        flip = self._rand(len(x), x.device) < 0.5
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        N, _C, H, W = x.shape
        p = max(1, round(H / 8))
        padded = F.pad(x, (p, p, p, p))
        top = (self._rand(N, x.device) * (2 * p + 1)).long()
        left = (self._rand(N, x.device) * (2 * p + 1)).long()
        return crop_batch(padded, top, left, H, W)

    def _affine(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _resized_crop(self, x: torch.Tensor) -> torch.Tensor:
        N = len(x)
        area = 0.6 + 0.4 * self._rand(N, x.device)
        ratio = torch.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * self._rand(N, x.device))
        w = torch.sqrt(area * ratio).clamp(max=1.0)  # fraction of the width kept
        h = torch.sqrt(area / ratio).clamp(max=1.0)
        tx = (1 - w) * (2 * self._rand(N, x.device) - 1)  # centre, in [-1, 1] coordinates
        ty = (1 - h) * (2 * self._rand(N, x.device) - 1)
        zero = torch.zeros_like(w)
        theta = torch.stack([torch.stack([w, zero, tx], 1), torch.stack([zero, h, ty], 1)], 1)
        return self._affine(x, theta)

    def _rotate(self, x: torch.Tensor) -> torch.Tensor:
        angle = torch.deg2rad((2 * self._rand(len(x), x.device) - 1) * MAX_ROTATION)
        return self._affine(x, rotation_theta(angle, x.shape[-2], x.shape[-1]))

    def _color(self, x: torch.Tensor) -> torch.Tensor:
        N = len(x)
        b, c, s = (0.8 + 0.4 * self._rand(N, x.device).view(-1, 1, 1, 1) for _ in range(3))
        x = (x * b).clamp(0, 1)
        grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        x = ((x - grey.mean(dim=(2, 3), keepdim=True)) * c + grey.mean(dim=(2, 3), keepdim=True)).clamp(0, 1)
        grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        return ((x - grey) * s + grey).clamp(0, 1)


def crop_batch(padded: torch.Tensor, top: torch.Tensor, left: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """Image n of the result is padded[n, :, top[n]:top[n]+H, left[n]:left[n]+W]."""
    N = len(padded)
    rows = (top.view(-1, 1) + torch.arange(H, device=padded.device)).view(N, 1, H, 1)
    cols = (left.view(-1, 1) + torch.arange(W, device=padded.device)).view(N, 1, 1, W)
    n = torch.arange(N, device=padded.device).view(N, 1, 1, 1)
    c = torch.arange(padded.shape[1], device=padded.device).view(1, -1, 1, 1)
    return padded[n, c, rows, cols]


def rotation_theta(angle: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """Affine matrices [N, 2, 3] turning each image by angle (radians, counter-clockwise as
    torchvision's rotate), in affine_grid's [-1, 1] coordinates (corrected for the aspect ratio)."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(angle)
    return torch.stack([torch.stack([cos, -sin * H / W, zero], 1), torch.stack([sin * W / H, cos, zero], 1)], 1)


def preview(x: torch.Tensor, names: str, seed: int = 0) -> torch.Tensor:
    """Augmented copies of uint8 images [N, C, H, W], as uint8 (what the Data page shows)."""
    out = Augmenter(names, torch.Generator().manual_seed(seed))(unit(x))
    return (out * 255).round().clamp(0, 255).to(torch.uint8)
