"""The learning-rate finder (playground.lr_find): its suggestion trains better than 100x and 0.01x
of it, it leaves the run it advises and the random state alone, it stops when the loss explodes, its
smoothing and suggestions are fastai's and Lightning's, it runs through the job manager on both
executors (Stop included), and the CLI's lr-find."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from playground import datasets, executor, jobs, process_executor
from playground.config import TrainConfig
from playground.events import EndEvent, EpochEvent, StepEvent
from playground.lr_find import find_lr, lr_at, smooth, steepest, valley
from playground.train import train

DIGITS = dict(dataset="digits", model="fc64 relu", optimizer="sgd", momentum=0.9, batch_size=64, device="cpu")


@pytest.fixture(scope="module")
def digits() -> datasets.Dataset:
    return datasets.load("digits")


def final_test_accuracy(config: TrainConfig, data) -> float:
    epochs = [e for e in train(config, data) if isinstance(e, EpochEvent)]
    return epochs[-1].test_accuracy if epochs else 0.0  # a run that diverged in its first epoch learned nothing


@pytest.mark.parametrize("which", ["suggested_lr", "valley_lr"])
def test_the_suggestion_trains_better_than_100x_and_a_hundredth_of_it(digits, which):
    found = find_lr(TrainConfig(**DIGITS), digits)
    lr = getattr(found, which)
    assert lr is not None and 1e-4 < lr * 100 <= 100  # all three lrs are allowed settings
    accuracy = {f: final_test_accuracy(TrainConfig(**DIGITS, lr=lr * f, epochs=3), digits) for f in (1, 100, 0.01)}
    assert accuracy[1] > accuracy[100] and accuracy[1] > accuracy[0.01], (which, lr, accuracy)


def test_the_finder_changes_neither_the_run_nor_the_random_state(digits):
    config = TrainConfig(**{**DIGITS, "model": "fc64 relu drop0.3"}, epochs=1, seed=7)  # dropout draws from the global RNG

    def first_losses() -> list[float]:
        return [e.loss for e in train(config, digits) if isinstance(e, StepEvent)][:10]

    alone = first_losses()
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    found = find_lr(config, digits, steps=30)
    assert len(found.lrs) == 30
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first_losses() == alone


def test_the_finder_starts_from_the_runs_initial_weights(digits, monkeypatch):
    """Its first loss is the run's first loss: same weights, same first batch."""
    config = TrainConfig(**DIGITS, seed=11)
    run_first = next(e.loss for e in train(config, digits) if isinstance(e, StepEvent))
    assert find_lr(config, digits, steps=10).losses[0] == run_first


def test_the_finder_stops_when_the_smoothed_loss_passes_4x_its_lowest(digits):
    found = find_lr(TrainConfig(**DIGITS), digits, start_lr=1e-3, end_lr=1e4, steps=100)
    assert found.stopped_early is not None and "exploded" in found.stopped_early and "passed 4 × its lowest" in found.stopped_early
    assert 2 <= len(found.lrs) < 100 and found.lrs[-1] < 1e4
    assert found.lrs == [lr_at(i, 1e-3, 1e4, 100) for i in range(len(found.lrs))]  # exponential from start_lr
    lowest = [min(found.smoothed[: i + 1]) for i in range(len(found.smoothed))]
    assert found.smoothed[-1] > 4 * lowest[-1] and all(s <= 4 * b for s, b in zip(found.smoothed[:-1], lowest[:-1]))  # the first such step
    assert found.stopped_early.startswith(f"the loss exploded at lr {found.lrs[-1]:.3g} (step {len(found.lrs)})")


def test_the_finder_stops_when_the_loss_is_no_longer_finite(digits):
    found = find_lr(TrainConfig(**DIGITS), digits, start_lr=1e20, end_lr=1e30, steps=10)  # the first update overflows
    assert found.stopped_early is not None and found.stopped_early.endswith("(step 2): it became nan")
    assert len(found.lrs) == len(found.losses) == 1 and math.isfinite(found.losses[0])  # the nan is not recorded


def test_a_range_that_never_explodes_runs_every_step_up_to_end_lr(digits):
    found = find_lr(TrainConfig(**DIGITS), digits, start_lr=1e-6, end_lr=1e-4, steps=20)
    assert found.stopped_early is None and len(found.lrs) == 20
    assert found.lrs[0] == 1e-6 and math.isclose(found.lrs[-1], 1e-4)


def test_the_smoothing_is_fastais_debiased_moving_average():
    losses = [2.5, 2.0, 3.0, 0.5, 1.25, 4.0]
    expected, avg = [], 0.0
    for n, loss in enumerate(losses, 1):  # fastai's AvgSmoothLoss: val = torch.lerp(loss, val, beta); value = val / (1 - beta**n)
        avg = torch.lerp(torch.tensor(loss, dtype=torch.float64), torch.tensor(avg, dtype=torch.float64), 0.98).item()
        expected.append(avg / (1 - 0.98**n))
    assert smooth(losses) == pytest.approx(expected, rel=1e-12)
    assert smooth(losses)[0] == 2.5  # debiased: the first value is the first loss, not 2% of it
    assert smooth(losses, beta=0.5)[1] == pytest.approx((0.5 * 0.5 * 2.5 + 0.5 * 2.0) / (1 - 0.25))


# A smoothed curve on lrs one half-decade apart: flat, a descent to its lowest point (index 7), a
# blow-up (index 9), then the average falling again as it forgets the spike (index 10).
CURVE = [5.0, 5.0, 4.9, 4.5, 3.0, 2.0, 1.8, 1.7, 2.5, 6.0, 3.0, 2.9]
LRS = [10 ** (i / 2) for i in range(len(CURVE))]


def test_the_steepest_descent_is_on_the_way_down():
    # central differences over the window 0..10 (the last point left out, as Lightning does), in units
    # of 1/ln(10**0.5): index 4 falls by (2.0 - 4.5)/2 = -1.25, the steepest before the lowest point
    # (index 7); index 10's one-sided -3.0 is the blow-up forgotten, which Lightning's minimum would pick
    assert steepest(LRS, CURVE, skip_begin=0) == 4
    assert steepest(LRS, CURVE, skip_begin=2) == 4
    assert steepest(LRS, CURVE, skip_begin=5) == 5  # from index 5: one-sided (1.8 - 2.0)/1 = -0.2, then 6's (1.7 - 2.0)/2
    assert steepest(LRS, [3.0, 3.0, 3.1, 3.2, 3.3], skip_begin=0) is None  # never falls: no suggestion
    assert steepest(LRS, CURVE[:3], skip_begin=0, skip_end=2) is None  # fewer than 2 points


def test_the_valley_is_fastais():
    # fastai's longest-valley search on CURVE: the run 5.0, 4.9, 4.5, 3.0, 2.0, 1.8, 1.7 ends at index 7
    # with length 7, so max_start = 7 - 7 = 0, sections = 7/3, idx = 0 + int(2.33) + int(1.17) = 3
    assert valley(CURVE, skip_begin=0, skip_end=0) == 3
    # from index 2: the run 4.9 ... 1.7 ends at local 5 with length 6: start -1, sections 2, idx -1 + 2 + 1 = 2 -> 4
    assert valley(CURVE, skip_begin=2, skip_end=0) == 4
    # the last 5 points left out (fastai's -5): the same valley
    assert valley(CURVE, skip_begin=0) == 3
    assert valley([3.0, 3.0, 3.1, 3.2], skip_begin=0, skip_end=0) is None  # never falls


def test_bad_ranges_are_one_clear_message(digits):
    from playground.errors import PlaygroundError

    config = TrainConfig(**DIGITS)
    for kw, message in [
        (dict(steps=5), "steps = 5 is not allowed: steps must be a whole number from 10 to 1,000"),
        (dict(start_lr=1.0, end_lr=0.1), "start_lr = 1 is not allowed: start_lr must be below end_lr (0.1)"),
        (dict(start_lr=0.0), "start_lr = 0.0 is not allowed: start_lr must be a number above 0"),
        (dict(end_lr=float("nan")), "end_lr = nan is not allowed"),
    ]:
        with pytest.raises(PlaygroundError, match=message.replace("(", r"\(").replace(")", r"\)")):
            find_lr(config, digits, **kw)


# --- through the job manager -----------------------------------------------------------------------


def tiny(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "fc32 relu", "batch_size": 16, "train_limit": 200, **kw})


def long_run() -> TrainConfig:
    return TrainConfig(model="fc32 relu", epochs=500, batch_size=1, seed=21)


@pytest.fixture(params=["thread", "process"])
def manager(request, tiny_home, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", request.param)
    m = jobs.manager()
    assert isinstance(m.executor, executor.ThreadExecutor if request.param == "thread" else process_executor.ProcessExecutor)
    yield m
    left = [*m.active(), *m.active_finders()]
    for job in left:
        job.stop()
    assert all(job.wait(30) for job in left) and not left, "the test left runs or finders going"


def test_the_finder_runs_where_runs_train_and_its_result_comes_back(manager):
    seen = []
    job = manager.find_lr(tiny(), on_event=seen.append)
    assert job.run_id is None and job.total_steps == 100
    assert job.wait(120), f"the finder did not end; it is {job.status}"
    assert job.status == "completed" and job.result is not None, job.message
    assert len(job.result.lrs) == job.step and job.result.suggested_lr is not None
    assert [e.step for e in seen if isinstance(e, StepEvent)] == list(range(1, job.step + 1))  # every step, in order
    assert isinstance(seen[-1], EndEvent) and seen[-2] is job.result
    assert manager.store.list_runs(10) == []  # no run in the store
    # the same settings again, whatever the lr, epochs or schedule: the same finding, at once
    again = manager.find_lr(tiny(lr=0.003, epochs=9, scheduler="cosine"))
    assert again is job and again.done
    assert manager.find_lr(tiny(seed=5)) is not job  # other initial weights: another finder
    manager.find_lr(tiny(seed=5)).wait(120)


def test_stop_ends_a_running_finder_and_a_queued_one_never_starts(manager):
    running = manager.find_lr(tiny(batch_size=1), start_lr=1e-6, end_lr=1e-5, steps=1000)  # about 1000 small steps
    wait_until(lambda: running.step > 0 or running.done, 120)
    assert not running.done, running.message
    queued = manager.find_lr(tiny(seed=3))
    assert queued.status == "queued" and manager.ahead(queued) == 1  # FIFO: behind the finder going
    queued.stop()
    assert queued.done and queued.status == "stopped" and "never started" in queued.message
    running.stop()
    assert running.wait(30) and running.status == "stopped"
    assert running.result is not None and len(running.result.lrs) < 1000  # the curve so far
    # stopped, not completed: the same settings start afresh
    again = manager.find_lr(tiny(batch_size=1), start_lr=1e-6, end_lr=1e-5, steps=1000)
    assert again is not running
    again.stop()
    assert again.wait(30)


def test_a_finder_queued_behind_a_run_waits_its_turn(manager):
    run = manager.submit(long_run())
    wait_until(lambda: run.status == "running", 120)
    finder = manager.find_lr(tiny(seed=4))
    assert manager.ahead(finder) == 1
    assert not finder.wait(1.0) and finder.status == "queued" and finder.step == 0
    run.stop()
    assert run.wait(30)
    assert finder.wait(120) and finder.status == "completed"


def wait_until(done, seconds: float) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"waited {seconds} s"
        time.sleep(0.02)


# --- the command line ------------------------------------------------------------------------------


def cli(env, *args):
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, check=False, env=env, timeout=300)


def test_lr_find_json_on_digits(subprocess_env):
    r = cli(subprocess_env, "lr-find", "--dataset", "digits", "--model", "fc64 relu", "--steps", "40", "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"lrs", "losses", "smoothed", "suggested_lr", "valley_lr", "stopped_early"}
    assert len(out["lrs"]) == len(out["losses"]) == len(out["smoothed"]) == 40 and out["lrs"][0] == 1e-6
    assert out["suggested_lr"] in out["lrs"] and out["valley_lr"] in out["lrs"]


def test_lr_find_prints_a_table_and_the_suggestions(tiny_home, monkeypatch, capsys):
    from playground.cli import main

    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # main() sets a default: keep it from leaking into other tests
    assert main(["lr-find", "--dataset", "digits", "--model", "fc64 relu", "--steps", "40", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("step") and "smoothed" in out and "40 of 40 steps, lr 1e-06 to 10" in out
    assert "suggested lr:" in out and "valley lr:" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "5"], "error: steps = 5 is not allowed: steps must be a whole number from 10 to 1,000"),
        (["--steps", "many"], "error: argument --steps: 'many' is not a whole number"),
        (["--start-lr", "1", "--end-lr", "0.1"], "error: start_lr = 1 is not allowed: start_lr must be below end_lr (0.1)"),
        (["--start-lr", "-1"], "error: start_lr = -1.0 is not allowed: start_lr must be a number above 0"),
        (["--end-lr", "0"], "error: end_lr = 0.0 is not allowed"),
    ],
)
def test_lr_find_bad_values_are_one_line_and_exit_2(tiny_home, monkeypatch, capsys, args, message):
    from playground.cli import main

    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")
    try:
        code = main(["lr-find", "--dataset", "digits", *args])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_explanation_says_what_the_curve_shows_and_warns_at_tiny_batches():
    from playground.events import LrFindEvent
    from playground.ui.lr_find_view import explain

    r = LrFindEvent([1e-3, 1e-2, 1e-1], [2.3, 2.0, 9.0], [2.3, 2.1, 2.2], 0.01, None, None, 1e-3, 1e-1, 3)
    text = explain(r, batch_size=64)
    assert "Its moving average stayed below 4 times its lowest value up to 0.1" in text and "did not blow up" not in text
    assert "mostly noise" not in text
    assert "**With batch size 1 each step's loss is mostly noise**" in explain(r, batch_size=1)
