"""Every setting declared once (playground.settings): TrainConfig's fields, defaults and checks, the
CLI flags, the share link and the Train form's widgets all follow the declarations. AppTest checks
the odd links of issue 14 (values off the notches kept exactly, out-of-range ones named) and the
Experiments page's sweep in the link."""

from __future__ import annotations

import itertools
from dataclasses import fields
from urllib.parse import parse_qs, urlencode

import pytest
from streamlit.testing.v1 import AppTest

from playground import augment, cli, datasets, families, jobs, optim, settings
from playground.cli.common import train_config
from playground.config import TrainConfig
from playground.errors import PlaygroundError

# A valid value for every setting, none at its default where the rules allow (nesterov needs SGD).
EXAMPLES = dict(
    dataset="digits",
    model="fc32 relu",
    lr=0.05,
    epochs=999,
    batch_size=100,
    optimizer="sgd",
    momentum=0.9,
    nesterov=True,
    weight_decay=0.0005,
    reg="l2",
    reg_rate=0.01,
    scheduler="step",
    step_size=3,
    gamma=0.25,
    loss="mse",
    label_smoothing=0.1,
    normalize="standardize",
    zca_epsilon=0.05,
    augment="flip,crop",
    val_split=0.2,
    val_seed=7,
    early_stopping=3,
    seed=42,
    train_limit=300,
    test_limit=50,
    toy_points=600,
    toy_noise=0.2,
    toy_train_share=0.6,
    toy_seed=5,
    toy_features="x1,x1sq,sinx2",
    device="cpu",
    bf16=True,
)
SWEEP_EXAMPLES = dict(sweep_param="batch_size", sweep_values="16,64", sweep_seeds=2)
TOY_EXAMPLES = dict(
    toy_set="spiral", toy_depth=3, toy_width=5, toy_activation="relu", toy_lr=0.3, toy_epochs=250, toy_batch=8, toy_optimizer="sgd",
    toy_reg="l1", toy_reg_rate=0.003, toy_show_test=False, toy_discrete=True, toy_twin="width", toy_twin_value="2",
    toy_hide="features,tlr", toy_task="Find the smallest lr that learns",
)  # fmt: skip
BACKPROP_EXAMPLES = dict(
    bp_sizes="3,4,2", bp_activation="relu", bp_loss="mse", bp_lr=0.5, bp_x="1,2,3; 0,0,1", bp_y="1,0", bp_seed=3,
    bp_weights='{"W_h": [[1]]}',
)  # fmt: skip
# Values each setting refuses on its own (dataset, model and augment have their own parsers: see below).
BAD = dict(
    lr=[0, -0.1, 101, float("nan")],
    epochs=[0, 1001, 2.5, True],
    batch_size=[0, 100_001],
    optimizer=["lion"],
    momentum=[-0.1, 1],
    nesterov=[1],
    weight_decay=[-1, 2],
    reg=["ridge"],
    reg_rate=[-1, 101],
    scheduler=["linear"],
    step_size=[0, 1001],
    gamma=[0, 1.5],
    loss=["hinge"],
    label_smoothing=[0.6],
    normalize=["minmax"],
    zca_epsilon=[0, -1, 2, float("nan")],
    val_split=[0.6],
    val_seed=[-1],
    early_stopping=[-1, 101],
    seed=[-1, 2**31],
    train_limit=[-5],
    test_limit=[-5],
    toy_points=[10, 30_000],
    toy_noise=[3],
    toy_train_share=[0.05, 0.95],
    toy_seed=[-1],
    device=["tpu"],
)


def test_every_trainconfig_field_is_declared_once_in_order():
    assert [f.name for f in fields(TrainConfig)] == list(settings.SETTINGS)
    assert set(EXAMPLES) == set(settings.SETTINGS)
    shares = [s.share for s in settings.ALL.values() if s.share]
    flags = [s.cli_flag for s in settings.SETTINGS.values()]
    assert len(shares) == len(set(shares)) and len(flags) == len(set(flags))
    old = [
        "lr",
        "epochs",
        "batch",
        "seed",
        "train",
        "opt",
        "mom",
        "nesterov",
        "wd",
        "sched",
        "step",
        "gamma",
        "loss",
        "smooth",
        "norm",
        "aug",
        "val",
        "stop",
        "dataset",
        "model",
    ]
    assert set(old) <= set(shares)  # the links handed out before keep working


def test_defaults_and_choices_agree_with_the_engine():
    d = TrainConfig().to_dict()
    assert d == {**settings.defaults(), "model": families.resolve(settings.SETTINGS["model"].default)}
    assert settings.SETTINGS["step_size"].default == 1 and settings.SETTINGS["dataset"].default == datasets.DEFAULT_DATASET
    assert settings.OPTIMIZERS == optim.OPTIMIZERS and settings.SCHEDULERS == optim.SCHEDULERS and settings.LOSSES == optim.LOSSES
    assert settings.NORMALIZATIONS == augment.NORMALIZATIONS
    assert all(a in settings.SETTINGS["augment"].help for a in augment.AUGMENTATIONS)


def test_learning_rate_notches_are_regular_and_span_1e_5_to_100():
    lrs = settings.LEARNING_RATES
    assert lrs[0] == 1e-5 and lrs[-1] == 100 and 10.0 in lrs and 1e-4 in lrs
    assert all(2.9 < b / a < 3.4 for a, b in itertools.pairwise(lrs))  # "each notch multiplies by about 3"
    assert all(settings.problem("lr", v) is None for v in lrs)


@pytest.mark.parametrize("name", list(settings.ALL))
def test_every_setting_round_trips_through_the_share_link(name):
    s = settings.ALL[name]
    value = {**EXAMPLES, **SWEEP_EXAMPLES, **TOY_EXAMPLES, **BACKPROP_EXAMPLES, "lab": "cnn-well"}[name]
    query = urlencode({s.share: settings.format(name, value)})  # value -> query string -> value
    assert settings.parse(name, parse_qs(query, keep_blank_values=True)[s.share][0]) == value


def test_every_setting_round_trips_through_the_cli_flags():
    argv = ["train"]
    for name, value in EXAMPLES.items():
        s = settings.SETTINGS[name]
        if s.type is bool:
            argv += [s.cli_flag] if value else []
        else:
            argv += [s.cli_flag, settings.format(name, value)]
    config = train_config(cli.build_parser().parse_args(argv))
    assert config.to_dict() == EXAMPLES
    old = cli.build_parser().parse_args(
        ["train", "--batch-size", "8", "--early-stopping", "2", "--val-split", "0.1", "--weight-decay", "1e-4"]
    )
    assert (old.batch_size, old.early_stopping, old.weight_decay) == (8, 2, 1e-4)  # the flags' names did not change


@pytest.mark.parametrize("name", list(BAD))
def test_bad_values_are_refused_naming_the_setting(name):
    for bad in BAD[name]:
        message = settings.problem(name, bad)
        assert message and message.startswith(f"{name} = ") and f"{name} must be" in message
        base = {"dataset": "circles"} if settings.SETTINGS[name].toy_only else {}
        with pytest.raises(PlaygroundError, match=f"^{name} = "):
            TrainConfig(**{**base, name: bad})


@pytest.mark.parametrize("name, text", [("lr", "abc"), ("epochs", "2.5"), ("epochs", "many"), ("nesterov", "yes please"), ("seed", "")])
def test_text_that_is_not_of_the_settings_type_is_named(name, text):
    with pytest.raises(PlaygroundError, match=f"^{name} = {text!r} is not allowed: {name} must be"):
        settings.parse(name, text)


def test_the_other_settings_have_their_own_checks():
    for changes, message in [
        ({"dataset": "imagenet"}, "unknown dataset"),
        ({"model": "fcx"}, "bad layer 'fcx'"),
        ({"augment": "blur"}, "choose from"),
        ({"nesterov": True}, "nesterov = True is not allowed"),
        ({"early_stopping": 3}, "with a validation split above 0"),
        ({"dataset": "circles", "toy_features": "x1,x3"}, "unknown input feature 'x3': choose from x1, x2, x1sq"),
        ({"dataset": "circles", "toy_features": " , "}, "toy_features is empty"),
    ]:
        with pytest.raises(PlaygroundError, match=message):
            TrainConfig(**changes)


# --- the app -----------------------------------------------------------------------------------


def app(query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    return at.switch_page(page).run() if page else at


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_the_forms_defaults_are_trainconfigs(tiny_home):
    at = app()
    for s in settings.SETTINGS.values():
        if s.label:
            expected = [a for a in s.default.split(",") if a] if s.widget == "multiselect" else s.default
            assert at.session_state[s.session_key] == expected, s.name
    assert at.text_input(key="spec_text").value == TrainConfig().model
    assert dict(at.query_params) == {"dataset": "fashion-mnist", "model": TrainConfig().model}


def test_link_values_off_the_notches_are_kept_exactly_and_trained(tiny_home):
    at = app({"lr": "0.05", "batch": "100", "epochs": "1", "model": "fc16 relu", "train": "300"})
    assert not at.exception and not at.warning
    assert at.select_slider(key="lr").value == 0.05 and "0.05" in at.select_slider(key="lr").options
    assert at.select_slider(key="batch_size").value == 100 and at.selectbox(key="train_limit").value == 300
    at.button[0].click().run()  # Train
    run_id = at.session_state.run_id
    assert jobs.manager().job(run_id).wait(60)
    config = jobs.manager().store.get(run_id).config
    assert (config.lr, config.batch_size, config.train_limit) == (0.05, 100, 300)
    at.select_slider(key="lr").set_value(0.03).run()  # a notch again; the link and the run notice follow
    assert at.query_params["lr"] == "0.03"
    assert any("This run used lr 0.05; the form above now says lr 0.03" in i.value for i in at.info)


def test_a_run_whose_settings_differ_from_the_form_puts_them_back_with_one_button(tiny_home):
    at = app(query={"lr": "0.05", "batch": "100", "epochs": "1", "model": "fc16 relu", "train": "300", "aug": "flip"})
    at.button[0].click().run()  # Train
    assert jobs.manager().job(at.session_state.run_id).wait(60)
    at.select_slider(key="lr").set_value(0.03).run()
    at.text_input(key="spec_text").input("fc32 relu").run()
    at.multiselect(key="augment_list").set_value([]).run()
    assert any("This run used" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Use this run's settings").click().run()
    assert not at.exception and not any("This run used" in i.value for i in at.info)
    assert at.select_slider(key="lr").value == 0.05 and at.text_input(key="spec_text").value == "fc16 relu"
    assert at.multiselect(key="augment_list").value == ["flip"] and at.query_params["lr"] == "0.05"


def test_every_allowed_epoch_count_can_be_linked(tiny_home):
    at = app({"epochs": "999"})
    assert not at.exception and not at.warning and at.number_input(key="epochs").value == 999


@pytest.mark.parametrize(
    "query, named, widget, used",
    [
        ({"epochs": "5000"}, "epochs = 5000 is not allowed: epochs must be a whole number from 1 to 1000", "epochs", 5),
        ({"lr": "abc"}, "lr = 'abc' is not allowed: lr must be a number above 0 and at most 100", "lr", 0.1),
        ({"batch": "0"}, "batch_size = 0 is not allowed", "batch_size", 64),
        ({"epoch": "3"}, "`epoch=3` is not a setting of the playground", "epochs", 5),
        ({"device": "tpu"}, "device = 'tpu' is not allowed", "device", "auto"),
    ],
)
def test_bad_link_values_are_named_with_what_was_used(tiny_home, query, named, widget, used):
    at = app(query)
    assert not at.exception
    assert named in warnings(at) and (f"used {settings.show(widget, used)} instead" if "`" not in named else "ignored") in warnings(at)
    assert at.session_state[widget] == used


def test_settings_that_do_not_fit_together_are_named_not_changed(tiny_home):
    at = app({"nesterov": "1"})
    assert "do not fit together: nesterov = True is not allowed" in warnings(at)
    assert at.checkbox(key="nesterov").value is True  # kept, shown (disabled until SGD has momentum)


def test_every_setting_round_trips_through_the_app(tiny_home):
    values = {**EXAMPLES, "dataset": "fashion-mnist", "optimizer": "sgd", **SWEEP_EXAMPLES}
    query = {settings.ALL[n].share: settings.format(n, v) for n, v in values.items()}
    at = app(query, "app_pages/experiments.py")
    assert not at.exception and not at.warning, warnings(at)
    assert {n: at.session_state["settings"][n] for n in values} == values
    expected = {k: v for k, v in query.items() if k not in ("opt",)}  # sgd is the default: not written
    assert dict(at.query_params) == expected
    at.switch_page("app_pages/data.py").run()
    at.switch_page("app_pages/train.py").run()
    assert dict(at.query_params) == expected


def test_the_sweep_is_in_the_link_and_survives_page_switches(tiny_home):
    at = app({"sweep": "batch_size", "values": "16,64", "seeds": "2"}, "app_pages/experiments.py")
    assert (at.selectbox(key="sweep_param").value, at.text_input(key="sweep_values").value, at.number_input(key="sweep_seeds").value) == (
        "batch_size",
        "16,64",
        2,
    )
    at.text_input(key="sweep_values").input("16,32").run()
    at.switch_page("app_pages/data.py").run()
    at.switch_page("app_pages/experiments.py").run()
    assert at.text_input(key="sweep_values").value == "16,32"
    assert {k: at.query_params[k] for k in ("sweep", "values", "seeds")} == {"sweep": "batch_size", "values": "16,32", "seeds": "2"}
    at = app({"sweep": "nope", "values": "a,b"}, "app_pages/experiments.py")
    assert not at.exception and "`sweep=nope`" in warnings(at) and "`values=a,b`" in warnings(at)
    assert at.selectbox(key="sweep_param").value == "lr" and at.text_input(key="sweep_values").value == "1, 0.1, 0.01, 0.001"


def test_an_invalid_spec_keeps_the_training_controls_disabled_and_no_preset_claimed(tiny_home):
    at = app()
    at.select_slider(key="lr").set_value(0.03).run()
    at.text_input(key="spec_text").input("fc64 relu fcx").run()
    assert not at.exception and "Bad layer 'fcx'" in at.error[0].value
    assert at.selectbox(key="preset").value == "(custom)"
    assert at.select_slider(key="lr").disabled and at.select_slider(key="lr").value == 0.03
    assert at.number_input(key="epochs").disabled and at.button[0].disabled
    at.text_input(key="spec_text").input("fc512 relu fc512 relu").run()
    assert at.selectbox(key="preset").value == "base" and not at.select_slider(key="lr").disabled


def test_a_run_that_differs_from_the_form_is_named(tiny_home):
    at = app()
    at.session_state.run_id = jobs.manager().store.create(TrainConfig(epochs=1, lr=0.03))  # shown, never trained
    at.run()
    assert any(i.value.startswith("This run used lr 0.03, epochs 1; the form above now says lr 0.1, epochs 5") for i in at.info)
