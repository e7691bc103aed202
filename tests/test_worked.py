"""playground.worked and `python -m playground backprop`: the assignment's one-hidden-layer network
worked by hand equals torch.nn's forward pass and autograd's gradients; the step; bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from playground import backprop, worked
from playground.errors import PlaygroundError
from playground.optim import Loss

MODULES = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def _nn(e: worked.Example) -> dict:
    """The same network as torch.nn layers (weights copied in), its values and .grad after backward()."""
    hidden, output = nn.Linear(*e.sizes[:2]).double(), nn.Linear(*e.sizes[1:]).double()
    with torch.no_grad():
        for module, (W, b) in ((hidden, ("W_h", "b_h")), (output, ("W_y", "b_y"))):
            module.weight.copy_(e.weights[W])
            module.bias.copy_(e.weights[b])
    h_tilde = hidden(e.x)
    h = MODULES[e.activation]()(h_tilde)
    y_tilde = output(h)
    h_tilde.retain_grad()
    y_tilde.retain_grad()
    loss = Loss(e.loss, e.sizes[2])(y_tilde, e.y)
    loss.backward()
    return {"h_tilde": h_tilde, "h": h, "y_tilde": y_tilde, "y_hat": y_tilde.softmax(1), "loss": loss, "grad_y_tilde": y_tilde.grad,
            "grad_W_y": output.weight.grad, "grad_b_y": output.bias.grad, "grad_h_tilde": h_tilde.grad,
            "grad_W_h": hidden.weight.grad, "grad_b_h": hidden.bias.grad}  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(2, 4)),
    n=st.integers(1, 6),
    activation=st.sampled_from(sorted(MODULES)),
    loss=st.sampled_from(backprop.LOSSES),
    seed=st.integers(0, 1000),
)
def test_every_value_and_gradient_equals_torch_nn_and_autograd(sizes, n, activation, loss, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, sizes[0], generator=g, dtype=torch.float64), torch.randint(0, sizes[2], (n,), generator=g)
    e = worked.example(sizes, x, y, seed=seed, activation=activation, loss=loss, lr=0.5)
    w, reference = worked.work(e), _nn(e)
    for q in w.forward + w.backward:
        assert_close(torch.as_tensor(q.value, dtype=torch.float64), reference[q.name].detach(), rtol=1e-9, atol=1e-12, msg=q.name)
        assert q.checked, (q.name, q.difference)
    for name, grad in (("W_h", "grad_W_h"), ("b_h", "grad_b_h"), ("W_y", "grad_W_y"), ("b_y", "grad_b_y")):
        assert_close(w.weights_after[name], e.weights[name] - 0.5 * reference[grad])  # one plain SGD step


def test_the_random_weights_are_pytorchs_own_initialisation():
    torch.manual_seed(7)
    hidden = nn.Linear(2, 3)
    assert_close(worked.random_weights((2, 3, 2), seed=7)["W_h"], hidden.weight.detach().double())


def test_one_small_step_lowers_the_loss_and_the_numbers_are_written_out():
    w = worked.work(worked.example("2,3,2", "0.5,-1.2", "1", lr=0.1))
    assert w.loss_after < w.forward[4].value
    h_tilde = next(q for q in w.forward if q.name == "h_tilde")
    assert h_tilde.formula == "h~ = W_h x + b_h" and h_tilde.substituted.endswith(worked.written(h_tilde.value[0]))
    assert "[0.5, -1.2]" in h_tilde.substituted  # x put in
    grad = next(q for q in w.backward if q.name == "grad_y_tilde")
    assert grad.formula == "dL/dy~ = (y^ - y) / N" and "- [0, 1]) / 1" in grad.substituted


def test_a_weights_file_loads_and_a_broken_one_names_the_file_and_field(tmp_path):
    good = {"W_h": [[1, 0], [0, 1], [1, 1]], "b_h": [0, 0, 0], "W_y": [[1, 2, 3], [3, 2, 1]], "b_y": [0.5, -0.5]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(good))
    assert worked.load_weights(path, (2, 3, 2))["W_y"].tolist() == [[1, 2, 3], [3, 2, 1]]
    cases = {
        "missing.json": ({k: v for k, v in good.items() if k != "W_y"}, "W_y is missing"),
        "shape.json": ({**good, "W_h": [[1, 0, 0], [0, 1, 0]]}, "W_h is 2 x 3, the sizes 2,3,2 need 3 x 2"),
        "extra.json": ({**good, "W_x": []}, "unknown field 'W_x'"),
        "text.json": ({**good, "b_y": ["a", "b"]}, "b_y must be a nested list of numbers"),
    }
    for name, (data, said) in cases.items():
        (tmp_path / name).write_text(json.dumps(data))
        with pytest.raises(PlaygroundError, match=f"{name}.*{said}"):
            worked.load_weights(tmp_path / name, (2, 3, 2))
    (tmp_path / "bad.json").write_text('{"W_h": [[1, 0],\n oops}')
    with pytest.raises(PlaygroundError, match=r"bad.json is not JSON \(line 2\)"):
        worked.load_weights(tmp_path / "bad.json", (2, 3, 2))


@pytest.mark.parametrize(
    "sizes, x, y, said",
    [
        ("2,3", "1,2", "0", "must be three numbers"),
        ("2,x,2", "1,2", "0", "are not whole numbers"),
        ("2,3,1", "1,2", "0", "classes from 2"),
        ("2,3,2", "1", "0", "each sample needs 2 numbers"),
        ("2,3,2", "1,inf", "0", "not finite"),
        ("2,3,2", "1,2; 3,4", "0", "has 1 label\\(s\\) for 2 sample\\(s\\)"),
        ("2,3,2", "1,2", "2", "labels are classes 0 to 1"),
        ("2,3,2", "1,2", "0.5", "is not class labels"),
    ],
)
def test_bad_input_is_one_message(sizes, x, y, said):
    with pytest.raises(PlaygroundError, match=said):
        worked.example(sizes, x, y)


def test_backprop_cli_json_names_every_value_and_the_step(subprocess_env, tmp_path):
    weights = {
        "W_h": [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]],
        "b_h": [0, 0.1, -0.1],
        "W_y": [[0.2, -0.3, 0.1], [-0.1, 0.2, 0.3]],
        "b_y": [0, 0],
    }
    (tmp_path / "w.json").write_text(json.dumps(weights))
    run = [sys.executable, "-m", "playground", "backprop", "--sizes", "2,3,2", "--x", "0.5,-1; 1,2", "--y", "1,0"]
    out = subprocess.run(
        [*run, "--weights", str(tmp_path / "w.json"), "--lr", "0.5", "--json"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    names = ("h_tilde", "h", "y_tilde", "y_hat", "loss", "grad_y_tilde", "grad_W_y", "grad_b_y", "grad_h_tilde", "grad_W_h", "grad_b_h")
    assert set(names) <= set(d) and d["checked"] is True
    assert_close(
        torch.tensor(d["weights_after"]["W_y"], dtype=torch.float64),
        torch.tensor(weights["W_y"], dtype=torch.float64) - 0.5 * torch.tensor(d["grad_W_y"], dtype=torch.float64),
    )
    assert len(d["h"]) == 2 and d["setup"]["weights"]["b_h"] == [0, 0.1, -0.1]
    text = subprocess.run(run, capture_output=True, text=True, env=subprocess_env, check=False)
    assert text.returncode == 0 and text.stdout.count("(equals autograd)") == 11 and "One SGD step" in text.stdout
    bad = subprocess.run([*run[:-2], "--y", "1"], capture_output=True, text=True, env=subprocess_env, check=False)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: y '1' has 1 label(s) for 2 sample(s): one per sample"
