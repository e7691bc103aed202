import math

import pytest
import torch

from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import GRAD_EVERY_STEP_UNTIL, EndEvent, EpochEvent, StartEvent, StepEvent
from playground.train import train


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc32 relu", "lr": 0.1, "epochs": 2, "batch_size": 16, **kw})


def run(config, data, **kw):
    events = list(train(config, data=data, **kw))
    return (
        [e for e in events if isinstance(e, StartEvent)],
        [e for e in events if isinstance(e, StepEvent)],
        [e for e in events if isinstance(e, EpochEvent)],
        events[-1],
    )


def test_events_of_a_complete_run(tiny_data):
    (start,), steps, epochs, end = run(cfg(), tiny_data)
    assert start.steps_per_epoch == 25 and start.total_steps == 50 and start.params == 784 * 32 + 32 + 330
    assert [s.step for s in steps] == list(range(1, 51))
    assert [e.epoch for e in epochs] == [1, 2]
    assert isinstance(end, EndEvent) and end.status == "completed"
    for e in epochs:
        assert 0 <= e.train_accuracy <= 1 and 0 <= e.test_accuracy <= 1 and e.seconds > 0
    assert end.final["test_accuracy"] == epochs[-1].test_accuracy
    assert abs(steps[0].loss - math.log(10)) < 0.5  # a fresh classifier guesses: loss near ln(10)


def test_it_learns(tiny_data):
    *_, epochs, _end = run(cfg(epochs=5), tiny_data)
    assert epochs[-1].test_accuracy > 0.8 > 0.1  # far above chance on the learnable tiny set
    assert epochs[-1].train_loss < epochs[0].train_loss


def test_gradient_statistics_first_steps_then_every_tenth(tiny_data):
    _, steps, _, _ = run(cfg(epochs=6, batch_size=8), tiny_data)  # 300 steps
    recorded = [s.step for s in steps if s.grad_mean is not None]
    assert recorded[:GRAD_EVERY_STEP_UNTIL] == list(range(1, GRAD_EVERY_STEP_UNTIL + 1))
    assert recorded[GRAD_EVERY_STEP_UNTIL:] == list(range(110, 301, 10))
    assert all(s.grad_abs_mean > 0 and abs(s.grad_mean) <= s.grad_abs_mean for s in steps if s.grad_mean is not None)


def test_same_seed_same_run_and_twins_share_their_start(tiny_data):
    _, a, ea, _ = run(cfg(), tiny_data)
    _, b, eb, _ = run(cfg(), tiny_data)
    assert [s.loss for s in a] == [s.loss for s in b] and ea[-1].test_loss == eb[-1].test_loss
    _, c, _, _ = run(cfg(lr=0.01), tiny_data)  # a twin: only the lr differs
    assert c[0].loss == a[0].loss and c[1].loss != a[1].loss
    _, d, _, _ = run(cfg(seed=1), tiny_data)
    assert d[0].loss != a[0].loss


def test_divergence_is_detected_and_curves_kept(tiny_data):
    _, steps, _epochs, end = run(cfg(model="fc256 relu fc256 relu fc256 relu", lr=10.0, epochs=5), tiny_data)
    assert end.status == "diverged"
    assert "learning rate 10 is probably too high; try 1" in end.message
    assert steps and not math.isfinite(steps[-1].loss)
    assert all(math.isfinite(s.loss) for s in steps[:-1])


def test_stop_on_request(tiny_data):
    calls = iter(range(1000))
    _, steps, _, end = run(cfg(epochs=3), tiny_data, should_stop=lambda: next(calls) >= 30)
    assert end.status == "stopped" and len(steps) == 30
    assert end.final["epoch"] == 1  # the last finished epoch's metrics are kept


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("lr", 0.0, "above 0"),
        ("lr", -1.0, "above 0"),
        ("lr", float("nan"), "above 0"),
        ("epochs", 0, "1 to 1000"),
        ("batch_size", 0, "1 to 100000"),
        ("optimizer", "lbfgs", "sgd"),
        ("device", "tpu", "auto"),
        ("dataset", "nope", "fashion-mnist"),
        ("model", "fc12 x", "bad layer 'x'"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field, value, allowed):
    with pytest.raises(PlaygroundError) as e:
        TrainConfig(**{field: value})
    assert allowed in str(e.value)
    if field not in ("dataset", "model"):
        assert str(e.value).startswith(f"{field} = ")


def test_batch_larger_than_the_training_split_is_refused(tiny_data):
    with pytest.raises(PlaygroundError, match="batch_size = 500 is larger than the 400 training images"):
        list(train(cfg(batch_size=500), data=tiny_data))


def test_config_key_is_canonical_and_ignores_the_device():
    a = TrainConfig(model="FC512, RELU fc512 relu")
    assert a.model == "fc512 relu fc512 relu"
    assert a.key == TrainConfig(model="base").key == TrainConfig(model="base", device="cpu").key
    assert a.key != TrainConfig(model="base", seed=1).key
    assert TrainConfig.from_dict(a.to_dict()) == a


def test_warm_up_trains_tiny_models_and_leaves_the_random_state_alone(home):
    from playground.train import warm_up

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    warm_up(device="cpu")  # made-up images: needs no dataset files
    assert torch.equal(torch.random.get_rng_state(), before)
