"""The benchmark: the PyTorch quickstart's training loop, exactly as the tutorial writes it
(torchvision FashionMNIST + ToTensor, a shuffled DataLoader of 64, SGD, cross-entropy, the
669,706-parameter MLP), against the playground's trainer on the same config, interleaved epoch by
epoch (A B A B) in one process. Also the machine's float32 matmul peak, and what share of it each
training loop reaches; and a 4-value learning-rate sweep trained one run after another against the
same sweep trained as one group.
"""

from __future__ import annotations

import gzip
import itertools
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from playground import bench_precision, datasets
from playground.config import TrainConfig
from playground.events import EndEvent, EpochEvent
from playground.home import data_dir
from playground.train import train

BASE_SPEC = "fc512 relu fc512 relu"


def matmul_peak(n: int = 2048, reps: int = 5, device: str = "cpu") -> float:
    """Float32 GFLOP/s of an n x n matrix product on this device (the best of reps)."""
    return bench_precision.product_gflops(torch.float32, device, reps, shape=(n, n, n), calls=1)


def matmul_floor(
    widths: tuple = (784, 512, 512, 10),
    batch: int = 64,
    steps: int = 938,
    device: str = "cpu",
    reps: int = 3,
    eval_images: int = 10_000,
    eval_batch: int = 1000,
) -> tuple[float, float]:
    """(training, evaluation): seconds per epoch that the epoch's matrix products alone take, timed in
    isolation (the best of reps). Training: per step and layer the forward product and the weight
    gradient, and the input gradient for every layer but the first. Evaluation: the forward products
    of eval_images test images in batches of eval_batch, as the trainer evaluates after each epoch.
    No loop, optimizer or data: the floor for this MLP's epoch."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    pairs = list(itertools.pairwise(widths))
    layers = [
        (torch.randn(batch, i, device=device), torch.randn(o, i, device=device), torch.randn(batch, o, device=device)) for i, o in pairs
    ]
    tests = [(torch.randn(eval_batch, i, device=device), w) for (i, _), (_, w, _) in zip(pairs, layers)]

    def step() -> None:
        for i, (x, w, g) in enumerate(layers):
            torch.mm(x, w.t())  # forward
            torch.mm(g.t(), x)  # dL/dW
            if i:
                torch.mm(g, w)  # dL/dx

    def test_batch() -> None:
        for x, w in tests:
            torch.mm(x, w.t())

    def best_seconds(f, n: int) -> float:
        for _ in range(3):
            f()
        sync()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            sync()
            best = min(best, (time.perf_counter() - t0) / n)
        return best

    return best_seconds(step, 100) * steps, best_seconds(test_batch, 5) * eval_images / eval_batch


def _reference_root() -> Path:
    """torchvision's FashionMNIST wants the unpacked idx files: unpack ours once."""
    src = datasets.prepare("fashion-mnist")
    root = data_dir() / "bench-reference"
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for gz in src.glob("*-ubyte.gz"):
        target = raw / gz.name[:-3]
        if not target.is_file():
            with gzip.open(gz, "rb") as f, open(target.with_suffix(".part"), "wb") as out:
                shutil.copyfileobj(f, out)
            target.with_suffix(".part").replace(target)
    return root


class QuickstartNet(nn.Module):
    """The tutorial's NeuralNetwork, verbatim."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def reference_loop(train_limit: int, lr: float, seed: int, device: str = "cpu") -> Callable[[], tuple[float, float]]:
    """One call = one epoch of the tutorial's train() then test(); returns (seconds, test accuracy)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets as tvd
    from torchvision.transforms import ToTensor

    root = str(_reference_root())
    training_data = tvd.FashionMNIST(root=root, train=True, download=False, transform=ToTensor())
    test_data = tvd.FashionMNIST(root=root, train=False, download=False, transform=ToTensor())
    if train_limit:
        training_data = Subset(training_data, range(train_limit))
    torch.manual_seed(seed)
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64)
    model = QuickstartNet().to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def epoch() -> tuple[float, float]:
        t0 = time.perf_counter()
        model.train()
        for X, y in train_dataloader:
            X, y = X.to(device), y.to(device)  # noqa: PLW2901 (the tutorial's own line)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        correct = 0
        with torch.no_grad():
            for X, y in test_dataloader:
                X, y = X.to(device), y.to(device)  # noqa: PLW2901 (the tutorial's own line)
                correct += (model(X).argmax(1) == y).type(torch.float).sum().item()
        return time.perf_counter() - t0, correct / len(test_dataloader.dataset)

    return epoch


def playground_loop(config: TrainConfig) -> Callable[[], tuple[float, float]]:
    """One call = one epoch of the playground's trainer (training and evaluation)."""
    events = train(config)

    def epoch() -> tuple[float, float]:
        for event in events:
            if isinstance(event, EpochEvent):
                return event.seconds, event.test_accuracy
            if isinstance(event, EndEvent):
                raise RuntimeError(f"the run ended early: {event.message}")
        raise RuntimeError("the run ended early")

    return epoch


@dataclass
class BenchResult:
    epochs: int
    train_images: int
    reference_seconds_per_epoch: float  # median
    playground_seconds_per_epoch: float  # median
    speedup: float
    reference_accuracy: float
    playground_accuracy: float
    matmul_peak_gflops: float
    flops_per_epoch: float  # 6 x weights x images: forward 2, backward 4
    reference_peak_fraction: float
    playground_peak_fraction: float
    reference_epochs: list = field(default_factory=list)
    playground_epochs: list = field(default_factory=list)
    sweep: dict | None = None
    threads: int = 0
    peak_rss_mb: float = 0.0  # the process's peak resident memory: full Fashion-MNIST, both loops
    cnn: dict | None = None  # the course CNN's epoch time, before and after channels-last
    device: str = "cpu"
    paired_speedup: float = 0.0  # median over epochs of reference / playground, each pair measured back to back
    matmul_floor_seconds: float = (
        0.0  # one epoch's matrix products alone, its test evaluation's included, timed in isolation (matmul_floor)
    )
    matmul_floor_test_seconds: float = 0.0  # ... of which the test evaluation's
    layer_stats: dict | None = None  # the first epoch of a run with and without per-layer statistics (see layer_stats_cost)
    bf16: dict | None = None  # bfloat16 matrix products against float32 on the same run (playground.bench_precision)

    def to_dict(self) -> dict:
        return asdict(self)


def run(quick: bool = False, progress: Callable[[str], None] = lambda s: None, sweep: bool = True, device: str = "cpu") -> BenchResult:
    epochs, limit = (2, 20_000) if quick else (5, 0)
    progress(f"measuring the matmul peak on {device}")
    peak = matmul_peak(n=8192 if device == "cuda" else 2048, device=device)
    config = TrainConfig(model=BASE_SPEC, lr=0.1, epochs=epochs, batch_size=64, seed=0, train_limit=limit, device=device)
    reference, playground = reference_loop(limit, 0.1, 0, device), playground_loop(config)
    ref, pg = [], []
    for e in range(1, epochs + 1):  # interleaved: both see the same machine state
        ref.append(reference())
        progress(f"epoch {e}/{epochs}: reference {ref[-1][0]:.2f} s")
        pg.append(playground())
        progress(f"epoch {e}/{epochs}: playground {pg[-1][0]:.2f} s")
    n = limit or datasets.info("fashion-mnist").train_size
    weights = 784 * 512 + 512 * 512 + 512 * 10
    flops = 6 * weights * n
    ref_s = statistics.median(s for s, _ in ref)
    pg_s = statistics.median(s for s, _ in pg)
    result = BenchResult(
        epochs,
        n,
        ref_s,
        pg_s,
        ref_s / pg_s,
        ref[-1][1],
        pg[-1][1],
        peak,
        flops,
        flops / ref_s / 1e9 / peak,
        flops / pg_s / 1e9 / peak,
        [round(s, 3) for s, _ in ref],
        [round(s, 3) for s, _ in pg],
        threads=torch.get_num_threads(),
        device=device,
    )
    result.paired_speedup = statistics.median(r_ / p_ for (r_, _), (p_, _) in zip(ref, pg))
    progress("timing one epoch's matrix products alone")
    train_floor, test_floor = matmul_floor(steps=-(-n // 64), device=device)
    result.matmul_floor_seconds, result.matmul_floor_test_seconds = train_floor + test_floor, test_floor
    result.cnn = cnn_epochs(quick, progress, device)
    result.layer_stats = layer_stats_cost(quick, progress, device)
    result.bf16 = bench_precision.bf16_compare(replace(config, epochs=2 if quick else 3), playground_loop, progress, device)
    import resource

    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kB
    if sweep:
        from playground.bench_sweep import bench_sweep

        result.sweep = bench_sweep(quick, progress, device)
    return result


def cnn_epochs(quick: bool, progress: Callable[[str], None], device: str = "cpu") -> dict:
    """One epoch of the course CNN with the default memory format and with channels-last, twice each (A B A B)."""
    from playground import train as train_module

    images = 3_200 if quick else 60_000 if device == "cuda" else 10_000
    config = TrainConfig(model="cnn", lr=0.05, epochs=1, batch_size=64, train_limit=images, device=device)
    out = {"images": images}
    for name, flag in (
        ("default_seconds", False),
        ("channels_last_seconds", True),
        ("default_seconds_2", False),
        ("channels_last_seconds_2", True),
    ):
        train_module.CHANNELS_LAST = flag
        try:
            out[name] = _epoch_seconds(config)
        finally:
            train_module.CHANNELS_LAST = True
        progress(f"cnn {name}: {out[name]:.2f} s")
    return out


def layer_stats_cost(quick: bool, progress: Callable[[str], None], device: str = "cpu") -> dict:
    """A run's first epoch of the quickstart MLP (the most recorded steps: every one of the first
    100) without and with per-layer statistics, three times each (A B A B A B); the faster of each."""
    from playground import layerstats

    images = 20_000 if quick else 0
    config = TrainConfig(model=BASE_SPEC, lr=0.1, epochs=1, batch_size=64, train_limit=images, device=device)
    times: dict[bool, list[float]] = {False: [], True: []}
    for flag in (False, True) * 3:
        layerstats.ENABLED = flag
        try:
            times[flag].append(_epoch_seconds(config))
        finally:
            layerstats.ENABLED = True
        progress(f"layer statistics {'on' if flag else 'off'}: {times[flag][-1]:.2f} s")
    off, on = min(times[False]), min(times[True])
    return {"images": images or datasets.info("fashion-mnist").train_size, "off_seconds": off, "on_seconds": on, "overhead": on / off - 1,
            "off_all": times[False], "on_all": times[True]}  # fmt: skip


def _epoch_seconds(config: TrainConfig) -> float:
    for event in train(config):
        if isinstance(event, EpochEvent):
            return event.seconds
    return float("nan")


def report(r: BenchResult) -> str:
    lines = [
        f"Fashion-MNIST quickstart MLP on {r.device}, batch 64, SGD lr 0.1, {r.epochs} epoch(s) on {r.train_images:,} images, {r.threads} CPU thread(s)",
        f"  reference (DataLoader + ToTensor): {r.reference_seconds_per_epoch:.2f} s/epoch (median of {r.reference_epochs}), test accuracy {r.reference_accuracy:.4f}",
        f"  playground trainer:                {r.playground_seconds_per_epoch:.2f} s/epoch (median of {r.playground_epochs}), test accuracy {r.playground_accuracy:.4f}",
        f"  speedup {r.speedup:.2f}x (ratio of the medians; {r.paired_speedup:.2f}x as the median of back-to-back epoch pairs); "
        f"accuracy difference {100 * (r.playground_accuracy - r.reference_accuracy):+.2f} points",
        f"  float32 matmul peak {r.matmul_peak_gflops:,.0f} GFLOP/s; training reaches {r.reference_peak_fraction:.0%} (reference) and {r.playground_peak_fraction:.0%} (playground) of it",
        f"  peak resident memory of this process: {r.peak_rss_mb:,.0f} MB",
    ]
    if r.matmul_floor_seconds:
        lines.insert(
            5,
            f"  one epoch's matrix products alone, timed in isolation: {r.matmul_floor_seconds:.2f} s "
            f"(training {r.matmul_floor_seconds - r.matmul_floor_test_seconds:.2f} s, test evaluation {r.matmul_floor_test_seconds:.2f} s); "
            f"the trainer's epoch (with its evaluation) is {r.playground_seconds_per_epoch / r.matmul_floor_seconds:.2f}x that",
        )
    if r.cnn:
        c = r.cnn
        lines.append(
            f"  course CNN, one epoch of {c['images']:,} images: {min(c['default_seconds'], c['default_seconds_2']):.2f} s before, "
            f"{min(c['channels_last_seconds'], c['channels_last_seconds_2']):.2f} s with channels-last"
        )
    if r.layer_stats:
        s = r.layer_stats
        lines.append(
            f"  per-layer statistics, a run's first epoch of {s['images']:,} images: {s['off_seconds']:.2f} s without, "
            f"{s['on_seconds']:.2f} s with ({s['overhead']:+.1%})"
        )
    if r.bf16:
        lines.append(bench_precision.report(r.bf16))
    if r.sweep:
        for row in r.sweep["rows"]:
            lines.append(
                f"  sweep {row['name']}: one run {row['one_run_seconds']:.2f} s, {row['members']} runs one after another {row['sequential_seconds']:.2f} s, "
                f"grouped {row['grouped_seconds']:.2f} s = {row['grouped_over_one_run']:.2f}x one run ({row['grouped_over_sequential']:.2f}x one after another); "
                f"members with lr <= 0.1: loss curves equal to {row['max_loss_difference_first_100_steps']:.0e} (relative, first 100 steps), "
                f"final test accuracies to {row['max_test_accuracy_difference']:.3f}"
            )
    return "\n".join(lines)
