"""A toy 2D network drawn the way TensorFlow Playground draws it: the layers as columns of neurons
(the input features on the left, each hidden layer, the output on the right), each neuron a small
square heatmap of what it outputs over the plane, the links between neurons lines whose width is
|weight| and whose colour is its sign; hovering a neuron shows its map large, on the right.

The data is playground.unitmaps.NetworkMaps. The chart is redrawn twice a second while a run trains,
so it stays cheap: one PNG of TILE px a unit (playground.ui.heatmap, a few hundred bytes each), used by
both the column and the large view (which the browser scales up, smoothly); and a Vega-Lite spec built
once per shape of network, whose named datasets (the tiles, the links, the texts) are all that change
from one epoch to the next, so the browser updates the chart's data instead of building a new chart
(and the unit hovered stays hovered).

Colours follow playground.ui.heatmap; the units of a layer share one scale.
"""

from __future__ import annotations

import functools
import math

import altair as alt
import numpy as np

from playground.ui.heatmap import HIGH_COLOR, LOW_COLOR, data_url, finite_range, png
from playground.unitmaps import NetworkMaps

LINK_MIN_PX, LINK_MAX_PX = 0.3, 6.0  # stroke width of a link of weight 0 and of the network's largest |w|
LINK_OPACITY = 0.7
GAP_X = 100  # px between the columns' tiles (the links' room)
GAP_Y = 10  # px between the tiles of a column
HEADER_PX = 40  # px above the tiles: two lines of column header
LABEL_PX = 72  # px left of the inputs' tiles: the features' names
FOOT_PX = 22  # px under the tiles: the output's name


def layer_range(nm: NetworkMaps, layer: int) -> tuple[float, float]:
    """The colour range of a layer's tiles: its output range, an infinite end made (-m, m) over its maps."""
    low, high = nm.ranges[layer]
    return finite_range(np.asarray(nm.maps[layer]), low, high)


def header(nm: NetworkMaps, layer: int) -> str:
    """'2 features', 'Hidden layer 1: 8 units', 'Hidden layer 2: 8 of 64 units shown', 'Output'."""
    kept, total = len(nm.names[layer]), nm.units[layer]
    count = f"{kept} of {total} units shown" if total > kept else f"{total} unit{'s' * (total != 1)}"
    if nm.kinds[layer] == "input":
        return f"{kept} of {total} features shown" if total > kept else f"{total} feature{'s' * (total != 1)}"
    if nm.kinds[layer] == "output":
        return "Output" if total <= kept else f"Output: {count}"
    hidden = sum(k == "hidden" for k in nm.kinds[: layer + 1])
    return f"Hidden layer {hidden}: {count}"


def _layout(nm: NetworkMaps, tile: int) -> tuple[list[list[tuple[float, float]]], float, float]:
    """Each kept unit's centre (x, y) in px from the top left, columns left to right, each centred
    vertically; and the drawing's width and height."""
    tallest = max((len(n) for n in nm.names), default=1)
    body = tallest * (tile + GAP_Y) - GAP_Y
    centres = []
    for layer, names in enumerate(nm.names):
        x = LABEL_PX + tile / 2 + layer * (tile + GAP_X)
        top = HEADER_PX + (body - (len(names) * (tile + GAP_Y) - GAP_Y)) / 2
        centres.append([(x, top + i * (tile + GAP_Y) + tile / 2) for i in range(len(names))])
    width = LABEL_PX + len(nm.names) * tile + (len(nm.names) - 1) * GAP_X + 40
    return centres, width, HEADER_PX + body + FOOT_PX


def _nodes(nm: NetworkMaps, centres, tile: int) -> list[dict]:
    rows = []
    for layer, names in enumerate(nm.names):
        low, high = layer_range(nm, layer)
        for i, name in enumerate(names):
            url = data_url(png(nm.maps[layer][i], nm.resolution, low, high, size=tile))
            x, y = centres[layer][i]
            rows.append({"unit": name, "layer": layer, "kind": nm.kinds[layer], "url": url, "x": x, "y": y})
    return rows


def _links(nm: NetworkMaps, centres) -> list[dict]:
    """One row per link (unit i of layer l -> unit j of layer l+1, weight weights[l][j, i])."""
    biggest = max((float(np.abs(w).max()) for w in nm.weights if np.size(w)), default=0.0) or 1.0
    rows = []
    for layer, w in enumerate(nm.weights):
        for j, target in enumerate(nm.names[layer + 1]):
            for i, source in enumerate(nm.names[layer]):
                v = float(w[j, i])
                (x, y), (x2, y2) = centres[layer][i], centres[layer + 1][j]
                rows.append(
                    {
                        "x": x,
                        "y": y,
                        "x2": x2,
                        "y2": y2,
                        "w": v,
                        "width": LINK_MIN_PX + (LINK_MAX_PX - LINK_MIN_PX) * min(abs(v) / biggest, 1.0),
                        "color": LOW_COLOR if v < 0 else HIGH_COLOR,
                        "label": f"w = {v:.2f} ({source} -> {target})",
                    }
                )
    return rows


def _texts(nm: NetworkMaps, centres, tile: int) -> dict[str, list[dict]]:
    """The column headers, and the names drawn beside the tiles (the inputs' on their left, the output's under it)."""
    heads = [
        {"x": centres[layer][0][0] if centres[layer] else 0.0, "y": 4.0, "header": header(nm, layer)} for layer in range(len(nm.names))
    ]
    right = [{"x": x - tile / 2 - 6, "y": y, "label": n} for n, (x, y) in zip(nm.names[0], centres[0])]
    center = []
    if nm.kinds[-1] == "output" and len(nm.names) > 1:
        center = [{"x": x, "y": y + tile / 2 + 12, "label": n} for n, (x, y) in zip(nm.names[-1], centres[-1])]
    return {"heads": heads, "names_right": right, "names_center": center}


def _hover(first: str | None) -> alt.Parameter:
    """The hovered unit; the output unit (first) until a unit is hovered, the last one hovered after (no
    clear: moving the pointer off the tiles keeps the map it showed). Only the tiles (image marks) select."""
    return alt.selection_point(
        name="unit_hover",
        on="image:pointerover",
        fields=["unit"],
        value=[{"unit": first}] if first is not None else alt.Undefined,
        clear=False,
        toggle=False,
        empty=False,
    )


def network_chart(nm: NetworkMaps, tile: int = 48, large: int = 220) -> dict:
    """The network as columns of unit maps joined by their weights, and the hovered unit's map large on
    the right: a Vega-Lite spec, its data in named datasets (the spec alone is the same for every
    epoch of a run)."""
    centres, width, height = _layout(nm, tile)
    first = nm.names[-1][0] if nm.names and nm.names[-1] else None
    spec = dict(_template(width, height, tile, large, first))
    spec["datasets"] = {"nodes": _nodes(nm, centres, tile), "links": _links(nm, centres), **_texts(nm, centres, tile)}
    return spec


@functools.lru_cache(maxsize=16)
def _template(width: float, height: float, tile: int, large: int, first: str | None) -> dict:
    """The spec without its data: built (and validated by Altair) once per shape of network."""
    hover = _hover(first)
    x = alt.X("x:Q", scale=alt.Scale(domain=[0, width], nice=False, zero=False), axis=None)
    y = alt.Y("y:Q", scale=alt.Scale(domain=[0, height], nice=False, zero=False, reverse=True), axis=None)
    lines = (
        alt.Chart(alt.NamedData("links"))
        .mark_rule(opacity=LINK_OPACITY, strokeCap="round")
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color("color:N", scale=None),
            strokeWidth=alt.StrokeWidth("width:Q", scale=None),
            tooltip=[alt.Tooltip("label:N", title="link")],
        )
    )
    node_base = alt.Chart(alt.NamedData("nodes")).encode(x=x, y=y)
    frames = node_base.mark_rect(width=tile + 3, height=tile + 3, filled=False).encode(
        stroke=alt.condition(hover, alt.value("#222222"), alt.value("#c8c8c8")),
        strokeWidth=alt.condition(hover, alt.value(2.5), alt.value(1.0)),
    )
    images = (
        node_base.mark_image(width=tile, height=tile).encode(url="url:N", tooltip=[alt.Tooltip("unit:N", title="unit")]).add_params(hover)
    )
    heads_text = (
        alt.Chart(alt.NamedData("heads"))
        .mark_text(baseline="top", fontSize=11, fontWeight="bold", lineBreak=": ", lineHeight=14, color="#333333")
        .encode(x=x, y=y, text="header:N")
    )
    names = [
        alt.Chart(alt.NamedData(f"names_{side}"))
        .mark_text(fontSize=11, align=side, baseline="middle", color="#333333")
        .encode(x=x, y=y, text="label:N")
        for side in ("right", "center")
    ]
    net = alt.layer(lines, frames, images, heads_text, *names).properties(width=width, height=height)
    return alt.hconcat(net, _large_view(hover, large), spacing=24).configure_view(stroke=None).to_dict()


def _large_view(hover: alt.Parameter, large: int) -> alt.LayerChart:
    """The hovered unit's map at large x large px (its tile, scaled up by the browser), its name above it."""
    base = alt.Chart(alt.NamedData("nodes")).transform_filter(hover)
    image = base.mark_image(width=large, height=large, x=large / 2, y=26 + large / 2).encode(url="url:N", tooltip=["unit:N"])
    frame = base.mark_rect(x=-1, x2=large + 1, y=25, y2=27 + large, filled=False, stroke="#c8c8c8")
    title = base.mark_text(x=large / 2, y=8, fontSize=13, fontWeight="bold", baseline="middle", color="#333333").encode(text="unit:N")
    return alt.layer(frame, image, title).properties(width=large, height=large + 28)


def legend_text(nm: NetworkMaps) -> str:
    """One Markdown line: what the tiles' colours and the links' colours and widths mean."""
    ranges = set(nm.ranges[1:])
    parts = []
    if (0.0, 1.0) in ranges:
        parts.append("white = 0.5 for sigmoid units and P(class 1)")
    if any(low == -high for low, high in ranges if math.isfinite(low) and math.isfinite(high)):
        parts.append("white = 0 for tanh units (-1 to 1)")
    if any(not (math.isfinite(low) and math.isfinite(high)) for low, high in ranges):
        parts.append("white = 0 for relu and linear units, scaled to the layer's largest |value|")
    scale = f" ({'; '.join(parts)})" if parts else ""
    return (
        "Each square is what a unit outputs over the plane (x1 across, x2 up): "
        f"**orange** low or negative, **white** the middle, **blue** high or positive{scale}. "
        "Lines are weights: **orange** negative, **blue** positive, thicker = larger |w|. Hover a square to see it large."
    )
