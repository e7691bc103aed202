"""Class mode's settings: on while $PLAYGROUND_HOME/class.toml exists (`python -m playground class
init` writes it); laptop mode (one user, no sign-in, one worker) otherwise.

The file, with its defaults:

    name = "Deep learning"          # shown on the sign-in page and the Class page
    teachers = []                   # st.login e-mails that get the teacher's view
    max_queued_runs = 8             # per student: runs queued or training at once
    max_images_x_epochs = 1500000   # one run: training images times epochs
    max_params = 12000000           # one run: trainable parameters (ResNet-18 has 11.2 million)
    threads_per_run = 2             # CPU threads of one run; the pool is cores // threads_per_run
    workers = 0                     # worker processes; 0: sized to the machine (one per GPU where there are GPUs)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from playground.errors import PlaygroundError
from playground.home import playground_home


@dataclass(frozen=True)
class ClassConfig:
    name: str = "Deep learning"  # shown on the sign-in page and the Class page
    teachers: tuple[str, ...] = field(default=())  # st.login e-mails with the teacher's view
    max_queued_runs: int = 8  # per student: queued or training at once (a lab's sweep step is 4 runs)
    max_images_x_epochs: int = 1_500_000  # one run's training images times its epochs
    max_params: int = 12_000_000  # one run's trainable parameters
    threads_per_run: int = 2  # CPU threads one run uses
    workers: int = 0  # worker processes; 0: sized to the machine


LIMITS = {  # each number setting: its smallest allowed value
    "max_queued_runs": 1,
    "max_images_x_epochs": 1,
    "max_params": 1,
    "threads_per_run": 1,
    "workers": 0,
}


def path() -> Path:
    return playground_home() / "class.toml"


def enabled() -> bool:
    """Class mode: the class file exists."""
    return path().is_file()


_cache: dict[Path, tuple[tuple[int, int], ClassConfig]] = {}


def current() -> ClassConfig | None:
    """The class settings (read again when the file changes), or None in laptop mode.
    PlaygroundError naming the file and the setting for a file that cannot be used."""
    p = path()
    try:
        stat = p.stat()
    except FileNotFoundError:
        return None
    mtime = (stat.st_mtime_ns, stat.st_size)
    if p in _cache and _cache[p][0] == mtime:
        return _cache[p][1]
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PlaygroundError(f"{p}: not a TOML file the playground can read ({e})") from None
    config = parse(raw, p.name)
    _cache[p] = (mtime, config)
    return config


def parse(raw: dict, where: str = "class.toml") -> ClassConfig:
    known = {f.name for f in fields(ClassConfig)}
    if unknown := sorted(set(raw) - known):
        raise PlaygroundError(f"{where}: {unknown[0]!r} is not a class setting: use {', '.join(sorted(known))}")
    for name, low in LIMITS.items():
        if name in raw and (type(raw[name]) is not int or raw[name] < low):
            raise PlaygroundError(f"{where}: {name} = {raw[name]!r} is not allowed: it must be a whole number, at least {low}")
    if "name" in raw and (not isinstance(raw["name"], str) or not raw["name"].strip()):
        raise PlaygroundError(f"{where}: name = {raw['name']!r} is not allowed: it must be some text")
    teachers = raw.get("teachers", [])
    if not isinstance(teachers, list) or not all(isinstance(t, str) and "@" in t for t in teachers):
        raise PlaygroundError(f"{where}: teachers = {teachers!r} is not allowed: it must be a list of e-mail addresses")
    return ClassConfig(**{**raw, "teachers": tuple(t.strip().lower() for t in teachers)})


def write(config: ClassConfig) -> Path:
    """The class file with these settings (class mode on)."""
    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Class mode is on while this file exists; see the README. Delete it for laptop mode.\nname = {_toml(config.name)}"]
    lines.append(f"teachers = [{', '.join(_toml(t) for t in config.teachers)}]")
    lines += [f"{name} = {getattr(config, name)}" for name in LIMITS]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gpus() -> list[str]:
    """The NVIDIA GPUs runs may use: $CUDA_VISIBLE_DEVICES if set, else those nvidia-smi lists (the
    server process does not start CUDA to count them)."""
    if (visible := os.environ.get("CUDA_VISIBLE_DEVICES")) is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], check=False, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(line for line in out.splitlines() if line.startswith("GPU "))]


def pool_size() -> int:
    """Worker processes: one on a laptop; in class mode the file's `workers`, else one per GPU, else
    the cores divided by the threads one run uses."""
    config = current()
    if config is None:
        return 1
    if config.workers:
        return config.workers
    return len(gpus()) or max(1, (os.cpu_count() or 1) // config.threads_per_run)


def worker_env(slot: int) -> dict[str, str]:
    """What a pool's worker process gets in its environment: its CPU threads, and its own GPU."""
    config = current()
    if config is None:
        return {}
    env = {"PLAYGROUND_THREADS": str(config.threads_per_run)}
    if devices := gpus():
        env["CUDA_VISIBLE_DEVICES"] = devices[slot % len(devices)]
    return env
