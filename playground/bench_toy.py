"""The Toy 2D benchmark: the Toy 2D page's default run with 500 points (circles, 100 epochs, batch 16) timed
three ways, from the floor up: a plain PyTorch loop over the same model and batches; the playground's
trainer (train.train, every event consumed); and the whole run as the page starts it, through the
executor's worker process, with each epoch's regions and unit maps stored, until the run store says
completed (no browser: what a page drawing the run costs is measured by the browser test)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from playground import datasets, features, settings, specs
from playground.config import TrainConfig
from playground.devices import set_cpu_threads
from playground.families import build_model
from playground.optim import make_optimizer
from playground.sizes import toy_train_count
from playground.train import train

POINTS = 500  # the toy run of the course's speed target: 500 points, 100 epochs


def page_default(**overrides) -> TrainConfig:
    """The run the Toy 2D page trains when nothing is changed."""
    d = {name: s.default for name, s in settings.TOY_PAGE.items()}
    fields = {
        "dataset": d["toy_set"],
        "model": specs.mlp_spec(d["toy_depth"], d["toy_width"], d["toy_activation"]),
        "lr": d["toy_lr"],
        "epochs": d["toy_epochs"],
        "batch_size": d["toy_batch"],
        "optimizer": d["toy_optimizer"],
        "device": "cpu",
    }
    return TrainConfig(**{**fields, **overrides})


def plain_loop_seconds(config: TrainConfig) -> float:
    """config's epochs as the PyTorch tutorials write the loop (shuffle, forward, loss, backward, step,
    loss.item()), same model, data, batch size and optimizer, nothing recorded: the floor."""
    set_cpu_threads(tiny=True)
    ds = datasets.load(config.dataset, toy_params=config.toy_params)
    x, y = features.Lift(config.toy_features)(ds.x_train), ds.y_train
    model = build_model(config.model, config.input_shape, 2)
    optimizer = make_optimizer(list(model.parameters()), config)
    n, b = len(x), config.batch_size
    t0 = time.perf_counter()
    for _ in range(config.epochs):
        order = torch.randperm(n)
        for i in range(0, n, b):
            idx = order[i : i + b]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
    return time.perf_counter() - t0


def trainer_seconds(config: TrainConfig) -> float:
    """config through the playground's trainer, every event consumed, nothing stored."""
    t0 = time.perf_counter()
    for _ in train(config):
        pass
    return time.perf_counter() - t0


def executor_run_seconds(config: TrainConfig, runs: int = 2, timeout: float = 300) -> list[tuple[float, float]]:
    """(seconds from submit to 'completed' in the run store, the run's own reported seconds) for runs
    runs of config (seeds 0, 1, ...) one after another, started as the page starts them, in a scratch
    $PLAYGROUND_HOME with a fresh worker process: the first is a student's first run after the worker
    said it is ready, the next ones a warm worker's."""
    from playground import executors, jobs
    from playground.runs import RunStore

    out = []
    with tempfile.TemporaryDirectory() as home:
        old = os.environ.get("PLAYGROUND_HOME")
        os.environ["PLAYGROUND_HOME"] = home
        ex = executors.get("process")
        try:
            ex.start()
            deadline = time.perf_counter() + timeout
            while not ex.ready:  # the worker imports torch, warms up and loads the toy set first
                if time.perf_counter() > deadline:
                    raise RuntimeError("the worker process did not start")
                time.sleep(0.05)
            manager = jobs.JobManager(RunStore(Path(home) / "runs.sqlite"), ex)
            for seed in range(runs):
                t0 = time.perf_counter()
                job = manager.submit(replace(config, seed=seed))
                while (run := manager.store.get(job.run_id)).active:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the toy run did not finish")
                    time.sleep(0.02)
                if run.status != "completed":
                    raise RuntimeError(f"the toy run ended {run.status}: {run.message}")
                out.append((time.perf_counter() - t0, run.seconds or 0.0))
            return out
        finally:
            if ex.pid is not None:
                os.kill(ex.pid, 15)  # the worker also ends by itself when this process does
            os.environ.pop("PLAYGROUND_HOME") if old is None else os.environ.__setitem__("PLAYGROUND_HOME", old)


def bench_toy(progress: Callable[[str], None] = lambda s: None, rounds: int = 3, **overrides) -> dict:
    """Each figure the fastest of rounds (this machine's speed drifts between seconds); through the
    worker: the first run after it started, and the fastest of the next ones. overrides: TrainConfig
    fields instead of the page's (the tests' tiny runs)."""
    config = page_default(**{"toy_points": POINTS, **overrides})
    steps = config.epochs * -(-toy_train_count(config.toy_points, config.toy_train_share) // config.batch_size)
    list(train(page_default(epochs=2)))  # warm-up: the set generated, scikit-learn imported
    plain, trainer = [], []
    for r in range(rounds):
        progress(f"round {r + 1}/{rounds}: plain loop, trainer")
        plain.append(plain_loop_seconds(config))
        trainer.append(trainer_seconds(config))
    progress("the whole run through the worker process")
    (first, _), *warm = executor_run_seconds(config, runs=rounds + 1)
    wall, reported = min(warm)
    return {
        "config": {
            "dataset": config.dataset,
            "points": config.toy_points,
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "model": config.model,
            "optimizer": config.optimizer,
        },
        "steps": steps,
        "plain_loop_seconds": round(min(plain), 3),
        "trainer_seconds": round(min(trainer), 3),
        "trainer_over_plain": round(min(trainer) / min(plain), 2),
        "run_seconds_submit_to_completed": round(wall, 3),
        "first_run_seconds_submit_to_completed": round(first, 3),
        "run_seconds_reported": round(reported, 3),
        "threads": 1,
    }


def report(r: dict) -> str:
    c = r["config"]
    return "\n".join(
        [
            f"Toy 2D default run: {c['dataset']}, {c['points']} points, {c['epochs']} epochs, batch {c['batch_size']}, "
            f"'{c['model']}', {c['optimizer']}: {r['steps']:,} steps, {r['threads']} CPU thread",
            f"  plain PyTorch loop (the floor):        {r['plain_loop_seconds']:.2f} s",
            f"  the playground's trainer:              {r['trainer_seconds']:.2f} s ({r['trainer_over_plain']:.2f}x the floor)",
            f"  the run as the page starts it:         {r['run_seconds_submit_to_completed']:.2f} s from submit to completed "
            f"(the run reports {r['run_seconds_reported']:.2f} s), regions and unit maps stored every epoch; "
            f"the worker's first run {r['first_run_seconds_submit_to_completed']:.2f} s",
        ]
    )
