"""The network drawing's spec (chart): one PNG tile per kept unit, links whose width is |w|
and colour its sign, the column headers, the hover selection; and the tiles' colours: y up, orange
low, white in the middle, blue high."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import vl_convert as vlc
from PIL import Image

from playground.ui import heatmap
from playground.ui import network_chart as nc
from playground.unitmaps import NetworkMaps
from tests.test_charts import walk

ORANGE, WHITE, BLUE = (0xF2, 0x8E, 0x2B), (255, 255, 255), (0x4E, 0x79, 0xA7)
R = 6


def mark_type(layer: dict) -> str | None:
    mark = layer.get("mark")
    return mark.get("type") if isinstance(mark, dict) else mark


def layers_with_data(spec: dict, data: str | None = None):
    """Each unit layer of a spec with the name of its dataset (its own, or the one its parent passes down)."""
    data = spec.get("data", {}).get("name", data)
    for key in ("layer", "hconcat", "vconcat"):
        for child in spec.get(key, []):
            yield from layers_with_data(child, data)
    if "mark" in spec:
        yield spec, data


def rows_of(spec: dict, kind: str, **mark) -> list[dict]:
    """The data rows of the layers drawn with a mark of this type (and these mark properties)."""
    layers = [
        (d, data) for d, data in layers_with_data(spec) if mark_type(d) == kind and all(d["mark"].get(k) == v for k, v in mark.items())
    ]
    assert layers, (kind, mark)
    return [row for _, data in layers for row in spec["datasets"][data]]


def png_of(url: str) -> Image.Image:
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


def maps(kept: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (kept, R * R)).astype(np.float32)


def toy(hidden: tuple[int, int] = (8, 64), w1: np.ndarray | None = None) -> NetworkMaps:
    """2 inputs, two tanh hidden layers (at most 8 units kept each), the output."""
    k1, k2 = min(hidden[0], 8), min(hidden[1], 8)
    rng = np.random.default_rng(0)
    return NetworkMaps(
        resolution=R,
        names=[["x1", "x2"], [f"h1.{i + 1}" for i in range(k1)], [f"h2.{i + 1}" for i in range(k2)], ["P(class 1)"]],
        maps=[maps(2, 1) * 3, maps(k1, 2), maps(k2, 3), (maps(1, 4) + 1) / 2],
        weights=[
            w1 if w1 is not None else rng.normal(size=(k1, 2)).astype(np.float32),
            rng.normal(size=(k2, k1)).astype(np.float32),
            rng.normal(size=(1, k2)).astype(np.float32),
        ],
        units=[2, hidden[0], hidden[1], 1],
        kinds=["input", "hidden", "hidden", "output"],
        ranges=[(-np.inf, np.inf), (-1.0, 1.0), (-1.0, 1.0), (0.0, 1.0)],
    )


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def close(pixel, color, tol: int = 3) -> bool:
    return all(abs(int(a) - b) <= tol for a, b in zip(pixel, color))


def test_one_tile_per_kept_unit_as_a_png_of_the_requested_size_and_vega_draws_it():
    nm = toy()
    spec = nc.network_chart(nm, tile=40, large=200)
    json.dumps(spec, allow_nan=False)
    tiles = rows_of(spec, "image", width=40, height=40)
    assert [t["unit"] for t in tiles] == [n for names in nm.names for n in names]  # 2 + 8 + 8 (of 64) + 1
    for t in tiles:
        assert png_of(t["url"]).size == (40, 40)
    xs = {layer: {t["x"] for t in tiles if t["layer"] == layer} for layer in range(4)}
    assert all(len(v) == 1 for v in xs.values()) and sorted(xs, key=lambda k: next(iter(xs[k]))) == [0, 1, 2, 3]  # columns, left to right
    assert rows_of(spec, "image", width=200, height=200)  # the large view
    svg = vlc.vegalite_to_svg(spec)
    assert svg.count("<image") >= len(tiles)


def test_link_width_grows_with_abs_weight_and_its_colour_follows_the_sign():
    w1 = np.array([[0.1, -0.5], [2.0, -4.0], [1.0, 0.0]], dtype=np.float32)
    nm = toy(hidden=(3, 2), w1=w1)
    nm.weights[1][:] = 0.5
    nm.weights[2][:] = -0.25
    links = rows_of(nc.network_chart(nm), "rule")
    assert len(links) == 2 * 3 + 3 * 2 + 2 * 1
    by_abs = sorted(links, key=lambda r: abs(r["w"]))
    widths = [r["width"] for r in by_abs]
    assert widths == sorted(widths) and widths[0] == pytest.approx(nc.LINK_MIN_PX) and widths[-1] == pytest.approx(nc.LINK_MAX_PX)
    assert next(r for r in links if r["w"] == 2.0)["width"] == pytest.approx(nc.LINK_MIN_PX + (nc.LINK_MAX_PX - nc.LINK_MIN_PX) / 2)
    assert {r["color"] for r in links if r["w"] < 0} == {nc.LOW_COLOR} and {r["color"] for r in links if r["w"] >= 0} == {nc.HIGH_COLOR}
    labels = {r["label"] for r in links}
    assert "w = -4.00 (x2 -> h1.2)" in labels and "w = -0.25 (h2.1 -> P(class 1))" in labels


def test_links_are_drawn_under_the_tiles():
    spec = nc.network_chart(toy())
    net = spec["hconcat"][0]["layer"]
    kinds = [mark_type(layer) for layer in net]
    assert kinds.index("rule") < kinds.index("image")


def test_a_map_growing_with_y_is_blue_at_the_top_and_orange_at_the_bottom():
    ys = np.repeat(np.linspace(-1, 1, R), R)  # row-major over (y, x), y ascending
    px = pixels(heatmap.png(ys, R, -1.0, 1.0, size=32))
    assert px.shape == (32, 32, 3)
    assert close(px[0, 16], BLUE, tol=12) and close(px[-1, 16], ORANGE, tol=12)
    assert (px[0] == px[0, 0]).all()  # nothing changes along x
    xs = np.tile(np.linspace(-1, 1, R), R)
    px = pixels(heatmap.png(xs, R, -1.0, 1.0, size=32))
    assert close(px[16, 0], ORANGE, tol=12) and close(px[16, -1], BLUE, tol=12)  # x grows to the right


def test_white_is_the_middle_of_the_range_and_values_outside_are_clipped():
    zeros, halves = np.zeros(R * R), np.full(R * R, 0.5)
    assert close(pixels(heatmap.png(zeros, R, -1.0, 1.0))[10, 10], WHITE)  # tanh: white at 0
    assert close(pixels(heatmap.png(halves, R, 0.0, 1.0))[10, 10], WHITE)  # sigmoid, P(class 1): white at 0.5
    assert close(pixels(heatmap.png(zeros, R, 0.0, 1.0))[10, 10], ORANGE)
    assert close(pixels(heatmap.png(np.full(R * R, 7.0), R, -1.0, 1.0))[10, 10], BLUE)
    assert close(pixels(heatmap.png(np.full(R * R, -7.0), R, -1.0, 1.0))[10, 10], ORANGE)


def test_an_infinite_range_is_scaled_to_the_layers_largest_value():
    nm = toy()
    nm.ranges[1] = (0.0, float("inf"))  # relu
    nm.maps[1] = np.abs(nm.maps[1])
    nm.maps[1][0] = 0.0
    nm.maps[1][1] = 4.0
    nm.maps[1][2] = 2.0
    assert nc.layer_range(nm, 1) == (-4.0, 4.0)
    tiles = {t["unit"]: t for t in rows_of(nc.network_chart(nm), "image", width=48)}
    assert close(png_of(tiles["h1.1"]["url"]).getpixel((20, 20)), WHITE)  # an off relu unit: white, not orange
    assert close(png_of(tiles["h1.2"]["url"]).getpixel((20, 20)), BLUE)
    half = np.add(WHITE, BLUE) / 2
    assert close(png_of(tiles["h1.3"]["url"]).getpixel((20, 20)), half, tol=2)


def test_headers_say_when_units_were_left_out():
    heads = [r["header"] for r in rows_of(nc.network_chart(toy()), "text", fontWeight="bold", fontSize=11)]
    assert heads == ["2 features", "Hidden layer 1: 8 units", "Hidden layer 2: 8 of 64 units shown", "Output"]
    heads = [r["header"] for r in rows_of(nc.network_chart(toy(hidden=(3, 8))), "text", fontWeight="bold", fontSize=11)]
    assert heads == ["2 features", "Hidden layer 1: 3 units", "Hidden layer 2: 8 units", "Output"]
    assert not any("shown" in h for h in heads)


def test_hovering_a_tile_selects_its_unit_and_the_large_view_shows_it_the_output_first():
    spec = nc.network_chart(toy())
    (param,) = [p for p in spec["params"] if p.get("select", {}).get("type") == "point"]
    assert param["select"]["fields"] == ["unit"] and "pointerover" in param["select"]["on"]
    assert param["value"] == [{"unit": "P(class 1)"}]
    large = spec["hconcat"][1]
    filters = [t["filter"] for t in walk(large) if isinstance(t, dict) and "filter" in t]
    assert {"param": param["name"], "empty": False} in filters
    assert any(mark_type(layer) == "image" and layer["mark"].get("width") == 220 for layer in large["layer"])


def test_legend_text_says_what_colours_and_widths_mean():
    text = nc.legend_text(toy())
    assert "\n" not in text
    for word in ("orange", "blue", "white", "negative", "positive", "thicker"):
        assert word in text
