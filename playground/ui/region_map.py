"""The toy plane: the training and test points, and under them what a model outputs over the plane
(its decision regions: P(class 1), or a regression's predicted value), as TensorFlow Playground draws
its output.

The map is redrawn live while a run trains, so it is cheap to send and to draw: the regions are one
PNG (playground.ui.heatmap, a few hundred bytes) stretched over the plane, the title is a data row,
and the Vega-Lite spec, built once per plane and task, stays the same from one epoch to the next:
only its named datasets change, and the browser updates the chart's data instead of building a new
chart. (One mark per grid cell, rebuilt with Altair every redraw, took the page a core's worth of
work and starved the run it showed: README, "Toy 2D".)
"""

from __future__ import annotations

import functools

import altair as alt
import numpy as np

from playground.boundary import Grid
from playground.ui import heatmap

SIDE_PX = 300  # the map's width and height
MAP_PX = 176  # the regions' PNG side (a 44 x 44 grid upscaled 4x; the browser scales it to SIDE_PX)
REGION_OPACITY = 0.65  # the points stand out on it
TITLE_PX = 22  # room above the plane for the title
CLASS_COLORS = alt.Scale(domain=["class 0", "class 1"], range=[heatmap.LOW_COLOR, heatmap.HIGH_COLOR])
VALUE_COLORS = alt.Scale(domain=[-1, 0, 1], range=[heatmap.LOW_COLOR, heatmap.MID_COLOR, heatmap.HIGH_COLOR])  # a regression's target
SHAPES = alt.Scale(domain=["train", "test"], range=["circle", "triangle-up"])
VALUE_RANGE = {"classification": (0.0, 1.0), "regression": (-1.0, 1.0)}  # white at 0.5 (P(class 1)) or at 0


def points_rows(ds, show_test: bool = True) -> list[dict]:
    """One row per point: x, y, its split, its class name (classification) or target (regression)."""
    rows = []
    for split, x, y in (("train", ds.x_train, ds.y_train), ("test", ds.x_test, ds.y_test))[: 2 if show_test else 1]:
        rows += [
            {"x": round(a, 4), "y": round(b, 4), "class": f"class {int(c)}", "value": round(float(c), 4), "split": split}
            for (a, b), c in zip(x.tolist(), y.tolist())
        ]
    return rows


def point_color(regression: bool, legend: bool) -> alt.Color:
    """By class, or by the target's value for a regression set."""
    if regression:
        return alt.Color("value:Q", scale=VALUE_COLORS, title="target", legend=alt.Legend() if legend else None)
    return alt.Color("class:N", scale=CLASS_COLORS, title=None, legend=alt.Legend() if legend else None)


def point_tooltip(regression: bool) -> list:
    """A point's split, class (or target) and coordinates."""
    what = "value:Q" if regression else "class:N"
    return ["split:N", what, alt.Tooltip("x:Q", format=".2f", title="x1"), alt.Tooltip("y:Q", format=".2f", title="x2")]


def legend_text(regression: bool) -> str:
    """One line under the maps: what the shapes and colours mean."""
    colours = (
        "colour = the target value (orange -1, white 0, blue +1), behind them the network's prediction on the same scale"
        if regression
        else "orange = class 0, blue = class 1, behind them the network's P(class 1) (white = 0.5, the boundary)"
    )
    return f"Circles are training points, triangles test points; {colours}."


def points_chart(ds, title: str = "Training and test points", show_test: bool = True) -> alt.Chart:
    """The points alone, with a legend (the Data page): train circles, test triangles, coloured by class."""
    regression = ds.info.is_regression
    return (
        alt.Chart(alt.Data(values=points_rows(ds, show_test)))
        .mark_point(size=36, filled=True, stroke="black", strokeWidth=0.3)
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(zero=False), title="x1"),
            y=alt.Y("y:Q", scale=alt.Scale(zero=False), title="x2"),
            color=point_color(regression, legend=True),
            shape=alt.Shape("split:N", scale=SHAPES, title=None),
            tooltip=point_tooltip(regression),
        )
        .properties(title=title, height=380)
    )


def region_map(ds, g: Grid, values, title: str, show_test: bool = True, discrete: bool = False) -> dict:
    """The plane under the points coloured by values ([R*R] over g, row-major over (y, x); None: the
    points alone), titled: a Vega-Lite spec with its data in named datasets. discrete: hard regions
    (the predicted class; a regression's sign)."""
    regression = ds.info.is_regression
    dx, dy = (g.xs[1] - g.xs[0]) / 2, (g.ys[1] - g.ys[0]) / 2
    x_domain = (round(float(g.xs[0] - dx), 6), round(float(g.xs[-1] + dx), 6))
    y_domain = (round(float(g.ys[0] - dy), 6), round(float(g.ys[-1] + dy), 6))
    regions = []
    if values is not None:
        low, high = VALUE_RANGE["regression" if regression else "classification"]
        url = heatmap.data_url(heatmap.png(np.asarray(values, dtype=np.float32), len(g.xs), low, high, MAP_PX, discrete))
        regions = [{"x": x_domain[0], "x2": x_domain[1], "y": y_domain[0], "y2": y_domain[1], "url": url}]
    spec = dict(_template(x_domain, y_domain, regression))
    spec["datasets"] = {"title": [{"title": title}], "regions": regions, "points": points_rows(ds, show_test)}
    return spec


@functools.lru_cache(maxsize=16)
def _template(x_domain: tuple[float, float], y_domain: tuple[float, float], regression: bool) -> dict:
    """The spec without its data: built (and validated by Altair) once per plane and task."""
    x = alt.X("x:Q", scale=alt.Scale(domain=list(x_domain), nice=False, zero=False), title="x1", axis=alt.Axis(grid=False))
    y = alt.Y("y:Q", scale=alt.Scale(domain=list(y_domain), nice=False, zero=False), title="x2", axis=alt.Axis(grid=False))
    regions = (
        alt.Chart(alt.NamedData("regions"))
        .mark_image(aspect=False, opacity=REGION_OPACITY)
        .encode(x=x, x2="x2:Q", y=y, y2="y2:Q", url="url:N")
    )
    points = (
        alt.Chart(alt.NamedData("points"))
        .mark_point(size=22, filled=True, stroke="black", strokeWidth=0.4, clip=True)
        .encode(
            x=x,
            y=y,
            color=point_color(regression, legend=False),
            shape=alt.Shape("split:N", scale=SHAPES, legend=None),
            tooltip=point_tooltip(regression),
        )
    )
    title = (
        alt.Chart(alt.NamedData("title"))
        .mark_text(align="left", baseline="bottom", fontSize=13, fontWeight="bold", color="#31333f")
        .encode(x=alt.value(0), y=alt.value(-8), text="title:N")
    )
    chart = alt.layer(regions, points, title).properties(
        width=SIDE_PX, height=SIDE_PX, padding={"top": TITLE_PX, "left": 5, "right": 5, "bottom": 5}
    )
    return chart.to_dict()
