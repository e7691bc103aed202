"""AppTest of the Toy 2D page and of the Data page's augmentation preview."""

import time

from streamlit.testing.v1 import AppTest

from playground import jobs


def page(path: str) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
    return at.switch_page(path).run()


def test_toy_page_trains_in_the_background_stores_and_caches_the_run(home):
    at = page("app_pages/toy.py")
    assert not at.exception and at.title[0].value == "Toy 2D"
    assert len(at.get("vega_lite_chart")) == 1  # the points, before training
    at.selectbox(key="toy_set").set_value("xor").run()
    at.slider(key="toy_epochs").set_value(60).run()
    at.button(key="toy_train").click().run()
    assert not at.exception
    run_id = at.session_state.toy_run
    job = jobs.manager().job(run_id)
    assert job is not None and job.wait(120) and job.status == "completed"  # trained by the executor, not the page
    at.run()
    assert at.success and f"Run {run_id}: trained 60 epoch(s)" in at.success[0].value
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3  # after the first epoch, the latest, the loss per epoch
    assert "After epoch 60" in str(charts[1].proto.spec)
    store = jobs.manager().store
    assert store.get(run_id).config.dataset == "xor" and store.snapshots(run_id)[-1][0] == 60  # stored with its regions
    at.toggle(key="toy_baselines").set_value(True).run()
    captions = " ".join(c.value for c in at.caption)
    assert "linear SVM: train accuracy" in captions and "RBF-kernel SVM: train accuracy" in captions
    assert len(at.get("vega_lite_chart")) == 5
    fresh = AppTest.from_file("../streamlit_app.py", default_timeout=60).run().switch_page("app_pages/toy.py").run()
    fresh.selectbox(key="toy_set").set_value("xor").run()
    fresh.slider(key="toy_epochs").set_value(60).run()
    assert "After epoch 60" in str(fresh.get("vega_lite_chart")[1].proto.spec)  # another session: the stored run, no training
    assert "From the run store, nothing trained now" in fresh.success[0].value and f"as run {run_id}" in fresh.success[0].value
    fresh.button(key="toy_train").click().run()
    assert fresh.session_state.toy_run == run_id and len(store.list_runs()) == 1  # Train again: the cache
    assert "From the run store" in fresh.success[0].value


def test_toy_run_can_be_stopped(home):
    at = page("app_pages/toy.py")
    at.slider(key="toy_epochs").set_value(500).run()
    at.select_slider(key="toy_batch").set_value(1).run()
    at.button(key="toy_train").click().run()
    run_id = at.session_state.toy_run
    store = jobs.manager().store
    deadline = time.time() + 60
    while not store.snapshots(run_id):
        assert time.time() < deadline
        time.sleep(0.2)
    at.run()
    at.button(key=f"toy-stop-{run_id}").click().run()
    assert jobs.manager().job(run_id).wait(30)
    at.run()
    assert store.get(run_id).status == "stopped" and "stopped" in at.warning[0].value
    assert len(at.get("vega_lite_chart")) >= 2  # the regions so far are kept


def test_toy_page_explains_bad_settings(home):
    at = page("app_pages/toy.py")
    at.slider(key="toy_points").set_value(40).run()
    at.select_slider(key="toy_batch").set_value(256).run()
    assert "larger than the 28 training points" in at.error[0].value


def test_data_page_previews_augmentation_on_an_offline_set(home):
    at = page("app_pages/data.py")  # no Fashion-MNIST here: MNIST 5k
    assert at.multiselect(key="preview_augment").value == ["flip", "crop"]
    images = at.get("image")
    assert len(images) == 3 + 1 + 2  # the trio, the grid, originals and augmented copies
    assert images[5].proto.imgs[0].caption.endswith("augmented") and images[4].proto.imgs[0].caption.endswith("original")
    assert "color" not in at.multiselect(key="preview_augment").options  # grey-scale
    assert any("training images, on the [0, 1] scale: mean" in m.value for m in at.markdown)
    at.selectbox(key="dataset").set_value("moons").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1
