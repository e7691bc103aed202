"""A lab deliverable's charts and images as the page and the exports draw them (Altair, PNG)."""

from __future__ import annotations

import io

import altair as alt
import numpy as np
import pandas as pd

from playground.labs.deliver import Chart

LOG_SPAN = 1e3  # a loss spanning more than three orders of magnitude is drawn on a log scale


def chart(c: Chart, width: int = 420, height: int = 260) -> alt.Chart:
    """One line per run (a sweep's values, or train/test), x the epoch or the step."""
    split = any("split" in p for p in c.points)
    df = pd.DataFrame(c.points, columns=[c.x, c.y, "run", *(["split"] if split else [])])
    values = df[c.y].abs()
    log = c.y == "loss" and len(values) and values.min() > 0 and values.max() / values.min() > LOG_SPAN
    y = alt.Y(f"{c.y}:Q", title=c.y, scale=alt.Scale(type="log") if log else alt.Undefined)
    if "accuracy" in c.y:
        y = alt.Y(f"{c.y}:Q", title=c.y, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    return (
        alt.Chart(df, title=c.title, width=width, height=height)
        .mark_line(point=len(df) < 60)
        .encode(
            x=alt.X(f"{c.x}:Q", title=c.x, axis=alt.Axis(tickMinStep=1, format="d")),
            y=y,
            color=alt.Color("run:N", title=None, sort=None),
            tooltip=["run", *(["split"] if split else []), c.x, alt.Tooltip(f"{c.y}:Q", format=".4f")],
            # train solid, test dashed: one colour per run, however many runs
            strokeDash=alt.StrokeDash("split:N", title=None, sort=["train", "test"]) if split else alt.Undefined,
        )
    )


def png(image: np.ndarray, scale: int = 4) -> bytes:
    """A uint8 image [H, W, C] (C = 1 or 3) as PNG bytes, enlarged scale times without smoothing."""
    from PIL import Image

    img = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
