import json
import subprocess
import sys

import pytest

TINY = ["--model", "fc32 relu", "--epochs", "2", "--batch-size", "16", "--lr", "0.1"]


def cli(env, *args):
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, check=False, env=env, timeout=300)


def test_datasets_json(subprocess_env):
    r = cli(subprocess_env, "datasets", "--json")
    assert r.returncode == 0, r.stderr
    (fm,) = [d for d in json.loads(r.stdout)["datasets"] if d["name"] == "fashion-mnist"]
    assert fm["input_shape"] == [1, 28, 28] and fm["num_classes"] == 10 and fm["classes"][9] == "Ankle boot"
    assert fm["available"] is True and "FashionMNIST" in fm["source"]
    assert "fashion-mnist" in cli(subprocess_env, "datasets").stdout


def test_train_json_then_cached(subprocess_env):
    r = cli(subprocess_env, "train", *TINY, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "completed" and out["cached"] is False and out["executor"] == "local"
    assert out["params"] == 784 * 32 + 32 + 330
    assert [h["epoch"] for h in out["history"]] == [1, 2]
    assert set(out["history"][0]) >= {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"}
    assert 0 <= out["final"]["test_accuracy"] <= 1 and out["final"]["test_loss"] > 0
    assert len(out["grad_means"]) == 50  # one per step (50 steps in all)
    assert "epoch 2:" in r.stderr  # progress and epoch lines go to stderr

    again = json.loads(cli(subprocess_env, "train", *TINY, "--json").stdout)
    assert again["cached"] is True and again["run_id"] == out["run_id"] and again["history"] == out["history"]


def test_train_table_output(subprocess_env):
    r = cli(subprocess_env, "train", *TINY, "--quiet")
    assert r.returncode == 0 and "test_acc" in r.stdout and "trainable parameters" in r.stdout


def test_params_json(subprocess_env):
    r = cli(subprocess_env, "params", "--dataset", "fashion-mnist", "--model", "conv32k3p1 bn relu pool2 fc600", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    conv, bn = out["layers"][0], out["layers"][1]
    assert conv == {**conv, "layer": "Conv2d(1, 32, kernel_size=3, padding=1)", "output_shape": [32, 28, 28], "params": 320}
    assert (conv["formula"], conv["worked"]) == ("(k*k*C_in + 1)*C_out", "(3*3*1 + 1)*32 = 320")
    assert (bn["params"], bn["buffers"]) == (64, 64)
    assert out["trainable_params"] == out["total_params"] == 320 + 64 + (32 * 14 * 14 + 1) * 600 + 601 * 10
    text = cli(subprocess_env, "params", "--input", "3x32x32", "--model", "lenet").stdout
    assert "trainable parameters 62,006" in text and "(5*5*3 + 1)*6 = 456" in text


def test_conv_json_matches_the_hand_computation(subprocess_env):
    def conv(mode: str):
        return cli(
            subprocess_env,
            "conv",
            "--image",
            "2 1 2; 3 9 1",
            "--kernel",
            "-1 0 1; -2 0 2; -1 0 1",
            "--padding",
            "1",
            "--mode",
            mode,
            "--json",
        )

    r = conv("convolution")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["output"] == [[-11, 2, 11], [-19, 4, 19]] and out["torch_agrees"] is True
    corr = json.loads(conv("correlation").stdout)
    assert corr["output"] == [[11, -2, -11], [19, -4, -19]]
    assert (
        "out[1][1] = 2*1 + 1*0 + 2*(-1)"
        in cli(subprocess_env, "conv", "--image", "2 1 2; 3 9 1", "--kernel", "-1 0 1; -2 0 2; -1 0 1", "--padding", "1").stdout
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["params", "--model", "fc8 conv4"], "put them before the fc layers"),
        (["params", "--input", "3x"], "is not a shape"),
        (["conv", "--image", "1 2; 3", "--kernel", "1"], "different lengths"),
        (["conv", "--image", "1 2", "--kernel", "1 2 3 4"], "does not fit"),
    ],
)
def test_anatomy_errors_are_one_line(subprocess_env, args, message):
    r = cli(subprocess_env, *args)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1


def test_sweep_json_and_table(subprocess_env):
    args = ["sweep", "--param", "lr", "--values", "1,0.1", *TINY[:4], "--batch-size", "16", "--target-accuracy", "0.5"]
    r = cli(subprocess_env, *args, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [run["value"] for run in out["runs"]] == [1.0, 0.1]
    assert [run["config"]["lr"] for run in out["runs"]] == [1.0, 0.1]
    assert all(len(run["history"]) == 2 and run["executor"] == "local" for run in out["runs"])
    row = out["table"][1]
    assert set(row) >= {"value", "test_accuracy", "converged_epoch", "target_epoch", "params"}
    assert row["params"] == 784 * 32 + 32 + 330 and row["value"] == "0.1"
    text = cli(subprocess_env, *args)  # the same twins again: from the cache, printed as Markdown
    assert text.returncode == 0 and text.stdout.startswith("| learning rate") and "2 runs, 2 from the cache" in text.stderr


def test_sweep_errors_are_one_line(subprocess_env):
    r = cli(subprocess_env, "sweep", "--param", "lr", "--values", "0.1,abc")
    assert r.returncode == 2 and "learning rate value 'abc'" in r.stderr and r.stderr.count("\n") == 1
