"""Backpropagation of a small fully connected network worked by hand, without autograd.

For one mini-batch, forward_backward computes every layer's pre-activation z, activation a and the
gradients dL/dz, dL/dW, dL/db, dL/da with explicit formulas (torch tensor ops in float64), so that the
Toy 2D page's step mode and the "Backprop worked by hand" page can show each number. With one hidden
layer the math reads (named() gives these names):

    h~ = W_h x + b_h,  h = tanh(h~),  y~ = W_y h + b_y,  y^ = softmax(y~),  L = cross-entropy(y^, y)
    dL/dy~ = y^ - y,  dL/dW_y = dL/dy~ h^T,  dL/db_y = dL/dy~,
    dL/dh~ = (W_y^T dL/dy~) * (1 - h^2),  dL/dW_h = dL/dh~ x^T,  dL/db_h = dL/dh~

averaged over the N samples of the batch. The losses are those of playground.optim.Loss, so the
tests can check every number against autograd; sgd_step then takes one plain SGD step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from playground.errors import PlaygroundError
from playground.settings import LOSSES

ACTIVATIONS = ("tanh", "sigmoid", "relu", "none")
__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Layer",
    "Pass",
    "activation_derivative_text",
    "forward_backward",
    "loss_gradient_text",
    "named",
    "sgd_step",
    "weights_of",
]

DERIVATIVE_TEXT = {
    "tanh": "tanh'(z) = 1 - tanh(z)^2",
    "sigmoid": "sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))",
    "relu": "relu'(z) = 1 where z > 0, else 0",
    "none": "none: a = z, so a'(z) = 1",
}
LOSS_GRADIENT_TEXT = {
    "cross-entropy": "cross-entropy: dL/dy~ = (y^ - y) / N, the log and the softmax cancel",
    "mse": "mse: dL/dy^ = 2 (y^ - y) / (C N), then through the softmax: dL/dy~ = y^ * (dL/dy^ - sum(y^ * dL/dy^))",
}


@dataclass
class Layer:
    """One fully connected layer l: z = a_prev @ W.T + b, a = act(z)."""

    W: Tensor  # [out, in]
    b: Tensor  # [out]
    z: Tensor  # [N, out] pre-activation (for the last layer: the logits y~)
    a: Tensor  # [N, out] activation (last layer: a = z, the logits; softmax is in Pass.y_hat)
    grad_z: Tensor  # [N, out] dL/dz for each sample (already including the 1/N of the batch mean)
    grad_W: Tensor  # [out, in] dL/dW
    grad_b: Tensor  # [out]
    grad_a: Tensor | None  # [N, out] dL/da (None for the output layer)


@dataclass
class Pass:
    """One forward and backward pass over a mini-batch."""

    x: Tensor  # [N, in]
    y: Tensor  # [N] integer labels
    layers: list[Layer]  # hidden layers then the output layer
    y_hat: Tensor  # [N, classes] softmax of the output layer's z
    loss: float  # mean over the batch
    activation: str
    loss_kind: str


def _float64(value, what: str) -> Tensor:
    try:
        return torch.as_tensor(value).detach().to(torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise PlaygroundError(f"{what} must be a tensor of numbers ({e}).") from None


def _check_names(activation: str, loss: str) -> None:
    if activation not in ACTIVATIONS:
        raise PlaygroundError(f"Unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}.")
    if loss not in LOSSES:
        raise PlaygroundError(f"Unknown loss {loss!r}: choose one of {', '.join(LOSSES)}.")


def _weights(weights) -> list[tuple[Tensor, Tensor]]:
    """float64 copies of [(W, b), ...], checked to be [out, in] and [out]."""
    if not isinstance(weights, (list, tuple)) or not weights:
        raise PlaygroundError("weights must be a non-empty list of (W, b) pairs, hidden layers then the output layer.")
    out = []
    for i, pair in enumerate(weights):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise PlaygroundError(f"Layer {i + 1}'s weights must be a (W, b) pair.")
        W, b = _float64(pair[0], f"Layer {i + 1}'s W"), _float64(pair[1], f"Layer {i + 1}'s b")
        if W.dim() != 2 or b.dim() != 1 or b.shape[0] != W.shape[0]:
            raise PlaygroundError(f"Layer {i + 1}'s W must be [out, in] and b [out], got W {list(W.shape)} and b {list(b.shape)}.")
        if i and W.shape[1] != out[-1][0].shape[0]:
            raise PlaygroundError(f"Layer {i + 1}'s W takes {W.shape[1]} inputs but layer {i} gives {out[-1][0].shape[0]} outputs.")
        out.append((W, b))
    return out


def _batch(x, y, weights: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """x as float64 [N, in] and y as int64 [N], checked against the first and last layer."""
    x = _float64(x, "x")
    y = torch.as_tensor(y).detach()
    n_in, classes = weights[0][0].shape[1], weights[-1][0].shape[0]
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] != n_in:
        raise PlaygroundError(f"x must be [N, {n_in}] with N >= 1 (the first layer takes {n_in} inputs), got {list(x.shape)}.")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise PlaygroundError(f"y must hold one label per sample, [{x.shape[0]}], got {list(y.shape)}.")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise PlaygroundError(f"y must hold integer class labels, got {y.dtype}.")
    y = y.to(torch.int64)
    if int(y.min()) < 0 or int(y.max()) >= classes:
        raise PlaygroundError(
            f"Labels must lie in 0..{classes - 1} (the output layer has {classes} units), got {int(y.min())}..{int(y.max())}."
        )
    return x, y


def _act(z: Tensor, activation: str) -> Tensor:
    if activation == "tanh":
        return torch.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    if activation == "relu":
        return z.clamp(min=0)
    return z.clone()


def _act_derivative(z: Tensor, a: Tensor, activation: str) -> Tensor:
    """da/dz elementwise: tanh 1 - a^2, sigmoid a (1 - a), relu 1 where z > 0, none 1."""
    if activation == "tanh":
        return 1 - a**2
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "relu":
        return (z > 0).to(z.dtype)
    return torch.ones_like(z)


def _output(logits: Tensor, y: Tensor, loss: str) -> tuple[Tensor, float, Tensor]:
    """softmax y^, the mean loss and dL/dy~ [N, C] (with the 1/N of the batch mean)."""
    n, classes = logits.shape
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_y_hat = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    y_hat = torch.exp(log_y_hat)
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(n), y] = 1.0
    if loss == "cross-entropy":
        value = -log_y_hat[torch.arange(n), y].mean()
        return y_hat, float(value), (y_hat - one_hot) / n
    value = ((y_hat - one_hot) ** 2).mean(dim=1).mean()
    g = 2 * (y_hat - one_hot) / (classes * n)  # dL/dy^
    return y_hat, float(value), y_hat * (g - (y_hat * g).sum(dim=1, keepdim=True))


def forward_backward(weights: list[tuple[Tensor, Tensor]], x, y, activation: str = "tanh", loss: str = "cross-entropy") -> Pass:
    """Forward and backward pass for one mini-batch, every gradient by hand (no autograd).

    weights: [(W, b), ...] hidden layers then the output layer, W as [out, in]; activation applies to
    every hidden layer, not to the output layer, whose z are the logits fed to the softmax.
    """
    _check_names(activation, loss)
    weights = _weights(weights)
    x, y = _batch(x, y, weights)
    inputs, zs, acts = [x], [], []
    for i, (W, b) in enumerate(weights):
        z = inputs[-1] @ W.T + b
        a = _act(z, activation) if i < len(weights) - 1 else z.clone()
        zs.append(z)
        acts.append(a)
        inputs.append(a)
    y_hat, value, grad_z = _output(zs[-1], y, loss)
    layers: list[Layer] = []
    grad_a = None
    for i in reversed(range(len(weights))):
        W, b = weights[i]
        if grad_a is not None:
            grad_z = grad_a * _act_derivative(zs[i], acts[i], activation)
        layers.insert(0, Layer(W, b, zs[i], acts[i], grad_z, grad_z.T @ inputs[i], grad_z.sum(dim=0), grad_a))
        grad_a = grad_z @ W  # dL/da of the layer below
    return Pass(x, y, layers, y_hat, value, activation, loss)


def sgd_step(weights: list[tuple[Tensor, Tensor]], p: Pass, lr: float) -> list[tuple[Tensor, Tensor]]:
    """One plain SGD step: new (W - lr * grad_W, b - lr * grad_b) for each layer, float64."""
    weights = _weights(weights)
    if len(weights) != len(p.layers):
        raise PlaygroundError(f"The pass has {len(p.layers)} layers but {len(weights)} (W, b) pairs were given.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
        raise PlaygroundError(f"The learning rate must be a finite number, got {lr!r}.")
    out = []
    for i, ((W, b), layer) in enumerate(zip(weights, p.layers)):
        if W.shape != layer.grad_W.shape:
            raise PlaygroundError(f"Layer {i + 1}'s W is {list(W.shape)} but its gradient is {list(layer.grad_W.shape)}.")
        out.append((W - lr * layer.grad_W, b - lr * layer.grad_b))
    return out


def named(p: Pass) -> dict[str, Tensor | float]:
    """The worked example's names (h_tilde, h, y_tilde, y_hat, loss and their gradients), for one hidden layer."""
    if len(p.layers) != 2:
        raise PlaygroundError(f"The worked example needs exactly one hidden layer, this network has {len(p.layers) - 1}.")
    hidden, out = p.layers
    return {
        "h_tilde": hidden.z,
        "h": hidden.a,
        "y_tilde": out.z,
        "y_hat": p.y_hat,
        "loss": p.loss,
        "grad_y_tilde": out.grad_z,
        "grad_W_y": out.grad_W,
        "grad_b_y": out.grad_b,
        "grad_h_tilde": hidden.grad_z,
        "grad_W_h": hidden.grad_W,
        "grad_b_h": hidden.grad_b,
    }


def weights_of(model: nn.Sequential) -> list[tuple[Tensor, Tensor]]:
    """The (W, b) of each nn.Linear of a model, in order, as detached float64 copies (b = 0 without a bias)."""
    out = []
    for module in model.modules():
        if isinstance(module, nn.Linear):
            W = module.weight.detach().to(torch.float64).clone()
            b = module.bias.detach().to(torch.float64).clone() if module.bias is not None else torch.zeros(W.shape[0], dtype=torch.float64)
            out.append((W, b))
    if not out:
        raise PlaygroundError("The model has no fully connected (Linear) layer to work backpropagation by hand on.")
    return out


def activation_derivative_text(activation: str) -> str:
    """One line: the activation's derivative, as used in dL/dz = dL/da * a'(z)."""
    if activation not in DERIVATIVE_TEXT:
        raise PlaygroundError(f"Unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}.")
    return DERIVATIVE_TEXT[activation]


def loss_gradient_text(loss: str) -> str:
    """One line: dL/dy~ for the loss (cross-entropy y^ - y; mse goes through the softmax Jacobian)."""
    if loss not in LOSS_GRADIENT_TEXT:
        raise PlaygroundError(f"Unknown loss {loss!r}: choose one of {', '.join(LOSSES)}.")
    return LOSS_GRADIENT_TEXT[loss]
