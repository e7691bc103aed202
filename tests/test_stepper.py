"""Step mode of the Toy 2D page: the run Train would start, taken one mini-batch at a time, with each
batch's gradients worked by hand and checked against autograd's."""

import pytest
import torch

from playground import train
from playground.config import TrainConfig
from playground.stepper import Stepper, hand_activation

TOY = dict(dataset="circles", lr=0.1, epochs=1, batch_size=16, optimizer="sgd", toy_points=200)


@pytest.mark.parametrize(
    "model, reg",
    [("fc4 tanh", {}), ("fc5 relu fc3 relu", {"reg": "l1", "reg_rate": 0.01}), ("", {"reg": "l2", "reg_rate": 0.1}), ("fc3 sigmoid", {})],
)
def test_a_steps_hand_gradients_equal_autograds(model, reg):
    s = Stepper(TrainConfig(**TOY, model=model, toy_features="x1,x2,x1sq", **reg))
    for _ in range(3):
        d = s.step()
        assert d.worked is not None and d.max_difference < 1e-6, d.max_difference
        for layer, (W_grad, b_grad), r in zip(d.worked.layers, d.autograd, d.reg_grads):
            torch.testing.assert_close(layer.grad_W + r, W_grad, rtol=1e-5, atol=1e-7)
            torch.testing.assert_close(layer.grad_b, b_grad, rtol=1e-5, atol=1e-7)
    assert (d.step, d.epoch, len(d.batch)) == (3, 1, 16)
    assert float(d.worked.loss) > 0 and d.worked.layers[-1].z.shape == (16, 2)


def test_stepping_through_is_the_run_train_would_start():
    """Same initial weights, same batches, same updates: after every step of an epoch, the weights
    equal those of train()'s run of the same settings."""
    config = TrainConfig(**TOY, model="fc4 tanh", momentum=0.9)
    s = Stepper(config)
    s.step()
    while not s.done:
        s.play(seconds=0.001)
    trained = list(train.train(config))[-1].model
    for a, b in zip(s.run.model.parameters(), trained.parameters()):
        torch.testing.assert_close(a, b)
    assert s.play() == 0 and s.steps == config.total_steps  # nothing past the run's last step


def test_activations_without_hand_formulas_still_step():
    s = Stepper(TrainConfig(**TOY, model="fc4 gelu"))
    assert hand_activation(s.run.model) is None
    d = s.step()
    assert d.worked is None and d.max_difference is None and s.steps == 1
    grid = torch.zeros(484, 2)
    assert s.network(grid).units == [2, 4, 1] and s.predict(grid).shape == (484,)
