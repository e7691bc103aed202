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
    assert all(c.splitlines()[1].startswith((":green[✓ ", ":red[✗ ")) for c in captions)
    mistakes = [c for c in captions if ":red[✗ " in c]
    assert mistakes and mistakes[0].endswith("%]")
    assert at.selectbox(key="compare_other").value == second
    assert any("Right in run" in m.value for m in at.markdown)
    assert any("First layer" in m.value and "4 filters of 3x3" in m.value for m in at.markdown)
    labels = [b.label for b in at.get("download_button")]
    assert labels[:3] == ["Weights (state_dict, .pt)", "Config (JSON)", "Metrics per epoch (CSV)"] and "Download chart" in labels


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
