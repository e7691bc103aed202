"""Toy 2D as TensorFlow Playground: input features, L1/L2 regularisation, every unit's map, and the
cache keys that adding settings must not change."""

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import torch

from playground import features, jobs, train, unitmaps
from playground.config import TrainConfig
from playground.home import runs_db_path
from playground.runs import RunStore
from tests.apptest import wait_for_job

TOY = dict(dataset="circles", lr=0.1, epochs=30, batch_size=16, optimizer="adam")


def final(config: TrainConfig):
    return list(train.train(config))[-1]


def test_squares_make_circles_separable_without_a_hidden_layer():
    """The classic lesson: x1² + x2² is the radius, so one linear unit on x1², x2² separates circles;
    on x1, x2 alone a linear model stays near chance."""
    assert final(TrainConfig(**TOY, model="", toy_features="x1sq,x2sq")).final["test_accuracy"] >= 0.95
    assert final(TrainConfig(**TOY, model="", toy_features="x1,x2")).final["test_accuracy"] <= 0.65


def test_features_are_parsed_canonically_and_lift_points():
    assert features.canonical(" X2SQ, x1 ,x2sq") == "x1,x2sq"
    assert TrainConfig(**TOY, toy_features="x2sq,x1").toy_features == "x1,x2sq"  # one config, one cache entry
    assert TrainConfig(**TOY, toy_features="x2sq,x1").input_shape == (2,)
    assert TrainConfig(**TOY, toy_features=",".join(features.FEATURES)).input_shape == (7,)
    p = torch.tensor([[0.5, -2.0], [1.0, 3.0]])
    lifted = features.Lift("x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2")(p)
    expected = torch.stack(
        [p[:, 0], p[:, 1], p[:, 0] ** 2, p[:, 1] ** 2, p[:, 0] * p[:, 1], torch.sin(5 * p[:, 0]), torch.sin(5 * p[:, 1])], 1
    )
    torch.testing.assert_close(lifted, expected)
    assert features.labels("x1x2,sinx1") == ["x1·x2", "sin(5·x1)"]


def test_l2_shrinks_the_weights_and_l1_drives_them_to_zero():
    base = dict(TOY, model="fc8 tanh", lr=0.03, epochs=40, optimizer="sgd", toy_features=",".join(features.FEATURES))

    def weights(**reg) -> torch.Tensor:
        model = final(TrainConfig(**base, **reg)).model
        return torch.cat([p.detach().flatten() for p in model.parameters() if p.ndim >= 2])

    plain, l2, l1 = weights(), weights(reg="l2", reg_rate=0.03), weights(reg="l1", reg_rate=0.01)
    assert l2.norm() < 0.85 * plain.norm()
    near_zero = lambda w: (w.abs() < 1e-2).float().mean().item()  # noqa: E731
    assert near_zero(l1) >= 0.4 and near_zero(plain) <= 0.1, (near_zero(l1), near_zero(plain))


def test_the_penalty_is_its_own_curve_and_the_reported_loss_leaves_it_out():
    config = TrainConfig(**{**TOY, "epochs": 3}, model="fc8 tanh", reg="l2", reg_rate=0.1)
    epochs = [e for e in train.train(config) if hasattr(e, "penalty")]
    model = final(config).model
    weights = [p for p in model.parameters() if p.ndim >= 2]
    assert epochs[-1].penalty == pytest.approx(0.1 / 2 * sum(w.square().sum().item() for w in weights), rel=1e-5)
    assert all(e.penalty is None for e in train.train(TrainConfig(**{**TOY, "epochs": 1}, model="fc8 tanh")) if hasattr(e, "penalty"))


def test_each_units_map_is_its_activation_computed_on_the_grid():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 10), torch.nn.Tanh(), torch.nn.Linear(10, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = torch.randn(484, 3)
    nm = unitmaps.of_model(model, x, ["x1", "x2", "x1²"])
    (W1, b1), (W2, b2), (W3, b3) = ((m.weight.detach(), m.bias.detach()) for m in model if isinstance(m, torch.nn.Linear))
    h1 = torch.tanh(x @ W1.T + b1)
    h2 = torch.relu(h1 @ W2.T + b2)
    logits = h2 @ W3.T + b3
    np.testing.assert_allclose(nm.maps[0], x.T.numpy(), rtol=1e-6)
    np.testing.assert_allclose(nm.maps[1], h1[:, : unitmaps.MAX_UNITS].T.numpy(), rtol=1e-5, atol=1e-6)  # 8 of 10 kept
    np.testing.assert_allclose(nm.maps[2], h2.T.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nm.maps[3][0], torch.sigmoid(logits[:, 1] - logits[:, 0]).numpy(), rtol=1e-5, atol=1e-6)
    assert nm.units == [3, 10, 4, 1] and [len(n) for n in nm.names] == [3, 8, 4, 1]
    np.testing.assert_allclose(nm.weights[0], W1[:8].numpy())
    np.testing.assert_allclose(nm.weights[2], (W3[1:2] - W3[0:1]).numpy())  # P(class 1) = sigmoid(z1 - z0)
    assert nm.ranges == [(-np.inf, np.inf), (-1.0, 1.0), (0.0, np.inf), (0.0, 1.0)]
    back = unitmaps.NetworkMaps.from_bytes(nm.to_bytes())
    assert back.names == nm.names and all(np.array_equal(a, b) for a, b in zip(back.maps, nm.maps)) and back.ranges == nm.ranges


@pytest.mark.usefixtures("no_leftover_jobs")
def test_a_toy_run_stores_its_network_and_its_penalty(home):
    config = TrainConfig(**{**TOY, "epochs": 5}, model="fc4 tanh fc3 tanh", toy_features="x1,x2,x1x2", reg="l1", reg_rate=0.001)
    job = jobs.manager().submit(config)
    assert wait_for_job(job, 120, "a 5-epoch toy run").status == "completed"
    store = jobs.manager().store
    epoch, nm = store.network(job.run_id)
    assert epoch == 5 and nm.names[0] == ["x1", "x2", "x1·x2"] and nm.units == [3, 4, 3, 1]
    assert nm.maps[1].shape == (4, unitmaps.RESOLUTION**2) and nm.weights[1].shape == (3, 4)
    assert all(e["penalty"] > 0 for e in store.epochs(job.run_id))


def test_adding_a_setting_keeps_every_stored_runs_key(home):
    """Keys leave defaults out, so a setting added later (with its default) changes no key; a store
    whose keys hashed every field (version 0) has them recomputed once when it opens."""
    assert TrainConfig(reg_rate=0.5).key == TrainConfig().key  # a rate without its regularisation changes nothing
    assert TrainConfig(reg="l1", reg_rate=0.5).key != TrainConfig(reg="l1").key
    store = RunStore(runs_db_path())
    run_id = store.create(TrainConfig(**TOY))
    store.finish(run_id, "completed", "done", {})
    with sqlite3.connect(runs_db_path()) as db:  # as today's code's predecessor left it
        db.execute("UPDATE runs SET key='0123456789abcdef' WHERE id=?", (run_id,))
        db.execute("PRAGMA user_version=0")
    assert RunStore(runs_db_path()).find_reusable(TrainConfig(**TOY)).id == run_id


def test_the_cli_takes_features_and_regularisation(subprocess_env):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "playground", "train", *args],
            capture_output=True,
            text=True,
            env=subprocess_env,
            timeout=300,
            check=False,
        )

    r = cli("--dataset", "circles", "--model", "", "--features", "x1sq,x2sq", "--reg", "l2", "--reg-rate", "0.001", "--epochs", "20",
            "--lr", "0.1", "--optimizer", "adam", "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["toy_features"] == "x1sq,x2sq" and out["final"]["test_accuracy"] >= 0.95
    bad = cli("--dataset", "circles", "--features", "x1,radius")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: unknown input feature 'radius': choose from x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"
    ]
    assert cli("--dataset", "circles", "--reg", "l3").returncode == 2


def test_regression_sets_have_real_targets_and_learn_with_squared_error():
    from playground import toy

    x, y, _, _ = toy.generate("plane", toy.ToyParams(points=200, noise=0.0))
    torch.testing.assert_close(y, (x[:, 0] + x[:, 1]) / 2)  # TensorFlow Playground's plane, on our scale
    x, y, _, _ = toy.generate("multi-gaussian", toy.ToyParams(points=2000, noise=0.0))
    near = (x - torch.tensor([0.0, 0.5])).norm(dim=1) < 0.05  # next to the negative bump's centre
    assert near.any() and (y[near] < -0.8).all() and y.abs().max() <= 1
    config = TrainConfig(dataset="plane", model="", lr=0.03, epochs=40, batch_size=16, optimizer="adam")
    assert config.loss == "mse" and config.input_shape == (2,)
    end = final(config)
    assert end.status == "completed" and end.final["test_loss"] < 0.01 and "test_accuracy" not in end.final  # no accuracy for a value
    bumps = dict(dataset="multi-gaussian", lr=0.03, epochs=60, batch_size=16, optimizer="adam")
    linear, hidden = final(TrainConfig(**bumps, model="")), final(TrainConfig(**bumps, model="fc8 tanh fc8 tanh"))
    assert hidden.final["test_loss"] < 0.7 * linear.final["test_loss"]  # bumps need hidden units


@pytest.mark.usefixtures("no_leftover_jobs")
def test_a_regression_run_stores_predicted_values_and_is_not_called_diverged(home):
    from playground import diagnosis

    job = jobs.manager().submit(
        TrainConfig(dataset="multi-gaussian", model="fc8 tanh", lr=0.03, epochs=10, batch_size=16, optimizer="adam")
    )
    assert wait_for_job(job, 120, "a regression run").status == "completed"
    store = jobs.manager().store
    values = store.snapshots(job.run_id)[-1][1]
    assert values.min() < 0 < values.max()  # predicted values, not probabilities
    _, nm = store.network(job.run_id)
    assert nm.names[-1] == ["prediction"] and nm.ranges[-1] == (-1.0, 1.0) and nm.weights[-1].shape == (1, 8)
    assert [f.code for f in diagnosis.of_run(store, store.get(job.run_id))] == []  # a loss of 0.1 is not a blow-up
