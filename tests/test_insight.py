"""Results views' engine: stored weights, predictions, confusion matrix, galleries, first layer,
feature maps, uploads."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground import insight, jobs
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.home import weights_path


def test_confusion_and_per_class_accuracy_by_hand():
    y = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 1, 0, 1, 1, 0])
    counts = insight.confusion(y, pred, 3)
    assert counts.tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert insight.row_normalized(counts)[0].tolist() == pytest.approx([2 / 3, 1 / 3, 0])
    assert insight.per_class_accuracy(counts).tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert insight.select(y, pred, mistakes_only=True).tolist() == [1, 5]
    assert insight.select(y, pred, true_class=0, predicted=1).tolist() == [1]
    assert insight.select(y, pred, true_class=1).tolist() == [3, 4]
    assert insight.top_k(np.array([[0.1, 0.7, 0.2]]), 2) == [[(1, 0.7), (2, 0.2)]]


def _finished(config: TrainConfig):
    manager = jobs.manager()
    job = manager.submit(config)
    assert job.wait(120)
    return manager.store.get(job.run_id)


def test_weights_round_trip_and_predictions_match_the_run(tiny_home):
    run = _finished(TrainConfig(model="fc32 relu", epochs=2, batch_size=16, normalize="standardize", val_split=0.1))
    assert weights_path(run.id).is_file()
    p = insight.predict(run)
    assert (p.pred == p.y).mean() == pytest.approx(run.final["test_accuracy"])  # the same pipeline as training
    state = torch.load(weights_path(run.id), weights_only=True)
    assert set(state) == {"1.weight", "1.bias", "3.weight", "3.bias"}
    label, images = insight.first_layer(insight.load_model(run), (1, 28, 28))
    assert images.shape == (32, 1, 28, 28) and images.dtype == np.uint8 and "32 units" in label
    jobs.manager().store.delete(run.id)
    assert not weights_path(run.id).exists()


def test_tampered_weights_are_refused(tiny_home):
    run = _finished(TrainConfig(model="fc8", epochs=1, batch_size=16))
    weights_path(run.id).write_bytes(b"not a checkpoint")
    with pytest.raises(PlaygroundError, match="cannot be read"):
        insight.load_model(run)


def test_cnn_filters_and_feature_maps(tiny_home):
    run = _finished(TrainConfig(model="conv4k3 relu pool2 conv6k3 relu", epochs=1, batch_size=16))
    model = insight.load_model(run)
    label, filters = insight.first_layer(model, (1, 28, 28))
    assert filters.shape == (4, 1, 3, 3) and "4 filters of 3x3" in label
    p = insight.predict(run)
    maps = insight.feature_maps(model, p.splits.prep(p.splits.x_test[:1]))
    assert [m.shape for _, m in maps] == [(4, 26, 26), (6, 11, 11)]


def test_disagreements_between_two_runs(tiny_home):
    a = insight.Predictions(np.array([0, 1, 2, 1]), np.eye(3)[[0, 1, 0, 0]], None)
    b = insight.Predictions(np.array([0, 1, 2, 1]), np.eye(3)[[0, 0, 2, 0]], None)
    right_a, right_b = insight.disagreements(a, b)
    assert right_a.tolist() == [1] and right_b.tolist() == [2]


def _png(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


def test_upload_accepts_a_png_and_converts_it():
    white = np.full((60, 80), 255, dtype=np.uint8)
    white[20:40, 30:50] = 0  # a dark square on white paper
    up = insight.prepare_upload(_png(white), (1, 28, 28))
    assert up.image.shape == (1, 28, 28) and up.image.dtype == torch.uint8
    assert up.inverted and up.image[0, 14, 14] > 200 and up.image[0, 0, 0] < 50  # light on dark, as MNIST
    rgb = insight.prepare_upload(_png(np.zeros((40, 40, 3), dtype=np.uint8), "JPEG"), (3, 32, 32))
    assert rgb.image.shape == (3, 32, 32) and not rgb.inverted


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4 not an image", "not a readable PNG or JPEG"),
        (b"x" * (insight.MAX_UPLOAD_BYTES + 1), "at most 5 MB"),
        (_png(np.zeros((8, 8), dtype=np.uint8), "GIF"), "upload a PNG or a JPEG"),
    ],
)
def test_upload_rejects_bad_files(data, message):
    with pytest.raises(PlaygroundError, match=message):
        insight.prepare_upload(data, (1, 28, 28))
