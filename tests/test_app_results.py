"""AppTest of the Results page on runs trained for the test (the tiny Fashion-MNIST, a toy set)."""

import json
import re

import pytest

from playground import jobs
from playground.config import TrainConfig
from tests.apptest import app, wait_for_job, wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def trained(**kw) -> int:
    config = TrainConfig(**{"model": "conv4k3 relu pool2 fc16 relu", "epochs": 2, "batch_size": 16, **kw})
    return wait_for_job(jobs.manager().submit(config), 120, f"a tiny run to look at: {config.model}, {config.epochs} epoch(s)").run_id


def test_results_page_without_runs_says_where_runs_come_from(home):
    at = app("app_pages/results.py")
    assert not at.exception and at.title[0].value == "Results"
    assert at.info[0].value == "No finished run with stored weights yet: train one on the Train page, then come back."


def test_results_page_views(tiny_home):
    first, second = trained(lr=0.01, epochs=1), trained(augment="flip")  # the first still makes mistakes
    at = app("app_pages/results.py")
    assert not at.exception and at.selectbox(key="results_run").value == second  # the newest
    at.selectbox(key="results_run").set_value(first).run()
    assert "on 100 test images" in at.caption[0].value
    assert len(at.get("vega_lite_chart")) >= 2  # confusion matrix, per-class accuracy
    at.selectbox(key="cm_true").set_value("Trouser").run()
    at.selectbox(key="cm_pred").set_value("Trouser").run()
    assert any("test images of *Trouser* predicted as *Trouser*" in m.value for m in at.markdown)
    at.toggle(key="gallery_mistakes").set_value(True).run()
    captions = [img.caption for im in at.get("image") for img in im.proto.imgs if img.caption.startswith("\\#")]
    assert captions and all(len(c.splitlines()) == 2 for c in captions)  # two short lines: index and class; the verdict
    # the gallery's mistakes, and the compare tab's images under the wrong run's prediction: every caption a ✗
    assert all(c.splitlines()[1].startswith(":red[✗ ") and c.endswith("%]") for c in captions)
    assert at.selectbox(key="compare_other").value == second
    assert any("Right in run" in m.value for m in at.markdown)
    assert any("First layer" in m.value and "4 filters of 3x3" in m.value for m in at.markdown)
    labels = [b.label for b in at.get("download_button")]
    assert labels[:3] == ["Weights (state_dict, .pt)", "Config (JSON)", "Metrics per epoch (CSV)"] and "Download chart" in labels


def test_the_test_predictions_are_computed_once_per_run_not_on_every_visit(tiny_home, monkeypatch):
    from playground import insight

    run_id, calls = trained(epochs=1), []
    predict = insight.predict
    monkeypatch.setattr(insight, "predict", lambda run: calls.append(run.id) or predict(run))
    at = app("app_pages/results.py")
    at.toggle(key="gallery_mistakes").set_value(True).run()  # a widget's rerun
    at.switch_page("app_pages/train.py").run().switch_page("app_pages/results.py").run()  # away and back
    assert not at.exception and calls == [run_id]


def test_toy_run_charts_and_a_stopped_run_explained(home):
    manager = jobs.manager()
    job = manager.submit(TrainConfig(dataset="circles", model="fc8 tanh", epochs=500, batch_size=1, optimizer="adam", lr=0.03))
    # one epoch completed, then stop mid-way through a later one
    wait_until(lambda: manager.store.epochs(job.run_id), 60, f"the first epoch of toy run {job.run_id} in the run store")
    job.stop()
    wait_for_job(job, 30, "Stop was asked for")
    run = manager.store.get(job.run_id)
    assert run.status == "stopped" and "test_accuracy" in run.final
    at = app("app_pages/results.py")
    assert not at.exception
    line = at.caption[0].value
    step, epoch = re.search(r"at step (\d+) \(epoch (\d+)\)", run.message).groups()
    assert f"of the weights at the stop (step {step}, epoch {epoch}), re-evaluated on the 120 test points" in line
    assert line.endswith(f"scored {run.final['test_accuracy']:.2%}.") and "test images" not in line
    matrix, bars = (json.loads(c.proto.spec) for c in at.get("vega_lite_chart")[:2])
    assert matrix["width"] == matrix["height"] >= 240  # a 2x2 matrix is a square, not a strip
    assert bars["height"] >= 120 and "Test accuracy per class" in str(bars["title"])


# --- "Why it errs": top losses, most confused, projector, saliency (playground/ui/errors_view.py) ---


def _why(at, view: str):
    at.segmented_control(key="why_view").set_value(view).run()
    assert not at.exception, at.exception
    return at


def test_why_it_errs_top_losses_and_most_confused(tiny_home):
    from playground import datasets, insight, interpret

    run = jobs.manager().store.get(trained(lr=0.01, epochs=1))  # still makes mistakes
    p = insight.predict(run)
    losses = interpret.test_losses(insight.load_model(run), p.splits, interpret.loss_of(run.config, 10))
    at = app("app_pages/results.py")
    assert not at.exception and at.segmented_control(key="why_view").value == "Top losses"
    table = at.dataframe[0].value
    worst = int(losses.argmax())
    assert len(table) == 12 and table["image"].iloc[0] == worst and table["loss"].iloc[0] == pytest.approx(losses.max())
    assert table["loss"].is_monotonic_decreasing and table["p(true)"].iloc[0] == pytest.approx(100 * p.probs[worst, p.y[worst]])
    captions = [img.caption for im in at.get("image") for img in im.proto.imgs if img.caption.startswith("loss ")]
    assert len(captions) == 12 and captions[0].splitlines()[:2] == [f"loss {losses.max():.3g}  ", f"\\#{worst} {table['true'].iloc[0]}  "]
    at.select_slider(key="top_count").set_value(24).run()
    assert len(at.dataframe[0].value) == 24
    at.button(key="top_saliency").click().run()  # "Saliency map" of the picked top loss (the worst by default)
    assert at.segmented_control(key="why_view").value == "Saliency" and at.number_input(key="saliency_index").value == worst

    _why(at, "Most confused")
    confused = at.dataframe[0].value
    expected = interpret.most_confused(p.y, p.pred, datasets.info("fashion-mnist").classes)
    assert confused.equals(expected.assign(share=100 * expected["share"])) and confused["count"].sum() == int((p.y != p.pred).sum())
    true, predicted, count = confused.iloc[0][["true", "predicted", "count"]]
    assert at.selectbox(key="confused_pair").value == f"{true} → {predicted}"
    assert any(f"**{count}** test images of *{true}* predicted as *{predicted}*" in m.value for m in at.markdown)
    if len(confused) > 1:
        true, predicted, count = confused.iloc[1][["true", "predicted", "count"]]
        at.selectbox(key="confused_pair").set_value(f"{true} → {predicted}").run()
        assert any(f"**{count}** test images of *{true}* predicted as *{predicted}*" in m.value for m in at.markdown)


def test_why_it_errs_projector_and_saliency(tiny_home):
    trained(epochs=1)
    at = _why(app("app_pages/results.py"), "Projector")
    why = next(t for t in at.tabs if t.label == "Why it errs")
    spec = json.loads(why.get("vega_lite_chart")[-1].proto.spec)
    assert [c["title"] for c in spec["hconcat"]] == ["Raw pixels (no training)", "Penultimate layer (after training)"]
    assert spec["params"][0]["views"] == ["pixels", "features"]  # a click picks the image in both plots
    assert any("The same 100 test images twice" in c.value and "PCA keeps" in c.value for c in at.caption)
    at.segmented_control(key="projector_method").set_value("t-SNE").run()
    assert not at.exception and any("t-SNE places images" in c.value for c in at.caption)

    _why(at, "Saliency")
    at.number_input(key="saliency_index").set_value(5).run()
    assert not at.exception
    rows = [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and "  \n" in m.value]
    assert rows == ["Grad-CAM", "Input gradient", "Gradient × input"]  # a CNN: all three
    assert at.selectbox(key="saliency_class_test").value is None  # the true class by default
    at.selectbox(key="saliency_class_test").set_value(3).run()
    assert not at.exception and any(m.value.startswith("For the class") and "**Dress**" in m.value for m in at.markdown)


def test_why_it_errs_on_a_toy_run_says_what_has_no_images(home):
    wait_for_job(jobs.manager().submit(TrainConfig(dataset="circles", model="fc8 tanh", epochs=2, batch_size=16)), 60, "a toy run")
    at = app("app_pages/results.py")
    assert not at.exception and len(at.dataframe[0].value) == 12  # top losses: a table, no gallery
    _why(at, "Saliency")
    assert any("toy 2D points are two numbers, not pixels: the Toy 2D page" in i.value for i in at.info)
    _why(at, "Projector")
    assert any("Toy points are two numbers already" in i.value for i in at.info)
    _why(at, "Most confused")


def test_inside_the_network_tab_draws_the_layer_charts_and_the_diagnosis(tiny_home):
    run_id = trained(lr=0.01, epochs=1)
    at = app("app_pages/results.py")
    at.selectbox(key="results_run").set_value(run_id).run()
    assert not at.exception
    tab = next(t for t in at.tabs if t.label == "Inside the network")
    charts = tab.get("vega_lite_chart")
    assert len(charts) >= 3  # gradient norm, update ratio, dead units (ReLU), the heatmap of the chosen layer
    specs = [json.dumps(json.loads(c.proto.spec)) for c in charts]
    assert any("Gradient norm |dL/dW| per layer" in s for s in specs) and any("outputs over time" in s for s in specs)
    assert any(c.value.startswith("Lines run from the first layer (dark)") for c in tab.caption)
    assert not any(b.label.startswith("Try ") for b in tab.button)  # fixes train from the Train page
