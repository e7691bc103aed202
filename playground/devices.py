"""Which torch device a run trains on: auto picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import os

import torch

from playground.errors import PlaygroundError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PlaygroundError("device = 'cuda' but no CUDA GPU is available here: use auto or cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise PlaygroundError("device = 'mps' but Apple's MPS is not available here: use auto or cpu")
    return torch.device(name)


def available_devices() -> list[str]:
    """The device settings this machine can run: auto and cpu always, cuda and mps where present."""
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])


# torch's choice when the process started (one per core), or a class server's threads per run: a pool
# of workers shares the cores (playground.classroom.config.worker_env)
CPU_THREADS = int(os.environ.get("PLAYGROUND_THREADS") or torch.get_num_threads())


def set_cpu_threads(tiny: bool) -> None:
    """One CPU thread for a toy run, torch's default otherwise. A toy run's tensors (a batch of 16
    points of 2 to 7 features) are too small to split: a second thread wins nothing and, spinning
    between operations, took a core from the page drawing the run (measured in the README)."""
    torch.set_num_threads(1 if tiny else CPU_THREADS)


def bf16_unavailable(name: str) -> str | None:
    """Why the device setting `name` cannot multiply in bfloat16 (playground.precision), or None."""
    from playground import precision

    try:
        return precision.unsupported(resolve_device(name))
    except PlaygroundError as e:
        return str(e)
