"""The altair charts' specs: a blow-up on a log scale, nan and inf marked (never a broken chart),
whole-number epoch axes, and model labels that fit their legend. Asserted on chart.to_dict(), and
each spec rendered once by vl-convert (as the Results page's export does) to show Vega accepts it."""

from __future__ import annotations

import json

import pytest
import vl_convert as vlc

from playground.ui import charts
from playground.ui.compare_charts import Series, epoch_overlay, step_loss_overlay


def walk(spec):
    """Every dict inside a Vega-Lite spec (layers within layers)."""
    if isinstance(spec, dict):
        yield spec
        for v in spec.values():
            yield from walk(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from walk(v)


def y_scales(spec: dict) -> list[dict]:
    return [d["y"].get("scale", {}) for d in walk(spec) if isinstance(d.get("y"), dict) and "field" in d["y"]]


def rules(spec: dict, color: str = charts.NOT_FINITE_COLOR) -> list[dict]:
    return [d for d in walk(spec) if d.get("mark", {}) == {"type": "rule", "color": color, "strokeDash": [2, 2], "strokeWidth": 1.5}]


def data_of(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][layer["data"]["name"]]


def renders(chart) -> dict:
    spec = chart.to_dict()
    json.dumps(spec, allow_nan=False)  # no NaN or Infinity reaches the browser
    vlc.vegalite_to_svg(spec)  # Vega draws it
    return spec


def blow_up() -> list[dict]:
    """Losses near ln(10), then 1e22 for a while, a spike of 7e35, and a nan (stored as NULL) and an inf."""
    losses = [2.3 - 0.01 * i for i in range(100)] + [1e22] * 50 + [7e35] + [1e22] * 10 + [None, float("inf")]
    return [{"step": i, "epoch": 1 + i // 100, "loss": loss} for i, loss in enumerate(losses, 1)]


def test_step_loss_draws_a_blow_up_on_a_log_scale_and_marks_nan_and_inf():
    spec = renders(charts.step_loss(blow_up(), 10))
    assert {"type": "log"} in y_scales(spec)
    assert "log scale" in spec["title"]["subtitle"] and "2 steps whose loss was nan or inf" in spec["title"]["subtitle"]
    (marks,) = rules(spec)
    assert [row["step"] for row in data_of(spec, marks)] == [162, 163]


def test_step_loss_of_a_healthy_run_stays_linear_and_an_exact_zero_does_not_break_a_log_scale():
    healthy = [{"step": i, "epoch": 1, "loss": 2.3 / i} for i in range(1, 200)]  # 2.3 down to 0.012: under 3 orders
    spec = renders(charts.step_loss(healthy, 10))
    assert all(s.get("type") != "log" for s in y_scales(spec)) and not rules(spec) and spec["title"] == "Loss per step"
    fitted = [{"step": i, "epoch": 1, "loss": 10.0**-i} for i in range(6)] + [{"step": 6, "epoch": 1, "loss": 0.0}]
    spec = renders(charts.step_loss(fitted, 10))
    assert {"type": "log"} in y_scales(spec)
    layer = next(d for d in walk(spec) if d.get("mark", {}).get("opacity") == 0.3)
    assert min(row["shown"] for row in data_of(spec, layer)) == pytest.approx(1e-5)  # 0 drawn at the floor, shown as 0
    assert renders(charts.step_loss([], 10))  # a starting run's empty frame


def test_epoch_axes_are_whole_numbers():
    one = [{"epoch": 1, "train_loss": 0.5, "test_loss": 0.6, "train_accuracy": 0.8, "test_accuracy": 0.7}]
    for chart in (
        charts.epoch_metric(one, "accuracy"),
        charts.epoch_metric(one, "loss"),
        charts.learning_rate([{"epoch": 1, "lr": 0.1}], "step"),
        epoch_overlay([Series("a", 0, one, [], 1)], "test_accuracy", "t", "lr"),
    ):
        spec = renders(chart)
        (x,) = [d["x"] for d in walk(spec) if isinstance(d.get("x"), dict) and d["x"].get("field") == "epoch"]
        assert x["axis"]["format"] == "d" and x["axis"]["tickMinStep"] == 1


def test_step_axes_are_whole_numbers():
    steps = [{"step": i, "epoch": 1, "loss": 2.0, "grad_mean": 0.1, "grad_abs_mean": 0.2} for i in (1, 2, 3)]
    for chart in (charts.step_loss(steps, 10), charts.gradient(steps, "grad_mean", "t")):
        spec = renders(chart)
        axes = [d["x"]["axis"] for d in walk(spec) if isinstance(d.get("x"), dict) and d["x"].get("field") == "step" and "axis" in d["x"]]
        assert axes and all(a["format"] == ",d" and a["tickMinStep"] == 1 for a in axes)


def test_epoch_loss_blow_up_is_on_a_log_scale():
    epochs = [
        {
            "epoch": e,
            "train_loss": 10.0 ** (10 * e),
            "test_loss": float("inf") if e == 3 else 1.0,
            "train_accuracy": 0.1,
            "test_accuracy": 0.1,
        }
        for e in (1, 2, 3)
    ]
    assert {"type": "log"} in y_scales(renders(charts.epoch_metric(epochs, "loss")))
    spec = renders(epoch_overlay([Series("1", 0, epochs, [], 1)], "train_loss", "Training loss per epoch", "learning rate"))
    assert {"type": "log"} in y_scales(spec)


def _series(label: str, losses: list, seed: int = 0) -> Series:
    return Series(label, seed, [], [{"step": i, "epoch": 1, "loss": v} for i, v in enumerate(losses, 1)], 10)


def test_step_loss_overlay_draws_a_blow_up_on_a_log_scale_and_marks_where_a_run_became_nan():
    diverged = [2.3] * 10 + [1e22] * 9 + [7e35] + [None, None]
    spec = renders(step_loss_overlay([_series("1", diverged), _series("0.1", [2.3 - 0.05 * i for i in range(22)])], "learning rate", 10))
    assert {"type": "log"} in y_scales(spec) and "log scale" in spec["title"]["subtitle"]
    (marks,) = rules(spec)
    assert data_of(spec, marks) == [{"epoch_pos": 2.1, "label": "1", "note": "the loss was nan or inf"}]  # the first nan only
    calm = renders(step_loss_overlay([_series("0.1", [2.3 - 0.05 * i for i in range(22)])], "learning rate", 10))
    assert all(s.get("type") != "log" for s in y_scales(calm)) and not rules(calm)
    assert renders(step_loss_overlay([_series("x", [float("nan")] * 3)], "learning rate", 10))  # nothing finite at all


def test_long_labels_get_a_legend_that_shows_them_whole():
    from playground import sweeps

    labels = [
        sweeps.label("model", m)
        for m in ("fc512 relu fc512 relu", "conv32k3p1 bn relu pool2 conv64k3 bn relu pool2 fc600 relu drop0.25 fc120 relu")
    ]
    spec = renders(step_loss_overlay([_series(x, [2.3, 2.0, 1.8]) for x in labels], "model", 10))
    (legend,) = [d["color"]["legend"] for d in walk(spec) if isinstance(d.get("color"), dict) and "legend" in d["color"]]
    assert legend["orient"] == "bottom" and legend["labelLimit"] == 0
