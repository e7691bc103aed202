"""Sweeps: twin configs, convergence and target epochs, flags, tables and their exports, and a
small real sweep through the job manager."""

import math

import pytest

from playground import experiments, jobs, sweeps, tables
from playground.errors import PlaygroundError
from playground.sweeps import Member, Outcome, converged_epoch, flags, members, parse_values, target_epoch
from playground.train import StepEvent, TrainConfig, train

BASE = TrainConfig(model="fc32 relu", lr=0.1, epochs=2, batch_size=16, train_limit=200)


def test_twins_share_initial_weights_and_batch_order(tiny_data):
    """Only the lr differs: the first loss (before any update) is identical, the later ones are not."""
    firsts, seconds = [], []
    for m in members(BASE, "lr", [1.0, 0.1, 0.01]):
        losses = [e.loss for e in train(m.config, tiny_data) if isinstance(e, StepEvent)]
        firsts.append(losses[0])
        seconds.append(losses[1])
    assert firsts[0] == firsts[1] == firsts[2]
    assert len(set(seconds)) == 3


def test_members_change_one_setting_only():
    ms = members(BASE, "batch_size", [4, 64])
    assert [m.config.batch_size for m in ms] == [4, 64]
    assert all(m.config.lr == BASE.lr and m.config.model == BASE.model and m.config.seed == BASE.seed for m in ms)
    seeded = members(BASE, "lr", [0.1, 0.01], seeds=[0, 1, 2])
    assert [(m.label, m.seed) for m in seeded] == [("0.1", 0), ("0.1", 1), ("0.1", 2), ("0.01", 0), ("0.01", 1), ("0.01", 2)]


def test_spec_settings_edit_the_model():
    cnn = TrainConfig(model="cnn")
    assert [m.config.model for m in members(cnn, "activation", ["tanh"])] == [cnn.model.replace("relu", "tanh")]
    (bn_off,) = members(cnn, "batchnorm", [False])
    assert "bn" not in bn_off.config.model.split() and bn_off.label == "off"
    (dropped,) = members(TrainConfig(model="base"), "dropout", [0.5])
    assert dropped.config.model == "fc512 relu drop0.5 fc512 relu drop0.5"
    models = members(BASE, "model", parse_values("model", "base; deeper; fc64 relu"))
    assert [m.label for m in models] == ["base", "deeper", "fc64 relu"]


@pytest.mark.parametrize(
    "setting, text, message",
    [
        ("lr", "0.1, -1", "'-1': -1 is not a number above 0"),
        ("lr", "0.1, 0.1", "listed twice"),
        ("lr", " , ", "no values"),
        ("batch_size", "2.5", "not a whole number"),
        ("activation", "relu, swish", "'swish' is not one of"),
        ("model", "base; fc8 conv4", None),  # parses; refused when the members are made
        ("dilation", "2", "cannot sweep 'dilation'"),
    ],
)
def test_bad_values_are_explained(setting, text, message):
    if message is None:
        with pytest.raises(PlaygroundError, match="put them before the fc layers"):
            members(BASE, setting, parse_values(setting, text))
        return
    with pytest.raises(PlaygroundError, match=message):
        parse_values(setting, text)


def test_sweep_size_is_bounded():
    with pytest.raises(PlaygroundError, match="at most 40"):
        members(BASE, "lr", [10.0 ** -k for k in range(9)], seeds=list(range(5)))


def test_dropout_needs_hidden_fc_layers():
    with pytest.raises(PlaygroundError, match="no hidden fc layers"):
        members(TrainConfig(model="linear"), "dropout", [0.5])
    with pytest.raises(PlaygroundError, match="cannot sweep the activation"):
        members(TrainConfig(model="fc8 relu tanh"), "activation", ["gelu"])


@pytest.mark.parametrize(
    "accs, threshold, patience, expected",
    [
        ([0.5, 0.7, 0.8, 0.805, 0.807], 0.01, 2, 3),  # settles after epoch 3
        ([0.5, 0.7, 0.8, 0.805, 0.9], 0.01, 2, None),  # jumps again: never settles
        ([0.5, 0.7, 0.8, 0.805], 0.01, 1, 3),
        ([0.8, 0.8, 0.8], 0.001, 2, 1),
        ([0.1, 0.3], 0.01, 2, None),  # too short to tell
        ([], 0.01, 2, None),
    ],
)
def test_converged_epoch(accs, threshold, patience, expected):
    assert converged_epoch(accs, threshold, patience) == expected


def test_target_epoch():
    assert target_epoch([0.8, 0.89, 0.9, 0.95], 0.9) == 3
    assert target_epoch([0.8, 0.85], 0.9) is None


def _epochs(train_loss, test_loss, test_acc):
    return [
        {"epoch": i + 1, "train_loss": a, "train_accuracy": 0.5, "test_loss": b, "test_accuracy": c}
        for i, (a, b, c) in enumerate(zip(train_loss, test_loss, test_acc))
    ]


def test_flags():
    healthy = _epochs([1.0, 0.6, 0.4], [1.0, 0.7, 0.6], [0.6, 0.75, 0.8])
    assert flags("completed", healthy, 2.31, 10) == []
    overfit = _epochs([1.0, 0.5, 0.3, 0.1], [0.9, 0.6, 0.7, 0.9], [0.6, 0.8, 0.8, 0.79])
    assert any(f.startswith("overfitting: test loss rose from 0.600 (epoch 2) to 0.900") for f in flags("completed", overfit, 2.3, 10))
    stuck = _epochs([2.3, 2.3, 2.3], [2.3, 2.3, 2.3], [0.1, 0.1, 0.1])
    assert any(f.startswith("not learning") for f in flags("completed", stuck, 2.3, 10))
    assert any(f.startswith("diverged") for f in flags("diverged", [], float("nan"), 10))
    assert any(f.startswith("diverged") for f in flags("completed", _epochs([9.0], [9.0], [0.1]), 2.3, 10))
    assert any(f.startswith("odd start: the first loss was 25.00") for f in flags("completed", healthy, 25.0, 10))
    assert not any(f.startswith("odd start") for f in flags("completed", healthy, 25.0, 10, loss="mse"))


def _outcome(label, seed, accs, params=100, status="completed"):
    cfg = TrainConfig(model="fc8", seed=seed)
    eps = _epochs([1.0] * len(accs), [1.0] * len(accs), accs)
    return Outcome(Member(label, label, seed, cfg), 1, status, params, eps, math.log(10))


def test_table_pools_seeds_and_says_not_reached():
    rows = sweeps.table(
        [_outcome("0.1", 0, [0.85, 0.9, 0.905]), _outcome("0.1", 1, [0.8, 0.88, 0.92]), _outcome("1", 0, [0.1, 0.1, 0.1])],
        num_classes=10, target=0.9, threshold=0.01, patience=1,
    )
    a, b = rows
    assert a["value"] == "0.1" and a["runs"] == 2
    assert a["test_accuracy"] == pytest.approx((0.905 + 0.92) / 2) and (a["test_accuracy_min"], a["test_accuracy_max"]) == (0.905, 0.92)
    assert a["target_epoch"] == 3  # seed 0 at epoch 2, seed 1 at epoch 3: both by epoch 3
    assert a["converged_epoch"] is None  # seed 1 is still moving by more than 1% per epoch
    assert b["target_epoch"] is None and any(f.startswith("not learning") for f in b["flags"])
    df = tables.sweep_frame(rows, "learning rate", 0.9, seeds=2)
    assert list(df.columns)[:3] == ["learning rate", "test accuracy", "min - max over seeds"]
    assert df.iloc[1]["epoch reaching 90%"] == "not reached"
    md = tables.to_markdown(df)
    assert md.splitlines()[0].startswith("| learning rate") and "not reached" in md
    csv = tables.to_csv(df)
    assert csv.splitlines()[0].startswith("learning rate,test accuracy") and "91.25%" in csv


def test_a_real_sweep_through_the_job_manager(tiny_home):
    manager = jobs.manager()
    sweep, started = experiments.start(manager, BASE, "lr", [0.1, 0.01])
    assert all(j.wait(120) for j in started)
    again, rerun = experiments.start(manager, BASE, "lr", [0.1, 0.01])  # the same twins: from the cache
    assert [j.cached for j in rerun] == [True, True] and again.run_ids == sweep.run_ids
    loaded = experiments.load(manager.store, sweep.id)
    assert loaded.setting == "lr" and [m["label"] for m in loaded.members] == ["0.1", "0.01"]
    outs = experiments.outcomes(manager.store, loaded)
    assert [len(o.epochs) for o in outs] == [2, 2] and outs[0].first_loss == outs[1].first_loss
    rows = sweeps.table(outs, num_classes=10)
    assert [r["value"] for r in rows] == ["0.1", "0.01"] and rows[0]["params"] == 784 * 32 + 32 + 330
