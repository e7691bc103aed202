"""AppTest of the Toy 2D page and of the Data page's augmentation preview."""

from streamlit.testing.v1 import AppTest


def page(path: str) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
    return at.switch_page(path).run()


def test_toy_page_trains_and_draws_the_decision_regions(home):
    at = page("app_pages/toy.py")
    assert not at.exception and at.title[0].value == "Toy 2D"
    assert len(at.get("vega_lite_chart")) == 1  # the points, before training
    at.selectbox(key="toy_set").set_value("xor").run()
    at.slider(key="toy_epochs").set_value(60).run()
    at.button(key="toy_train").click().run()
    assert not at.exception
    assert at.success and "Trained 60 epoch(s)" in at.success[0].value
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # after the first epoch, and the latest
    at.toggle(key="toy_baselines").set_value(True).run()
    captions = " ".join(c.value for c in at.caption)
    assert "linear SVM: train accuracy" in captions and "RBF-kernel SVM: train accuracy" in captions
    assert len(at.get("vega_lite_chart")) == 4
    at.run()  # a rerun keeps the trained result on screen
    assert "After epoch 60" in str(at.get("vega_lite_chart")[1].proto.spec)


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
