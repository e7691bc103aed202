"""playground.backprop: every hand-worked forward value and gradient equals autograd's on the same torch.nn network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from playground import backprop
from playground.errors import PlaygroundError
from playground.optim import Loss

N_IN, HIDDEN, CLASSES = 2, 4, 3
MODULES = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "none": nn.Identity}


def _model(depth: int, activation: str, seed: int = 0) -> nn.Sequential:
    """depth hidden layers of HIDDEN units with the activation, then the output layer, in float64."""
    torch.manual_seed(seed)
    sizes = [N_IN] + [HIDDEN] * depth + [CLASSES]
    modules: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        modules.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < depth:
            modules.append(MODULES[activation]())
    return nn.Sequential(*modules).double()


def _batch(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, N_IN, generator=g, dtype=torch.float64) * 2, torch.randint(0, CLASSES, (n,), generator=g)


def _autograd(model: nn.Sequential, x, y, loss: str):
    """Loss, pre-activations and activations of each Linear (with .grad retained) after .backward()."""
    zs, acts, h = [], [], x
    for module in model:
        h = module(h)
        if isinstance(module, nn.Linear):
            zs.append(h)
        else:
            acts.append(h)
        h.retain_grad()
    value = Loss(loss, CLASSES)(h, y)
    value.backward()
    return value, zs, acts


@pytest.mark.parametrize("n", [1, 5])
@pytest.mark.parametrize("loss", backprop.LOSSES)
@pytest.mark.parametrize("activation", backprop.ACTIVATIONS)
@pytest.mark.parametrize("depth", [0, 1, 2])
def test_every_gradient_equals_autograd(depth, activation, loss, n):
    model = _model(depth, activation)
    x, y = _batch(n)
    p = backprop.forward_backward(backprop.weights_of(model), x, y, activation, loss)
    value, zs, acts = _autograd(model, x, y, loss)

    assert len(p.layers) == depth + 1
    assert p.loss == pytest.approx(value.item(), rel=1e-12, abs=1e-15)
    assert_close(p.y_hat, zs[-1].detach().softmax(dim=1))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer, linear, z in zip(p.layers, linears, zs, strict=True):
        assert layer.grad_W.dtype == torch.float64
        assert_close(layer.grad_W, linear.weight.grad)
        assert_close(layer.grad_b, linear.bias.grad)
        assert_close(layer.z, z.detach())
        assert_close(layer.grad_z, z.grad)
    for layer, a in zip(p.layers[:-1], acts, strict=True):
        assert_close(layer.a, a.detach())
        assert_close(layer.grad_a, a.grad)
    assert p.layers[-1].grad_a is None
    assert_close(p.layers[-1].a, p.layers[-1].z)


def test_float32_inputs_are_worked_in_float64():
    model = _model(1, "tanh")
    x, y = _batch(4)
    p = backprop.forward_backward([(W.float(), b.float()) for W, b in backprop.weights_of(model)], x.float(), y.int())
    assert p.x.dtype == p.layers[0].grad_W.dtype == p.y_hat.dtype == torch.float64
    assert p.y.dtype == torch.int64


@pytest.mark.parametrize("loss", backprop.LOSSES)
def test_sgd_step_equals_torch_sgd(loss):
    model = _model(2, "sigmoid")
    x, y = _batch(5)
    p = backprop.forward_backward(backprop.weights_of(model), x, y, "sigmoid", loss)
    new = backprop.sgd_step(backprop.weights_of(model), p, lr=0.5)

    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    Loss(loss, CLASSES)(model(x), y).backward()
    optimizer.step()
    for (W, b), (W_torch, b_torch) in zip(new, backprop.weights_of(model), strict=True):
        assert_close(W, W_torch)
        assert_close(b, b_torch)
    assert backprop.forward_backward(new, x, y, "sigmoid", loss).loss < p.loss  # a small step downhill


def test_named_gives_the_worked_example():
    model = _model(1, "tanh")
    x, y = _batch(5)
    weights = backprop.weights_of(model)
    v = backprop.named(backprop.forward_backward(weights, x, y))
    names = {"h_tilde", "h", "y_tilde", "y_hat", "loss", "grad_y_tilde", "grad_W_y", "grad_b_y", "grad_h_tilde", "grad_W_h", "grad_b_h"}
    assert set(v) == names
    (W_h, b_h), (W_y, _) = weights
    assert_close(v["h_tilde"], x @ W_h.T + b_h)
    assert_close(v["h"], torch.tanh(v["h_tilde"]))
    assert_close(v["grad_y_tilde"], (v["y_hat"] - F.one_hot(y, CLASSES).double()) / 5)
    assert_close(v["grad_W_y"], v["grad_y_tilde"].T @ v["h"])
    assert_close(v["grad_h_tilde"], (v["grad_y_tilde"] @ W_y) * (1 - v["h"] ** 2))
    assert isinstance(v["loss"], float)


@pytest.mark.parametrize("depth", [0, 2])
def test_named_needs_one_hidden_layer(depth):
    model = _model(depth, "tanh")
    x, y = _batch(3)
    with pytest.raises(PlaygroundError, match="one hidden layer"):
        backprop.named(backprop.forward_backward(backprop.weights_of(model), x, y))


def test_bad_input_says_what_is_wrong():
    weights = backprop.weights_of(_model(1, "tanh"))
    x, y = _batch(4)
    W_h, b_h = weights[0]
    with pytest.raises(PlaygroundError, match="takes 5 inputs"):
        backprop.forward_backward([(W_h, b_h), (torch.zeros(CLASSES, 5), torch.zeros(CLASSES))], x, y)
    with pytest.raises(PlaygroundError, match="b \\[out\\]"):
        backprop.forward_backward([(W_h, torch.zeros(7)), weights[1]], x, y)
    with pytest.raises(PlaygroundError, match="x must be"):
        backprop.forward_backward(weights, torch.zeros(4, 3), y)
    with pytest.raises(PlaygroundError, match="one label per sample"):
        backprop.forward_backward(weights, x, y[:3])
    with pytest.raises(PlaygroundError, match=r"Labels must lie in 0\.\.2"):
        backprop.forward_backward(weights, x, torch.tensor([0, 1, 2, CLASSES]))
    with pytest.raises(PlaygroundError, match="Labels must lie"):
        backprop.forward_backward(weights, x, torch.tensor([0, -1, 2, 1]))
    with pytest.raises(PlaygroundError, match="Unknown activation 'gelu'"):
        backprop.forward_backward(weights, x, y, activation="gelu")
    with pytest.raises(PlaygroundError, match="Unknown loss 'hinge'"):
        backprop.forward_backward(weights, x, y, loss="hinge")
    with pytest.raises(PlaygroundError, match="1 layers but 2"):
        backprop.sgd_step(weights, backprop.forward_backward(weights[1:], torch.zeros(4, HIDDEN), y), lr=0.1)


def test_texts_are_one_line_each():
    for activation in backprop.ACTIVATIONS:
        text = backprop.activation_derivative_text(activation)
        assert "\n" not in text and text.startswith(activation)
    assert "1 - tanh(z)^2" in backprop.activation_derivative_text("tanh")
    assert "y^ - y" in backprop.loss_gradient_text("cross-entropy")
    assert "softmax" in backprop.loss_gradient_text("mse") and "\n" not in backprop.loss_gradient_text("mse")
    with pytest.raises(PlaygroundError):
        backprop.activation_derivative_text("gelu")
    with pytest.raises(PlaygroundError):
        backprop.loss_gradient_text("hinge")
