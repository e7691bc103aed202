"""AppTest of the Data page: the tiny Fashion-MNIST, the offline fall-backs, the augmentation preview."""

import pytest

from tests.apptest import app

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_data_page(tiny_home):
    at = app("app_pages/data.py")
    assert not at.exception
    assert at.title[0].value == "Data: Fashion-MNIST"
    images = at.get("image")
    captions = [im.proto.imgs[0].caption for im in images[:3]]
    assert len(captions) == 3 and len({c.split(": ")[1] for c in captions}) == 3  # three different classes
    text = " ".join(m.value for m in at.markdown)
    assert "[1, 28, 28]" in text and "[64, 1, 28, 28]" in text and "[400, 1, 28, 28]" in text
    assert len(at.get("vega_lite_chart")) == 1  # class balance
    at.selectbox(key="grid_class").set_value("Trouser").run()
    grid = at.get("image")[3].proto.imgs
    assert grid and all("Trouser" in img.caption for img in grid)


def test_without_fashion_mnist_the_app_opens_on_an_offline_set(home):
    # starts on the Train page (the sidebar's notice), ends on the Data page
    at = app()
    assert at.selectbox(key="dataset").value == "mnist-5k" and not at.exception
    assert "Fashion-MNIST is not on this machine" in at.sidebar.info[0].value
    at.switch_page("app_pages/data.py").run()
    assert at.title[0].value == "Data: MNIST 5k (offline)" and len(at.get("image")) >= 3
    at.selectbox(key="dataset").set_value("fashion-mnist").run()
    assert "apt-get install dataset-fashion-mnist" in at.warning[0].value
    assert at.button[0].label.startswith("Download Fashion-MNIST now (needs internet, about 30 MB)")


def test_cifar10_offline_says_how_to_get_it_and_other_pages_work(home):
    # starts on the Data page, ends on the Model page (which needs no dataset files for CIFAR-10)
    at = app("app_pages/data.py")
    at.selectbox(key="dataset").set_value("cifar10").run()
    assert not at.exception and "must be downloaded once (170 MB)" in at.warning[0].value
    assert at.button[0].label.startswith("Download CIFAR-10 now")
    at.switch_page("app_pages/model.py").run()  # metadata only: the layer table needs no files
    at.selectbox(key="preset").set_value("lenet").run()
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == "62,006"


def test_data_page_previews_augmentation_on_an_offline_set(home):
    at = app("app_pages/data.py")  # no Fashion-MNIST here: MNIST 5k
    assert at.multiselect(key="preview_augment").value == ["flip", "crop"]
    images = at.get("image")
    assert len(images) == 3 + 1 + 2 + 2  # the trio, the grid, originals and augmented copies, originals and whitened copies
    assert images[5].proto.imgs[0].caption.endswith("augmented") and images[4].proto.imgs[0].caption.endswith("original")
    assert "color" not in at.multiselect(key="preview_augment").options  # grey-scale
    assert any("training images, on the [0, 1] scale: mean" in m.value for m in at.markdown)
    at.selectbox(key="dataset").set_value("moons").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1
