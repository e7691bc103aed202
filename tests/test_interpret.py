"""Why the model errs: top losses, most confused pairs, penultimate features, PCA and t-SNE, saliency
maps, each checked against a reference (a direct loss per image, scikit-learn, a manual forward,
Captum and plain torch.autograd) on fixed tiny models and images."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import InputXGradient, LayerAttribution, LayerGradCam, Saliency
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import confusion_matrix
from threadpoolctl import threadpool_limits
from torch import nn

from playground import insight, interpret, projector, saliency
from playground.augment import Normalizer
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.families import build_model
from playground.loop import Splits

CLASSES = tuple(f"c{i}" for i in range(10))
CNN = "conv4k3 relu pool2 conv6k3 relu fc16 relu"


def _model(text: str = CNN, shape=(1, 28, 28), seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(text, shape, 10, load_weights=False).eval()


def _splits(n_test: int = 40, shape=(1, 28, 28), seed: int = 1, normalize: str = "standardize") -> Splits:
    g = torch.Generator().manual_seed(seed)
    images = lambda n: torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)  # noqa: E731
    labels = lambda n: torch.randint(0, 10, (n,), generator=g)  # noqa: E731
    x_train = images(50)
    return Splits(x_train, labels(50), images(0), labels(0), images(n_test), labels(n_test), Normalizer.fit(normalize, x_train))


def _predictions(model: nn.Module, sp: Splits) -> insight.Predictions:
    with torch.no_grad():
        probs = model(sp.prep(sp.x_test)).softmax(dim=1)
    return insight.Predictions(sp.y_test.numpy(), probs.numpy(), sp)


# --- top losses and most confused ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "smoothing"), [("cross-entropy", 0.0), ("cross-entropy", 0.1), ("mse", 0.0)])
def test_top_losses_are_each_images_own_loss_sorted(kind, smoothing):
    model, sp = _model(), _splits()
    losses = interpret.test_losses(model, sp, interpret.loss_of(TrainConfig(loss=kind, label_smoothing=smoothing), 10), chunk=7)
    with torch.no_grad():
        logits = model(sp.prep(sp.x_test))
    for i in range(len(sp.y_test)):  # one image at a time, written out
        z, y = logits[i], int(sp.y_test[i])
        if kind == "mse":
            expected = ((z.softmax(0) - F.one_hot(torch.tensor(y), 10).float()) ** 2).mean()
        else:
            logp = z.log_softmax(0)
            expected = -(1 - smoothing) * logp[y] - smoothing / 10 * logp.sum()
        assert losses[i] == pytest.approx(float(expected), rel=1e-5, abs=1e-7)
    top = interpret.top_losses(losses, 12)
    assert len(top) == 12 and np.all(np.diff(losses[top]) <= 0) and losses[top[0]] == losses.max()
    assert set(top) == set(np.argsort(-losses)[:12])


def test_top_loss_table_names_each_images_classes_and_probabilities():
    model, sp = _model(), _splits()
    p = _predictions(model, sp)
    losses = interpret.test_losses(model, sp, interpret.loss_of(TrainConfig(), 10))
    table = interpret.top_loss_table(p, losses, 5, CLASSES)
    assert list(table.columns) == ["image", "true", "predicted", "p(predicted)", "p(true)", "loss"]
    for _, row in table.iterrows():
        i = row["image"]
        assert row["true"] == CLASSES[p.y[i]] and row["predicted"] == CLASSES[p.pred[i]] and row["loss"] == losses[i]
        assert row["p(predicted)"] == pytest.approx(p.probs[i].max()) and row["p(true)"] == pytest.approx(p.probs[i, p.y[i]])
        assert row["loss"] == pytest.approx(-np.log(row["p(true)"]), rel=1e-4)  # cross-entropy without smoothing


def test_ties_in_the_top_losses_keep_the_lower_index_first():
    assert interpret.top_losses(np.array([1.0, 3.0, 2.0, 3.0]), 3).tolist() == [1, 3, 2]


def test_most_confused_counts_are_the_confusion_matrix_off_its_diagonal():
    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    classes = ("a", "b", "c", "d")
    table = interpret.most_confused(y, pred, classes)
    cm = confusion_matrix(y, pred, labels=range(4))
    assert len(table) == 12 and table["count"].sum() == cm.sum() - np.trace(cm)
    for _, row in table.iterrows():
        t, q = classes.index(row["true"]), classes.index(row["predicted"])
        assert t != q and row["count"] == cm[t, q] and row["share"] == pytest.approx(cm[t, q] / cm[t].sum())
    assert table["count"].is_monotonic_decreasing
    assert interpret.most_confused(y, pred, classes, min_count=cm.max() + 1).empty
    assert interpret.most_confused(y, y, classes).empty  # no mistakes, no pairs


# --- penultimate features and their projection --------------------------------------------------


def test_penultimate_features_are_the_last_linear_layers_input():
    model, sp = _model(), _splits(n_test=30)
    features = interpret.penultimate(model, sp, 25, chunk=10)
    with torch.no_grad():
        manual = model[:-1](sp.prep(sp.x_test[:25]))  # every layer up to the last Linear
    assert isinstance(model[-1], nn.Linear) and features.shape == (25, 16)
    np.testing.assert_allclose(features, manual.numpy(), rtol=1e-5, atol=1e-6)  # chunks of 10 against one batch of 25
    assert not model[-1]._forward_hooks  # the hook is gone afterwards


def test_penultimate_features_of_resnet18_are_its_pooled_512_numbers():
    model, sp = _model("resnet18 scratch r32"), _splits(n_test=6)
    features = interpret.penultimate(model, sp, 6)
    net = model[1]
    with torch.no_grad():
        manual = torch.flatten(nn.Sequential(*list(net.children())[:-1])(model[0](sp.prep(sp.x_test))), 1)
    assert features.shape == (6, 512)
    np.testing.assert_allclose(features, manual.numpy(), rtol=1e-5, atol=1e-6)


def test_a_linear_model_sees_the_pixels():
    assert interpret.sees_pixels(_model("")) and not interpret.sees_pixels(_model("fc8 relu"))
    assert interpret.pixels(_splits(), 3).shape == (3, 784)


def test_pca_and_tsne_are_scikit_learns():
    features = np.random.default_rng(0).normal(size=(60, 20))
    np.testing.assert_allclose(projector.project(features, "PCA"), PCA(n_components=2, random_state=0).fit_transform(features))
    with threadpool_limits(1, user_api="openmp"):  # as projector runs it (see its docstring)
        expected = TSNE(n_components=2, perplexity=min(30, 59 / 3), init="pca", random_state=0).fit_transform(features)
    np.testing.assert_allclose(projector.project(features, "t-SNE"), expected, rtol=1e-5, atol=1e-5)
    before, after = projector.project_both(features[:, :10], features, "t-SNE")  # two threads
    np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-5)
    assert before.shape == (60, 2) and not np.allclose(before, after)
    with pytest.raises(PlaygroundError, match="t-SNE needs at least 5 test images"):
        projector.project(features[:4], "t-SNE")


def test_tsne_of_many_dimensions_goes_through_50_principal_components_first():
    features = np.random.default_rng(1).normal(size=(40, 80))
    reduced = PCA(n_components=40, random_state=0).fit_transform(features)
    with threadpool_limits(1, user_api="openmp"):
        expected = TSNE(n_components=2, perplexity=13, init="pca", random_state=0).fit_transform(reduced)
    np.testing.assert_allclose(projector.project(features, "t-SNE"), expected, rtol=1e-5, atol=1e-5)


# --- saliency -----------------------------------------------------------------------------------


def _image(shape=(1, 28, 28), seed: int = 3) -> torch.Tensor:
    return _splits(n_test=1, shape=shape, seed=seed).prep(_splits(n_test=1, shape=shape, seed=seed).x_test)


def test_saliency_maps_equal_captums_own():
    model, x = _model(), _image()
    cam = LayerGradCam(model, model[3]).attribute(x, target=4, relu_attributions=True)  # model[3]: the last Conv2d
    np.testing.assert_allclose(
        saliency.attribution(model, x, 4, saliency.GRAD_CAM), LayerAttribution.interpolate(cam, (28, 28), "bilinear")[0, 0].detach()
    )
    grad = Saliency(model).attribute(x.clone().requires_grad_(), target=4)
    np.testing.assert_allclose(saliency.attribution(model, x, 4, saliency.INPUT_GRADIENT), grad[0].amax(0))
    gxi = InputXGradient(model).attribute(x.clone().requires_grad_(), target=4)
    np.testing.assert_allclose(saliency.attribution(model, x, 4, saliency.GRADIENT_X_INPUT), gxi[0].sum(0).detach())


def test_saliency_maps_equal_a_computation_with_autograd():
    model, x = _model(), _image()
    x = x.clone().requires_grad_(True)
    conv = model[3]
    A = model[:4](x)  # the last conv layer's maps [1, 6, 11, 11]
    score = model[4:](A)[0, 7]
    dA, dx = torch.autograd.grad(score, (A, x))
    weights = dA.mean(dim=(2, 3), keepdim=True)  # one weight per map: its mean gradient
    cam = F.interpolate(F.relu((weights * A).sum(1, keepdim=True)), size=(28, 28), mode="bilinear", align_corners=False)
    assert isinstance(conv, nn.Conv2d)
    np.testing.assert_allclose(saliency.attribution(model, x, 7, saliency.GRAD_CAM), cam[0, 0].detach(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(saliency.attribution(model, x, 7, saliency.INPUT_GRADIENT), dx[0].abs().amax(0), rtol=1e-5)
    np.testing.assert_allclose(
        saliency.attribution(model, x, 7, saliency.GRADIENT_X_INPUT), (dx * x)[0].sum(0).detach(), rtol=1e-5, atol=1e-7
    )


def test_grad_cam_on_resnet18_and_colour_images():
    model, x = _model("resnet18 scratch r32", (3, 32, 32)), _image((3, 32, 32))
    assert saliency.methods_for(model, (3, 32, 32)) == saliency.METHODS
    assert saliency.last_conv(model) is model[1].layer4[1].conv2
    for method in saliency.METHODS:
        heat = saliency.attribution(model, x, 2, method)
        assert heat.shape == (32, 32) and np.isfinite(heat).all()


def test_an_mlp_gets_the_gradients_and_no_grad_cam():
    model = _model("fc16 relu")
    assert saliency.methods_for(model, (1, 28, 28)) == (saliency.INPUT_GRADIENT, saliency.GRADIENT_X_INPUT)
    with pytest.raises(PlaygroundError, match="Grad-CAM needs a convolutional layer"):
        saliency.attribution(model, _image(), 0, saliency.GRAD_CAM)


def test_a_toy_run_is_refused_with_a_clear_message():
    toy = _model("fc8 tanh", (2,))
    with pytest.raises(PlaygroundError, match="toy 2D points are two numbers, not pixels: the Toy 2D page"):
        saliency.methods_for(toy, (2,))
    with pytest.raises(PlaygroundError, match="toy 2D points are two numbers"):
        saliency.attribution(toy, torch.zeros(1, 2), 0, saliency.INPUT_GRADIENT)


def test_overlay_shows_the_image_where_the_map_is_zero_and_colour_where_it_is_strong():
    image = np.full((1, 4, 4), 100, dtype=np.uint8)
    heat = np.zeros((4, 4))
    heat[0, 0], heat[3, 3] = 1.0, -1.0
    rgb = saliency.overlay(image, heat, signed=True)
    assert rgb.shape == (4, 4, 3) and rgb.dtype == np.uint8
    assert (rgb[1, 1] == 100).all()  # no map: the grey image
    assert rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[3, 3, 2] > rgb[3, 3, 0]  # positive red, negative blue
    assert (saliency.overlay(image, np.zeros((4, 4)), signed=False) == 100).all()
