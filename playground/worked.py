"""Backpropagation worked by hand, as the network-from-scratch assignment writes it: one hidden layer,

    h~ = W_h x + b_h,  h = act(h~),  y~ = W_y h + b_y,  y^ = softmax(y~),  L = loss(y^, y)

then every gradient (dL/dy~, dL/dW_y, dL/db_y, dL/dh~, dL/dW_h, dL/db_h) and one SGD step. A sample
(or a batch of N, gradients averaged) goes through playground.backprop's explicit formulas; each
quantity comes with its formula, the formula with the numbers put in, its value, and autograd's value
for the same network (a separate forward and .backward()), so the page and the CLI can mark each one
checked. Weights are random with a seed (PyTorch's nn.Linear initialisation) or typed (a JSON file
of W_h, b_h, W_y, b_y as nested lists, W as [out, in])."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from playground import backprop
from playground.errors import PlaygroundError
from playground.optim import Loss

NAMES = ("W_h", "b_h", "W_y", "b_y")  # the weights, in the assignment's names
MAX_UNITS = 16  # sizes are small: the page writes every number out
MAX_SAMPLES = 64
TOLERANCE = 1e-9  # float64: the hand-worked numbers and autograd's agree to rounding


@dataclass
class Example:
    sizes: tuple[int, int, int]  # inputs, hidden units, classes
    x: Tensor  # float64 [N, inputs]
    y: Tensor  # int64 [N] class labels
    weights: dict[str, Tensor]  # W_h [hidden, inputs], b_h [hidden], W_y [classes, hidden], b_y [classes], float64
    activation: str = "tanh"
    loss: str = "cross-entropy"
    lr: float = 0.1


@dataclass
class Quantity:
    name: str  # h_tilde, grad_W_y, ... (backprop.named's names)
    symbol: str  # as the assignment writes it: "h~", "dL/dW_y"
    formula: str
    substituted: str  # the formula with the numbers put in (of the first sample for per-sample values)
    value: Tensor | float
    autograd: Tensor | float
    difference: float  # the largest |hand - autograd|

    @property
    def checked(self) -> bool:
        return self.difference <= TOLERANCE


@dataclass
class Worked:
    example: Example
    forward: list[Quantity]  # h~, h, y~, y^, L
    backward: list[Quantity]  # dL/dy~, dL/dW_y, dL/db_y, dL/dh~, dL/dW_h, dL/db_h
    weights_after: dict[str, Tensor]  # after one SGD step with example.lr
    loss_after: float  # the same batch's loss with the new weights
    notes: dict[str, str] = field(default_factory=dict)  # the activation's derivative, the loss's gradient

    def to_dict(self) -> dict:
        """Every forward value and gradient by name, the weights after the step, the checks: JSON-ready."""
        out: dict = {q.name: _plain(q.value) for q in self.forward + self.backward}
        out["weights_after"] = {k: _plain(v) for k, v in self.weights_after.items()}
        out["loss_after"] = self.loss_after
        out["autograd_max_difference"] = {q.name: q.difference for q in self.forward + self.backward}
        out["checked"] = all(q.checked for q in self.forward + self.backward)
        e = self.example
        out["setup"] = {"sizes": list(e.sizes), "x": _plain(e.x), "y": _plain(e.y), "weights": {k: _plain(v) for k, v in e.weights.items()},
                        "activation": e.activation, "loss": e.loss, "lr": e.lr}  # fmt: skip
        return out


def _plain(v):
    return v.tolist() if isinstance(v, Tensor) else v


# --- building an example ---


def parse_sizes(text: str) -> tuple[int, int, int]:
    """ "2,3,2" -> (2, 3, 2): inputs, hidden units, classes."""
    try:
        sizes = tuple(int(s) for s in str(text).replace("-", ",").split(","))
    except ValueError:
        raise PlaygroundError(f"sizes {text!r} are not whole numbers: write inputs,hidden,classes, e.g. 2,3,2") from None
    if len(sizes) != 3:
        raise PlaygroundError(f"sizes {text!r} must be three numbers, inputs,hidden,classes (one hidden layer), e.g. 2,3,2")
    if not (1 <= sizes[0] <= MAX_UNITS and 1 <= sizes[1] <= MAX_UNITS and 2 <= sizes[2] <= MAX_UNITS):
        raise PlaygroundError(f"sizes {text!r}: inputs and hidden units from 1 to {MAX_UNITS}, classes from 2 to {MAX_UNITS}")
    return sizes  # type: ignore[return-value]


def parse_samples(text: str, inputs: int) -> Tensor:
    """ "0.5,-1" (one sample) or "0.5,-1; 1,2" (a batch, samples separated by ';') -> float64 [N, inputs]."""
    rows = [r for r in str(text).split(";") if r.strip()]
    try:
        values = [[float(v) for v in r.replace(",", " ").split()] for r in rows]
    except ValueError:
        raise PlaygroundError(
            f"x {text!r} is not numbers: write a sample as {inputs} numbers, e.g. 0.5,-1.2; samples apart by ';'"
        ) from None
    if not values or any(len(r) != inputs for r in values):
        raise PlaygroundError(f"x {text!r}: each sample needs {inputs} numbers (the network has {inputs} inputs), samples apart by ';'")
    if len(values) > MAX_SAMPLES:
        raise PlaygroundError(f"x has {len(values)} samples: at most {MAX_SAMPLES} are worked by hand")
    if not all(math.isfinite(v) for r in values for v in r):
        raise PlaygroundError(f"x {text!r} holds a number that is not finite")
    return torch.tensor(values, dtype=torch.float64)


def parse_labels(text: str, n: int, classes: int) -> Tensor:
    """ "1" or "1,0,2" -> int64 [n]: one class label (0 to classes-1) per sample."""
    try:
        labels = [int(v) for v in str(text).replace(";", ",").replace(" ", ",").split(",") if v.strip()]
    except ValueError:
        raise PlaygroundError(f"y {text!r} is not class labels: write one whole number per sample, e.g. 1,0") from None
    if len(labels) != n:
        raise PlaygroundError(f"y {text!r} has {len(labels)} label(s) for {n} sample(s): one per sample")
    if any(not 0 <= v < classes for v in labels):
        raise PlaygroundError(f"y {text!r}: labels are classes 0 to {classes - 1}")
    return torch.tensor(labels, dtype=torch.int64)


def random_weights(sizes: tuple[int, int, int], seed: int = 0) -> dict[str, Tensor]:
    """PyTorch's own initialisation of nn.Linear(inputs, hidden) and nn.Linear(hidden, classes), seeded."""
    torch.manual_seed(seed)
    hidden, output = nn.Linear(sizes[0], sizes[1]), nn.Linear(sizes[1], sizes[2])
    return {k: t.detach().to(torch.float64).clone() for k, t in zip(NAMES, (hidden.weight, hidden.bias, output.weight, output.bias))}


def shapes(sizes: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    n_in, n_h, n_out = sizes
    return {"W_h": (n_h, n_in), "b_h": (n_h,), "W_y": (n_out, n_h), "b_y": (n_out,)}


def check_weights(weights: dict, sizes: tuple[int, int, int], where: str = "weights") -> dict[str, Tensor]:
    """W_h, b_h, W_y, b_y as float64 tensors of the shapes sizes asks for; errors name the field."""
    if not isinstance(weights, dict):
        raise PlaygroundError(f"{where}: expected an object with {', '.join(NAMES)}")
    unknown = sorted(set(weights) - set(NAMES))
    if unknown:
        raise PlaygroundError(f"{where}: unknown field {unknown[0]!r}; the fields are {', '.join(NAMES)}")
    out = {}
    for name, shape in shapes(sizes).items():
        if name not in weights:
            raise PlaygroundError(f"{where}: {name} is missing (a {' x '.join(map(str, shape))} list of numbers)")
        try:
            t = torch.as_tensor(weights[name], dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise PlaygroundError(f"{where}: {name} must be a nested list of numbers, {' x '.join(map(str, shape))}") from None
        if tuple(t.shape) != shape:
            raise PlaygroundError(
                f"{where}: {name} is {' x '.join(map(str, t.shape)) or 'a number'}, the sizes {','.join(map(str, sizes))} need "
                f"{' x '.join(map(str, shape))} (W as [out, in])"
            )
        if not torch.isfinite(t).all():
            raise PlaygroundError(f"{where}: {name} holds a number that is not finite")
        out[name] = t
    return out


def load_weights(path: str | Path, sizes: tuple[int, int, int]) -> dict[str, Tensor]:
    """A weights file: JSON {"W_h": [[...]], "b_h": [...], "W_y": [[...]], "b_y": [...]}."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise PlaygroundError(f"cannot read the weights file {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = f"line {e.lineno}" if isinstance(e, json.JSONDecodeError) else "its bytes"
        raise PlaygroundError(f"the weights file {path} is not JSON ({where}): {e}") from None
    return check_weights(data, sizes, f"the weights file {path}")


def example(sizes, x, y, weights=None, seed: int = 0, activation: str = "tanh", loss: str = "cross-entropy", lr: float = 0.1) -> Example:
    """An example from the CLI's and the page's inputs: sizes "2,3,2" or a tuple, x and y as text or
    tensors, weights a dict (checked) or None (random with seed)."""
    sizes = parse_sizes(sizes) if isinstance(sizes, str) else tuple(sizes)
    if activation not in backprop.ACTIVATIONS:
        raise PlaygroundError(f"activation {activation!r} is not known: choose one of {', '.join(backprop.ACTIVATIONS)}")
    if loss not in backprop.LOSSES:
        raise PlaygroundError(f"loss {loss!r} is not known: choose one of {', '.join(backprop.LOSSES)}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise PlaygroundError(f"lr {lr!r} must be a number above 0")
    x = parse_samples(x, sizes[0]) if isinstance(x, str) else torch.as_tensor(x, dtype=torch.float64)
    y = parse_labels(y, len(x), sizes[2]) if isinstance(y, str) else torch.as_tensor(y, dtype=torch.int64)
    w = random_weights(sizes, seed) if weights is None else check_weights(weights, sizes)
    return Example(sizes, x, y, w, activation, loss, float(lr))


# --- working it ---


def _pairs(w: dict[str, Tensor]) -> list[tuple[Tensor, Tensor]]:
    return [(w["W_h"], w["b_h"]), (w["W_y"], w["b_y"])]


def _autograd(e: Example) -> dict[str, Tensor | float]:
    """The same quantities from torch's autograd: a forward pass with nn's functions, then .backward()."""
    w = {k: v.clone().requires_grad_(True) for k, v in e.weights.items()}
    h_tilde = e.x @ w["W_h"].T + w["b_h"]
    h = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "none": lambda t: t}[e.activation](h_tilde)
    y_tilde = h @ w["W_y"].T + w["b_y"]
    for t in (h_tilde, y_tilde):
        t.retain_grad()
    loss = Loss(e.loss, e.sizes[2])(y_tilde, e.y)
    loss.backward()
    return {
        "h_tilde": h_tilde.detach(), "h": h.detach(), "y_tilde": y_tilde.detach(), "y_hat": y_tilde.detach().softmax(dim=1),
        "loss": float(loss.detach()), "grad_y_tilde": y_tilde.grad, "grad_W_y": w["W_y"].grad, "grad_b_y": w["b_y"].grad,
        "grad_h_tilde": h_tilde.grad, "grad_W_h": w["W_h"].grad, "grad_b_h": w["b_h"].grad,
    }  # fmt: skip


def work(e: Example) -> Worked:
    """Every quantity by hand and by autograd, then one SGD step and the new loss."""
    p = backprop.forward_backward(_pairs(e.weights), e.x, e.y, e.activation, e.loss)
    hand, auto = backprop.named(p), _autograd(e)
    texts = _texts(e, hand)
    quantities = []
    for name, symbol, formula in FORMULAS:
        a, b = hand[name], auto[name]
        diff = abs(a - b) if isinstance(a, float) else float((a - b).abs().max())
        text = formula.format(act=e.activation, loss=LOSS_WORDS[e.loss], grad_out=GRAD_OUT[e.loss])
        quantities.append(Quantity(name, symbol, text, texts[name], a, b, diff))
    new = backprop.sgd_step(_pairs(e.weights), p, e.lr)
    after = dict(zip(NAMES, (new[0][0], new[0][1], new[1][0], new[1][1])))
    loss_after = backprop.forward_backward(new, e.x, e.y, e.activation, e.loss).loss
    notes = {"activation": backprop.activation_derivative_text(e.activation), "loss": backprop.loss_gradient_text(e.loss)}
    return Worked(e, quantities[:5], quantities[5:], after, loss_after, notes)


LOSS_WORDS = {"cross-entropy": "cross-entropy", "mse": "squared error"}
GRAD_OUT = {  # dL/dy~ for each loss: the softmax and the log cancel for cross-entropy, not for squared error
    "cross-entropy": "dL/dy~ = (y^ - y) / N",
    "mse": "dL/dy~ = y^ * (g - sum(y^ g)), where g = dL/dy^ = 2 (y^ - y) / (C N)",
}
FORMULAS = (  # (name, symbol, formula): forward, then backward in the order backpropagation takes
    ("h_tilde", "h~", "h~ = W_h x + b_h"),
    ("h", "h", "h = {act}(h~)"),
    ("y_tilde", "y~", "y~ = W_y h + b_y"),
    ("y_hat", "y^", "y^ = softmax(y~) = exp(y~) / sum(exp(y~))"),
    ("loss", "L", "L = {loss}(y^, y), the batch mean"),
    ("grad_y_tilde", "dL/dy~", "{grad_out}"),
    ("grad_W_y", "dL/dW_y", "dL/dW_y = sum over samples of dL/dy~ h^T"),
    ("grad_b_y", "dL/db_y", "dL/db_y = sum over samples of dL/dy~"),
    ("grad_h_tilde", "dL/dh~", "dL/dh~ = (W_y^T dL/dy~) * {act}'(h~)"),
    ("grad_W_h", "dL/dW_h", "dL/dW_h = sum over samples of dL/dh~ x^T"),
    ("grad_b_h", "dL/db_h", "dL/db_h = sum over samples of dL/dh~"),
)


def written(t: Tensor) -> str:
    """A vector or matrix written out, 4 significant digits: [0.5, -1.2] or [[...], [...]]."""
    if t.dim() == 0:
        return f"{float(t):.4g}"
    return "[" + ", ".join(written(r) for r in t) + "]"


def _texts(e: Example, q: dict) -> dict[str, str]:
    """Each formula with the numbers of the first sample put in (the batch's for the sums over samples)."""
    x, y = e.x[0], int(e.y[0])
    w = e.weights
    one_hot = torch.zeros(e.sizes[2], dtype=torch.float64)
    one_hot[y] = 1
    n = len(e.x)
    derivative = {"tanh": "1 - h^2", "sigmoid": "h (1 - h)", "relu": "1 where h~ > 0, else 0", "none": "1"}[e.activation]
    first = " (sample 1)" if n > 1 else ""
    return {
        "h_tilde": f"{written(w['W_h'])} {written(x)} + {written(w['b_h'])} = {written(q['h_tilde'][0])}{first}",
        "h": f"{e.activation}({written(q['h_tilde'][0])}) = {written(q['h'][0])}{first}",
        "y_tilde": f"{written(w['W_y'])} {written(q['h'][0])} + {written(w['b_y'])} = {written(q['y_tilde'][0])}{first}",
        "y_hat": f"softmax({written(q['y_tilde'][0])}) = {written(q['y_hat'][0])}{first}",
        "loss": (
            f"-ln(y^[{y}]) = -ln({float(q['y_hat'][0, y]):.4g}) = {-math.log(float(q['y_hat'][0, y])):.4g}{first}"
            if e.loss == "cross-entropy"
            else f"mean(({written(q['y_hat'][0])} - {written(one_hot)})^2) = {float(((q['y_hat'][0] - one_hot) ** 2).mean()):.4g}{first}"
        )
        + (f"; the mean over {n} samples: {q['loss']:.4g}" if n > 1 else ""),
        "grad_y_tilde": (
            f"({written(q['y_hat'][0])} - {written(one_hot)}) / {n} = {written(q['grad_y_tilde'][0])}{first}"
            if e.loss == "cross-entropy"
            else f"y^ * (g - sum(y^ g)) with g = 2 (y^ - y) / (C N) = {written(q['grad_y_tilde'][0])}{first}"
        ),
        "grad_W_y": f"{written(q['grad_y_tilde'][0])} {written(q['h'][0])}^T"
        + (f" + ... ({n} samples)" if n > 1 else "")
        + f" = {written(q['grad_W_y'])}",
        "grad_b_y": (f"sum of {n} samples' dL/dy~ = " if n > 1 else "dL/dy~ = ") + written(q["grad_b_y"]),
        "grad_h_tilde": f"({written(w['W_y'].T)} {written(q['grad_y_tilde'][0])}) * ({derivative}) = {written(q['grad_h_tilde'][0])}{first}",
        "grad_W_h": f"{written(q['grad_h_tilde'][0])} {written(x)}^T"
        + (f" + ... ({n} samples)" if n > 1 else "")
        + f" = {written(q['grad_W_h'])}",
        "grad_b_h": (f"sum of {n} samples' dL/dh~ = " if n > 1 else "dL/dh~ = ") + written(q["grad_b_h"]),
    }
