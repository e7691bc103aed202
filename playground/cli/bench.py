"""python -m playground bench: the playground's trainer against the PyTorch quickstart loop."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    b = sub.add_parser("bench", help="the playground's trainer against the PyTorch quickstart loop, and grouped sweeps")
    b.add_argument("--quick", action="store_true", help="2 epochs on 20,000 images and short sweeps: under a minute on 2 cores")
    b.add_argument("--no-sweep", action="store_true", help="skip the grouped-sweep measurements")
    b.add_argument("--toy", action="store_true", help="only the Toy 2D run: plain PyTorch loop, trainer, the whole run through the worker")
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps"], help="where both loops train (data resident there)")
    b.add_argument(
        "--store", action="store_true", help="the run store at a course's size: fill a scratch store, time the pages' reads and the writes"
    )
    b.add_argument("--store-path", help="with --store: fill (or, if filled, measure again) the store in this folder, kept after")
    b.add_argument("--store-runs", type=int, default=10_000, help="with --store: runs to fill it with (default 10,000)")
    b.add_argument("--store-steps", type=int, default=20_000_000, help="with --store: steps in all (default 20 million)")
    b.add_argument("--store-readers", type=int, default=8, help="with --store: reader processes polling while the writes are timed")
    b.add_argument("--store-flushes", type=int, default=400, help="with --store: flushes written while they poll")
    b.add_argument(
        "--profile",
        action="store_true",
        help="where one epoch of the quickstart MLP goes (torch.profiler): products, other operators, Python",
    )
    b.add_argument("--json", action="store_true", help="one JSON object on stdout")
    b.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    if args.store:
        return _store(args)
    from playground import bench
    from playground.devices import resolve_device

    resolve_device(args.device)  # a clear error where the device is missing
    if args.profile:
        from playground import bench_profile
        from playground.config import TrainConfig

        config = TrainConfig(
            model=bench.BASE_SPEC, lr=0.1, batch_size=64, seed=0, train_limit=20_000 if args.quick else 0, device=args.device
        )
        r = bench_profile.profile_epoch(config, progress=lambda s: print(s, file=sys.stderr))
        print(json.dumps(r, indent=2) if args.json else bench_profile.report(r))
        return 0
    if args.toy:
        from playground import bench_toy

        toy = bench_toy.bench_toy(progress=lambda s: print(s, file=sys.stderr))
        print(json.dumps(toy, indent=2) if args.json else bench_toy.report(toy))
        return 0
    result = bench.run(quick=args.quick, progress=lambda s: print(s, file=sys.stderr), sweep=not args.no_sweep, device=args.device)
    print(json.dumps(result.to_dict(), indent=2) if args.json else bench.report(result))
    return 0


def _store(args) -> int:
    from pathlib import Path

    from playground import bench_store

    bench_store.check_sizes(args.store_runs, args.store_steps)
    path = Path(args.store_path) if args.store_path else None
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    result = bench_store.run(
        path, args.store_runs, args.store_steps, args.store_readers, args.store_flushes, progress=lambda s: print(s, file=sys.stderr)
    )
    print(json.dumps(result, indent=2) if args.json else bench_store.report(result))
    return 0
