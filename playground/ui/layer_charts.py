"""The "Inside the network" charts, from a run's per-layer statistics (RunStore.layer_stats rows):
gradient norms per layer, update ratios with the 1e-3 guide, dead and saturated shares, and the
activation histograms as heatmaps over time (fastai's color_dim)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from playground import layerstats

HEIGHT = 320
HEATMAP_COLUMNS = 80  # recorded steps drawn per heatmap: enough to see a trend, light for the browser
LINE_POINTS = 300  # recorded steps per layer in the line charts


def _every(steps: list[int], limit: int) -> set[int]:
    k = len(steps) // limit + 1
    return set(steps[::k]) | set(steps[-1:])


def frame(rows: list[dict], limit: int = LINE_POINTS) -> pd.DataFrame:
    """One row per (recorded step, layer), thinned to at most `limit` steps."""
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    keep = _every(sorted(df["step"].unique()), limit)
    return df[df["step"].isin(keep)].drop(columns=["hist"], errors="ignore")


def _layer_color(df: pd.DataFrame) -> alt.Color:
    order = df.sort_values("layer")["name"].unique().tolist()  # first layer to last, in one colour ramp
    return alt.Color(
        "name:N", sort=order, title="layer", scale=alt.Scale(scheme="viridis"), legend=alt.Legend(orient="right", labelLimit=150)
    )


def per_layer_lines(df: pd.DataFrame, field: str, title: str, log: bool = False, guide: float | None = None) -> alt.Chart:
    data = df[df[field].notna()]
    if log:
        data = data[data[field] > 0]
    y = alt.Y(f"{field}:Q", title=title, scale=alt.Scale(type="log") if log else alt.Undefined)
    lines = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="step"),
            y=y,
            color=_layer_color(data),
            tooltip=["name", "step", alt.Tooltip(f"{field}:Q", format=".3g")],
        )
    )
    if guide is None:
        return lines.properties(height=HEIGHT, title=title)
    rule = alt.Chart(pd.DataFrame({"y": [guide]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="y:Q")
    return (lines + rule).properties(height=HEIGHT, title=title)


def histogram_heatmap(rows: list[dict], name: str) -> alt.Chart:
    """One activation layer's output histogram (share per bin) over the recorded steps."""
    layer_rows = [r for r in rows if r["name"] == name and r.get("hist") is not None]
    keep = _every([r["step"] for r in layer_rows], HEATMAP_COLUMNS)
    kind = name.split()[-1]
    low, high = layerstats.RANGES.get(kind, (0.0, 1.0))
    width = (high - low) / layerstats.BINS
    cells = [
        {"step": r["step"], "value": low + (b + 0.5) * width, "share": share}
        for r in layer_rows
        if r["step"] in keep
        for b, share in enumerate(r["hist"])
    ]
    return (
        alt.Chart(pd.DataFrame(cells))
        .mark_rect()
        .encode(
            x=alt.X("step:O", title="step", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("value:O", title="output", sort="descending", axis=alt.Axis(format=".2f", labelOverlap=True)),
            color=alt.Color("share:Q", title="share", scale=alt.Scale(type="sqrt", scheme="inferno")),
            tooltip=["step", alt.Tooltip("value:Q", format=".2f"), alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=HEIGHT, title=f"{name}: outputs over time")
    )
