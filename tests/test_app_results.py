"""AppTest of the Results page on runs trained on the tiny Fashion-MNIST."""

from streamlit.testing.v1 import AppTest

from playground import jobs
from playground.config import TrainConfig


def trained(**kw) -> int:
    job = jobs.manager().submit(TrainConfig(**{"model": "conv4k3 relu pool2 fc16 relu", "epochs": 2, "batch_size": 16, **kw}))
    assert job.wait(120)
    return job.run_id


def test_results_page_views(tiny_home):
    first, second = trained(lr=0.01, epochs=1), trained(augment="flip")  # the first still makes mistakes
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
    at.switch_page("app_pages/results.py").run()
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


def test_share_link_round_trip(tiny_home):
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    at.query_params.update({"model": "fc64 relu", "lr": "0.01", "epochs": "7", "batch": "16", "opt": "adam", "aug": "flip", "val": "0.2", "stop": "3"})
    at.run()
    assert not at.exception and not at.warning
    assert at.text_input(key="spec_text").value == "fc64 relu" and at.number_input(key="b_fc0_n").value == 64
    assert (at.select_slider(key="lr").value, at.number_input(key="epochs").value, at.select_slider(key="batch_size").value) == (0.01, 7, 16)
    assert at.selectbox(key="optimizer").value == "adam" and at.multiselect(key="augment_list").value == ["flip"]
    assert at.number_input(key="early_stopping").value == 3
    at.select_slider(key="lr").set_value(0.03).run()
    assert at.query_params["lr"] == "0.03" and at.query_params["model"] == "fc64 relu"


def test_tampered_share_link_is_explained(tiny_home):
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    at.query_params.update({"lr": "-1", "epochs": "many", "dataset": "imagenet", "model": "fc64 relu fcx", "batch": "32"})
    at.run()
    assert not at.exception
    text = at.warning[0].value
    assert "lr = -1.0 is not allowed" in text and "epochs = 'many' is not allowed" in text and "unknown dataset 'imagenet'" in text and "bad layer 'fcx'" in text
    assert at.select_slider(key="batch_size").value == 32  # the good settings are kept
    assert at.select_slider(key="lr").value == 0.1


def test_toy_run_charts_and_a_stopped_run_explained(home):
    import json
    import re
    import time

    manager = jobs.manager()
    job = manager.submit(TrainConfig(dataset="circles", model="fc8 tanh", epochs=500, batch_size=1, optimizer="adam", lr=0.03))
    deadline = time.time() + 60
    while not manager.store.epochs(job.run_id):  # one epoch completed, then stop mid-way through a later one
        assert time.time() < deadline
        time.sleep(0.2)
    job.stop()
    assert job.wait(30)
    run = manager.store.get(job.run_id)
    assert run.status == "stopped" and "test_accuracy" in run.final
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception
    line = at.caption[0].value
    step, epoch = re.search(r"at step (\d+) \(epoch (\d+)\)", run.message).groups()
    assert f"of the weights at the stop (step {step}, epoch {epoch}), re-evaluated on the 120 test points" in line
    assert line.endswith(f"scored {run.final['test_accuracy']:.2%}.") and "test images" not in line
    matrix, bars = (json.loads(c.proto.spec) for c in at.get("vega_lite_chart")[:2])
    assert matrix["width"] == matrix["height"] >= 240  # a 2x2 matrix is a square, not a strip
    assert bars["height"] >= 120 and "Test accuracy per class" in str(bars["title"])
