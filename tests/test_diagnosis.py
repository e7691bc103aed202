"""A diagnosis on every run: vanishing gradients, a finite blow-up ending 'diverged', dead ReLUs,
and the fixes each finding offers."""

import json
import statistics

import pytest

from playground import diagnosis, jobs
from playground.config import TrainConfig

DEEP = 10


def _run(config: TrainConfig):
    job = jobs.manager().submit(config)
    assert job.wait(120), f"run of {config.model} did not end within 120 s"
    store = jobs.manager().store
    run = store.get(job.run_id)
    return run, {f.code: f for f in diagnosis.of_run(store, run)}, store


def _gradient_ratio(store, run_id: int) -> float:
    """The first weighted layer's median gradient norm over the first steps, over the last layer's."""
    by_layer: dict[int, list[float]] = {}
    for r in store.layer_stats(run_id):
        if r["step"] <= diagnosis.EARLY_STEPS and r["grad_norm"] is not None:
            by_layer.setdefault(r["layer"], []).append(r["grad_norm"])
    return statistics.median(by_layer[min(by_layer)]) / statistics.median(by_layer[max(by_layer)])


@pytest.fixture
def thread(home, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")


def test_a_deep_sigmoid_stack_has_vanishing_gradients_and_its_batch_norm_relu_twin_does_not(thread):
    """Thresholds (diagnosis.VANISHING_RATIO = 1e-4): the sigmoid stack's first layer gets about 6e-9
    of the last layer's gradient norm at PyTorch's default initialisation; a plain ReLU stack about
    1.5e-3 (it learns, slowly: not flagged); with batch norm about 4 (measured on Digits)."""
    base = dict(dataset="digits", epochs=1, batch_size=64, lr=0.1)
    sigmoid, found, store = _run(TrainConfig(model=" ".join(["fc32 sigmoid"] * DEEP), **base))
    assert "vanishing_gradients" in found, found
    assert _gradient_ratio(store, sigmoid.id) < 1e-6
    assert found["vanishing_gradients"].fix == {"model": " ".join(["fc32 relu"] * DEEP)}
    bn, found_bn, _ = _run(TrainConfig(model=" ".join(["fc32 bn relu"] * DEEP), **base))
    assert "vanishing_gradients" not in found_bn and 0.1 < _gradient_ratio(store, bn.id) < 10
    relu, found_relu, _ = _run(TrainConfig(model=" ".join(["fc32 relu"] * DEEP), **base))
    assert "vanishing_gradients" not in found_relu and diagnosis.VANISHING_RATIO < _gradient_ratio(store, relu.id) < 0.1


def test_lr_100_ends_diverged_not_completed_and_offers_a_tenth(thread):
    run, found, _ = _run(TrainConfig(dataset="digits", model="fc64 relu", lr=100, epochs=1))
    assert run.status == "diverged" and "far above where it started" in run.message
    assert found["diverged"].fix == {"lr": 10.0} and found["diverged"].fix_label == "lr 10"


def test_dead_relus_are_flagged(thread):
    run, found, store = _run(TrainConfig(dataset="digits", model="fc64 relu", lr=3, epochs=2, batch_size=32))
    assert "dead_relu" in found, found
    late = [r["dead"] for r in store.layer_stats(run.id) if r["dead"] is not None][-diagnosis.LATE_POINTS :]
    assert sum(late) / len(late) > diagnosis.DEAD_SHARE
    _, healthy, _ = _run(TrainConfig(dataset="digits", model="fc64 relu", lr=0.05, epochs=2, batch_size=32))
    assert "dead_relu" not in healthy and "diverged" not in healthy


def test_train_json_carries_the_diagnosis(subprocess_env):
    import subprocess
    import sys

    args = ["train", "--dataset", "digits", "--model", "fc64 relu", "--lr", "100", "--epochs", "1", "--json"]
    r = subprocess.run(
        [sys.executable, "-m", "playground", *args], capture_output=True, text=True, check=False, env=subprocess_env, timeout=300
    )
    report = json.loads(r.stdout)
    assert report["status"] == "diverged"
    assert report["diagnosis"][0] == {"code": "diverged", "message": report["diagnosis"][0]["message"], "fix": {"lr": 10.0}}
    assert {d["code"] for d in report["diagnosis"]} <= {
        "diverged",
        "not_learning",
        "vanishing_gradients",
        "dead_relu",
        "saturated",
        "overfitting",
        "odd_start",
    }


def test_findings_without_a_config_have_no_fix_and_a_resnet_gets_no_model_edit():
    evidence = diagnosis.Evidence(None, "diverged", [{"epoch": 1, "train_loss": 50.0, "test_accuracy": 0.1}], 2.3, 10)
    (finding,) = diagnosis.diagnose(evidence)
    assert finding.code == "diverged" and finding.fix is None
    assert diagnosis._activation_fix(TrainConfig(model="resnet18 scratch r32", dataset="cifar10", batch_size=4)) == (None, "")
