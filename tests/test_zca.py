"""ZCA whitening (normalize zca): the math against numpy and scikit-learn, fitted on the training
split only, a tiny run (alone and grouped), the settings in the link and the CLI, the Data page."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from playground import cli, settings, zca
from playground.augment import Normalizer, unit
from playground.cli.common import train_config
from playground.config import TrainConfig
from playground.events import EpochEvent, StepEvent
from playground.grouped import groupable, train_group
from playground.loop import make_splits
from playground.train import train
from tests.apptest import app

CPU = torch.device("cpu")
TINY = TrainConfig(model="fc32 relu", lr=0.1, epochs=2, batch_size=16, train_limit=200, test_limit=100, normalize="zca")


def images(n: int, seed: int) -> torch.Tensor:
    """n uint8 images [n, 3, 4, 4] (D = 48) whose neighbouring pixels are correlated: a smooth field
    (2x2 upsampled) plus uniform noise, so every direction has a variance of at least about 0.007."""
    g = torch.Generator().manual_seed(seed)
    smooth = F.interpolate(torch.rand(n, 3, 2, 2, generator=g), size=(4, 4), mode="bilinear", align_corners=True)
    return ((0.7 * smooth + 0.3 * torch.rand(n, 3, 4, 4, generator=g)) * 255).round().to(torch.uint8)


def covariance(z: torch.Tensor) -> torch.Tensor:
    z = z.flatten(1).double()
    z = z - z.mean(0)
    return z.T @ z / len(z)


def test_whitened_training_images_have_identity_covariance():
    x = images(500, 0)
    before = covariance(unit(x))
    assert before[0, 1] / (before[0, 0] * before[1, 1]).sqrt() > 0.5  # neighbouring pixels correlated
    n = Normalizer.fit("zca", x, eps=1e-6)
    z = n(unit(x))
    assert z.shape == x.shape and z.dtype == torch.float32
    assert torch.allclose(covariance(z), torch.eye(48, dtype=torch.float64), atol=1e-3)  # S / (S + 1e-6) >= 0.9998, float32 W
    # A larger eps damps: the whitened covariance's eigenvalues are S / (S + eps) <= 1.
    eig = zca.decompose(x)
    large = torch.linalg.eigvalsh(covariance(Normalizer.fit("zca", x, eps=0.1)(unit(x))))
    assert large.max() <= 1 + 1e-5 and large.min() < 0.5
    assert large.numpy() == pytest.approx((eig.S / (eig.S + 0.1)).numpy(), abs=1e-4)


def test_W_is_the_symmetric_zca_matrix_of_numpy_and_scikit_learn():
    x = images(400, 1)
    X = x.flatten(1).double().numpy() / 255  # [N, D]
    N, eps = len(X), 0.1
    W = zca.decompose(x, chunk=64).W(eps).numpy()  # several chunks
    assert np.allclose(W, W.T, atol=1e-12)  # ZCA's W is symmetric (PCA whitening's U diag(...) is not)
    Xc = X - X.mean(0)
    S, U = np.linalg.eigh(Xc.T @ Xc / N)
    assert np.allclose(W, U @ np.diag(1 / np.sqrt(S + eps)) @ U.T, atol=1e-9)
    # scikit-learn's PCA whitening rotated back by its components is ZCA without eps; it divides by
    # N - 1 where Sigma divides by N: hence sqrt(N / (N - 1)).
    pca = PCA(whiten=True).fit(X)
    reference = pca.transform(X) @ pca.components_ * math.sqrt(N / (N - 1))
    assert np.allclose(Xc @ zca.decompose(x).W(1e-12).numpy(), reference, atol=1e-8)
    n = Normalizer.fit("zca", x, eps=eps)
    assert torch.allclose(n.whiten.W, n.whiten.W.T) and np.allclose(n.whiten.W.numpy(), W, atol=1e-5)


def test_points_are_whitened_as_features():
    g = torch.Generator().manual_seed(0)
    p = torch.randn(300, 2, generator=g) @ torch.tensor([[2.0, 0.0], [1.5, 0.5]])  # correlated float points
    n = Normalizer.fit("zca", p, eps=1e-6)
    assert torch.allclose(covariance(n(unit(p))), torch.eye(2, dtype=torch.float64), atol=1e-4)
    assert n.describe() == "ZCA whitening: D=2, epsilon 1e-06, fitted on the training split only (300 points)"


def test_the_test_set_uses_the_training_statistics_only(tiny_data):
    config = replace(TINY, val_split=0.25)
    sp = make_splits(config, tiny_data, CPU)
    assert len(sp.x_train) == 150 and sp.normalize.whiten.n == 150  # 200 minus the 50 validation images
    mean = unit(sp.x_train).flatten(1).double().mean(0)
    assert torch.allclose(sp.normalize.whiten.mu.double(), mean, atol=1e-6)
    other = make_splits(config, replace(tiny_data, x_test=255 - tiny_data.x_test), CPU)  # other test images
    assert torch.equal(other.normalize.whiten.mu, sp.normalize.whiten.mu) and torch.equal(other.normalize.whiten.W, sp.normalize.whiten.W)
    z = sp.prep(sp.x_test)  # test images whitened with the training mu and W
    assert torch.allclose(z.flatten(1), (unit(sp.x_test).flatten(1) - sp.normalize.whiten.mu) @ sp.normalize.whiten.W)


def test_a_tiny_zca_run_completes_with_finite_losses(tiny_data):
    events = list(train(TINY, tiny_data))
    losses = [e.loss for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert events[-1].status == "completed" and all(math.isfinite(v) for v in losses) and len(epochs) == 2
    assert all(math.isfinite(e.test_loss) for e in epochs)
    assert events[-1].final["normalization"] == "ZCA whitening: D=784, epsilon 0.1, fitted on the training split only (200 images)"


def test_a_grouped_zca_sweep_equals_its_runs_alone(tiny_data):
    configs = [replace(TINY, lr=lr) for lr in (0.1, 0.01)]
    assert groupable(configs) is None
    grouped = [[] for _ in configs]
    for m, e in train_group(configs, tiny_data):
        grouped[m].append(e)
    for config, events in zip(configs, grouped):
        solo = [e.loss for e in train(config, tiny_data) if isinstance(e, StepEvent)]
        assert [e.loss for e in events if isinstance(e, StepEvent)] == pytest.approx(solo, rel=1e-4, abs=1e-5)
        assert events[-1].status == "completed"


def test_zca_settings_round_trip_and_keep_the_cache_keys():
    for name, value in [("normalize", "zca"), ("zca_epsilon", 0.05), ("zca_epsilon", 1e-6), ("zca_epsilon", 1.0)]:
        assert settings.problem(name, value) is None and settings.parse(name, settings.format(name, value)) == value
    for bad in (0, -1, 2, 1e-7, float("nan")):
        assert settings.problem("zca_epsilon", bad).startswith(f"zca_epsilon = {bad!r} is not allowed")
    args = cli.build_parser().parse_args(["train", "--normalize", "zca", "--zca-epsilon", "0.05"])
    config = train_config(args)
    assert (config.normalize, config.zca_epsilon) == ("zca", 0.05)
    # Keys leave out defaults, and the epsilon unless normalize is zca: the runs stored before stay found.
    assert TrainConfig(zca_epsilon=0.05).key == TrainConfig().key == hashlib.sha256(b"{}").hexdigest()[:16]
    standardize = TrainConfig(normalize="standardize", zca_epsilon=0.05).key
    assert standardize == hashlib.sha256(json.dumps({"normalize": "standardize"}).encode()).hexdigest()[:16]
    assert TrainConfig(normalize="zca", zca_epsilon=0.05).key != TrainConfig(normalize="zca").key


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_a_bad_epsilon_on_the_command_line_is_one_line_and_exit_2(monkeypatch, capsys, value):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")
    try:
        code = cli.main(["train", "--dataset", "digits", "--normalize", "zca", f"--zca-epsilon={value}"])
    except SystemExit as e:  # argparse: text that is not a number
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "zca_epsilon = " in err and "is not allowed" in err


def test_train_with_zca_on_the_command_line(subprocess_env):
    args = ["train", "--model", "fc32 relu", "--epochs", "1", "--batch-size", "16", "--train-limit", "200", "--test-limit", "100"]
    r = subprocess.run(
        [sys.executable, "-m", "playground", *args, "--normalize", "zca", "--zca-epsilon", "0.05", "--json", "--quiet"],
        capture_output=True, text=True, check=False, env=subprocess_env, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "completed" and out["config"]["normalize"] == "zca" and out["config"]["zca_epsilon"] == 0.05
    assert math.isfinite(out["final"]["test_loss"])


@pytest.mark.usefixtures("no_leftover_jobs")
def test_the_data_page_shows_whitened_images(tiny_home):
    at = app("app_pages/data.py")
    assert not at.exception and "ZCA whitening" in [h.value for h in at.subheader]
    whitened = at.get("image")[-1].proto.imgs
    assert len(whitened) == 8 and all(i.caption.endswith("whitened") for i in whitened)
    assert any("rescaled on its own to 0-255" in c.value for c in at.caption)
    assert any("removes the correlation between neighbouring pixels" in c.value for c in at.caption)
    assert at.number_input(key="zca_epsilon").value == 0.1
    assert any("Epsilon **0.1**" in m.value and "of 784 directions" in m.value for m in at.markdown)
    at.number_input(key="zca_epsilon").set_value(0.01).run()  # the Train page's setting: in the link
    assert not at.exception and any("Epsilon **0.01**" in m.value for m in at.markdown)
    assert at.query_params["zcaeps"] == "0.01"
