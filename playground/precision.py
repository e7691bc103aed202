"""The opt-in bfloat16 matrix products (TrainConfig.bf16).

With it on, the forward passes of training and evaluation run under torch.autocast: linear and
convolution layers multiply in bfloat16 (8 significant bits instead of float32's 24, the same
exponent range), which GPUs from NVIDIA's Ampere on, and CPUs with AVX512-BF16 or AMX units, do
2 to 16 times faster. The weights, their gradients, the optimizer's state and the loss stay float32
(autocast casts each product's inputs, and the logits are cast back before the loss).

Where the hardware has no bfloat16 units the products are emulated: on this project's 2-core AVX2
CPU an [64 x 784] x [784 x 512] product took 45 ms in bfloat16 against 3 ms in float32
(playground.bench reports it). Such a device is refused with the reason, not silently slowed.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import subprocess
from pathlib import Path

import torch

from playground.errors import PlaygroundError

CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 Linux (/proc/cpuinfo flags)
ARM_FLAG = "bf16"  # aarch64 Linux (/proc/cpuinfo Features)


def unsupported(device: torch.device) -> str | None:
    """Why this device cannot do bfloat16 products at speed, or None if it can."""
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported(including_emulation=False):
            return None
        return f"this GPU ({torch.cuda.get_device_name(device)}) has no bfloat16 units (NVIDIA's Ampere, 2020, and later have them)"
    if device.type == "cpu":
        return (
            None
            if cpu_has_bf16()
            else "this CPU has no bfloat16 units (AVX512-BF16, AMX or Arm's BF16): the products would be emulated, many times slower"
        )
    return f"bfloat16 products are not offered on {device.type} yet"


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (Linux's /proc/cpuinfo; macOS's sysctl)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        words = set(info.read_text(errors="replace").split())
        return bool(words & set(CPU_FLAGS)) or (platform.machine() == "aarch64" and ARM_FLAG in words)
    if platform.system() == "Darwin":
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], check=False, capture_output=True, text=True, timeout=5
            ).stdout
            return out.strip() == "1"
    return False


def check(bf16: bool, device: torch.device) -> None:
    """Raise PlaygroundError if bfloat16 products are asked for on a device without them."""
    if bf16 and (why := unsupported(device)):
        raise PlaygroundError(f"bf16 = true is not available here: {why}. Turn 'bfloat16 matrix products' off (float32 is the default)")


def products(bf16: bool, device: torch.device):
    """The context for a forward pass: autocast to bfloat16 when bf16, else nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
