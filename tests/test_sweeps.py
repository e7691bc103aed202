"""Sweeps: twin configs, convergence and target epochs, flags, tables and their exports, and a
small real sweep through the job manager."""

import math

import pytest

from playground import experiments, jobs, sweep_summary, sweeps, tables
from playground.config import TrainConfig
from playground.diagnosis import overfitting
from playground.errors import PlaygroundError
from playground.events import StepEvent
from playground.sweep_summary import Outcome, converged_epoch, convergence, flags, target_epoch
from playground.sweeps import Member, members, parse_values
from playground.train import train

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
    assert [m.label for m in models] == [
        "base (fc512 relu fc512 relu)",
        "deeper (fc512 relu fc512 relu fc512 relu fc512 relu)",
        "fc64 relu",
    ]


@pytest.mark.parametrize(
    "setting, text, message",
    [
        ("lr", "0.1, -1", "learning rate value '-1' is not a number above 0 and at most 100: type numbers separated by ','"),
        ("lr", "0.1, 0.1", "listed twice"),
        ("lr", " , ", "no values"),
        ("batch_size", "2.5", "batch size value '2.5' is not a whole number: type whole numbers"),
        ("batch_size", "0", "is not a whole number from 1"),
        ("epochs", "1, 2000", "epochs value '2000' is not a whole number from 1 to 1000"),
        ("label_smoothing", "0.7", "is not a number from 0 to 0.5"),
        ("augment", "none; flip,warp", "has 'warp', which is not one of none, flip"),
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
        members(BASE, "lr", [10.0**-k for k in range(9)], seeds=list(range(5)))


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
    overfit = _epochs([1.0, 0.5, 0.3, 0.2, 0.1], [0.9, 0.6, 0.7, 0.8, 0.9], [0.6, 0.8, 0.8, 0.79, 0.78])
    assert any(
        f.startswith("overfitting: test loss rose from 0.600 (epoch 2) to 0.900 (epoch 5)") for f in flags("completed", overfit, 2.3, 10)
    )
    stuck = _epochs([2.3, 2.3, 2.3], [2.3, 2.3, 2.3], [0.1, 0.1, 0.1])
    assert any(f.startswith("not learning") for f in flags("completed", stuck, 2.3, 10))
    assert any(f.startswith("diverged") for f in flags("diverged", [], float("nan"), 10))
    assert any(f.startswith("diverged") for f in flags("completed", _epochs([9.0], [9.0], [0.1]), 2.3, 10))
    assert any(f.startswith("diverged") for f in flags("stopped", _epochs([1.0, float("nan")], [1.0, float("nan")], [0.5, 0.1]), 2.3, 10))
    assert any(f.startswith("odd start: the first loss was 25.00") for f in flags("completed", healthy, 25.0, 10))
    assert not any(f.startswith("odd start") for f in flags("completed", healthy, 25.0, 10, loss="mse"))


@pytest.mark.parametrize(
    "train_loss, test_loss, expected",
    [
        ([1.0, 0.5, 0.4], [0.9, 0.6, 0.9], None),  # one noisy epoch of a live run: no trend yet
        ([1.0, 0.5, 0.4, 0.3], [0.9, 0.6, 0.7, 0.9], None),  # two rises: not yet
        ([1.0, 0.5, 0.4, 0.3, 0.2], [0.9, 0.6, 0.7, 0.8, 0.9], (2, 5)),  # three in a row, +50%
        ([1.0, 0.5, 0.4, 0.3, 0.2], [0.9, 0.6, 0.601, 0.602, 0.603], None),  # rising by 0.5% in all: noise on a flat loss
        ([1.0, 0.5, 0.4, 0.5, 0.2], [0.9, 0.6, 0.7, 0.8, 0.9], None),  # the training loss did not keep falling
        ([1.0, 0.5, 0.4, 0.3, 0.2, 0.1], [0.9, 0.6, 0.7, 0.8, 0.9, 0.85], (2, 5)),  # a dip after the trend: still above its start
        ([1.0, 0.5, 0.4, 0.3, 0.2, 0.1], [0.9, 0.6, 0.7, 0.8, 0.9, 0.5], None),  # back below where it began
    ],
)
def test_overfitting_needs_a_trend_of_three_epochs(train_loss, test_loss, expected):
    assert overfitting(_epochs(train_loss, test_loss, [0.8] * len(train_loss))) == expected
    flagged = any(f.startswith("overfitting") for f in flags("running", _epochs(train_loss, test_loss, [0.8] * len(train_loss)), 2.3, 10))
    assert flagged == (expected is not None)


def test_a_run_that_is_not_learning_or_diverged_has_not_converged():
    stuck = _epochs([2.3, 2.3, 2.3], [2.3, 2.3, 2.3], [0.1, 0.1, 0.1])
    assert converged_epoch([0.1, 0.1, 0.1]) == 1  # flat, so "settled" by accuracy alone ...
    assert convergence("completed", stuck, 10) == (None, "not learning")  # ... but it never learned
    blown = _epochs([1.0, 50.0, 50.0], [1.0, 50.0, 50.0], [0.5, 0.3, 0.3])
    assert convergence("completed", blown, 10) == (None, "diverged")
    settled = _epochs([1.0, 0.6, 0.5, 0.5], [1.0, 0.7, 0.6, 0.6], [0.6, 0.8, 0.8, 0.8])
    assert convergence("completed", settled, 10) == (2, None)
    rows = sweep_summary.table([_outcome("1", 0, [0.1, 0.1, 0.1]), _outcome("0.1", 0, [0.6, 0.8, 0.8, 0.8])], num_classes=10)
    assert rows[0]["converged_epoch"] is None and rows[0]["not_converged"] == "not learning"
    assert any(f.startswith("not learning") for f in rows[0]["flags"])
    assert rows[1]["converged_epoch"] == 2 and rows[1]["not_converged"] is None
    df = tables.sweep_frame(rows, "learning rate", 0.9)
    assert list(df["converged at epoch"]) == ["not learning", "2"]


def test_every_setting_explains_a_value_that_does_not_parse_in_its_own_words():
    for name, s in sweeps.SETTINGS.items():
        if name == "model":
            continue  # a spec: the spec language's own message (test_bad_values_are_explained)
        with pytest.raises(PlaygroundError) as e:
            parse_values(name, f"{s.default_values.split(s.separator)[0]}{s.separator} abc")
        message = str(e.value)
        assert message.startswith(f"{s.title} value 'abc' is not "), message
        assert f"separated by '{s.separator}', e.g. {s.default_values}" in message
        assert "convert" not in message and "float" not in message and "int(" not in message
    with pytest.raises(PlaygroundError) as e:
        parse_values("lr", "abc")
    assert str(e.value) == "learning rate value 'abc' is not a number: type numbers separated by ',', e.g. 1, 0.1, 0.01, 0.001"
    with pytest.raises(PlaygroundError, match="seed value 'inf' is not a whole number: type whole numbers"):
        parse_values("seed", "inf")


def test_model_labels_show_the_layers():
    assert sweeps.label("model", "fc512 relu fc512 relu fc512 relu fc512 relu") == "deeper (fc512 relu fc512 relu fc512 relu fc512 relu)"
    assert sweeps.label("model", "") == "linear (no hidden layers)"
    assert sweeps.label("model", "fc64 relu") == "fc64 relu"
    rows = sweep_summary.table([_outcome(sweeps.label("model", "fc1024 relu fc728 relu"), 0, [0.5, 0.8])], num_classes=10)
    assert tables.sweep_frame(rows, "model", 0.9).iloc[0]["model"] == "wider (fc1024 relu fc728 relu)"


def _outcome(label, seed, accs, params=100, status="completed"):
    cfg = TrainConfig(model="fc8", seed=seed)
    eps = _epochs([1.0] * len(accs), [1.0] * len(accs), accs)
    return Outcome(Member(label, label, seed, cfg), 1, status, params, eps, math.log(10))


def test_table_pools_seeds_and_says_not_reached():
    rows = sweep_summary.table(
        [_outcome("0.1", 0, [0.85, 0.9, 0.905]), _outcome("0.1", 1, [0.8, 0.88, 0.92]), _outcome("1", 0, [0.1, 0.1, 0.1])],
        num_classes=10,
        target=0.9,
        threshold=0.01,
        patience=1,
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


def test_a_flag_of_one_seed_names_that_seed():
    rows = sweep_summary.table(
        [_outcome("1", 0, [0.1, 0.1, 0.1]), _outcome("1", 1, [0.5, 0.7, 0.8])], num_classes=10, target=0.9, threshold=0.01, patience=1
    )
    assert next(f for f in rows[0]["flags"] if "not learning" in f).startswith("seed 0: not learning")  # seed 1 learns
    alone = sweep_summary.table([_outcome("1", 0, [0.1, 0.1, 0.1])], num_classes=10, target=0.9, threshold=0.01, patience=1)
    assert alone[0]["flags"][0].startswith("not learning")  # one seed: nothing to name


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
    rows = sweep_summary.table(outs, num_classes=10)
    assert [r["value"] for r in rows] == ["0.1", "0.01"] and rows[0]["params"] == 784 * 32 + 32 + 330
