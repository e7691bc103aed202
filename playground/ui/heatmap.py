"""A square grid of values over the plane as a small PNG in the playground's colours: orange the low
side (class 0, negative), white the middle, blue the high side (class 1, positive). The decision-region
maps (region_map) and every unit's map in the network drawing (network_chart) are such PNGs: a few
hundred bytes that the browser scales up, instead of one chart mark per grid cell.

Where white is:
- a range symmetric about 0 (tanh: -1..1, a regression's -1..1): white is 0;
- (0, 1) (sigmoid, P(class 1)): white is 0.5;
- an infinite end (relu: 0..inf, "none" and the input features: -inf..inf): the range becomes
  (-m, m), m the largest |value| given, so white is 0 there too: a relu unit that is off is white,
  never orange (the colour of a negative value).
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

LOW_COLOR = "#f28e2b"  # orange: negative, class 0
MID_COLOR = "#ffffff"
HIGH_COLOR = "#4e79a7"  # blue: positive, class 1


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


def finite_range(values: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """(low, high), with an infinite end replaced as the module's docstring says: (-m, m), m = max |value|."""
    if math.isfinite(low) and math.isfinite(high) and high > low:
        return float(low), float(high)
    finite = np.abs(values[np.isfinite(values)]) if np.size(values) else np.zeros(0)
    m = float(finite.max()) if finite.size else 0.0
    m = m if m > 0 else 1.0
    return -m, m


def png(values: np.ndarray, resolution: int, low: float, high: float, size: int = 48, discrete: bool = False) -> bytes:
    """values (r*r, row-major over (y, x), y ascending) as a size x size PNG: y grows upward, orange
    at low, white at the middle of (low, high), blue at high; values outside are clipped. The grid is
    upscaled smoothly (bilinear, on the values: a boundary goes through white, not brown). discrete:
    each pixel takes the colour of its side of the middle (hard regions with a smooth boundary)."""
    low, high = finite_range(np.asarray(values, dtype=np.float32), low, high)
    grid = np.asarray(values, dtype=np.float32).reshape(resolution, resolution)[::-1]  # row 0: the top, the largest y
    big = np.asarray(Image.fromarray(np.ascontiguousarray(grid), mode="F").resize((size, size), Image.Resampling.BILINEAR))
    mid, half = (low + high) / 2, (high - low) / 2
    t = np.clip(np.nan_to_num((big - mid) / half), -1.0, 1.0)[..., None]  # -1 low, 0 middle, 1 high
    if discrete:
        t = np.sign(t)
    white, colour = rgb(MID_COLOR), np.where(t < 0, rgb(LOW_COLOR), rgb(HIGH_COLOR))
    pixels = np.rint(white + np.abs(t) * (colour - white)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buf, format="PNG", compress_level=1)  # fast: it is redrawn live
    return buf.getvalue()


def data_url(png_bytes: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")
